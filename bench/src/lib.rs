//! Benchmark harness support: input generators shared by the benches, and the physical
//! limits they are compared with ([`limits`]).
//!
//! Everything here is deterministic: the same seed gives the same agreement and the same
//! reports on every machine (a seeded ChaCha8 stream, no OS randomness), so figures from two
//! runs measure the same work.

use std::collections::BTreeMap;

pub mod limits;

use geo::{LineString, MultiLineString, MultiPolygon, Polygon};
use pacta_core::agreement::model::{
    Agreement, AloneRule, AttributionRules, Commitment, CommitmentRule, CorroborationRules,
    EventFilter, EventKind, EvidenceStandard, FindingFilter, Guarantor, IndicatorRules, Monitor,
    ObservationMode, Party, Phase, PhaseCondition, PhaseConsequence, ResponseRung, Sector,
    Severity, SeverityRaise, SeverityRule, Snapback, Trigger, TriggerBasis, WeaponClass, Zone,
    ZoneShape,
};
use pacta_core::entry::types::{Event, Location, ObservedTime, Report, StatedAttribution};
use pacta_core::time::{Duration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 2026-03-01T00:00:00Z: when the benchmark agreement takes effect and reports begin.
pub const START: Timestamp = Timestamp(1_772_323_200);

/// Vertices of the benchmark's line of contact, `(lon, lat)`: a synthetic front of about
/// 330 km running south-west to north-east, with bends so that segment lookups matter.
pub const LINE: [(f64, f64); 6] = [
    (35.60, 47.10),
    (36.30, 47.45),
    (36.90, 47.90),
    (37.40, 48.30),
    (37.70, 48.80),
    (38.10, 49.40),
];

/// Reports per day the generator aims at: about the density of heavy days in the OSCE SMM's
/// reporting (a few thousand explosions a day along the whole front).
pub const REPORTS_PER_DAY: usize = 4_000;

fn zone(id: &str, shape: ZoneShape) -> (String, Zone) {
    (
        id.to_string(),
        Zone {
            id: id.to_string(),
            label: None,
            shape,
        },
    )
}

/// A rectangle from its south-west and north-east corners.
fn box_zone(sw: (f64, f64), ne: (f64, f64)) -> MultiPolygon<f64> {
    MultiPolygon::new(vec![Polygon::new(
        LineString::from(vec![sw, (ne.0, sw.1), ne, (sw.0, ne.1), sw]),
        vec![],
    )])
}

fn commitment(id: &str, filter: EventFilter, zone: Option<&str>) -> Commitment {
    Commitment {
        id: id.into(),
        article: None,
        text: format!("Benchmark commitment {id}."),
        binds: vec!["a".into(), "b".into()],
        rule: CommitmentRule::Prohibition(filter),
        zone: zone.map(str::to_string),
        from: START,
        until: None,
        evidence: Some("standard".into()),
        severity: SeverityRule {
            base: Severity::Serious,
            raise: vec![SeverityRaise {
                to: Severity::Grave,
                weapon_classes: vec![],
                min_count: None,
                with_casualties: true,
            }],
        },
    }
}

fn serious(party: Option<&str>) -> FindingFilter {
    FindingFilter {
        min_severity: Severity::Serious,
        party: party.map(str::to_string),
        commitments: vec![],
    }
}

fn rung(id: &str, trigger: Trigger, action: &str, hours: i64, next: Option<&str>) -> ResponseRung {
    ResponseRung {
        id: id.into(),
        title: None,
        trigger,
        basis: TriggerBasis::Confirmed,
        guarantors: vec!["g1".into(), "g2".into(), "g3".into()],
        action: action.into(),
        description: action.into(),
        within: Duration::hours(hours),
        escalate_to: next.map(str::to_string),
        escalate_on_missed_deadline: true,
        escalate_on_continued_breach: false,
        coalesce: true,
    }
}

/// The benchmark agreement: parties `a` and `b`, three guarantors, six monitors of three
/// organisations, the line of contact, a 15 km demilitarised zone and a 50 km heavy-weapons
/// zone along it, three prohibitions (fire anywhere, any event in the DMZ, heavy weapons in
/// the 50 km zone) judged by a two-monitor evidence standard, a three-rung ladder (each
/// grave finding, ten serious findings in a day, an offensive over 100 km of line in a day),
/// a phase with snapback, and two indicator sectors.
pub fn agreement() -> Agreement {
    let party = |name: &str| Party {
        name: name.into(),
        controls: None,
        keys: vec![],
    };
    let monitors = (0..6)
        .map(|i| {
            (
                format!("m{i}"),
                Monitor {
                    organisation: format!("org{}", i % 3),
                    keys: vec![],
                    modes: vec![ObservationMode::Patrol, ObservationMode::Uav],
                },
            )
        })
        .collect();
    let fire = vec![
        EventKind::Explosion,
        EventKind::Projectile,
        EventKind::Burst,
        EventKind::Shot,
    ];
    Agreement {
        id: "bench".into(),
        title: "Benchmark agreement".into(),
        version: 1,
        effective: START,
        until: None,
        objection_window: Duration::hours(72),
        parties: [("a".to_string(), party("A")), ("b".to_string(), party("B"))].into(),
        guarantors: ["g1", "g2", "g3"]
            .into_iter()
            .map(|g| {
                (
                    g.to_string(),
                    Guarantor {
                        name: g.to_uppercase(),
                        keys: vec![],
                    },
                )
            })
            .collect(),
        monitors,
        panel: BTreeMap::new(),
        zones: [
            zone(
                "line",
                ZoneShape::Line(MultiLineString::new(vec![LineString::from(LINE.to_vec())])),
            ),
            zone(
                "south",
                ZoneShape::Area(box_zone((34.0, 46.0), (40.0, 48.0))),
            ),
            zone(
                "north",
                ZoneShape::Area(box_zone((34.0, 48.0), (40.0, 50.0))),
            ),
            zone(
                "dmz",
                ZoneShape::Within {
                    of: "line".into(),
                    km: 15.0,
                    inside: None,
                },
            ),
            zone(
                "heavy_weapons_zone",
                ZoneShape::Within {
                    of: "line".into(),
                    km: 50.0,
                    inside: None,
                },
            ),
        ]
        .into_iter()
        .collect(),
        evidence: [(
            "standard".to_string(),
            EvidenceStandard {
                id: "standard".into(),
                min_reports: 2,
                min_independent_monitors: 2,
                min_organisations: 1,
                alone: vec![AloneRule {
                    mode: ObservationMode::Uav,
                    with_media: true,
                }],
            },
        )]
        .into(),
        corroboration: CorroborationRules::default(),
        attribution: AttributionRules::default(),
        commitments: vec![
            commitment(
                "ceasefire",
                EventFilter {
                    kinds: fire,
                    ..EventFilter::default()
                },
                None,
            ),
            commitment("dmz", EventFilter::default(), Some("dmz")),
            commitment(
                "heavy_weapons",
                EventFilter {
                    kinds: vec![EventKind::WeaponPresence],
                    subtypes: vec![],
                    weapon_classes: vec![WeaponClass("artillery_ge_100mm".into())],
                },
                Some("heavy_weapons_zone"),
            ),
        ],
        responses: vec![
            rung(
                "consult",
                Trigger::Finding(FindingFilter {
                    min_severity: Severity::Grave,
                    ..serious(None)
                }),
                "consultations",
                24,
                Some("measures"),
            ),
            rung(
                "measures",
                Trigger::Pattern {
                    filter: serious(Some("b")),
                    count: 10,
                    window: Duration::hours(24),
                },
                "coordinated_measures",
                48,
                Some("assistance"),
            ),
            rung(
                "assistance",
                Trigger::Offensive {
                    filter: serious(None),
                    along: "line".into(),
                    span_km: 100.0,
                    window: Duration::hours(24),
                },
                "collective_assistance",
                72,
                None,
            ),
        ],
        phases: vec![Phase {
            id: "relief-1".into(),
            title: None,
            after: None,
            requires: vec![PhaseCondition::NoFindings {
                filter: serious(Some("b")),
                for_: Duration::days(30),
            }],
            consequence: Some(PhaseConsequence {
                action: "sanctions_relief".into(),
                tranche: Some(1),
                guarantors: vec!["g2".into()],
                within: Duration::days(30),
                description: "first tranche".into(),
            }),
            snapback: Some(Snapback {
                on: serious(Some("b")),
                action: "sanctions_reimposition".into(),
                guarantors: vec!["g2".into()],
                within: Duration::hours(72),
                description: "reimpose".into(),
            }),
        }],
        indicators: IndicatorRules {
            sectors: vec![
                Sector {
                    id: "south".into(),
                    zone: "south".into(),
                },
                Sector {
                    id: "north".into(),
                    zone: "north".into(),
                },
            ],
            ..IndicatorRules::default()
        },
        locations: BTreeMap::new(),
    }
}

/// A point at fraction `f` along the line, offset `km_across` kilometres east (approximately:
/// the offset is applied in longitude, which is what "either side of the front" needs here).
fn along_line(f: f64, km_across: f64) -> (f64, f64) {
    let segments = LINE.len() - 1;
    let x = f.clamp(0.0, 1.0) * segments as f64;
    let i = (x.floor() as usize).min(segments - 1);
    let t = x - i as f64;
    let (a, b) = match (LINE.get(i), LINE.get(i + 1)) {
        (Some(a), Some(b)) => (*a, *b),
        _ => (LINE[0], LINE[0]),
    };
    let lat = a.1 + (b.1 - a.1) * t;
    let lon = a.0 + (b.0 - a.0) * t;
    let km_per_lon_degree = 111.195 * lat.to_radians().cos();
    (lon + km_across / km_per_lon_degree, lat)
}

/// `n` synthetic reports of events along the line of contact, about [`REPORTS_PER_DAY`] a
/// day. Each event (mostly fire, some heavy-weapon sightings) is seen by one to three of the
/// six monitors, each with its own jitter of up to ±300 m and a few minutes, within 25 km of
/// the line; a third of the events are attributed by the monitors to a party, and one report
/// in fifty counts casualties. Report ids are `r{n}`.
pub fn reports_along_line(n: usize, seed: u64) -> Vec<Report> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let days = (n / REPORTS_PER_DAY).max(1) as u64;
    let mut reports = Vec::with_capacity(n);
    while reports.len() < n {
        let t = rng.random_range(0..days * 86_400) as i64;
        let (lon, lat) = along_line(rng.random::<f64>(), 50.0 * (rng.random::<f64>() - 0.5));
        let kind = match rng.random_range(0..20) {
            0 => EventKind::WeaponPresence,
            1..=6 => EventKind::Burst,
            _ => EventKind::Explosion,
        };
        let party = match rng.random_range(0..3) {
            0 => Some("a"),
            1 => Some("b"),
            _ => None,
        };
        let witnesses = 1 + rng.random_range(0..3);
        for _ in 0..witnesses {
            if reports.len() >= n {
                break;
            }
            let at = START.plus(Duration::seconds(t + rng.random_range(0..300) as i64));
            let monitor = format!("m{}", rng.random_range(0..6));
            let jitter = 0.003;
            reports.push(Report {
                schema: pacta_core::entry::types::REPORT_SCHEMA.into(),
                id: format!("r{}", reports.len()),
                agreement: "bench".into(),
                monitor,
                submitted_at: at.plus(Duration::seconds(rng.random_range(0..3_600) as i64)),
                observed: ObservedTime {
                    start: at,
                    end: None,
                },
                location: Location::Point {
                    point: [
                        lon + jitter * (rng.random::<f64>() - 0.5),
                        lat + jitter * (rng.random::<f64>() - 0.5),
                    ],
                    uncertainty_m: 200.0 + 800.0 * rng.random::<f64>(),
                },
                event: Event {
                    kind,
                    subtype: None,
                    count: 1 + rng.random_range(0..10) as u32,
                    weapon_class: WeaponClass(
                        if kind == EventKind::WeaponPresence {
                            "artillery_ge_100mm"
                        } else {
                            WeaponClass::UNDETERMINED
                        }
                        .into(),
                    ),
                    assessment: None,
                    casualties: (rng.random_range(0..50) == 0)
                        .then(|| 1 + rng.random_range(0..5) as u32),
                },
                mode: ObservationMode::Patrol,
                attribution: party.map(|p| {
                    Box::new(StatedAttribution {
                        party: p.into(),
                        basis: None,
                    })
                }),
                media: vec![],
                text: None,
                source: None,
                signature: None,
            });
        }
    }
    reports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_reports() {
        assert_eq!(reports_along_line(500, 1), reports_along_line(500, 1));
    }

    #[test]
    fn the_generator_makes_exactly_n_reports() {
        assert_eq!(reports_along_line(1_234, 9).len(), 1_234);
    }

    #[test]
    fn points_along_the_line_start_and_end_at_its_ends() {
        assert_eq!(along_line(0.0, 0.0), LINE[0]);
        let end = along_line(1.0, 0.0);
        assert!((end.0 - LINE[5].0).abs() < 1e-12 && (end.1 - LINE[5].1).abs() < 1e-12);
    }
}
