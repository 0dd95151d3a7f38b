//! Running a scenario: generate, sign in parallel, and write reports (NDJSON) and the ground
//! truth (JSON) as a stream, so memory does not grow with the number of reports.

use std::collections::BTreeMap;
use std::io::Write;

use ed25519_dalek::SigningKey;
use pacta_core::agreement::model::Agreement;
use pacta_core::entry::sign_entry;
use pacta_core::entry::types::Report;
use pacta_core::time::Timestamp;
use rayon::prelude::*;
use serde::Serialize;

use crate::config::ScenarioConfig;
use crate::generate::{Flow, Generator, Plan, Produced};
use crate::truth::{FalseReport, Truth, TruthCounts, TRUTH_SCHEMA};

/// Signing keys by monitor id.
pub type MonitorKeys = BTreeMap<String, SigningKey>;

/// Reports signed together: enough to keep every core busy, and the only reports held in
/// memory (about 8 MiB at roughly 1 KiB per signed report).
pub const SIGN_BATCH_REPORTS: usize = 8_192;

/// Days simulated before giving up on reaching a requested number of reports.
pub const DAYS_MAX: u32 = 36_500;

/// Days of the unsigned pilot run that estimates reports per day for `--reports`.
const PILOT_DAYS: u32 = 3;

/// Reports the pilot run aims at: the default scenario's rates give a few dozen in three
/// days, whose Poisson noise alone put a run's length off by a third, so the pilot is run
/// again with its rates scaled up to give about this many (a spread of about 1.5%).
const PILOT_REPORTS: u64 = 5_000;

/// How to run a scenario beyond its configuration.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Produce exactly this many reports: party rates are scaled so that about this many come
    /// in the configured days, and the run ends at the report that reaches it (extra days
    /// are simulated if needed).
    pub target_reports: Option<u64>,
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Reports written.
    pub reports: u64,
    /// True events written to the truth.
    pub events: u64,
    /// Reports that describe nothing.
    pub false_reports: u64,
    /// Days simulated (the last one possibly cut short).
    pub days: u32,
    /// Factor applied to party rates to reach the requested number of reports.
    pub rate_scale: f64,
    /// Agreement monitors with no signing key: they wrote nothing.
    pub monitors_without_key: Vec<String>,
}

/// A whole simulation held in memory (small runs, tests, the demo).
#[derive(Clone, Debug)]
pub struct Simulation {
    /// Signed `pacta.report/1` entries, one JSON object per string.
    pub reports: Vec<String>,
    /// The ground truth.
    pub truth: Truth,
}

