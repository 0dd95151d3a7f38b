//! Wall-clock time of each stage of the assessment on N generated reports, once: where the
//! time goes, to read next to the criterion figures.
//!
//! Run: `cargo run --release -p pacta-bench --example stages -- 1000000`

use std::time::Instant;

use pacta_bench::{agreement, reports_along_line, START};
use pacta_core::assess::{assess_observed, Stage};
use pacta_core::entry::types::Entry;
use pacta_core::time::Duration;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let agreement = agreement();
    let as_of = START.plus(Duration::days(400));

    let started = Instant::now();
    let entries: Vec<Entry> = reports_along_line(n, 2026)
        .into_iter()
        .map(Entry::Report)
        .collect();
    println!(
        "{:<16} {:>9.3} s",
        "generate",
        started.elapsed().as_secs_f64()
    );

    let mut current: Option<(Stage, Instant)> = None;
    let report = |current: Option<(Stage, Instant)>| {
        if let Some((stage, since)) = current {
            println!(
                "{:<16} {:>9.3} s",
                format!("{stage:?}"),
                since.elapsed().as_secs_f64()
            );
        }
    };
    let assessment = assess_observed(&agreement, &entries, as_of, &mut |stage| {
        report(current.take());
        current = Some((stage, Instant::now()));
    });
    report(current);

    let c = &assessment.counts;
    println!(
        "{} reports -> {} incidents, {} findings, {} obligations",
        c.reports, c.incidents, c.findings, c.obligations
    );
    let hashing = Instant::now();
    let digest = assessment.digest().unwrap_or_default();
    println!(
        "{:<16} {:>9.3} s  ({digest})",
        "digest",
        hashing.elapsed().as_secs_f64()
    );
}
