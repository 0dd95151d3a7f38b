//! The incremental engine's components and horizon, case by case: a late report regroups the
//! incidents around it as a replay would, a retraction takes a member out, a change leaves
//! other components alone, reports across the antimeridian or near a pole are linked, and
//! entries submitted after the as-of time wait.

mod engine_common;

use engine_common::*;
use pacta_core::agreement::model::EventKind;
use pacta_core::assess::{assess, Assessment};
use pacta_core::engine::Engine;
use pacta_core::entry::types::*;
use pacta_core::time::Timestamp;

const MINUTE: i64 = 60;

/// An explosion reported by `monitor` at `T0 + seconds`, `km` east of the line at lat 48,
/// submitted `late_s` after it was observed.
fn blast(id: &str, monitor: &str, seconds: i64, km: f64, late_s: i64) -> Entry {
    let mut r = report(
        id,
        monitor,
        seconds,
        east_of_line(km),
        48.0,
        EventKind::Explosion,
    );
    r.submitted_at = at(seconds + late_s);
    Entry::Report(stated(r, "b"))
}

/// Four reports in half an hour along 6.5 km: compatible (within 3 km: 500 m uncertainty
/// each plus 2 km) are X–L, X–A and A–B; not L–A, L–B or X–B. In canonical order without L,
/// A joins X and B is alone; L (observed between X and A) takes X, and then A and B go
/// together.
fn x() -> Entry {
    blast("x", "m1", 0, 0.0, 0)
}
fn l_late() -> Entry {
    blast("l", "m3", 5 * MINUTE, -2.5, 2 * HOUR)
}
fn a() -> Entry {
    blast("a", "m2", 10 * MINUTE, 2.0, 0)
}
fn b() -> Entry {
    blast("b", "m3", 20 * MINUTE, 4.0, 0)
}

/// A shelling a day later, far from the others in time: its own component.
fn far() -> Vec<Entry> {
    shelling("far", "a", DAY, 37.05)
}

fn retraction(id: &str, monitor: &str, report: &str, seconds: i64) -> Entry {
    Entry::Retraction(Retraction {
        schema: RETRACTION_SCHEMA.into(),
        id: id.into(),
        agreement: "demo".into(),
        monitor: monitor.into(),
        report: report.into(),
        submitted_at: at(seconds),
        reason: "wrong grid reference".into(),
        signature: None,
    })
}

