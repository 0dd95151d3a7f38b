//! Wall-clock time of each stage of the assessment on N generated reports, once: where the
//! time goes, to read next to the criterion figures.
//!
//! Run: `cargo run --release -p pacta-bench --example stages -- 1000000`

use std::time::Instant;

use pacta_bench::{agreement, reports_along_line, START};
use pacta_core::adjudicate::{rule, settle};
use pacta_core::assess::{known_entries, Assessment, Counts};
use pacta_core::attribute::attribute;
use pacta_core::corroborate::corroborate;
use pacta_core::entry::types::Entry;
use pacta_core::indicator::indicators;
use pacta_core::phase::phases;
use pacta_core::respond::{respond, ActionIndex};
use pacta_core::time::Duration;
use pacta_core::zone::ZoneIndex;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let agreement = agreement();
    let as_of = START.plus(Duration::days(400));
    let mut clock = Instant::now();
    let mut lap = |stage: &str| {
        println!("{stage:<28} {:>9.3} s", clock.elapsed().as_secs_f64());
        clock = Instant::now();
    };

    let entries: Vec<Entry> = reports_along_line(n, 2026)
        .into_iter()
        .map(Entry::Report)
        .collect();
    lap("generate");
    let zones = ZoneIndex::compile(&agreement);
    let known = known_entries(&entries, as_of);
    lap("compile zones, split entries");
    let mut incidents = corroborate(
        &agreement.corroboration,
        &agreement.monitors,
        known.reports.iter().copied(),
    );
    lap("corroborate");
    for incident in &mut incidents {
        incident.attribution = attribute(incident, &agreement.attribution, &zones);
    }
    lap("attribute");
    let mut rulings = rule(&agreement, &zones, &incidents, as_of);
    settle(
        &agreement,
        &mut rulings.findings,
        &known.objections,
        &known.rulings,
        as_of,
    );
    lap("rule + settle");
    let actions = ActionIndex::new(&known.actions);
    let mut obligations = respond(&agreement, &zones, &rulings.findings, &actions, as_of);
    lap("respond");
    let (phase_states, phase_obligations) = phases(
        &agreement,
        &rulings.findings,
        &rulings.verifications,
        &actions,
        as_of,
    );
    obligations.extend(phase_obligations);
    lap("phases");
    let indicators = indicators(&agreement, &zones, &incidents, &rulings.findings, as_of);
    lap("indicators");
    let counts = Counts {
        reports: known.reports.len() as u64,
        incidents: incidents.len() as u64,
        findings: rulings.findings.len() as u64,
        obligations: obligations.len() as u64,
        ..Counts::default()
    };
    println!(
        "{} reports -> {} incidents, {} findings, {} obligations",
        counts.reports, counts.incidents, counts.findings, counts.obligations
    );
    let assessment = Assessment {
        agreement: agreement.id.clone(),
        agreement_version: agreement.version,
        as_of,
        counts,
        incidents,
        findings: rulings.findings,
        verifications: rulings.verifications,
        obligations,
        phases: phase_states,
        indicators,
    };
    clock = Instant::now();
    let digest = assessment.digest().unwrap_or_default();
    println!(
        "{:<28} {:>9.3} s  ({digest})",
        "canonical JSON + SHA-256",
        clock.elapsed().as_secs_f64()
    );
}
