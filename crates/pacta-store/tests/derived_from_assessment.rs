//! Derived rows built from a real assessment (the engine's shared test agreement), and the
//! delta between two assessments of a growing log.

#[path = "../../pacta-core/tests/engine_common/mod.rs"]
mod engine_common;

use engine_common::{action, agreement, at, east_of_line, shelling, DAY, HOUR};
use pacta_core::assess::assess;
use pacta_store::{DerivedDelta, DerivedRows};

#[test]
fn rows_carry_the_filtered_columns_and_the_engine_json() {
    let entries = shelling("s1", "b", HOUR, east_of_line(5.0));
    let assessment = assess(&agreement(), &entries, at(2 * HOUR));
    let rows = DerivedRows::from_assessment(&assessment).unwrap();

    let [incident] = &rows.incidents[..] else {
        panic!("one incident expected, got {:?}", rows.incidents);
    };
    assert_eq!(incident.kinds, vec!["explosion"]);
    assert_eq!(incident.party.as_deref(), Some("b"));
    assert_eq!(incident.start, assessment.incidents[0].start);
    assert_eq!(
        incident.body,
        serde_json::to_string(&assessment.incidents[0]).unwrap()
    );

    let finding = rows.findings.first().expect("a finding against b");
    assert_eq!(finding.party.as_deref(), Some("b"));
    assert_eq!(finding.status, "provisional");
    assert_eq!(finding.incident.as_deref(), Some(incident.id.as_str()));
}

#[test]
fn a_later_assessment_changes_only_the_rows_it_touches() {
    let mut entries = shelling("s1", "b", HOUR, east_of_line(5.0));
    let before = DerivedRows::from_assessment(&assess(&agreement(), &entries, at(DAY))).unwrap();
    entries.extend(shelling("s2", "b", 5 * HOUR, east_of_line(6.0)));
    let after = DerivedRows::from_assessment(&assess(&agreement(), &entries, at(DAY))).unwrap();

    let delta = DerivedDelta::between(&before, &after);
    let new_incidents: Vec<&str> = delta
        .upsert_incidents
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(new_incidents, vec!["inc:s2-1"]);
    assert!(delta.delete_incidents.is_empty());
    assert!(DerivedDelta::between(&after, &after).is_empty());
}

/// The server refreshes its rows from the engine's change journal: the writes it makes for
/// a generation are exactly the diff of the full rows, through arrivals, a later clock (an
/// obligation falls overdue) and an action closing an obligation.
#[test]
fn the_engine_change_delta_equals_the_full_diff() {
    use pacta_core::engine::Engine;
    use pacta_core::entry::types::Entry;

    let mut engine = Engine::new(agreement());
    engine.insert_batch(shelling("s1", "b", HOUR, east_of_line(5.0)));
    let mut rows = DerivedRows::from_assessment(engine.assessment(at(DAY))).unwrap();
    let mut generation = engine.generation();
    let mut writes = 0;
    let mut step = |engine: &mut Engine, entries: Vec<Entry>, now: i64| {
        engine.insert_batch(entries);
        let full = DerivedRows::from_assessment(engine.assessment(at(now))).unwrap();
        let expected = DerivedDelta::between(&rows, &full);
        let delta = engine.changes_since(generation);
        let incremental = DerivedDelta::from_changes(engine.assessment(at(now)), &delta).unwrap();
        assert_eq!(incremental, expected, "as of {now}");
        writes += expected.counts().upserted + expected.counts().deleted;
        rows = full;
        generation = engine.generation();
    };
    step(
        &mut engine,
        shelling("s2", "b", 5 * HOUR, east_of_line(6.0)),
        DAY,
    );
    step(&mut engine, Vec::new(), 5 * DAY);
    step(
        &mut engine,
        shelling("s3", "a", 2 * DAY, -east_of_line(4.0)),
        6 * DAY,
    );
    let owed = engine
        .assessment(at(6 * DAY))
        .obligations
        .first()
        .cloned()
        .expect("the breaches opened obligations");
    let acted = action(
        "act-1",
        &owed.guarantor,
        &owed.id,
        &owed.action,
        6 * DAY + HOUR,
    );
    step(&mut engine, vec![acted], 6 * DAY + 2 * HOUR);
    assert!(
        writes > 0,
        "the steps changed nothing: the test would prove nothing"
    );
}
