//! Determinism and order independence of the whole assessment (DESIGN §5.1, §5.2), and the
//! bound that keeps a day of shelling along a front from chaining into one incident.

mod engine_common;

use std::collections::BTreeMap;

use engine_common::*;
use pacta_core::agreement::model::{EventKind, WeaponClass};
use pacta_core::assess::assess;
use pacta_core::corroborate::corroborate;
use pacta_core::entry::types::{Entry, Report};
use pacta_core::geodesy::KM_PER_DEGREE;
use proptest::prelude::*;

/// SplitMix64: a tiny deterministic generator, so the generated set depends only on the seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// About `n` entries for the demo agreement: events near the line of contact over ten days,
/// each seen by one to three monitors with jitter in place and time, mostly fire, some heavy
/// weapons and a withdrawal verification, a third attributed by the monitor; and guarantor
/// actions on some of the obligations they open.
fn generated_entries(seed: u64, n: usize) -> Vec<Entry> {
    let mut rng = SplitMix(seed);
    let monitors = ["m1", "m2", "m3", "u1"];
    let mut entries = Vec::with_capacity(n);
    let mut event = 0;
    while entries.len() < n {
        event += 1;
        let t = rng.below(10 * DAY as u64) as i64;
        let lat = 47.0 + 2.0 * rng.unit();
        let lon = 36.8 + 0.4 * rng.unit();
        let kind = match rng.below(10) {
            0 => EventKind::WeaponPresence,
            1 => EventKind::Verification,
            2..=4 => EventKind::Burst,
            _ => EventKind::Explosion,
        };
        let party = match rng.below(3) {
            0 => Some("a"),
            1 => Some("b"),
            _ => None,
        };
        let witnesses = 1 + rng.below(3);
        for k in 0..witnesses {
            let monitor = monitors[rng.below(monitors.len() as u64) as usize];
            let dt = rng.below(600) as i64;
            let mut r = report(
                &format!("e{event}-{k}"),
                monitor,
                t + dt,
                lon + 0.004 * (rng.unit() - 0.5),
                lat + 0.003 * (rng.unit() - 0.5),
                kind,
            );
            r.submitted_at = at(t + dt + rng.below(3_600) as i64);
            match kind {
                EventKind::WeaponPresence => {
                    r.event.weapon_class = WeaponClass("artillery_ge_100mm".into())
                }
                EventKind::Verification => r.event.subtype = Some("withdrawal".into()),
                _ => {}
            }
            if let Some(p) = party {
                r = stated(r, p);
            }
            entries.push(Entry::Report(r));
        }
        if rng.below(4) == 0 {
            let obligation = format!("consult/g1/ceasefire@inc:e{event}-0");
            let taken = t + rng.below(2 * DAY as u64) as i64;
            entries.push(action(
                &format!("a{event}"),
                "g1",
                &obligation,
                "consultations",
                taken,
            ));
        }
    }
    entries
}

fn digest(entries: &[Entry]) -> String {
    match assess(&agreement(), entries, at(12 * DAY)).digest() {
        Ok(d) => d,
        Err(e) => panic!("assessment does not serialise: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn digest_is_the_same_under_any_permutation_of_the_entries(
        (seed, order) in (any::<u64>(), 2_000usize..3_000).prop_flat_map(|(seed, n)| {
            let entries = generated_entries(seed, n).len();
            (Just(seed), Just((0..entries).collect::<Vec<usize>>()).prop_shuffle())
        })
    ) {
        let entries = generated_entries(seed, order.len());
        let shuffled: Vec<Entry> = order.iter().filter_map(|&i| entries.get(i).cloned()).collect();
        prop_assert_eq!(shuffled.len(), entries.len());
        prop_assert_eq!(digest(&entries), digest(&shuffled));
    }
}

#[test]
fn digest_is_the_same_between_two_runs() {
    let entries = generated_entries(7, 3_000);
    let first = assess(&agreement(), &entries, at(12 * DAY));
    let second = assess(&agreement(), &entries, at(12 * DAY));
    assert!(!first.findings.is_empty() && !first.obligations.is_empty());
    assert_eq!(first.digest().ok(), second.digest().ok());
}

#[test]
fn digest_changes_when_an_entry_is_added() {
    let mut entries = generated_entries(7, 2_000);
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
    let a = assess(&agreement, &generated_entries(11, 2_000), at(12 * DAY));
    let streamed = a.canonical_json().ok();
    let reference = serde_json_canonicalizer::to_string(&a).ok();
    assert!(streamed.is_some());
    assert_eq!(streamed, reference);
}
