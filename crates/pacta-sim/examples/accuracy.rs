//! The accuracy grid of `bench/ACCURACY.md`: Pacta's corroboration, adjudication and
//! responses against two naive baselines, over monitor density and noise, on the demo
//! agreement, with the spread over seeds.
//!
//! ```text
//! cargo run --release -p pacta-sim --example accuracy
//! ```
//!
//! For each grid point and seed: simulate (`[monitors] density`, `[noise] scale`), verify
//! every report against the agreement, assess as of the truth's `as_of` with
//! `pacta_core::assess`, run both baselines on the same reports, and score all three with
//! `pacta_sim::evaluate` at the default tolerance (and, for one noise level, at the other
//! tolerances asked for). Prints Markdown tables:
//!
//! - precision, recall and F1 micro-averaged over the seeds (counts summed, then divided);
//! - each seed's F1 as an independent replicate: the mean with a 95% Student-t interval, and
//!   Pacta's paired difference to each baseline with its interval and the seeds it won;
//! - the obligations each method opens, how many rest on true findings, and the true breaches
//!   that opened none;
//! - incident F1 under other matching tolerances.

#[path = "../tests/common/mod.rs"]
mod common;

use std::str::FromStr;

use clap::Parser;
use pacta_core::assess::assess;
use pacta_core::entry::read_entries;
use pacta_core::entry::types::{Entry, Report};
use pacta_sim::baseline::{one_per_report, spatial_dbscan};
use pacta_sim::evaluate::{ObligationScore, Score};
use pacta_sim::{evaluate, simulate, Evaluation, Outcome, ScenarioConfig, Tolerance};
use statrs::distribution::{ContinuousCDF, StudentsT};

#[derive(Parser)]
struct Args {
    /// Seeds per grid point: independent replicates of the scenario.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6,7,8,9,10")]
    seeds: Vec<u64>,
    /// Monitor densities (units per monitor, relative to the default).
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2,4")]
    density: Vec<f64>,
    /// Noise scales (every error and error rate, relative to the default).
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2,3")]
    noise: Vec<f64>,
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Matching tolerances of the sensitivity table, as `km:minutes`.
    #[arg(long, value_delimiter = ',', default_value = "1:30,3:60,5:120,10:360")]
    tolerances: Vec<ToleranceArg>,
    /// The noise scale whose grid points the sensitivity table shows.
    #[arg(long, default_value_t = 1.0)]
    sensitivity_noise: f64,
}

#[derive(Clone, Copy)]
struct ToleranceArg(Tolerance);

impl FromStr for ToleranceArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (km, minutes) = text
            .split_once(':')
            .ok_or_else(|| format!("`{text}`: expected km:minutes, such as 3:60"))?;
        let distance_km: f64 = km.parse().map_err(|e| format!("`{km}`: {e}"))?;
        let minutes: i64 = minutes.parse().map_err(|e| format!("`{minutes}`: {e}"))?;
        let time_s = minutes
            .checked_mul(60)
            .ok_or_else(|| format!("`{text}`: too many minutes"))?;
        if !(distance_km.is_finite() && distance_km > 0.0 && time_s > 0) {
            return Err(format!("`{text}`: both must be positive"));
        }
        Ok(ToleranceArg(Tolerance {
            distance_km,
            time_s,
        }))
    }
}

/// The methods compared, in the tables' column order.
const METHODS: [&str; 3] = ["Pacta", "one per report", "spatial DBSCAN"];

/// One seed at one grid point.
struct Run {
    reports: u64,
    events: u64,
    /// Each method's evaluation at the default tolerance, in [`METHODS`] order.
    scored: [Evaluation; 3],
    /// Each method's incident score at each sensitivity tolerance (only at the sensitivity
    /// noise level).
    sensitivity: Vec<[Score; 3]>,
}

struct GridPoint {
    density: f64,
    noise: f64,
    runs: Vec<Run>,
}

impl GridPoint {
    fn mean_per_run(&self, of: impl Fn(&Run) -> u64) -> f64 {
        let total: u64 = self.runs.iter().map(of).sum();
        total as f64 / self.runs.len().max(1) as f64
    }

    /// Counts summed over the seeds, then divided.
    fn micro(&self, score: impl Fn(&Run) -> &Score) -> Score {
        let (mut produced, mut expected, mut matched) = (0, 0, 0);
        for run in &self.runs {
            let s = score(run);
            produced += s.produced;
            expected += s.expected;
            matched += s.matched;
        }
        Score::new(produced, expected, matched)
    }

