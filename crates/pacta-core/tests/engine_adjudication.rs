//! Adjudication end to end through `assess`: evidence standards, zones, attribution,
//! obligations by deadline, objections, retractions and the as-of cut.

mod engine_common;

use engine_common::*;
use pacta_core::adjudicate::{established_at, FindingStatus};
use pacta_core::agreement::model::{
    EventKind, EvidenceStandard, ObservationMode, Severity, WeaponClass,
};
use pacta_core::assess::assess;
use pacta_core::attribute::AttributionBasis;
use pacta_core::corroborate::Testimony;
use pacta_core::entry::types::*;
use pacta_core::time::Timestamp;

/// The fixture's `standard`: two reports from two monitors, or one UAV report with media.
fn standard() -> EvidenceStandard {
    match agreement().evidence.get("standard") {
        Some(standard) => standard.clone(),
        None => panic!("the fixture agreement has no `standard` evidence standard"),
    }
}

/// Report `report` of an incident by monitor `monitor` of organisation `org`, submitted at
/// `at` seconds.
fn testimony(
    report: u16,
    monitor: u16,
    org: u16,
    mode: ObservationMode,
    media: bool,
    at: i64,
) -> Testimony {
    Testimony {
        report,
        monitor,
        organisation: org,
        mode,
        with_media: media,
        submitted_at: Timestamp(at),
    }
}

#[test]
fn evidence_is_established_by_the_report_that_completes_the_standard() {
    let t = [
        testimony(0, 0, 0, ObservationMode::Saw, false, 10),
        testimony(1, 0, 0, ObservationMode::Saw, false, 20),
        testimony(2, 1, 0, ObservationMode::Heard, false, 30),
    ];
    assert_eq!(established_at(&standard(), &t), Some(Timestamp(30)));
}

#[test]
fn a_single_report_does_not_meet_a_two_monitor_standard() {
    let t = [testimony(0, 0, 0, ObservationMode::Saw, false, 10)];
    assert_eq!(established_at(&standard(), &t), None);
}

#[test]
fn uav_with_media_stands_alone_but_not_without_media() {
    let with = [testimony(0, 0, 0, ObservationMode::Uav, true, 10)];
    let without = [testimony(0, 0, 0, ObservationMode::Uav, false, 10)];
    assert_eq!(established_at(&standard(), &with), Some(Timestamp(10)));
    assert_eq!(established_at(&standard(), &without), None);
}

fn weapon(id: &str, monitor: &str, seconds: i64, km_east: f64) -> Entry {
    let mut r = report(
        id,
        monitor,
        seconds,
        east_of_line(km_east),
        48.0,
        EventKind::WeaponPresence,
    );
    r.event.weapon_class = WeaponClass("artillery_ge_100mm".into());
    Entry::Report(r)
}

fn finding_ids(entries: &[Entry], as_of_seconds: i64) -> Vec<String> {
    assess(&agreement(), entries, at(as_of_seconds))
        .findings
        .into_iter()
        .map(|f| f.id)
        .collect()
}

#[test]
fn fire_seen_by_two_independent_monitors_is_a_finding_against_the_stated_party() {
    let entries = shelling("s1", "b", HOUR, east_of_line(5.0));
    let a = assess(&agreement(), &entries, at(2 * HOUR));
    assert_eq!(a.findings.len(), 1);
    let f = &a.findings[0];
    assert_eq!(f.id, "ceasefire@inc:s1-1");
    assert_eq!(f.party.as_deref(), Some("b"));
    assert_eq!(f.severity, Severity::Serious);
    assert_eq!(f.established_at, at(HOUR + 60));
    assert_eq!(f.reports, vec!["s1-1", "s1-2"]);
    assert_eq!(f.status, FindingStatus::Provisional);
}

#[test]
fn finding_is_confirmed_once_the_objection_window_passes() {
    let entries = shelling("s1", "b", HOUR, east_of_line(5.0));
    let a = assess(&agreement(), &entries, at(HOUR + 60 + 72 * HOUR));
    assert_eq!(a.findings[0].status, FindingStatus::Confirmed);
    assert_eq!(a.findings[0].confirmed_at, Some(at(HOUR + 60 + 72 * HOUR)));
}

