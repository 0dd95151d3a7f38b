//! The engine never panics, and always produces a digest, whatever the entries hold: entries
//! reach it validated, but the engine does not rely on that for its own safety (debug builds
//! check every integer overflow).

mod engine_common;

use engine_common::*;
use pacta_core::agreement::model::{EventKind, WeaponClass};
use pacta_core::assess::assess;
use pacta_core::entry::types::{Entry, Location, ObservedTime, StatedAttribution};
use pacta_core::time::Timestamp;
use proptest::prelude::*;

/// Any float, including NaN, infinities and extremes.
fn wild_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        -200.0..200.0f64,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(-0.0),
        any::<f64>(),
    ]
}

/// Any instant, including the extremes of the representable range.
fn wild_time() -> impl Strategy<Value = i64> {
    prop_oneof![0..30 * DAY, Just(i64::MIN), Just(i64::MAX), any::<i64>(),]
}

fn wild_kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        Just(EventKind::Explosion),
        Just(EventKind::Burst),
        Just(EventKind::WeaponPresence),
        Just(EventKind::Verification),
        Just(EventKind::RestrictionOfMovement),
    ]
}

#[allow(clippy::type_complexity)]
fn wild_report() -> impl Strategy<Value = Entry> {
    (
        "[a-z0-9]{1,4}",
        prop::sample::select(vec!["m1", "m2", "m3", "u1", "stranger"]),
        (wild_time(), wild_time(), wild_time()),
        (wild_f64(), wild_f64(), wild_f64()),
        wild_kind(),
        (any::<u32>(), any::<Option<u32>>()),
        prop::option::of(prop::sample::select(vec!["a", "b", "nobody"])),
    )
        .prop_map(
            |(
                id,
                monitor,
                (start, end, submitted),
                (lon, lat, radius),
                kind,
                (count, casualties),
                party,
            )| {
                let mut r = report(&id, monitor, 0, 37.0, 48.0, kind);
                r.observed = ObservedTime {
                    start: Timestamp(start),
                    end: Some(Timestamp(end)),
                };
                r.submitted_at = Timestamp(submitted);
                r.location = Location::Point {
                    point: [lon, lat],
                    uncertainty_m: radius,
                };
                r.event.count = count;
                r.event.casualties = casualties;
                r.event.subtype = Some("withdrawal".into());
                r.event.weapon_class = WeaponClass("artillery_ge_100mm".into());
                r.attribution = party.map(|p| {
                    Box::new(StatedAttribution {
                        party: p.into(),
                        basis: None,
                    })
                });
                Entry::Report(r)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_reports_give_an_assessment_and_a_digest(
        entries in prop::collection::vec(wild_report(), 0..40),
        as_of in wild_time(),
    ) {
        let a = assess(&agreement(), &entries, Timestamp(as_of));
        prop_assert!(a.digest().is_ok());
    }
}