    fn label(&self) -> String {
        format!("| {} | {} |", self.density, self.noise)
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let agreement = common::demo_agreement();
    let keys = common::demo_keys(&agreement);
    let tolerance = Tolerance::default();
    let mut sensitivity: Vec<Tolerance> = args.tolerances.iter().map(|t| t.0).collect();
    if !args.noise.contains(&args.sensitivity_noise) {
        eprintln!(
            "accuracy: --sensitivity-noise {} is not one of --noise; no sensitivity table",
            args.sensitivity_noise
        );
        sensitivity.clear();
    }
    let eps_km = agreement.corroboration.distance_km;
    let mut grid = Vec::new();
    for &density in &args.density {
        for &noise in &args.noise {
            let mut point = GridPoint {
                density,
                noise,
                runs: Vec::new(),
            };
            for &seed in &args.seeds {
                let mut config = ScenarioConfig {
                    days: args.days,
                    ..ScenarioConfig::default()
                };
                config.monitors.density = density;
                config.noise.scale = noise;
                let sim = simulate(&agreement, &config, &keys, seed)?;
                let (accepted, errors) = read_entries(&sim.reports.join("\n"), &agreement);
                anyhow::ensure!(errors.is_empty(), "rejected report: {:?}", errors.first());
                let entries: Vec<Entry> = accepted.into_iter().map(|a| a.entry).collect();
                let reports: Vec<&Report> = entries.iter().filter_map(Entry::as_report).collect();
                let as_of = sim.truth.as_of;
                let assessment = assess(&agreement, &entries, as_of);
                let pacta: Outcome = serde_json::from_value(serde_json::to_value(&assessment)?)?;
                let outcomes = [
                    pacta,
                    one_per_report(&agreement, &reports, as_of),
                    spatial_dbscan(&agreement, &reports, eps_km, 2, as_of),
                ];
                let at = |t: Tolerance| outcomes.each_ref().map(|o| evaluate(&sim.truth, o, t));
                let sensitivity = if noise == args.sensitivity_noise {
                    sensitivity
                        .iter()
                        .map(|&t| at(t).map(|e| e.incidents))
                        .collect()
                } else {
                    Vec::new()
                };
                point.runs.push(Run {
                    reports: reports.len() as u64,
                    events: sim.truth.events.len() as u64,
                    scored: at(tolerance),
                    sensitivity,
                });
            }
            grid.push(point);
        }
    }

    println!(
        "seeds {:?}, {} days, demo agreement, tolerance {} km / {} min, DBSCAN eps {} km, min_points 2\n",
        args.seeds,
        args.days,
        tolerance.distance_km,
        tolerance.time_s / 60,
        eps_km
    );
    print_incidents(&grid);
    print_findings(&grid);
    print_spread(&grid);
    print_obligations(&grid);
    print_sensitivity(&grid, &sensitivity, args.sensitivity_noise);
    Ok(())
}

fn print_incidents(grid: &[GridPoint]) {
    head(
        "Incidents (precision / recall / F1, micro-averaged over the seeds)",
        &[
            "reports/run",
            "events/run",
            "Pacta",
            "one per report",
            "spatial DBSCAN",
            "Pacta recall of reported events (mean over seeds)",
        ],
        "rrlllr",
    );
    for point in grid {
        let cols: Vec<String> = (0..METHODS.len())
            .map(|m| prf(&point.micro(|run| &run.scored[m].incidents)))
            .collect();
        let reported: Vec<f64> = point
            .runs
            .iter()
            .filter_map(|run| run.scored[0].incident_recall_reported)
            .collect();
        println!(
            "{} {:.0} | {:.0} | {} | {} |",
            point.label(),
            point.mean_per_run(|run| run.reports),
            point.mean_per_run(|run| run.events),
            cols.join(" | "),
            mean(&reported).map_or_else(dash, |m| format!("{m:.3}"))
        );
    }
    println!();
}

fn print_findings(grid: &[GridPoint]) {
    head(
        "Findings (precision / recall / F1, micro-averaged), and Pacta's attribution accuracy on true findings",
        &["Pacta", "one per report", "spatial DBSCAN", "Pacta attribution"],
        "lllr",
    );
    for point in grid {
        let cols: Vec<String> = (0..METHODS.len())
            .map(|m| prf(&point.micro(|run| &run.scored[m].findings)))
            .collect();
        let (correct, items) = point.runs.iter().fold((0, 0), |(c, n), run| {
            let a = &run.scored[0].finding_attribution;
            (c + a.correct, n + a.items)
        });
        let attribution = share(correct, items).map_or_else(dash, |a| format!("{a:.3}"));
        println!("{} {} | {attribution} |", point.label(), cols.join(" | "));
    }
    println!();
}

/// Each seed's F1 as a replicate: Pacta's mean, and its paired difference to each baseline.
fn print_spread(grid: &[GridPoint]) {
    let seeds = grid.first().map_or(0, |p| p.runs.len());
    head(
        &format!("Spread over the {seeds} seeds: F1 mean ± half-width of its 95% interval (Student t), Pacta minus each baseline (paired by seed), seeds Pacta won"),
        &[
            "incidents: Pacta",
            "− one per report",
            "won",
            "− spatial DBSCAN",
            "won",
            "findings: Pacta",
            "− one per report",
            "won",
            "− spatial DBSCAN",
            "won",
        ],
        "llrlrllrlr",
    );
    for point in grid {
        let mut cols = Vec::new();
        for score in [
            (|e: &Evaluation| &e.incidents) as fn(&Evaluation) -> &Score,
            |e: &Evaluation| &e.findings,
        ] {
            let f1 = |run: &Run, m: usize| score(&run.scored[m]).f1;
            let own: Vec<f64> = point.runs.iter().filter_map(|run| f1(run, 0)).collect();
            cols.push(interval(&own, false));
            for baseline in 1..METHODS.len() {
                let paired: Vec<f64> = point
                    .runs
                    .iter()
                    .filter_map(|run| Some(f1(run, 0)? - f1(run, baseline)?))
                    .collect();
                let won = paired.iter().filter(|d| **d > 0.0).count();
                cols.push(interval(&paired, true));
                cols.push(format!("{won}/{}", paired.len()));
            }
        }
        println!("{} {} |", point.label(), cols.join(" | "));
    }
    println!();
}

fn print_obligations(grid: &[GridPoint]) {
    head(
        "Obligations (summed over the seeds): opened on findings / of them justified (share) / true breaches that opened none",
        &[
            "Pacta",
            "one per report",
            "spatial DBSCAN",
            "renewed offensives detected: Pacta / one per report / spatial DBSCAN",
            "offensive alarms outside any offensive (all alarms): Pacta / one per report / spatial DBSCAN",
        ],
        "lllrr",
    );
    for point in grid {
        let total = |m: usize, of: fn(&ObligationScore) -> u64| -> u64 {
            point
                .runs
                .iter()
                .map(|run| of(&run.scored[m].obligations))
                .sum()
        };
        let cols: Vec<String> = (0..METHODS.len())
            .map(|m| {
                let opened = total(m, |o| o.opened);
                let justified = total(m, |o| o.justified);
                let missed = total(m, |o| o.missed_breaches.values().sum());
                let justified_share = share(100 * justified, opened)
                    .map_or_else(String::new, |percent| format!(" ({percent:.1}%)"));
                format!("{opened} / {justified}{justified_share} / {missed}")
            })
            .collect();
        let offensives: Vec<String> = (0..METHODS.len())
            .map(|m| format!("{}", total(m, |o| o.episodes_detected)))
            .collect();
        let false_alarms: Vec<String> = (0..METHODS.len())
            .map(|m| {
                format!(
                    "{} ({})",
                    total(m, |o| o.offensive_false_alarms),
                    total(m, |o| o.offensive_alarms)
                )
            })
            .collect();
        println!(
            "{} {} | {} of {} | {} |",
            point.label(),
            cols.join(" | "),
            offensives.join(" / "),
            total(0, |o| o.episodes),
            false_alarms.join(" / ")
        );
    }
    println!();
}

fn print_sensitivity(grid: &[GridPoint], tolerances: &[Tolerance], noise: f64) {
    if tolerances.is_empty() {
        return;
    }
    let heads: Vec<String> = tolerances
        .iter()
        .map(|t| format!("{} km, {} min", t.distance_km, t.time_s / 60))
        .collect();
    let heads: Vec<&str> = heads.iter().map(String::as_str).collect();
    head(
        &format!("Incident F1 (micro-averaged) under other matching tolerances, noise {noise}: Pacta / one per report / spatial DBSCAN"),
        &heads,
        &"l".repeat(heads.len()),
    );
    for point in grid.iter().filter(|p| p.noise == noise) {
        let cols: Vec<String> = (0..tolerances.len())
            .map(|t| {
                let f1s: Vec<String> = (0..METHODS.len())
                    .map(|m| {
                        let s = point.micro(|run| &run.sensitivity[t][m]);
                        s.f1.map_or_else(dash, |v| format!("{v:.3}"))
                    })
                    .collect();
                f1s.join(" / ")
            })
            .collect();
        println!("{} {} |", point.label(), cols.join(" | "));
    }
    println!();
}

/// A table's title and head: density and noise, then `columns`, each aligned right (`r`) or
/// left (`l`) as `align` says.
fn head(title: &str, columns: &[&str], align: &str) {
    println!("### {title}\n");
    println!("| density | noise | {} |", columns.join(" | "));
    let rule: String = align
        .chars()
        .map(|a| if a == 'r' { "---:|" } else { "---|" })
        .collect();
    println!("|---:|---:|{rule}");
}

/// `part / whole`, or `None` for an empty whole.
fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn prf(s: &Score) -> String {
    let f = |x: Option<f64>| x.map_or_else(dash, |v| format!("{v:.3}"));
    format!("{} / {} / {}", f(s.precision), f(s.recall), f(s.f1))
}

fn dash() -> String {
    "-".to_string()
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// "mean ± half-width" of the 95% Student-t interval of the mean of `xs` (the mean alone for
/// fewer than two values); `signed` prints the mean's sign.
fn interval(xs: &[f64], signed: bool) -> String {
    let Some(m) = mean(xs) else {
        return dash();
    };
    let shown = if signed {
        format!("{m:+.3}")
    } else {
        format!("{m:.3}")
    };
    let n = xs.len();
    if n < 2 {
        return shown;
    }
    let variance = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    match StudentsT::new(0.0, 1.0, (n - 1) as f64) {
        Ok(t) => {
            let half = t.inverse_cdf(0.975) * (variance / n as f64).sqrt();
            format!("{shown} ± {half:.3}")
        }
        Err(_) => shown,
    }
}
