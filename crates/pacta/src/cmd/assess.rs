//! `pacta assess`: reads an agreement and a file of signed entries, verifies every line,
//! runs the core's assessment as of a moment, and prints a summary and the digest.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use pacta_core::adjudicate::FindingStatus;
use pacta_core::agreement::model::Agreement;
use pacta_core::assess::{assess_intake, Assessment, Intake};
use pacta_core::entry::ndjson::{read_batches, LineBatch, LineChecker, LineError, LineOutcome};
use pacta_core::respond::ObligationStatus;
use pacta_core::time::Timestamp;

use super::{exit_invalid, EXIT_OK};
use crate::agreement_file;

/// Inputs larger than this show a progress bar (on a terminal).
const PROGRESS_BAR_BYTES_MIN: u64 = 4 << 20;

/// Lines checked together by one task: enough that a task is worth spawning, few enough
/// that the batches in flight hold little.
const CHECK_BATCH_LINES: usize = 4096;

/// Assess an agreement from signed entries: incidents, findings, obligations, phases,
/// indicators, and the assessment digest.
///
/// Every line of the entries file (NDJSON: reports, guarantor actions, objections, rulings,
/// retractions) is validated and its signature strictly verified against the keys the
/// agreement lists for the signer's role. Rejected lines are reported on stderr with their
/// line number and reason; the rest are assessed.
///
/// The digest is the SHA-256 of the assessment's RFC 8785 canonical JSON, which `--json`
/// writes byte for byte: `sha256sum OUT` prints the same digest. The same agreement, entries
/// and as-of time give the same digest on every machine, whatever the order of the lines.
///
/// Exit codes: 0 assessed, every line accepted; 1 the agreement is invalid, or some lines
/// were rejected (the assessment of the others is still printed); 2 usage or I/O error.
#[derive(clap::Args)]
pub struct Args {
    /// A directory holding `agreement.toml`, or the agreement's TOML file.
    #[arg(long)]
    pub agreement: PathBuf,
    /// Signed entries, one JSON object per line (`-` for stdin).
    #[arg(long = "reports", value_name = "FILE.ndjson")]
    pub reports: PathBuf,
    /// Assess as of this RFC 3339 time (entries submitted later are not yet known).
    /// Default: now.
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Write the assessment's canonical JSON (RFC 8785) to this file.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Print at most this many rejected lines (all are counted).
    #[arg(long, default_value_t = 50)]
    pub max_errors: usize,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let as_of = match &args.as_of {
        Some(text) => text
            .parse::<Timestamp>()
            .map_err(|e| anyhow::anyhow!("--as-of: {e}"))?,
        None => now(),
    };
    let Some(parsed) = agreement_file::load_or_report(&args.agreement)? else {
        return Ok(exit_invalid());
    };
    let agreement = parsed.agreement;

    let mut read = read_entries_file(&args.reports, &agreement)?;
    let shown = read.errors.len().min(args.max_errors);
    for error in &read.errors[..shown] {
        eprintln!("{}:{error}", args.reports.display());
    }
    if read.errors.len() > shown {
        eprintln!(
            "{}: {} more rejected lines not shown (--max-errors)",
            args.reports.display(),
            read.errors.len() - shown
        );
    }

    // Handed over, so the observations are freed once corroborated.
    let entries = std::mem::take(&mut read.entries);
    let assessment = assess_intake(&agreement, entries, as_of, &mut |_| {});
    let digest = assessment.digest().context("serialising the assessment")?;
    if let Some(out) = &args.json {
        // Streamed: the canonical JSON of 10^6 reports' assessment is hundreds of megabytes.
        let cannot_write = || format!("cannot write {}", out.display());
        let mut file = BufWriter::new(File::create(out).with_context(cannot_write)?);
        assessment
            .write_canonical(&mut file)
            .with_context(cannot_write)?;
        file.flush().with_context(cannot_write)?;
    }
    print!(
        "{}",
        summary(&agreement, &assessment, &read, &digest, &args.reports)
    );
    Ok(if read.errors.is_empty() {
        EXIT_OK
    } else {
        exit_invalid()
    })
}

