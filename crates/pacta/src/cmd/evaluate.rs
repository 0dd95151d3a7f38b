//! `pacta evaluate`: scores an assessment against a simulation's ground truth.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use pacta_sim::evaluate::pairing;
use pacta_sim::evaluate::{AttributionScore, Score};
use pacta_sim::{evaluate, Evaluation, Outcome, Tolerance, Truth};

use super::{exit_invalid, EXIT_OK};

/// Score an assessment against the ground truth of `pacta simulate`: incident recall and
/// precision, finding precision and recall per commitment, attribution accuracy, and
/// obligations that should and should not have opened.
///
/// An incident describes a true event when its centroid lies within `--distance-km` of it,
/// their time spans are at most `--time-minutes` apart and their kinds agree; incidents and
/// events are matched one to one, closest first. The metrics are defined in
/// `docs/simulation.md`.
///
/// The two files must be of one run: an assessment of another agreement, or one none of whose
/// incidents' reports the truth lists, is refused; an assessment that holds only some of the
/// run's reports or was made before its last submission is scored, with a warning.
///
/// A file that is not a truth or an assessment is refused with the JSON pointer of the member
/// at fault (`/incidents/3/start`) as well as its line and column.
///
/// Exit codes: 0 evaluated; 1 a file is not a truth or an assessment, or the two are not of
/// the same run; 2 usage or I/O error.
#[derive(clap::Args)]
pub struct Args {
    /// The ground truth written by `pacta simulate --truth`.
    #[arg(long, value_name = "TRUTH.json")]
    pub truth: PathBuf,
    /// The assessment written by `pacta assess --json`.
    #[arg(long, value_name = "ASSESSMENT.json")]
    pub assessment: PathBuf,
    /// Print the evaluation as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Matching tolerance in space, km (at most 100: the candidate pairs held grow with it).
    #[arg(long, default_value_t = Tolerance::default().distance_km)]
    pub distance_km: f64,
    /// Matching tolerance in time, minutes (at most 1,440: the pairs weighed grow with it).
    #[arg(long, default_value_t = Tolerance::default().time_s / 60)]
    pub time_minutes: i64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let tolerance = Tolerance {
        distance_km: args.distance_km,
        time_s: args.time_minutes.saturating_mul(60),
    };
    if let Err(why) = tolerance.check() {
        anyhow::bail!(
            "--distance-km {} --time-minutes {}: {why}",
            args.distance_km,
            args.time_minutes
        );
    }
    let truth_text = std::fs::read_to_string(&args.truth)
        .with_context(|| format!("cannot read {}", args.truth.display()))?;
    let assessment_text = std::fs::read_to_string(&args.assessment)
        .with_context(|| format!("cannot read {}", args.assessment.display()))?;
    let truth = match Truth::from_json(&truth_text) {
        Ok(truth) => truth,
        Err(e) => {
            eprintln!("{}: {e}", args.truth.display());
            return Ok(exit_invalid());
        }
    };
    let outcome = match Outcome::from_json(&assessment_text) {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("{}: not an assessment: {e}", args.assessment.display());
            return Ok(exit_invalid());
        }
    };
    let pairing = pairing(&truth, &outcome);
    if let Some(mismatch) = pairing.mismatch {
        eprintln!(
            "error: {} and {} are not of the same run: {mismatch}",
            args.assessment.display(),
            args.truth.display()
        );
        return Ok(exit_invalid());
    }
    for warning in &pairing.warnings {
        eprintln!("warning: {warning}");
    }
    let evaluation = evaluate(&truth, &outcome, tolerance);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&evaluation).context("serialising the evaluation")?
        );
    } else {
        print!("{}", table(&evaluation));
    }
    Ok(EXIT_OK)
}

fn ratio(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}"))
        .unwrap_or_else(|| "-".to_string())
}

fn score_row(out: &mut String, name: &str, s: &Score) {
    let _ = writeln!(
        out,
        "{name:<34} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        s.produced,
        s.expected,
        s.matched,
        ratio(s.precision),
        ratio(s.recall),
        ratio(s.f1)
    );
}

fn attribution_row(out: &mut String, name: &str, a: &AttributionScore) {
    let _ = writeln!(
        out,
        "{name:<34} {:>9} {:>9} {:>9} {:>12} {:>9}",
        a.items,
        a.correct,
        a.wrong,
        a.unattributed,
        ratio(a.accuracy)
    );
}

/// The readable report.
fn table(e: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "evaluation as of {} (match within {} km and {} min)\n",
        e.as_of,
        e.tolerance.distance_km,
        e.tolerance.time_s / 60
    );
    let _ = writeln!(
        out,
        "{:<34} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "", "produced", "expected", "matched", "precision", "recall", "F1"
    );
    score_row(&mut out, "incidents (all true events)", &e.incidents);
    let _ = writeln!(
        out,
        "{:<34} {:>49}",
        "  recall of reported events",
        ratio(e.incident_recall_reported)
    );
    score_row(&mut out, "findings", &e.findings);
    for (commitment, s) in &e.findings_by_commitment {
        score_row(&mut out, &format!("  {commitment}"), s);
    }
    let _ = writeln!(
        out,
        "\n{:<34} {:>9} {:>9} {:>9} {:>12} {:>9}",
        "attribution", "items", "correct", "wrong", "unattributed", "accuracy"
    );
    attribution_row(&mut out, "incidents (matched)", &e.incident_attribution);
    attribution_row(&mut out, "findings (true)", &e.finding_attribution);
    let o = &e.obligations;
    let _ = writeln!(
        out,
        "\nobligations resting on findings: {} opened, {} should have (justified), {} should not have",
        o.opened, o.justified, o.unjustified
    );
    let _ = writeln!(out, "phase obligations (not scored): {}", o.not_scored);
    let missed: Vec<String> = o
        .missed_breaches
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let _ = writeln!(
        out,
        "true breaches no true finding established (their obligations did not open): {}",
        if missed.is_empty() {
            "none".to_string()
        } else {
            missed.join(", ")
        }
    );
    let _ = writeln!(
        out,
        "renewed offensives detected: {} of {}",
        o.episodes_detected, o.episodes
    );
    let _ = writeln!(
        out,
        "offensive alarms: {}, of which {} outside any offensive (false alarms)",
        o.offensive_alarms, o.offensive_false_alarms
    );
    out
}
