//! Response ladders and phases end to end through `assess`: guarantors acting in time or not,
//! escalation, patterns, offensives, phase entry after a clean window, and snapback.

mod engine_common;

use engine_common::*;
use pacta_core::agreement::model::{EventKind, FindingFilter, PhaseCondition, Severity, Trigger};
use pacta_core::assess::{assess, Assessment};
use pacta_core::entry::types::Entry;
use pacta_core::phase::PhaseStatus;
use pacta_core::respond::{Obligation, ObligationSource, ObligationStatus};
use pacta_core::time::Duration;

/// Verifying the withdrawal keeps the deadline finding out of these tests.
fn withdrawn() -> Entry {
    verification("v1", "withdrawal", DAY, east_of_line(-5.0))
}

fn obligation<'a>(a: &'a Assessment, id: &str) -> &'a Obligation {
    match a.obligations.iter().find(|o| o.id == id) {
        Some(o) => o,
        None => panic!(
            "no obligation {id}; have {:?}",
            a.obligations.iter().map(|o| &o.id).collect::<Vec<_>>()
        ),
    }
}

const FINDING: &str = "ceasefire@inc:s1-1";
/// The first shelling is established at 2 days + 60 s.
const ESTABLISHED: i64 = 2 * DAY + 60;

#[test]
fn a_finding_opens_an_obligation_for_each_guarantor_of_the_rung() {
    let mut entries = shelling("s1", "b", 2 * DAY, 37.05);
    entries.push(withdrawn());
    let a = assess(&agreement(), &entries, at(ESTABLISHED + HOUR));
    let o = obligation(&a, &format!("consult/g1/{FINDING}"));
    assert_eq!(o.opened_at, at(ESTABLISHED));
    assert_eq!(o.due_at, at(ESTABLISHED + 24 * HOUR));
    assert_eq!(o.status, ObligationStatus::Open);
    assert_eq!(o.findings, vec![FINDING]);
    obligation(&a, &format!("consult/g2/{FINDING}"));
}

/// g1's consultation obligation for the first shelling, two days after it was established,
/// when g1 recorded an action of class `class` at `ESTABLISHED + taken_after`.
fn g1_consultation_after(class: &str, taken_after: i64) -> Obligation {
    let id = format!("consult/g1/{FINDING}");
    let mut entries = shelling("s1", "b", 2 * DAY, 37.05);
    entries.push(withdrawn());
    entries.push(action("act-1", "g1", &id, class, ESTABLISHED + taken_after));
    let a = assess(&agreement(), &entries, at(ESTABLISHED + 2 * DAY));
    obligation(&a, &id).clone()
}

#[test]
fn a_guarantor_acting_before_the_deadline_fulfils_its_obligation() {
    let o = g1_consultation_after("consultations", 2 * HOUR);
    assert_eq!(o.status, ObligationStatus::Fulfilled);
    assert_eq!(o.fulfilled_by.as_deref(), Some("act-1"));
}

#[test]
fn an_action_of_another_class_does_not_fulfil() {
    let o = g1_consultation_after("statement", 2 * HOUR);
    assert_eq!(o.status, ObligationStatus::Overdue);
}

#[test]
fn a_guarantor_acting_after_the_deadline_fulfils_late() {
    let o = g1_consultation_after("consultations", 30 * HOUR);
    assert_eq!(o.status, ObligationStatus::FulfilledLate);
}

#[test]
fn an_overdue_obligation_escalates_to_the_next_rung_at_its_deadline() {
    let mut entries = shelling("s1", "b", 2 * DAY, 37.05);
    entries.push(withdrawn());
    entries.push(action(
        "act-1",
        "g1",
        &format!("consult/g1/{FINDING}"),
        "consultations",
        ESTABLISHED + HOUR,
    ));
    let a = assess(&agreement(), &entries, at(ESTABLISHED + 25 * HOUR));
    assert_eq!(
        obligation(&a, &format!("consult/g2/{FINDING}")).status,
        ObligationStatus::Overdue
    );
    for g in ["g1", "g2", "g3"] {
        let o = obligation(&a, &format!("measures/{g}/{FINDING}"));
        assert_eq!(o.opened_at, at(ESTABLISHED + 24 * HOUR));
        assert_eq!(o.escalated_from, Some(format!("consult/g2/{FINDING}")));
        assert_eq!(o.action, "coordinated_measures");
    }
}

#[test]
fn no_escalation_while_every_guarantor_acts_in_time() {
    let mut entries = shelling("s1", "b", 2 * DAY, 37.05);
    entries.push(withdrawn());
    for g in ["g1", "g2"] {
        entries.push(action(
            &format!("act-{g}"),
            g,
            &format!("consult/{g}/{FINDING}"),
            "consultations",
            ESTABLISHED + HOUR,
        ));
    }
    let a = assess(&agreement(), &entries, at(ESTABLISHED + 5 * DAY));
    assert!(a.obligations.iter().all(|o| o.origin != "measures"));
}

#[test]
fn a_further_breach_while_the_obligation_is_open_escalates_at_once() {
    let mut entries = shelling("s1", "b", 2 * DAY, 37.05);
    entries.extend(shelling("s2", "b", 2 * DAY + 6 * HOUR, 37.05));
    entries.push(withdrawn());
    let a = assess(&agreement(), &entries, at(2 * DAY + 7 * HOUR));
    let o = obligation(&a, &format!("measures/g3/{FINDING}"));
    assert_eq!(o.opened_at, at(2 * DAY + 6 * HOUR + 60));
    assert_eq!(o.escalated_from, Some(format!("consult/g1/{FINDING}")));
}

