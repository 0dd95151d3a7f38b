//! The naive baselines on simulated demo reports.

mod common;

use pacta_core::entry::read_entries;
use pacta_core::entry::types::{Entry, Report};
use pacta_sim::baseline::{one_per_report, spatial_dbscan};
use pacta_sim::{simulate, ScenarioConfig, Simulation};

fn run() -> (
    pacta_core::agreement::model::Agreement,
    Simulation,
    Vec<Entry>,
) {
    let agreement = common::demo_agreement();
    let keys = common::demo_keys(&agreement);
    let config = ScenarioConfig {
        days: 3,
        ..ScenarioConfig::default()
    };
    let sim = simulate(&agreement, &config, &keys, 21).unwrap();
    let (accepted, _) = read_entries(&sim.reports.join("\n"), &agreement);
    let entries = accepted.into_iter().map(|a| a.entry).collect();
    (agreement, sim, entries)
}

fn reports(entries: &[Entry]) -> Vec<&Report> {
    entries.iter().filter_map(Entry::as_report).collect()
}

#[test]
fn one_per_report_makes_an_incident_of_every_report() {
    let (agreement, sim, entries) = run();
    let reports = reports(&entries);
    let outcome = one_per_report(&agreement, &reports, sim.truth.as_of);
    assert_eq!(outcome.incidents.len(), reports.len());
    assert!(outcome.incidents.iter().all(|i| i.reports.len() == 1));
}

#[test]
fn spatial_dbscan_drops_lone_reports_and_groups_the_rest() {
    let (agreement, sim, entries) = run();
    let reports = reports(&entries);
    let outcome = spatial_dbscan(&agreement, &reports, 2.0, 2, sim.truth.as_of);
    assert!(!outcome.incidents.is_empty());
    assert!(outcome.incidents.iter().all(|i| i.reports.len() >= 2));
    let grouped: usize = outcome.incidents.iter().map(|i| i.reports.len()).sum();
    assert!(grouped < reports.len());
}

#[test]
fn baseline_findings_open_obligations_through_the_response_ladders() {
    let (agreement, sim, entries) = run();
    let reports = reports(&entries);
    let outcome = one_per_report(&agreement, &reports, sim.truth.as_of);
    assert!(!outcome.obligations.is_empty());
    let findings: std::collections::BTreeSet<&str> =
        outcome.findings.iter().map(|f| f.id.as_str()).collect();
    let rungs: std::collections::BTreeSet<&str> =
        agreement.responses.iter().map(|r| r.id.as_str()).collect();
    for o in &outcome.obligations {
        assert_eq!(o.source, "response");
        assert!(rungs.contains(o.origin.as_str()), "{}", o.origin);
        assert!(o.opened_at <= sim.truth.as_of);
        // Escalations carry their findings too: every obligation rests on the baseline's own.
        assert!(!o.findings.is_empty(), "{}", o.id);
        assert!(o.findings.iter().all(|f| findings.contains(f.as_str())));
    }
    // Objection windows are applied: findings older than their window are confirmed.
    assert!(outcome.findings.iter().any(|f| f.status == "confirmed"));
    assert!(outcome
        .findings
        .iter()
        .all(|f| f.status == "confirmed" || f.status == "provisional"));
}
