//! Determinism and order independence of the whole assessment (DESIGN §5.1, §5.2), and the
//! bound that keeps a day of shelling along a front from chaining into one incident.

#[path = "engine_common/arbitrary.rs"]
mod arbitrary;
mod engine_common;

use std::collections::BTreeMap;

use arbitrary::*;
use engine_common::*;
use pacta_core::agreement::model::EventKind;
use pacta_core::assess::{assess, assess_intake};
use pacta_core::corroborate::{corroborate, corroborate_in_batches};
use pacta_core::entry::types::{Entry, Report, Retraction, RETRACTION_SCHEMA};
use pacta_core::geodesy::KM_PER_DEGREE;
use pacta_core::time::Duration;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

/// An occurrence near the line of contact in the first ten days (see
/// [`engine_common::occurrence`]), seen by one to three monitors; a quarter answered by a
/// guarantor action on the consultation it would open.
#[derive(Clone, Debug)]
struct Happening {
    what: Occurrence,
    witnesses: Vec<Sighting>,
    action_after_s: Option<i64>,
}

fn happening() -> impl Strategy<Value = Happening> {
    let witness = sighting(0..600, -0.002..0.002, -0.0015..0.0015, 0..3_600i64);
    (
        occurrence(10 * DAY, 36.8..37.2, 47.0..49.0),
        prop::collection::vec(witness, 1..=3),
        action_delay(),
    )
        .prop_map(|(what, witnesses, action_after_s)| Happening {
            what,
            witnesses,
            action_after_s,
        })
}

/// 1,000 to 1,400 happenings: about 2,200 to 3,200 entries.
fn happenings() -> impl Strategy<Value = Vec<Happening>> {
    prop::collection::vec(happening(), 1_000..1_400)
}

/// A fixed set of happenings (proptest's deterministic runner), for tests outside `proptest!`.
fn fixed_happenings() -> Vec<Happening> {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    match happenings().new_tree(&mut runner) {
        Ok(tree) => tree.current(),
        Err(e) => panic!("no happenings: {e}"),
    }
}

fn entries_of(happenings: &[Happening]) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (n, h) in happenings.iter().enumerate() {
        for (k, w) in h.witnesses.iter().enumerate() {
            let r = w.report(&h.what, &format!("e{n}-{k}"));
            entries.push(Entry::Report(r));
        }
        if let Some(after) = h.action_after_s {
            entries.push(consultation_action(n, h.what.at_s + after));
        }
    }
    entries
}