#[test]
fn a_pattern_opens_one_obligation_when_the_count_is_reached_within_the_window() {
    let mut agreement = agreement();
    if let Some(consult) = agreement.responses.iter_mut().find(|r| r.id == "consult") {
        consult.trigger = Trigger::Pattern {
            filter: FindingFilter {
                min_severity: Severity::Serious,
                party: Some("b".into()),
                commitments: vec![],
            },
            count: 3,
            window: Duration::hours(24),
        };
        consult.escalate_to = None;
    }
    let mut entries = vec![withdrawn()];
    for (i, hour) in [0, 5, 10, 40, 45].into_iter().enumerate() {
        entries.extend(shelling(
            &format!("s{i}"),
            "b",
            2 * DAY + hour * HOUR,
            37.05,
        ));
    }
    let a = assess(&agreement, &entries, at(5 * DAY));
    let consults: Vec<&Obligation> = a
        .obligations
        .iter()
        .filter(|o| o.origin == "consult")
        .collect();
    // Three findings within 24 h fire once; the two later ones are not three.
    assert_eq!(consults.len(), 2, "{consults:?}");
    let key = format!("pattern:{}", at(2 * DAY + 10 * HOUR + 60));
    assert_eq!(consults[0].id, format!("consult/g1/{key}"));
    assert_eq!(consults[0].findings.len(), 3);
}

#[test]
fn findings_spread_along_the_line_within_a_day_trigger_the_offensive_rung() {
    let mut entries = vec![withdrawn()];
    for (i, lat) in [47.2, 47.5, 47.8].into_iter().enumerate() {
        let t = 2 * DAY + i as i64 * HOUR;
        for (n, m) in ["m1", "m3"].into_iter().enumerate() {
            entries.push(Entry::Report(stated(
                report(
                    &format!("o{i}-{n}"),
                    m,
                    t + n as i64 * 60,
                    37.02,
                    lat,
                    EventKind::Explosion,
                ),
                "b",
            )));
        }
    }
    let a = assess(&agreement(), &entries, at(3 * DAY));
    let assistance: Vec<&Obligation> = a
        .obligations
        .iter()
        .filter(|o| o.origin == "assistance")
        .collect();
    assert_eq!(assistance.len(), 3);
    // 47.2 to 47.5 is 33 km: more than 20 km of line at the second finding.
    let key = format!("offensive:{}", at(2 * DAY + HOUR + 60));
    assert_eq!(assistance[0].id, format!("assistance/g1/{key}"));
}

#[test]
fn scattered_findings_in_one_place_are_not_an_offensive() {
    let mut entries = vec![withdrawn()];
    for i in 0..4 {
        entries.extend(shelling(&format!("s{i}"), "b", 2 * DAY + i * HOUR, 37.05));
    }
    let a = assess(&agreement(), &entries, at(3 * DAY));
    assert!(a.obligations.iter().all(|o| o.origin != "assistance"));
}

#[test]
fn a_phase_is_entered_after_a_clean_window_and_the_verification() {
    let a = assess(&agreement(), &[withdrawn()], at(40 * DAY));
    let p = &a.phases[0];
    assert_eq!(p.status, PhaseStatus::Entered);
    assert_eq!(p.entered_at, Some(at(30 * DAY)));
    let o = obligation(&a, "phase:relief-1/g2");
    assert_eq!(o.source, ObligationSource::Phase);
    assert_eq!(o.due_at, at(60 * DAY));
}

#[test]
fn a_finding_restarts_the_clean_window() {
    let mut entries = shelling("s1", "b", 10 * DAY, 37.05);
    entries.push(withdrawn());
    let a = assess(&agreement(), &entries, at(45 * DAY));
    assert_eq!(a.phases[0].entered_at, Some(at(40 * DAY + 60)));
}

#[test]
fn a_phase_waits_for_its_verification() {
    // Day 50: the missed withdrawal deadline (day 14) no longer blocks a 30-day window.
    let a = assess(&agreement(), &[], at(50 * DAY));
    let p = &a.phases[0];
    assert_eq!(p.status, PhaseStatus::Pending);
    assert_eq!(p.waiting_for, vec!["verification of `withdrawal`"]);
}

#[test]
fn a_breach_after_entry_snaps_the_phase_back() {
    let mut entries = shelling("s1", "b", 35 * DAY, 37.05);
    entries.push(withdrawn());
    let a = assess(&agreement(), &entries, at(36 * DAY));
    let p = &a.phases[0];
    assert_eq!(p.status, PhaseStatus::SnappedBack);
    assert_eq!(p.snapped_back_at, Some(at(35 * DAY + 60)));
    let o = obligation(&a, "snapback:relief-1/g2");
    assert_eq!(o.action, "sanctions_reimposition");
    assert_eq!(o.trigger, "ceasefire@inc:s1-1");
}

#[test]
fn a_phase_after_another_waits_for_its_entry() {
    let mut agreement = agreement();
    let mut second = agreement.phases[0].clone();
    second.id = "relief-2".into();
    second.after = Some("relief-1".into());
    second.requires = vec![PhaseCondition::Verified {
        commitment: "withdrawal".into(),
    }];
    second.snapback = None;
    agreement.phases.push(second);
    let a = assess(&agreement, &[withdrawn()], at(31 * DAY));
    assert_eq!(a.phases[1].id, "relief-2");
    assert_eq!(a.phases[1].entered_at, Some(at(30 * DAY)));
    let early = assess(&agreement, &[withdrawn()], at(29 * DAY));
    assert_eq!(
        early.phases[1].waiting_for,
        vec!["entry of phase `relief-1`"]
    );
}
