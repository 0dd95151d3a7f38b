//! Corroboration on its own: which reports make one incident, and what the incident says.

mod engine_common;

use engine_common::*;
use pacta_core::agreement::model::{CorroborationRules, EventKind, WeaponClass};
use pacta_core::attribute::AttributionBasis;
use pacta_core::corroborate::{corroborate, ConfidenceLevel, MAX_INCIDENT_REPORTS};
use pacta_core::entry::types::StatedAttribution;

fn rules() -> CorroborationRules {
    CorroborationRules::default()
}

#[test]
fn two_monitors_seeing_the_same_explosion_make_one_incident() {
    let reports = [
        report("r1", "m1", 100, 37.0, 48.0, EventKind::Explosion),
        report("r2", "m2", 160, 37.005, 48.002, EventKind::Explosion),
    ];
    let incidents = corroborate(&rules(), &agreement().monitors, &reports);
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].id, "inc:r1");
    assert_eq!(incidents[0].reports.as_slice(), ["r1", "r2"]);
}

#[test]
fn reports_far_apart_in_time_are_separate_incidents() {
    let reports = [
        report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion),
        report("r2", "m2", 7_200, 37.0, 48.0, EventKind::Explosion),
    ];
    assert_eq!(
        corroborate(&rules(), &agreement().monitors, &reports).len(),
        2
    );
}

#[test]
fn reports_far_apart_in_space_are_separate_incidents() {
    let reports = [
        report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion),
        report("r2", "m2", 0, 37.2, 48.0, EventKind::Explosion),
    ];
    assert_eq!(
        corroborate(&rules(), &agreement().monitors, &reports).len(),
        2
    );
}

#[test]
fn different_kinds_of_fire_corroborate_each_other() {
    let reports = [
        report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion),
        report("r2", "m2", 60, 37.0, 48.0, EventKind::Burst),
    ];
    let incidents = corroborate(&rules(), &agreement().monitors, &reports);
    assert_eq!(incidents.len(), 1);
    assert_eq!(
        incidents[0].kinds.to_vec(),
        [EventKind::Explosion, EventKind::Burst]
    );
}

#[test]
fn fire_and_weapon_presence_do_not_corroborate() {
    let reports = [
        report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion),
        report("r2", "m2", 60, 37.0, 48.0, EventKind::WeaponPresence),
    ];
    assert_eq!(
        corroborate(&rules(), &agreement().monitors, &reports).len(),
        2
    );
}

#[test]
fn verifications_of_different_acts_do_not_corroborate() {
    let mut a = report("r1", "m1", 0, 37.0, 48.0, EventKind::Verification);
    a.event.subtype = Some("withdrawal".into());
    let mut b = report("r2", "m2", 60, 37.0, 48.0, EventKind::Verification);
    b.event.subtype = Some("exchange".into());
    assert_eq!(
        corroborate(&rules(), &agreement().monitors, &[a, b]).len(),
        2
    );
}

#[test]
fn different_determined_weapon_classes_do_not_corroborate() {
    let mut a = report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion);
    a.event.weapon_class = WeaponClass("mortar".into());
    let mut b = report("r2", "m2", 60, 37.0, 48.0, EventKind::Explosion);
    b.event.weapon_class = WeaponClass("artillery_ge_100mm".into());
    assert_eq!(
        corroborate(&rules(), &agreement().monitors, &[a, b]).len(),
        2
    );
}

#[test]
fn undetermined_weapon_class_takes_the_determined_one() {
    let a = report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion);
    let mut b = report("r2", "m2", 60, 37.0, 48.0, EventKind::Explosion);
    b.event.weapon_class = WeaponClass("mortar".into());
    let incidents = corroborate(&rules(), &agreement().monitors, &[a, b]);
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].weapon_class, "mortar");
}

#[test]
fn count_is_the_largest_member_count_not_the_sum() {
    let mut a = report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion);
    a.event.count = 12;
    let mut b = report("r2", "m2", 60, 37.0, 48.0, EventKind::Explosion);
    b.event.count = 10;
    assert_eq!(
        corroborate(&rules(), &agreement().monitors, &[a, b])[0].count,
        12
    );
}

#[test]
fn monitors_naming_different_parties_leave_the_incident_unattributed() {
    let mut a = report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion);
    a.attribution = Some(Box::new(StatedAttribution {
        party: "a".into(),
        basis: None,
    }));
    let mut b = report("r2", "m2", 60, 37.0, 48.0, EventKind::Explosion);
    b.attribution = Some(Box::new(StatedAttribution {
        party: "b".into(),
        basis: None,
    }));
    let incident = &corroborate(&rules(), &agreement().monitors, &[a, b])[0];
    assert_eq!(incident.attribution.basis, AttributionBasis::Conflicting);
    assert_eq!(incident.attribution.party, None);
}

#[test]
fn a_report_must_be_compatible_with_every_member() {
    // r1 and r3 are 3.4 km apart: each within reach of r2 (1.7 km) but not of each
    // other (radii 0.5 km + 2 km allowance = 3 km).
    let reports = [
        report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion),
        report("r2", "m2", 10, 37.0, 48.0153, EventKind::Explosion),
        report("r3", "m3", 20, 37.0, 48.0306, EventKind::Explosion),
    ];
    let incidents = corroborate(&rules(), &agreement().monitors, &reports);
    assert_eq!(incidents.len(), 2);
}

#[test]
fn confidence_grows_with_independent_organisations() {
    let one = corroborate(
        &rules(),
        &agreement().monitors,
        &[report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion)],
    );
    assert_eq!(one[0].confidence.level, ConfidenceLevel::Low);
    // m1 and m3 belong to different organisations.
    let two = corroborate(
        &rules(),
        &agreement().monitors,
        &[
            report("r1", "m1", 0, 37.0, 48.0, EventKind::Explosion),
            report("r2", "m3", 0, 37.0, 48.0, EventKind::Explosion),
        ],
    );
    assert_eq!(two[0].confidence.level, ConfidenceLevel::Medium);
    assert!(two[0].confidence.score > one[0].confidence.score);
}

#[test]
fn a_flood_of_reports_of_one_place_is_split_at_the_incident_size_bound() {
    let reports: Vec<_> = (0..300)
        .map(|i| {
            let monitor = if i % 2 == 0 { "m1" } else { "m3" };
            report(
                &format!("r{i:03}"),
                monitor,
                i,
                37.0,
                48.0,
                EventKind::Explosion,
            )
        })
        .collect();
    let incidents = corroborate(&rules(), &agreement().monitors, &reports);
    let mut sizes: Vec<usize> = incidents.iter().map(|i| i.reports.len()).collect();
    sizes.sort_unstable();
    assert_eq!(
        sizes,
        vec![300 - MAX_INCIDENT_REPORTS, MAX_INCIDENT_REPORTS]
    );
}
