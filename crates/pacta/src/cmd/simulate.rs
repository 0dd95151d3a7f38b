//! `pacta simulate`: runs a seeded monitoring scenario over an agreement and writes signed
//! reports (NDJSON) and the ground truth (JSON).

use std::io::{BufWriter, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use pacta_sim::{simulate_to, MonitorKeys, Problem, RunOptions, ScenarioConfig, Setting};
use tempfile::NamedTempFile;

use super::keygen::load_signing_key;
use super::{exit_invalid, EXIT_OK};
use crate::agreement_file;

/// Runs asked for at least this many reports show a bar towards the total (on a terminal).
const PROGRESS_BAR_REPORTS_MIN: u64 = 50_000;

/// Simulate monitoring: true events by each party along the line of contact, monitors that
/// detect and report them with noise, and every report signed with its monitor's key.
///
/// Writes the signed `pacta.report/1` entries, one per line, and the ground truth: every true
/// event (time, place, party, kind, weapon, the commitments it breaches) with the ids of the
/// reports that describe it, the false reports, and whether each party complied with each
/// obligation by deadline. The same agreement, keys, configuration and seed give
/// byte-identical files. Scenario files are documented in `docs/simulation.md`.
///
/// Settings the run would bend or ignore are refused, all of them at once, before anything is
/// written: ids the agreement does not have, negative amounts, probabilities outside [0, 1],
/// hours outside the day, flights longer than a day or more than 240 a day, a stretch beyond
/// the line's end, an offensive after the last day, a busiest day of more than 4,000,000
/// pairs of unit and true event, `--days` outside 1 to 3,660 and `--reports` outside 1 to
/// 10^8 or above 4,000,000 a day (see `docs/simulation.md`).
///
/// Exit codes: 0 written; 1 the agreement, the scenario file or a setting is invalid; 2 usage
/// or I/O error.
#[derive(clap::Args)]
pub struct Args {
    /// A directory holding `agreement.toml`, or the agreement's TOML file.
    #[arg(long)]
    pub agreement: PathBuf,
    /// A directory of monitor key files named `MONITOR.key.json` (as `pacta keygen` writes
    /// them). Monitors without a key file write nothing.
    #[arg(long, value_name = "DIR")]
    pub keys: PathBuf,
    /// Scenario file (TOML); default: the documented default scenario.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated days (overrides the scenario's `days`).
    #[arg(long)]
    pub days: Option<u32>,
    /// Produce exactly this many reports, scaling the parties' rates to spread them over the
    /// simulated days.
    #[arg(long)]
    pub reports: Option<u64>,
    /// Where to write the signed reports (NDJSON).
    #[arg(long, value_name = "REPORTS.ndjson")]
    pub out: PathBuf,
    /// Where to write the ground truth (JSON).
    #[arg(long, value_name = "TRUTH.json")]
    pub truth: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let Some(parsed) = agreement_file::load_or_report(&args.agreement)? else {
        return Ok(exit_invalid());
    };
    let agreement = parsed.agreement;
    // The file's text is kept to point at the line of a refused setting.
    let scenario = match &args.config {
        Some(path) => Some((
            path.as_path(),
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read scenario file {}", path.display()))?,
        )),
        None => None,
    };
    let mut config = match &scenario {
        Some((path, text)) => match ScenarioConfig::from_toml(text) {
            Ok(config) => config,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                return Ok(exit_invalid());
            }
        },
        None => ScenarioConfig::default(),
    };
    if let Some(days) = args.days {
        config.days = days;
    }
    let keys = load_keys(&args.keys, agreement.monitors.keys())?;

    let mut reports_out = BufWriter::with_capacity(1 << 20, staged(&args.out)?);
    let mut truth_out = BufWriter::with_capacity(1 << 20, staged(&args.truth)?);

    let bar = progress_bar(args.reports);
    let options = RunOptions {
        target_reports: args.reports,
    };
    let result = simulate_to(
        &agreement,
        &config,
        &keys,
        args.seed,
        &options,
        &mut reports_out,
        &mut truth_out,
        &mut |n| bar.set_position(n),
    );
    bar.finish_and_clear();
    let summary = match result {
        Ok(summary) => summary,
        Err(pacta_sim::SimError::Io(e)) => {
            return Err(e).context("writing the simulation output");
        }
        Err(pacta_sim::SimError::Invalid(problems)) => {
            for problem in &problems {
                eprintln!(
                    "error: {}",
                    where_and_what(
                        problem,
                        args.days.is_some(),
                        scenario.as_ref().map(|(path, text)| (*path, text.as_str()))
                    )
                );
            }
            eprintln!(
                "{} setting{} refused; nothing was written",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            return Ok(exit_invalid());
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit_invalid());
        }
    };
    for (out, path) in [(reports_out, &args.out), (truth_out, &args.truth)] {
        let staged = out
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", path.display()))?;
        staged
            .persist(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    for monitor in &summary.monitors_without_key {
        eprintln!(
            "note: no key file {} for monitor `{monitor}`: it wrote nothing",
            args.keys.join(format!("{monitor}.key.json")).display()
        );
    }
    println!(
        "{} reports ({} false) on {} true events over {} days, seed {}",
        summary.reports, summary.false_reports, summary.events, summary.days, args.seed
    );
    println!("reports: {}", args.out.display());
    println!("truth:   {}", args.truth.display());
    Ok(EXIT_OK)
}

/// A refused setting as the user wrote it: the flag that set it, or the scenario file with the
/// line and column of the key.
fn where_and_what(problem: &Problem, days_flag: bool, scenario: Option<(&Path, &str)>) -> String {
    let (reason, value) = (&problem.reason, &problem.value);
    match &problem.setting {
        Setting::TargetReports => format!("--reports {value}: {reason}"),
        Setting::Key(key) if days_flag && key.is(&["days"]) => format!("--days {value}: {reason}"),
        Setting::Key(_) => match scenario {
            Some((path, text)) => match problem.locate(text) {
                Some((line, column)) => format!("{}:{line}:{column}: {problem}", path.display()),
                None => format!("{}: {problem}", path.display()),
            },
            None => format!("the default scenario: {problem}"),
        },
    }
}

/// A bar towards `--reports` when it is large, else a counter; hidden when stderr is not a
/// terminal (so redirected runs and tests print nothing but the summary).
fn progress_bar(target: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match target {
        Some(n) if n >= PROGRESS_BAR_REPORTS_MIN => (
            ProgressBar::new(n),
            "simulating {bar:40} {pos}/{len} reports {per_sec} eta {eta}",
        ),
        Some(_) => return ProgressBar::hidden(),
        None => (
            ProgressBar::new_spinner(),
            "simulating {spinner} {pos} reports {per_sec}",
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// Loads `DIR/MONITOR.key.json` for every monitor that has one.
fn load_keys<'a>(
    dir: &Path,
    monitors: impl Iterator<Item = &'a String>,
) -> anyhow::Result<MonitorKeys> {
    if !dir.is_dir() {
        anyhow::bail!("--keys {}: not a directory", dir.display());
    }
    let mut keys = MonitorKeys::new();
    for monitor in monitors {
        let path = dir.join(format!("{monitor}.key.json"));
        if path.is_file() {
            keys.insert(monitor.clone(), load_signing_key(&path)?);
        }
    }
    Ok(keys)
}

/// A file written beside `path` and moved over it only once the run has succeeded, so that a
/// run that fails (a bad key directory, an agreement no monitor can sign for, no room left)
/// leaves a file already at `path` as it was; dropped unpersisted, it is removed.
fn staged(path: &Path) -> anyhow::Result<NamedTempFile> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".pacta-simulate-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create {}", path.display()))
}