fn digest(entries: &[Entry]) -> String {
    digest_of(&assess(&agreement(), entries, at(12 * DAY)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn digest_is_the_same_under_any_permutation_of_the_entries(
        (entries, shuffled) in happenings().prop_flat_map(|h| {
            let entries = entries_of(&h);
            (Just(entries.clone()), shuffled(entries))
        })
    ) {
        prop_assert!(entries.len() >= 2_000);
        prop_assert_eq!(shuffled.len(), entries.len());
        prop_assert_eq!(digest(&entries), digest(&shuffled));
    }
}

#[test]
fn digest_is_the_same_between_two_runs() {
    let entries = entries_of(&fixed_happenings());
    let first = assess(&agreement(), &entries, at(12 * DAY));
    let second = assess(&agreement(), &entries, at(12 * DAY));
    assert!(!first.findings.is_empty() && !first.obligations.is_empty());
    assert_eq!(first.digest().ok(), second.digest().ok());
}

#[test]
fn digest_changes_when_an_entry_is_added() {
    let mut entries = entries_of(&fixed_happenings());
    let before = digest(&entries);
    entries.extend(shelling("extra", "b", 11 * DAY, 37.05));
    assert_ne!(before, digest(&entries));
}

/// Shelling every 15 minutes for a day at positions every 2 km along 100 km of front, each
/// shell reported by two monitors: report ids `p{position}-t{quarter}-{monitor}`.
fn day_of_shelling() -> Vec<Report> {
    let mut reports = Vec::new();
    for position in 0..=50 {
        let lat = 47.5 + f64::from(position) * 2.0 / KM_PER_DEGREE;
        for quarter in 0..96 {
            for (k, monitor) in ["m1", "m3"].into_iter().enumerate() {
                reports.push(report(
                    &format!("p{position}-t{quarter}-{monitor}"),
                    monitor,
                    DAY + quarter * 900 + k as i64 * 60,
                    37.02,
                    lat,
                    EventKind::Explosion,
                ));
            }
        }
    }
    reports
}

fn position_of(report_id: &str) -> i64 {
    report_id
        .trim_start_matches('p')
        .split('-')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(-1)
}

#[test]
fn a_day_of_shelling_along_100_km_does_not_chain_into_one_incident() {
    let agreement = agreement();
    let incidents = corroborate(
        &agreement.corroboration,
        &agreement.monitors,
        &day_of_shelling(),
    );
    // 51 positions, each at least 12 incidents (a day cut into spans of at most two hours).
    assert!(incidents.len() >= 51 * 12, "{} incidents", incidents.len());
    for incident in &incidents {
        let positions: Vec<i64> = incident.reports.iter().map(|r| position_of(r)).collect();
        let spread_km =
            2 * (positions.iter().max().unwrap_or(&0) - positions.iter().min().unwrap_or(&0));
        assert!(
            spread_km as f64 <= agreement.corroboration.max_extent_km,
            "{}",
            incident.id
        );
        assert!(incident.end.since(incident.start) <= agreement.corroboration.max_duration);
    }
}

#[test]
fn each_shell_is_corroborated_by_both_monitors() {
    let agreement = agreement();
    let incidents = corroborate(
        &agreement.corroboration,
        &agreement.monitors,
        &day_of_shelling(),
    );
    let mut per_report: BTreeMap<&str, usize> = BTreeMap::new();
    for incident in &incidents {
        for r in &incident.reports {
            *per_report.entry(r.as_str()).or_default() += 1;
        }
        assert!(
            incident.sources.monitors.len() == 2,
            "{} has {:?}",
            incident.id,
            incident.sources.monitors
        );
    }
    assert!(
        per_report.values().all(|&n| n == 1),
        "a report in two incidents"
    );
    assert_eq!(per_report.len(), 51 * 96 * 2);
}

#[test]
fn streamed_canonical_json_matches_the_reference_canonicaliser() {
    let mut agreement = agreement();
    // Non-ASCII text and control characters exercise string escaping.
    agreement.commitments[0].text =
        "Сторони припиняють вогонь.\n\t\"Article\" 1 — ceasefire".into();
    let a = assess(&agreement, &entries_of(&fixed_happenings()), at(12 * DAY));
    let streamed = a.canonical_json().ok();
    let reference = serde_json_canonicalizer::to_string(&a).ok();
    assert!(streamed.is_some());
    assert_eq!(streamed, reference);
}

/// `entries` with every fifth report retracted by its monitor an hour after it came.
fn with_retractions(mut entries: Vec<Entry>) -> Vec<Entry> {
    let retractions: Vec<Entry> = entries
        .iter()
        .filter_map(Entry::as_report)
        .step_by(5)
        .map(|r| {
            Entry::Retraction(Retraction {
                schema: RETRACTION_SCHEMA.into(),
                id: format!("x-{}", r.id),
                agreement: r.agreement.clone(),
                monitor: r.monitor.clone(),
                report: r.id.clone(),
                submitted_at: r.submitted_at.plus(Duration::hours(1)),
                reason: "mistaken".into(),
                signature: None,
            })
        })
        .collect();
    entries.extend(retractions);
    entries
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// The digest's own writer against the reference canonicaliser, on generated assessments
    /// at several moments (so findings, obligations and phases are in every state); and the
    /// assessment that consumes its entries equals the one that borrows them.
    #[test]
    fn canonical_json_is_the_reference_canonicalisers_for_generated_assessments(
        h in happenings(),
        day in 1..14i64,
    ) {
        let entries = with_retractions(entries_of(&h));
        let a = assess(&agreement(), &entries, at(day * DAY));
        let reference = serde_json_canonicalizer::to_string(&a).ok();
        prop_assert!(reference.is_some());
        prop_assert_eq!(a.canonical_json().ok(), reference);
        prop_assert!(a.counts.retracted > 0 || day == 1);
        let owned = assess_intake(&agreement(), entries.into_iter().collect(), at(day * DAY), &mut |_| {});
        prop_assert_eq!(owned, a);
    }
}

fn reports_of(entries: &[Entry]) -> Vec<&Report> {
    entries.iter().filter_map(Entry::as_report).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Corroboration split into batches of components (swept on every core with the
    /// `parallel` feature) gives exactly the incidents of one sweep over all the reports,
    /// whatever the batches' size and the reports' order.
    #[test]
    fn batches_of_components_give_the_incidents_of_one_sweep(
        (entries, shuffled) in happenings().prop_flat_map(|h| {
            let entries = entries_of(&h);
            (Just(entries.clone()), shuffled(entries))
        }),
        batch in 1..200usize,
    ) {
        let rules = agreement().corroboration;
        let monitors = agreement().monitors;
        let reports = reports_of(&entries);
        let one = corroborate_in_batches(&rules, &monitors, reports.iter().copied(), usize::MAX);
        prop_assert!(one.len() > 100);
        let batched = corroborate_in_batches(&rules, &monitors, reports_of(&shuffled), batch);
        prop_assert_eq!(&batched, &one);
        let smallest = corroborate_in_batches(&rules, &monitors, reports, 1);
        prop_assert_eq!(&smallest, &one);
        prop_assert_eq!(&corroborate(&rules, &monitors, reports_of(&shuffled)), &one);
    }
}

/// A front shelled all day is dense: few, large components; batches still change nothing.
#[test]
fn batches_of_a_day_of_shelling_give_the_incidents_of_one_sweep() {
    let rules = agreement().corroboration;
    let monitors = agreement().monitors;
    let reports = day_of_shelling();
    let one = corroborate_in_batches(&rules, &monitors, &reports, usize::MAX);
    for batch in [1, 7, 100] {
        assert_eq!(
            corroborate_in_batches(&rules, &monitors, &reports, batch),
            one
        );
    }
}
