//! The simulator on the demo agreement: reproducible, signed, consistent with its truth.

mod common;

use std::collections::BTreeSet;

use pacta_core::entry::read_entries;
use pacta_sim::{simulate, ScenarioConfig};

fn small() -> ScenarioConfig {
    ScenarioConfig {
        days: 4,
        ..ScenarioConfig::default()
    }
}

#[test]
fn same_seed_gives_identical_reports_and_truth() {
    let agreement = common::demo_agreement();
    let keys = common::demo_keys(&agreement);
    let a = simulate(&agreement, &small(), &keys, 7).unwrap();
    let b = simulate(&agreement, &small(), &keys, 7).unwrap();
    assert_eq!(a.reports, b.reports);
    assert_eq!(a.truth, b.truth);
}

#[test]
fn different_seeds_give_different_reports() {
    let agreement = common::demo_agreement();
    let keys = common::demo_keys(&agreement);
    let a = simulate(&agreement, &small(), &keys, 1).unwrap();
    let b = simulate(&agreement, &small(), &keys, 2).unwrap();
    assert_ne!(a.reports, b.reports);
}

#[test]
fn every_report_verifies_against_the_agreement() {
    let agreement = common::demo_agreement();
    let keys = common::demo_keys(&agreement);
    let sim = simulate(&agreement, &small(), &keys, 3).unwrap();
    assert!(sim.reports.len() > 50, "only {} reports", sim.reports.len());
    let text = sim.reports.join("\n");
    let (accepted, errors) = read_entries(&text, &agreement);
    assert!(errors.is_empty(), "{:?}", errors.first());
    assert_eq!(accepted.len(), sim.reports.len());
}

#[test]
fn truth_links_every_report_exactly_once() {
    let agreement = common::demo_agreement();
    let keys = common::demo_keys(&agreement);
    let sim = simulate(&agreement, &small(), &keys, 4).unwrap();
    let ids: Vec<String> = sim
        .reports
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(r).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut linked: Vec<String> = sim
        .truth
        .events
        .iter()
        .flat_map(|e| e.reports.clone())
        .collect();
    linked.extend(sim.truth.false_reports.iter().map(|f| f.id.clone()));
    let linked_set: BTreeSet<&String> = linked.iter().collect();
    assert_eq!(linked.len(), linked_set.len(), "a report is linked twice");
    assert_eq!(linked_set, ids.iter().collect::<BTreeSet<_>>());
    assert_eq!(sim.truth.counts.reports, ids.len() as u64);
}