#[test]
fn a_single_report_does_not_meet_the_evidence_standard() {
    let entries = vec![Entry::Report(stated(
        report("r1", "m1", HOUR, 37.05, 48.0, EventKind::Explosion),
        "b",
    ))];
    let a = assess(&agreement(), &entries, at(DAY));
    assert_eq!(a.incidents.len(), 1);
    assert!(a.findings.is_empty());
}

#[test]
fn heavy_weapon_inside_the_exclusion_zone_is_a_finding_against_the_controlling_party() {
    let entries = vec![
        weapon("w1", "m1", HOUR, -30.0),
        weapon("w2", "m3", HOUR + 600, -30.0),
    ];
    let a = assess(&agreement(), &entries, at(DAY));
    assert_eq!(a.incidents[0].attribution.basis, AttributionBasis::Control);
    let f = &a.findings[0];
    assert_eq!(f.id, "heavy_weapons@inc:w1");
    assert_eq!(f.party.as_deref(), Some("a"));
}

#[test]
fn the_same_heavy_weapon_outside_the_exclusion_zone_is_no_finding() {
    let entries = vec![
        weapon("w1", "m1", HOUR, -60.0),
        weapon("w2", "m3", HOUR + 600, -60.0),
    ];
    assert!(finding_ids(&entries, DAY).is_empty());
}

#[test]
fn heavy_weapon_on_the_other_side_is_not_in_the_zone_of_the_bound_party() {
    let entries = vec![
        weapon("w1", "m1", HOUR, 30.0),
        weapon("w2", "m3", HOUR + 600, 30.0),
    ];
    let a = assess(&agreement(), &entries, at(DAY));
    assert_eq!(a.incidents[0].attribution.party.as_deref(), Some("b"));
    assert!(a.findings.is_empty());
}

#[test]
fn a_monitors_statement_overrides_attribution_by_control() {
    let Entry::Report(r1) = weapon("w1", "m1", HOUR, -30.0) else {
        unreachable!("weapon() builds a report")
    };
    let Entry::Report(r2) = weapon("w2", "m3", HOUR + 600, -30.0) else {
        unreachable!("weapon() builds a report")
    };
    let entries = vec![
        Entry::Report(stated(r1, "b")),
        Entry::Report(stated(r2, "b")),
    ];
    let a = assess(&agreement(), &entries, at(DAY));
    assert_eq!(a.incidents[0].attribution.basis, AttributionBasis::Stated);
    assert_eq!(a.incidents[0].attribution.party.as_deref(), Some("b"));
    assert!(a.findings.is_empty(), "heavy_weapons binds only a");
}

/// Two monitors report an explosion 5 km into party a's side without naming a party.
fn unattributed_fire() -> Vec<Entry> {
    ["m1", "m3"]
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let lon = east_of_line(-5.0);
            Entry::Report(report(
                &format!("r{i}"),
                m,
                HOUR,
                lon,
                48.0,
                EventKind::Explosion,
            ))
        })
        .collect()
}

#[test]
fn fire_is_not_attributed_by_control() {
    let a = assess(&agreement(), &unattributed_fire(), at(DAY));
    assert_eq!(a.incidents[0].attribution.basis, AttributionBasis::None);
}

#[test]
fn unattributed_fire_breaches_a_commitment_that_binds_every_party() {
    let a = assess(&agreement(), &unattributed_fire(), at(DAY));
    assert_eq!(a.findings.len(), 1);
    assert_eq!(a.findings[0].party, None);
}

#[test]
fn monitors_naming_different_parties_give_a_conflicting_unattributed_incident() {
    let entries = vec![
        Entry::Report(stated(
            report("r1", "m1", HOUR, 37.05, 48.0, EventKind::Explosion),
            "a",
        )),
        Entry::Report(stated(
            report("r2", "m3", HOUR, 37.05, 48.0, EventKind::Explosion),
            "b",
        )),
    ];
    let a = assess(&agreement(), &entries, at(DAY));
    assert_eq!(
        a.incidents[0].attribution.basis,
        AttributionBasis::Conflicting
    );
    assert_eq!(a.findings[0].party, None);
}

#[test]
fn casualties_raise_the_severity() {
    let mut entries = shelling("s1", "b", HOUR, 37.05);
    if let Some(Entry::Report(r)) = entries.first_mut() {
        r.event.casualties = Some(2);
    }
    let a = assess(&agreement(), &entries, at(DAY));
    assert_eq!(a.findings[0].severity, Severity::Grave);
}

