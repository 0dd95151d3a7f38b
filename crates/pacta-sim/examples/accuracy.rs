//! The accuracy grid of `bench/ACCURACY.md`: Pacta's corroboration and adjudication against
//! two naive baselines, over monitor density and noise, on the demo agreement.
//!
//! ```text
//! cargo run --release -p pacta-sim --example accuracy -- --seeds 1,2,3
//! ```
//!
//! For each grid point and seed: simulate (`[monitors] density`, `[noise] scale`), verify
//! every report against the agreement, assess as of the truth's `as_of` with
//! `pacta_core::assess`, run both baselines on the same reports, and score all three with
//! `pacta_sim::evaluate` at the default tolerance. Scores are micro-averaged over seeds (counts
//! summed, then divided). Prints Markdown tables.

#[path = "../tests/common/mod.rs"]
mod common;

use clap::Parser;
use pacta_core::assess::assess;
use pacta_core::entry::read_entries;
use pacta_core::entry::types::{Entry, Report};
use pacta_sim::baseline::{one_per_report, spatial_dbscan};
use pacta_sim::evaluate::Score;
use pacta_sim::{evaluate, simulate, Evaluation, Outcome, ScenarioConfig, Tolerance};

#[derive(Parser)]
struct Args {
    /// Seeds per grid point.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    seeds: Vec<u64>,
    /// Monitor densities (units per monitor, relative to the default).
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2,4")]
    density: Vec<f64>,
    /// Noise scales (every error and error rate, relative to the default).
    #[arg(long, value_delimiter = ',', default_value = "0.5,1,2,3")]
    noise: Vec<f64>,
    #[arg(long, default_value_t = 30)]
    days: u32,
}

/// Counts summed over seeds, per method.
#[derive(Default)]
struct Totals {
    incidents: [u64; 3],
    findings: [u64; 3],
}

#[derive(Default)]
struct Cell {
    reports: u64,
    events: u64,
    /// Pacta, one per report, DBSCAN.
    incidents: [Totals; 3],
    findings: [Totals; 3],
    attribution: [u64; 2],
}

fn add(t: &mut Totals, s: &Score, findings: bool) {
    let slot = if findings {
        &mut t.findings
    } else {
        &mut t.incidents
    };
    slot[0] += s.produced;
    slot[1] += s.expected;
    slot[2] += s.matched;
}

fn score(t: &Totals, findings: bool) -> Score {
    let s = if findings { t.findings } else { t.incidents };
    Score::new(s[0], s[1], s[2])
}

fn f(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.3}"))
        .unwrap_or_else(|| "-".to_string())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let agreement = common::demo_agreement();
    let keys = common::demo_keys(&agreement);
    let tolerance = Tolerance::default();
    let eps_km = agreement.corroboration.distance_km;
    let mut rows = Vec::new();
    for &density in &args.density {
        for &noise in &args.noise {
            let mut cell = Cell::default();
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
                cell.reports += reports.len() as u64;
                cell.events += sim.truth.events.len() as u64;
                for (m, outcome) in outcomes.iter().enumerate() {
                    let e: Evaluation = evaluate(&sim.truth, outcome, tolerance);
                    if let Some(t) = cell.incidents.get_mut(m) {
                        add(t, &e.incidents, false);
                    }
                    if let Some(t) = cell.findings.get_mut(m) {
                        add(t, &e.findings, true);
                    }
                    if m == 0 {
                        cell.attribution[0] += e.finding_attribution.correct;
                        cell.attribution[1] += e.finding_attribution.items;
                    }
                }
            }
            rows.push((density, noise, cell));
        }
    }

    let n = args.seeds.len().max(1) as u64;
    println!(
        "seeds {:?}, {} days, demo agreement, tolerance {} km / {} min, DBSCAN eps {} km, min_points 2\n",
        args.seeds,
        args.days,
        tolerance.distance_km,
        tolerance.time_s / 60,
        eps_km
    );
    println!("### Incidents (precision / recall / F1)\n");
    println!(
        "| density | noise | reports/run | events/run | Pacta | one per report | spatial DBSCAN |"
    );
    println!("|---:|---:|---:|---:|---|---|---|");
    for (density, noise, cell) in &rows {
        let cols: Vec<String> = cell
            .incidents
            .iter()
            .map(|t| {
                let s = score(t, false);
                format!("{} / {} / {}", f(s.precision), f(s.recall), f(s.f1()))
            })
            .collect();
        println!(
            "| {density} | {noise} | {} | {} | {} |",
            cell.reports / n,
            cell.events / n,
            cols.join(" | ")
        );
    }
    println!("\n### Findings (precision / recall / F1), and Pacta's attribution accuracy on true findings\n");
    println!("| density | noise | Pacta | one per report | spatial DBSCAN | Pacta attribution |");
    println!("|---:|---:|---|---|---|---:|");
    for (density, noise, cell) in &rows {
        let cols: Vec<String> = cell
            .findings
            .iter()
            .map(|t| {
                let s = score(t, true);
                format!("{} / {} / {}", f(s.precision), f(s.recall), f(s.f1()))
            })
            .collect();
        let attribution = if cell.attribution[1] > 0 {
            format!(
                "{:.3}",
                cell.attribution[0] as f64 / cell.attribution[1] as f64
            )
        } else {
            "-".to_string()
        };
        println!(
            "| {density} | {noise} | {} | {attribution} |",
            cols.join(" | ")
        );
    }
    Ok(())
}
