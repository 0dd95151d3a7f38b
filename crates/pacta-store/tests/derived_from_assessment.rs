//! Derived rows built from a real assessment (the engine's shared test agreement), and the
//! delta between two assessments of a growing log.

#[path = "../../pacta-core/tests/engine_common/mod.rs"]
mod engine_common;

use engine_common::{agreement, at, east_of_line, shelling, DAY, HOUR};
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