/// What came out of reading the entries file.
struct EntriesRead {
    /// The accepted entries, reports already reduced to what the assessment reads.
    entries: Intake,
    accepted: usize,
    errors: Vec<LineError>,
    duplicates: usize,
}

fn read_entries_file(path: &Path, agreement: &Agreement) -> anyhow::Result<EntriesRead> {
    let (input, size): (Box<dyn Read + Send>, u64) = if path.as_os_str() == "-" {
        (Box::new(std::io::stdin()), 0)
    } else {
        let file = File::open(path)
            .with_context(|| format!("cannot read entries file {}", path.display()))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        (Box::new(file), size)
    };
    let progress = if size >= PROGRESS_BAR_BYTES_MIN {
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template(
                "verifying {bar:40} {bytes}/{total_bytes} {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };

    let checker = LineChecker::new(agreement);
    let mut read = EntriesRead {
        entries: Intake::new(),
        accepted: 0,
        errors: Vec::new(),
        duplicates: 0,
    };
    let mut lines = BufReader::new(input);
    let mut line = Vec::new();
    let fill = |batch: &mut LineBatch| {
        let bytes = read_batch(&mut lines, &mut line, batch, path)?;
        progress.inc(bytes);
        anyhow::Ok(())
    };
    read_batches(&checker, fill, |outcome| match outcome {
        Ok(LineOutcome::Accepted(accepted)) => {
            read.accepted += 1;
            read.entries.push(accepted.entry);
        }
        Ok(LineOutcome::Duplicate { .. }) => read.duplicates += 1,
        Ok(LineOutcome::Blank) => {}
        Err(error) => read.errors.push(error),
    })?;
    progress.finish_and_clear();
    Ok(read)
}

/// Up to [`CHECK_BATCH_LINES`] raw lines into `batch`, each read into `line` first, and
/// their bytes; none at the end of the input.
fn read_batch(
    lines: &mut impl BufRead,
    line: &mut Vec<u8>,
    batch: &mut LineBatch,
    path: &Path,
) -> anyhow::Result<u64> {
    let before = batch.byte_len();
    while batch.len() < CHECK_BATCH_LINES {
        line.clear();
        let read = lines
            .read_until(b'\n', line)
            .with_context(|| format!("reading {}", path.display()))?;
        if read == 0 {
            break;
        }
        batch.push(line);
    }
    Ok((batch.byte_len() - before) as u64)
}

fn now() -> Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Timestamp::from_unix_seconds(seconds)
}

/// The readable summary: findings per party and commitment, obligations per guarantor,
/// phases, indicator levels, digest.
fn summary(
    agreement: &Agreement,
    assessment: &Assessment,
    read: &EntriesRead,
    digest: &str,
    source: &Path,
) -> String {
    let mut out = String::new();
    let c = &assessment.counts;
    let _ = writeln!(
        out,
        "{} (version {}) as of {}",
        agreement.title, assessment.agreement_version, assessment.as_of
    );
    let _ = writeln!(
        out,
        "entries: {} accepted from {} ({} rejected, {} duplicates), {} known as of then, {} reports ({} retracted)",
        read.accepted,
        source.display(),
        read.errors.len(),
        read.duplicates,
        c.entries,
        c.reports,
        c.retracted
    );
    let _ = writeln!(out, "incidents: {}", c.incidents);

    let _ = writeln!(
        out,
        "\nfindings: {} ({} confirmed, {} provisional, {} contested, {} dismissed)",
        c.findings,
        c.findings_confirmed,
        c.findings_provisional,
        c.findings_contested,
        c.findings_dismissed
    );
    // party → commitment → counts by status
    let mut table: BTreeMap<String, BTreeMap<&str, [u32; 4]>> = BTreeMap::new();
    for f in &assessment.findings {
        let party = f.party.clone().unwrap_or_else(|| "unattributed".into());
        let row = table
            .entry(party)
            .or_default()
            .entry(f.commitment.as_str())
            .or_default();
        let column = match f.status {
            FindingStatus::Confirmed => 0,
            FindingStatus::Provisional => 1,
            FindingStatus::Contested => 2,
            FindingStatus::Dismissed => 3,
        };
        row[column] += 1;
    }
    if !table.is_empty() {
        let _ = writeln!(
            out,
            "  {:<14} {:<32} {:>9} {:>11} {:>9} {:>9}",
            "party", "commitment", "confirmed", "provisional", "contested", "dismissed"
        );
    }
    for (party, rows) in &table {
        for (commitment, n) in rows {
            let _ = writeln!(
                out,
                "  {:<14} {:<32} {:>9} {:>11} {:>9} {:>9}",
                party, commitment, n[0], n[1], n[2], n[3]
            );
        }
    }

    let _ = writeln!(
        out,
        "\nobligations: {} ({} open, {} overdue, {} fulfilled, {} fulfilled late)",
        c.obligations,
        c.obligations_open,
        c.obligations_overdue,
        c.obligations_fulfilled,
        c.obligations_fulfilled_late
    );
    let mut per_guarantor: BTreeMap<&str, [u32; 4]> = BTreeMap::new();
    for o in &assessment.obligations {
        let row = per_guarantor.entry(&*o.guarantor).or_default();
        let column = match o.status {
            ObligationStatus::Open => 0,
            ObligationStatus::Overdue => 1,
            ObligationStatus::Fulfilled => 2,
            ObligationStatus::FulfilledLate => 3,
        };
        row[column] += 1;
    }
    if !per_guarantor.is_empty() {
        let _ = writeln!(
            out,
            "  {:<20} {:>6} {:>8} {:>10} {:>6}",
            "guarantor", "open", "overdue", "fulfilled", "late"
        );
    }
    for (guarantor, n) in &per_guarantor {
        let _ = writeln!(
            out,
            "  {:<20} {:>6} {:>8} {:>10} {:>6}",
            guarantor, n[0], n[1], n[2], n[3]
        );
    }
    let mut overdue: Vec<_> = assessment
        .obligations
        .iter()
        .filter(|o| o.status == ObligationStatus::Overdue)
        .collect();
    overdue.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
    for o in overdue.iter().take(10) {
        let _ = writeln!(
            out,
            "  overdue since {}: {} owes `{}` ({})",
            o.due_at, o.guarantor, o.action, o.id
        );
    }
    if overdue.len() > 10 {
        let _ = writeln!(out, "  ... and {} more overdue", overdue.len() - 10);
    }

    let _ = writeln!(out, "\nphases:");
    for p in &assessment.phases {
        let status = serde_json::to_value(p.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut line = format!("  {:<20} {}", p.id, status);
        if let Some(at) = p.entered_at {
            let _ = write!(line, " since {at}");
        }
        if let Some(at) = p.snapped_back_at {
            let _ = write!(line, ", snapped back at {at}");
        }
        if !p.waiting_for.is_empty() {
            let _ = write!(line, " (waiting for: {})", p.waiting_for.join("; "));
        }
        let _ = writeln!(out, "{line}");
    }
    if assessment.phases.is_empty() {
        let _ = writeln!(out, "  (none in this agreement)");
    }

    let level = |l| {
        serde_json::to_value(l)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let _ = writeln!(
        out,
        "\nindicators: overall {}",
        level(assessment.indicators.level)
    );
    for s in &assessment.indicators.sectors {
        if let Some(today) = &s.today {
            let _ = writeln!(
                out,
                "  {:<20} {} on {}: {} violations against a baseline of {:.2}/day",
                s.sector,
                level(today.level),
                today.date,
                today.count,
                today.baseline
            );
        }
    }

    let _ = writeln!(out, "\ndigest: {digest}");
    out
}