fn groups(a: &Assessment) -> Vec<Vec<String>> {
    a.incidents
        .iter()
        .map(|i| i.reports.iter().map(|r| r.to_string()).collect())
        .collect()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn digest(a: &Assessment) -> Option<String> {
    a.digest().ok()
}

fn engine_with(entries: &[Entry]) -> Engine {
    let mut engine = Engine::new(agreement());
    engine.insert_batch(entries.iter().cloned());
    engine
}

#[test]
fn a_late_report_regroups_the_incidents_around_it_as_a_replay_does() {
    let mut entries = vec![x(), a(), b()];
    let mut engine = engine_with(&entries);
    let as_of = at(3 * HOUR);
    assert_eq!(
        groups(engine.assessment(as_of)),
        vec![ids(&["b"]), ids(&["a", "x"])]
    );

    entries.push(l_late());
    engine.insert(l_late());
    let after = engine.assessment(as_of).clone();
    assert_eq!(groups(&after), vec![ids(&["a", "b"]), ids(&["l", "x"])]);
    assert_eq!(
        digest(&after),
        digest(&assess(&agreement(), &entries, as_of))
    );
}

#[test]
fn a_retraction_takes_its_report_out_and_the_rest_regroup() {
    let entries = vec![
        x(),
        a(),
        b(),
        l_late(),
        retraction("t1", "m3", "l", 2 * HOUR),
    ];
    let mut engine = engine_with(&entries);
    let as_of = at(3 * HOUR);
    let now = engine.assessment(as_of).clone();
    assert_eq!(groups(&now), vec![ids(&["b"]), ids(&["a", "x"])]);
    assert_eq!((now.counts.reports, now.counts.retracted), (3, 1));
    assert_eq!(digest(&now), digest(&assess(&agreement(), &entries, as_of)));
}

#[test]
fn a_retraction_by_another_monitor_retracts_nothing() {
    let entries = vec![
        x(),
        a(),
        b(),
        l_late(),
        retraction("t1", "m1", "l", 2 * HOUR),
    ];
    let mut engine = engine_with(&entries);
    let now = engine.assessment(at(3 * HOUR));
    assert_eq!(groups(now), vec![ids(&["a", "b"]), ids(&["l", "x"])]);
    assert_eq!(now.counts.retracted, 0);
}

#[test]
fn a_change_leaves_the_incidents_of_other_components_unchanged() {
    let mut entries = vec![x(), a(), b()];
    entries.extend(far());
    let mut engine = engine_with(&entries);
    let as_of = at(2 * DAY);
    engine.assessment(as_of);
    let generation = engine.generation();

    engine.insert(l_late());
    engine.assessment(as_of);
    let delta = engine.changes_since(generation);
    assert_eq!(delta.incidents.upserted, ids(&["inc:a", "inc:x"]));
    assert_eq!(delta.incidents.removed, ids(&["inc:b"]));
    assert!(delta.findings.upserted.iter().all(|f| !f.contains("far")));
}

#[test]
fn a_report_observed_over_hours_links_the_reports_it_spans() {
    let mut long = report("long", "m2", 0, 37.05, 48.0, EventKind::Burst);
    long.observed.end = Some(at(DAY + HOUR));
    long.submitted_at = at(DAY + 2 * HOUR);
    let mut entries = vec![x(), a(), b()];
    entries.extend(far());
    let mut engine = engine_with(&entries);
    let as_of = at(2 * DAY);
    engine.assessment(as_of);

    entries.push(Entry::Report(long.clone()));
    engine.insert(Entry::Report(long));
    let expected = assess(&agreement(), &entries, as_of);
    assert_eq!(digest(engine.assessment(as_of)), digest(&expected));
}

#[test]
fn an_entry_submitted_after_the_as_of_time_waits_until_its_time() {
    let mut engine = engine_with(&[x(), a(), l_late()]);
    let before = engine.assessment(at(HOUR)).clone();
    assert_eq!(before.counts.entries, 2);
    assert_eq!(groups(&before), vec![ids(&["a", "x"])]);
    let later = engine.assessment(at(3 * HOUR));
    assert_eq!(later.counts.entries, 3);
    assert_eq!(groups(later), vec![ids(&["a"]), ids(&["l", "x"])]);
}

#[test]
fn an_earlier_as_of_gives_the_assessment_of_that_moment() {
    let mut entries = vec![x(), a(), b(), l_late()];
    entries.extend(far());
    let mut engine = engine_with(&entries);
    engine.assessment(at(3 * DAY));
    let earlier = Timestamp(at(HOUR).0);
    assert_eq!(
        digest(engine.assessment(earlier)),
        digest(&assess(&agreement(), &entries, earlier))
    );
}

#[test]
fn the_assessment_is_kept_until_an_insert_or_another_as_of() {
    let mut engine = engine_with(&[x(), a()]);
    engine.assessment(at(HOUR));
    let generation = engine.generation();
    engine.assessment(at(HOUR));
    assert_eq!(engine.generation(), generation);
    engine.insert(b());
    engine.assessment(at(HOUR));
    assert_eq!(engine.generation(), generation + 1);
}

#[test]
fn a_resubmitted_copy_counts_as_an_entry_but_not_as_a_second_report_of_the_event() {
    let entries = vec![x(), a(), a()];
    let mut engine = engine_with(&entries);
    let now = engine.assessment(at(HOUR));
    assert_eq!((now.counts.entries, now.counts.reports), (3, 3));
    assert_eq!(groups(now), vec![ids(&["a", "x"])]);
}

/// Two monitors' reports of one explosion at (`lon`, `lat`) and (`lon2`, `lat2`).
fn pair(lon: f64, lat: f64, lon2: f64, lat2: f64) -> Vec<Entry> {
    vec![
        Entry::Report(report("p1", "m1", 0, lon, lat, EventKind::Explosion)),
        Entry::Report(report("p2", "m3", MINUTE, lon2, lat2, EventKind::Explosion)),
    ]
}

/// Inserting `entries` one at a time, assessing after each, ends where a replay does.
fn assert_inserted_one_by_one_equals_replay(entries: &[Entry]) {
    let mut engine = Engine::new(agreement());
    for e in entries {
        engine.insert(e.clone());
        engine.assessment(at(HOUR));
    }
    let expected = assess(&agreement(), entries, at(HOUR));
    assert_eq!(digest(engine.assessment(at(HOUR))), digest(&expected));
}

#[test]
fn reports_either_side_of_the_antimeridian_are_corroborated_as_a_replay_does() {
    assert_inserted_one_by_one_equals_replay(&pair(179.999, 10.0, -179.999, 10.0));
}

#[test]
fn reports_near_a_pole_are_corroborated_as_a_replay_does() {
    assert_inserted_one_by_one_equals_replay(&pair(10.0, 89.99, -170.0, 89.99));
}