#[test]
fn an_act_not_verified_by_its_deadline_is_a_finding_at_the_deadline() {
    let a = assess(&agreement(), &[], at(14 * DAY));
    let f = &a.findings[0];
    assert_eq!(f.id, "withdrawal@deadline:a");
    assert_eq!(f.established_at, at(14 * DAY));
    assert_eq!(f.party.as_deref(), Some("a"));
}

#[test]
fn an_act_not_yet_due_is_no_finding() {
    assert!(finding_ids(&[], 14 * DAY - 1).is_empty());
}

#[test]
fn an_act_verified_in_time_in_the_zone_is_no_finding() {
    let entries = vec![verification(
        "v1",
        "withdrawal",
        3 * DAY,
        east_of_line(-5.0),
    )];
    let a = assess(&agreement(), &entries, at(20 * DAY));
    assert!(a.findings.is_empty());
    assert_eq!(a.verifications.len(), 1);
    assert_eq!(a.verifications[0].verified_at, at(3 * DAY));
}

#[test]
fn an_act_verified_outside_its_zone_does_not_count() {
    let entries = vec![verification(
        "v1",
        "withdrawal",
        3 * DAY,
        east_of_line(-40.0),
    )];
    assert_eq!(
        finding_ids(&entries, 20 * DAY),
        vec!["withdrawal@deadline:a"]
    );
}

#[test]
fn an_objection_upheld_by_a_ruling_dismisses_the_finding() {
    let mut entries = shelling("s1", "b", HOUR, 37.05);
    entries.push(Entry::Objection(Objection {
        schema: OBJECTION_SCHEMA.into(),
        id: "o1".into(),
        agreement: "demo".into(),
        party: "b".into(),
        finding: "ceasefire@inc:s1-1".into(),
        submitted_at: at(5 * HOUR),
        grounds: "our positions did not fire".into(),
        signature: None,
    }));
    entries.push(Entry::Ruling(Ruling {
        schema: RULING_SCHEMA.into(),
        id: "ruling-1".into(),
        agreement: "demo".into(),
        panelist: "p1".into(),
        objection: "o1".into(),
        decision: RulingDecision::Upheld,
        submitted_at: at(2 * DAY),
        reasons: "the craters point west".into(),
        signature: None,
    }));
    let contested = assess(&agreement(), &entries, at(DAY));
    assert_eq!(contested.findings[0].status, FindingStatus::Contested);
    let ruled = assess(&agreement(), &entries, at(3 * DAY));
    assert_eq!(ruled.findings[0].status, FindingStatus::Dismissed);
    assert_eq!(ruled.findings[0].dismissed_at, Some(at(2 * DAY)));
}

#[test]
fn a_retracted_report_no_longer_supports_a_finding() {
    let mut entries = shelling("s1", "b", HOUR, 37.05);
    entries.push(Entry::Retraction(Retraction {
        schema: RETRACTION_SCHEMA.into(),
        id: "x1".into(),
        agreement: "demo".into(),
        monitor: "m3".into(),
        report: "s1-2".into(),
        submitted_at: at(3 * HOUR),
        reason: "misidentified".into(),
        signature: None,
    }));
    assert_eq!(finding_ids(&entries, 2 * HOUR).len(), 1);
    let a = assess(&agreement(), &entries, at(4 * HOUR));
    assert!(a.findings.is_empty());
    assert_eq!(a.counts.retracted, 1);
}

#[test]
fn entries_submitted_after_the_as_of_time_are_not_yet_known() {
    let entries = shelling("s1", "b", HOUR, 37.05);
    // The second report is submitted at HOUR + 60.
    assert!(finding_ids(&entries, HOUR + 59).is_empty());
    assert_eq!(finding_ids(&entries, HOUR + 60).len(), 1);
}

#[test]
fn each_finding_names_the_commitment_text_and_agreement_version() {
    let a = assess(&agreement(), &shelling("s1", "b", HOUR, 37.05), at(DAY));
    let f = &a.findings[0];
    assert_eq!(f.article.as_deref(), Some("Article ceasefire"));
    assert_eq!(f.text, "The text of ceasefire.");
    assert_eq!((f.agreement.as_str(), f.agreement_version), ("demo", 1));
    assert!(f.why.contains("attributed to `b` (stated)"), "{}", f.why);
}
