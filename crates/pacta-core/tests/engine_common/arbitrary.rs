//! Proptest strategies over the engine test fixture, kept apart from `engine_common` because
//! other crates include that module without depending on proptest. A test file declares it
//! with `#[path = "engine_common/arbitrary.rs"] mod arbitrary;` next to `mod engine_common;`.

use pacta_core::agreement::model::EventKind;
use pacta_core::entry::types::Entry;
use proptest::prelude::*;

use crate::engine_common::{Occurrence, Sighting, DAY, MONITORS};

/// Occurrences in the first `span_s` seconds within the box `lon` × `lat`: mostly fire, some
/// heavy weapons and withdrawal verifications; a third stated against each party and a
/// third unattributed.
pub fn occurrence(
    span_s: i64,
    lon: std::ops::Range<f64>,
    lat: std::ops::Range<f64>,
) -> impl Strategy<Value = Occurrence> {
    let kind = prop_oneof![
        1 => Just(EventKind::WeaponPresence),
        1 => Just(EventKind::Verification),
        3 => Just(EventKind::Burst),
        5 => Just(EventKind::Explosion),
    ];
    let party = prop_oneof![Just(Some("a")), Just(Some("b")), Just(None)];
    (0..span_s, lon, lat, kind, party).prop_map(|(at_s, lon, lat, kind, party)| Occurrence {
        at_s,
        lon,
        lat,
        kind,
        party,
    })
}

/// For a quarter of occurrences, how long after it the guarantor acts on the consultation
/// it would open.
pub fn action_delay() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![3 => Just(None), 1 => (0..2 * DAY).prop_map(Some)]
}

/// `entries` in an order drawn from a shuffle of their indices.
pub fn shuffled(entries: Vec<Entry>) -> impl Strategy<Value = Vec<Entry>> {
    Just((0..entries.len()).collect::<Vec<usize>>())
        .prop_shuffle()
        .prop_map(move |order| {
            order
                .iter()
                .filter_map(|&i| entries.get(i).cloned())
                .collect()
        })
}

/// Sightings by any of the [`MONITORS`], offset within the given ranges.
pub fn sighting(
    delay_s: std::ops::Range<i64>,
    dlon: std::ops::Range<f64>,
    dlat: std::ops::Range<f64>,
    submitted_after_s: impl Strategy<Value = i64>,
) -> impl Strategy<Value = Sighting> {
    (0..MONITORS.len(), delay_s, dlon, dlat, submitted_after_s).prop_map(
        |(monitor, delay_s, dlon, dlat, submitted_after_s)| Sighting {
            monitor,
            delay_s,
            dlon,
            dlat,
            submitted_after_s,
        },
    )
}