/// Why a scenario could not run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{}", crate::validate::describe(.0))]
    /// Settings of the scenario or the run that it would bend or ignore, every one of them.
    Invalid(Vec<crate::validate::Problem>),
    #[error("scenario `start`: {0}")]
    /// The scenario's `start` is not an RFC 3339 time.
    Start(String),
    #[error("key for monitor `{0}`: the agreement lists no such monitor")]
    /// A key was given for a monitor the agreement does not list.
    UnknownMonitor(String),
    #[error("key for monitor `{0}` is not one of the keys the agreement lists for it")]
    /// A key was given that the agreement does not list for its monitor.
    WrongKey(String),
    #[error("no monitor of the agreement has a signing key: nobody can report")]
    /// No monitor can sign.
    NoMonitorKeys,
    #[error("the agreement has no parties: nobody acts")]
    /// The agreement has no parties.
    NoParties,
    #[error("the scenario produces no reports, so {0} reports cannot be reached")]
    /// `target_reports` was asked of a scenario that produces none.
    NoReports(u64),
    #[error("signing report `{id}`: {reason}")]
    /// Signing a report failed.
    Sign {
        /// The report's id.
        id: String,
        /// Why.
        reason: String,
    },
    #[error("writing output: {0}")]
    /// Writing failed.
    Io(#[from] std::io::Error),
    #[error("serialising output: {0}")]
    /// Serialising failed.
    Json(#[from] serde_json::Error),
    #[error("reading back the truth: {0}")]
    /// The truth written could not be read back.
    Truth(#[from] crate::truth::TruthError),
}

/// Runs a scenario in memory: `config.days` days, reports signed with `keys`.
pub fn simulate(
    agreement: &Agreement,
    config: &ScenarioConfig,
    keys: &MonitorKeys,
    seed: u64,
) -> Result<Simulation, SimError> {
    let mut reports = Vec::new();
    let mut truth = Vec::new();
    simulate_to(
        agreement,
        config,
        keys,
        seed,
        &RunOptions::default(),
        &mut reports,
        &mut truth,
        &mut |_| {},
    )?;
    let text = String::from_utf8_lossy(&reports);
    Ok(Simulation {
        reports: text.lines().map(str::to_string).collect(),
        truth: Truth::from_json(&String::from_utf8_lossy(&truth))?,
    })
}

/// Runs a scenario and streams its signed reports (NDJSON) to `reports_out` and its ground
/// truth (JSON) to `truth_out`; `progress` is told the number of reports written so far
/// after each batch. The same inputs give byte-identical outputs.
#[allow(clippy::too_many_arguments)]
pub fn simulate_to(
    agreement: &Agreement,
    config: &ScenarioConfig,
    keys: &MonitorKeys,
    seed: u64,
    options: &RunOptions,
    reports_out: &mut dyn Write,
    truth_out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<Summary, SimError> {
    if agreement.parties.is_empty() {
        return Err(SimError::NoParties);
    }
    // Before anything is written, so that a refused run leaves no partial output.
    crate::validate::validate(agreement, config, options).map_err(SimError::Invalid)?;
    for (monitor, key) in keys {
        let listed = agreement
            .monitors
            .get(monitor)
            .ok_or_else(|| SimError::UnknownMonitor(monitor.clone()))?;
        if !listed.keys.contains(&pacta_core::entry::public_key_of(key)) {
            return Err(SimError::WrongKey(monitor.clone()));
        }
    }
    let (writers, without_key): (Vec<String>, Vec<String>) = agreement
        .monitors
        .keys()
        .cloned()
        .partition(|m| keys.contains_key(m));
    if writers.is_empty() {
        return Err(SimError::NoMonitorKeys);
    }
    let start = match &config.start {
        Some(text) => text
            .parse::<Timestamp>()
            .map_err(|e| SimError::Start(e.to_string()))?,
        None => agreement.effective,
    };

    let mut plan = Plan::new(agreement, config, &writers, start, seed);
    if let Some(target) = options.target_reports {
        plan.rate_scale = rate_scale_for(&plan, config.days, target)?;
    }

    let mut sink = Sink::new(keys, reports_out, truth_out, options.target_reports)?;
    write_truth_head(&mut sink.truth, agreement, seed, &plan)?;
    let mut generator = Generator::new(&plan, 0);
    let days_max = match options.target_reports {
        Some(_) => DAYS_MAX,
        None => config.days,
    };
    let mut days = 0;
    let mut failure: Option<SimError> = None;
    for day in 0..days_max {
        days = day + 1;
        let flow = generator.day(i64::from(day), &mut |produced| match sink
            .accept(produced, progress)
        {
            Ok(flow) => flow,
            Err(e) => {
                failure = Some(e);
                Flow::Stop
            }
        });
        if let Some(e) = failure.take() {
            return Err(e);
        }
        let reached = options.target_reports.is_some_and(|t| sink.reports >= t);
        if flow == Flow::Stop || reached {
            break;
        }
    }
    sink.flush(progress)?;

    let end = generator
        .stopped_at
        .unwrap_or(Timestamp(start.0 + i64::from(days) * 86_400));
    let mut obligations = plan.obligations.clone();
    for (index, event) in &generator.withdrawals {
        if let Some(o) = obligations.get_mut(*index) {
            o.event = Some(event.clone());
        }
    }
    let counts = TruthCounts {
        events: sink.events,
        events_reported: sink.events_reported,
        breaches: sink.breaches + obligations.iter().filter(|o| !o.complied).count() as u64,
        reports: sink.reports,
        reports_true: sink.reports - sink.false_reports.len() as u64,
        reports_false: sink.false_reports.len() as u64,
        reports_duplicate: generator.duplicates,
        reports_late: generator.late,
    };
    let as_of = sink.as_of.max(end);
    let out = &mut sink.truth;
    out.write_all(b"\n],\n\"false_reports\":[")?;
    for (i, f) in sink.false_reports.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, f)?;
    }
    out.write_all(b"\n],\n\"obligations\":")?;
    serde_json::to_writer(&mut *out, &obligations)?;
    write!(out, ",\n\"start\":")?;
    serde_json::to_writer(&mut *out, &start)?;
    write!(out, ",\n\"end\":")?;
    serde_json::to_writer(&mut *out, &end)?;
    write!(out, ",\n\"as_of\":")?;
    serde_json::to_writer(&mut *out, &as_of)?;
    write!(out, ",\n\"counts\":")?;
    serde_json::to_writer(&mut *out, &counts)?;
    out.write_all(b"\n}\n")?;
    out.flush()?;
    sink.reports_out.flush()?;
    Ok(Summary {
        reports: sink.reports,
        events: sink.events,
        false_reports: counts.reports_false,
        days,
        rate_scale: plan.rate_scale,
        monitors_without_key: without_key,
    })
}

/// The factor on party rates that makes `days` days yield about `target` reports, from an
/// unsigned pilot run on its own random stream of only the happenings the rates drive (an
/// offensive in the pilot's days made a one-day run's estimate nearly three times too high).
/// Those reports grow in proportion to the rates, so one pilot at any scale gives the factor.
fn rate_scale_for(plan: &Plan, days: u32, target: u64) -> Result<f64, SimError> {
    let pilot_days = days.clamp(1, PILOT_DAYS);
    let pilot = |rate_scale: f64| {
        let mut generator = Generator::rated_only(plan, 1, rate_scale);
        let mut reports = 0u64;
        for day in 0..pilot_days {
            generator.day(i64::from(day), &mut |p| {
                if matches!(p, Produced::Report(_)) {
                    reports += 1;
                }
                Flow::Continue
            });
        }
        reports
    };
    let mut pilot_scale = 1.0;
    let mut reports = pilot(pilot_scale);
    if (1..PILOT_REPORTS).contains(&reports) {
        pilot_scale = PILOT_REPORTS as f64 / reports as f64;
        reports = pilot(pilot_scale);
    }
    if reports == 0 {
        return Err(SimError::NoReports(target));
    }
    let per_day_at_scale_one = reports as f64 / (f64::from(pilot_days) * pilot_scale);
    Ok(target as f64 / (per_day_at_scale_one * f64::from(days.max(1))))
}

fn write_truth_head(
    out: &mut dyn Write,
    agreement: &Agreement,
    seed: u64,
    plan: &Plan,
) -> Result<(), SimError> {
    write!(out, "{{\"schema\":")?;
    serde_json::to_writer(&mut *out, TRUTH_SCHEMA)?;
    write!(out, ",\n\"agreement\":")?;
    serde_json::to_writer(&mut *out, &agreement.id)?;
    write!(out, ",\n\"seed\":{seed},\n\"episodes\":")?;
    serde_json::to_writer(&mut *out, &plan.episodes)?;
    write!(out, ",\n\"events\":[")?;
    Ok(())
}

/// Where produced items go: reports are signed in batches, events and false reports recorded.
struct Sink<'k, 'w> {
    keys: &'k MonitorKeys,
    reports_out: &'w mut dyn Write,
    truth: &'w mut dyn Write,
    target: Option<u64>,
    pending: Vec<Report>,
    reports: u64,
    events: u64,
    events_reported: u64,
    breaches: u64,
    false_reports: Vec<FalseReport>,
    as_of: Timestamp,
}

impl<'k, 'w> Sink<'k, 'w> {
    fn new(
        keys: &'k MonitorKeys,
        reports_out: &'w mut dyn Write,
        truth: &'w mut dyn Write,
        target: Option<u64>,
    ) -> Result<Self, SimError> {
        Ok(Sink {
            keys,
            reports_out,
            truth,
            target,
            pending: Vec::with_capacity(SIGN_BATCH_REPORTS),
            reports: 0,
            events: 0,
            events_reported: 0,
            breaches: 0,
            false_reports: Vec::new(),
            as_of: Timestamp(i64::MIN),
        })
    }

    fn accept(
        &mut self,
        produced: Produced,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Flow, SimError> {
        match produced {
            Produced::Report(report) => {
                self.as_of = self.as_of.max(report.submitted_at);
                self.pending.push(*report);
                self.reports += 1;
                if self.pending.len() >= SIGN_BATCH_REPORTS {
                    self.flush(progress)?;
                }
                if self.target.is_some_and(|t| self.reports >= t) {
                    return Ok(Flow::Stop);
                }
            }
            Produced::Event(event) => {
                self.truth
                    .write_all(if self.events == 0 { b"\n" } else { b",\n" })?;
                serde_json::to_writer(&mut *self.truth, &event)?;
                self.events += 1;
                self.events_reported += u64::from(!event.reports.is_empty());
                self.breaches += event.breaches.len() as u64;
            }
            Produced::False(record) => self.false_reports.push(record),
        }
        Ok(Flow::Continue)
    }

    /// Signs the pending reports on every core and writes them in generation order.
    fn flush(&mut self, progress: &mut dyn FnMut(u64)) -> Result<(), SimError> {
        let keys = self.keys;
        let lines: Vec<Result<String, SimError>> = self
            .pending
            .par_iter()
            .map(|report| {
                let key = keys.get(&report.monitor).ok_or(SimError::NoMonitorKeys)?;
                let signed = sign_entry(report, key).map_err(|e| SimError::Sign {
                    id: report.id.clone(),
                    reason: e.to_string(),
                })?;
                Ok(serde_json::to_string(&signed)?)
            })
            .collect();
        for line in lines {
            let line = line?;
            self.reports_out.write_all(line.as_bytes())?;
            self.reports_out.write_all(b"\n")?;
        }
        self.pending.clear();
        progress(self.reports);
        Ok(())
    }
}
