//! `pacta lint PATH`: the enforceability lint ("the Budapest test") over a valid agreement.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use pacta_core::agreement::{Diagnostic, Diagnostics};
use pacta_core::lint::{lint, Gap, GapSeverity, LintReport};

use super::{exit_invalid, EXIT_OK};
use crate::agreement_file;

/// Wrapping width when stdout is not a terminal, fixed so output does not depend on the
/// environment.
const RENDER_WIDTH: usize = 100;

/// Check that every commitment has an enforcement path (the "Budapest test").
///
/// For each commitment: is its scope measurable, does it name an evidence standard the
/// registered monitors can meet, does a response rung with named guarantors and a deadline
/// fire on a breach of it, and does that rung escalate to a stronger action? Also checks that
/// every phase condition and snapback can be established. Prints each gap with its code,
/// location and a hint, a table of commitments, and a score. See docs/lint.md.
///
/// Exit codes: 0 every commitment has an enforcement path (warnings may be printed); 1 a gap
/// leaves something without one, or the agreement is invalid; 2 usage error, or the agreement
/// file cannot be read.
#[derive(clap::Args)]
pub struct Args {
    /// A directory holding `agreement.toml`, or the agreement's TOML file.
    pub path: PathBuf,
    /// Print the report as JSON on stdout (gaps, per-commitment checks, score, `passes`).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(parsed) = agreement_file::load_or_report(&args.path)? else {
        return Ok(exit_invalid());
    };
    let report = lint(&parsed.agreement);
    if args.json {
        let out = JsonReport {
            passes: report.passes(),
            report: &report,
        };
        emit(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    } else {
        let file = agreement_file::agreement_path(&args.path);
        // The parser has just read this file; if it vanished since, print without snippets.
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let name = file.to_string_lossy().replace('\\', "/");
        let terminal = std::io::stdout().is_terminal();
        let colour = terminal && std::env::var_os("NO_COLOR").is_none();
        emit(&render_gaps(&report.gaps, &name, &text, colour))?;
        emit(&render_summary(&report))?;
    }
    Ok(if report.passes() {
        EXIT_OK
    } else {
        exit_invalid()
    })
}

/// Writes to stdout; a reader that closed the pipe early (`pacta lint ... | head`) is not an
/// error worth a panic or a message.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    passes: bool,
    #[serde(flatten)]
    report: &'a LintReport,
}

/// Each gap in compiler style, with the first line of the item it is about as the snippet.
fn render_gaps(gaps: &[Gap], file: &str, text: &str, colour: bool) -> String {
    let mut diagnostics = Diagnostics::new(BTreeMap::from([(file.to_string(), text.to_string())]));
    for gap in gaps {
        let code = gap.kind.code();
        let mut d = match gap.severity() {
            GapSeverity::Error => Diagnostic::error(code, file, gap.message.clone()),
            GapSeverity::Warning => Diagnostic::warning(code, file, gap.message.clone()),
        };
        if let Some(location) = &gap.location {
            // A whole `[[commitment]]` table would fill the screen; its first line names it.
            let start = location.span.start;
            let line_end = text
                .get(start..)
                .and_then(|rest| rest.find('\n'))
                .map_or(location.span.end, |n| start + n);
            d = d.at(start..line_end.min(location.span.end).max(start));
        }
        diagnostics.push(d.label(gap.kind.name()).help(gap.hint.clone()));
    }
    diagnostics.render(RENDER_WIDTH, colour)
}

/// The table of commitments and the score.
fn render_summary(report: &LintReport) -> String {
    let mark = |passed: bool| if passed { "yes" } else { "NO" };
    let width = report
        .commitments
        .iter()
        .map(|c| c.id.len())
        .chain(["commitment".len()])
        .max()
        .unwrap_or(0);
    let mut out = format!(
        "\n{:width$}  scope  evidence  response  escalation  enforceable\n",
        "commitment"
    );
    for c in &report.commitments {
        out.push_str(&format!(
            "{:width$}  {:5}  {:8}  {:8}  {:10}  {}\n",
            c.id,
            mark(c.scope),
            mark(c.evidence),
            mark(c.response),
            mark(c.escalation),
            mark(c.enforceable()),
        ));
    }
    let s = &report.score;
    out.push_str(&format!(
        "\nscore: {} of {} commitments have an enforcement path ({}%); {} of {} points ({}%); \
         {} errors, {} warnings\n",
        s.enforceable,
        s.commitments,
        s.enforceable_percent(),
        s.points,
        s.points_max,
        s.points_percent(),
        s.errors,
        s.warnings,
    ));
    let checks: Vec<String> = s
        .checks
        .named()
        .iter()
        .map(|(name, t)| format!("{name} {}/{}", t.passed, t.total))
        .collect();
    out.push_str(&format!("points by check: {}\n", checks.join(", ")));
    out.push_str(if report.passes() {
        "ok: every commitment has an enforcement path\n"
    } else {
        "error: the lint failed: some commitments have no enforcement path (see the errors above)\n"
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pacta_core::lint::{Checks, CommitmentVerdict, Score, Tally};

    fn report(verdicts: Vec<CommitmentVerdict>, errors: u32) -> LintReport {
        LintReport {
            agreement: "x".to_string(),
            commitments: verdicts,
            gaps: Vec::new(),
            score: Score {
                commitments: 1,
                enforceable: 0,
                points: 1,
                points_max: 4,
                errors,
                warnings: 0,
                checks: Checks {
                    scope: Tally {
                        passed: 1,
                        total: 1,
                    },
                    ..Checks::default()
                },
            },
        }
    }

    #[test]
    fn summary_marks_each_failed_check_and_prints_the_score() {
        let verdict = CommitmentVerdict {
            id: "para2.no-threat-or-use-of-force".to_string(),
            article: None,
            scope: true,
            evidence: false,
            response: false,
            escalation: false,
        };
        let text = render_summary(&report(vec![verdict], 2));
        assert!(text.contains(
            "para2.no-threat-or-use-of-force  yes    NO        NO        NO          NO"
        ));
        assert!(text.contains("points by check: scope 1/1, evidence 0/0, response 0/0"));
        assert!(text.contains("score: 0 of 1 commitments have an enforcement path (0%); 1 of 4 points (25%); 2 errors, 0 warnings"));
    }
}
