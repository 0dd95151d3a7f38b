//! A demo agreement and entries built in code, shared by the engine's integration tests.
//!
//! Geography: a north-south line of contact at longitude 37.0 from latitude 47.0 to 49.0.
//! Party `a` controls the west (lon 35–37), party `b` the east (lon 37–39). The
//! demilitarised zone `dmz` is 15 km either side of the line; `hw_a` is the part of party
//! `a`'s area within 50 km of the line (a heavy-weapons exclusion zone). The indicator sector
//! `north` is everything north of latitude 48.5. Derived zones for containment tests:
//! `both_areas` (union), `dmz_a` (intersection of `a_area` and `dmz`), `hw_a_outside_dmz`
//! (difference).
//!
//! Each test file uses a subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;

use geo::{line_string, polygon, MultiLineString, MultiPolygon};
use pacta_core::agreement::model::*;
use pacta_core::entry::types::*;
use pacta_core::geodesy::KM_PER_DEGREE;
use pacta_core::time::{Duration, Timestamp};

/// 2026-03-01T00:00:00Z, when the demo agreement takes effect.
pub const T0: i64 = 1_772_323_200;
pub const HOUR: i64 = 3_600;
pub const DAY: i64 = 86_400;

/// `T0 + seconds`.
pub fn at(seconds: i64) -> Timestamp {
    Timestamp(T0 + seconds)
}

/// The longitude `km` east (negative: west) of the line of contact at latitude 48.
pub fn east_of_line(km: f64) -> f64 {
    37.0 + km / (KM_PER_DEGREE * 48f64.to_radians().cos())
}

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

fn filter(min_severity: Severity) -> FindingFilter {
    FindingFilter {
        min_severity,
        party: None,
        commitments: vec![],
    }
}

/// A prohibition commitment with a `standard` evidence requirement and serious severity.
pub fn prohibition(
    id: &str,
    binds: &[&str],
    filter: EventFilter,
    zone: Option<&str>,
) -> Commitment {
    Commitment {
        id: id.into(),
        article: Some(format!("Article {id}")),
        text: format!("The text of {id}."),
        binds: binds.iter().map(|b| b.to_string()).collect(),
        rule: CommitmentRule::Prohibition(filter),
        zone: zone.map(str::to_string),
        from: at(0),
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

fn rung(
    id: &str,
    trigger: Trigger,
    guarantors: &[&str],
    action: &str,
    within: Duration,
) -> ResponseRung {
    ResponseRung {
        id: id.into(),
        title: None,
        trigger,
        basis: TriggerBasis::Provisional,
        guarantors: guarantors.iter().map(|g| g.to_string()).collect(),
        action: action.into(),
        description: format!("{action} by the guarantors"),
        within,
        escalate_to: None,
        escalate_on_missed_deadline: false,
        escalate_on_continued_breach: false,
        coalesce: true,
    }
}

/// The demo agreement (see the module documentation).
///
/// Commitments: `ceasefire` (fire of any kind, both parties, anywhere), `heavy_weapons`
/// (artillery of 100 mm and above in `hw_a`, binds `a`), `withdrawal` (act `withdrawal`
/// verified in `dmz` within 14 days, binds `a`). Evidence `standard`: two reports from two
/// monitors, or one UAV report with media. Weapon presence is attributed by control.
///
/// Responses (basis provisional): `consult` (each serious finding; g1, g2; 24 h; escalates to
/// `measures` on missed deadline or continued breach), `measures` (escalation only; g1, g2,
/// g3; 48 h), `assistance` (an offensive: serious findings spread over more than 20 km of the
/// line within 24 h; g1, g2, g3; 72 h).
///
/// Phase `relief-1`: 30 days without a serious finding and the withdrawal verified; g2
/// delivers `sanctions_relief` within 30 days; snapback on any serious finding
/// (`sanctions_reimposition` within 72 h).
pub fn agreement() -> Agreement {
    let party = |name: &str, area: &str| Party {
        name: name.into(),
        controls: Some(area.into()),
        keys: vec![],
    };
    let guarantor = |name: &str| Guarantor {
        name: name.into(),
        keys: vec![],
    };
    let monitor = |org: &str, mode: ObservationMode| Monitor {
        organisation: org.into(),
        keys: vec![],
        modes: vec![mode],
    };
    let artillery = WeaponClass("artillery_ge_100mm".into());

    let mut consult = rung(
        "consult",
        Trigger::Finding(filter(Severity::Serious)),
        &["g1", "g2"],
        "consultations",
        Duration::hours(24),
    );
    consult.escalate_to = Some("measures".into());
    consult.escalate_on_missed_deadline = true;
    consult.escalate_on_continued_breach = true;
    let measures = rung(
        "measures",
        Trigger::Escalation,
        &["g1", "g2", "g3"],
        "coordinated_measures",
        Duration::hours(48),
    );
    let assistance = rung(
        "assistance",
        Trigger::Offensive {
            filter: filter(Severity::Serious),
            along: "line".into(),
            span_km: 20.0,
            window: Duration::hours(24),
        },
        &["g1", "g2", "g3"],
        "collective_assistance",
        Duration::hours(72),
    );

    Agreement {
        id: "demo".into(),
        title: "Demo ceasefire (test)".into(),
        version: 1,
        effective: at(0),
        until: None,
        objection_window: Duration::hours(72),
        parties: [
            ("a".to_string(), party("Party A", "a_area")),
            ("b".to_string(), party("Party B", "b_area")),
        ]
        .into(),
        guarantors: [
            ("g1".to_string(), guarantor("Guarantor 1")),
            ("g2".to_string(), guarantor("Guarantor 2")),
            ("g3".to_string(), guarantor("Guarantor 3")),
        ]
        .into(),
        monitors: [
            ("m1".to_string(), monitor("osce", ObservationMode::Patrol)),
            ("m2".to_string(), monitor("osce", ObservationMode::Patrol)),
            ("m3".to_string(), monitor("un", ObservationMode::Patrol)),
            ("u1".to_string(), monitor("osce", ObservationMode::Uav)),
        ]
        .into(),
        panel: BTreeMap::new(),
        zones: [
            zone(
                "line",
                ZoneShape::Line(MultiLineString::new(vec![
                    line_string![(x: 37.0, y: 47.0), (x: 37.0, y: 49.0)],
                ])),
            ),
            zone(
                "a_area",
                ZoneShape::Area(MultiPolygon::new(vec![polygon![
                    (x: 35.0, y: 47.0), (x: 37.0, y: 47.0), (x: 37.0, y: 49.0), (x: 35.0, y: 49.0)
                ]])),
            ),
            zone(
                "b_area",
                ZoneShape::Area(MultiPolygon::new(vec![polygon![
                    (x: 37.0, y: 47.0), (x: 39.0, y: 47.0), (x: 39.0, y: 49.0), (x: 37.0, y: 49.0)
                ]])),
            ),
            zone(
                "north",
                ZoneShape::Area(MultiPolygon::new(vec![polygon![
                    (x: 35.0, y: 48.5), (x: 39.0, y: 48.5), (x: 39.0, y: 49.0), (x: 35.0, y: 49.0)
                ]])),
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
                "both_areas",
                ZoneShape::Union(vec!["a_area".into(), "b_area".into()]),
            ),
            zone(
                "dmz_a",
                ZoneShape::Intersection(vec!["a_area".into(), "dmz".into()]),
            ),
            zone(
                "hw_a_outside_dmz",
                ZoneShape::Difference("hw_a".into(), "dmz".into()),
            ),
            zone(
                "hw_a",
                ZoneShape::Within {
                    of: "line".into(),
                    km: 50.0,
                    inside: Some("a".into()),
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
        attribution: AttributionRules {
            by_control: vec![EventKind::WeaponPresence],
        },
        commitments: vec![
            prohibition(
                "ceasefire",
                &["a", "b"],
                EventFilter {
                    kinds: vec![
                        EventKind::Explosion,
                        EventKind::Projectile,
                        EventKind::Burst,
                        EventKind::Shot,
                    ],
                    ..EventFilter::default()
                },
                None,
            ),
            prohibition(
                "heavy_weapons",
                &["a"],
                EventFilter {
                    kinds: vec![EventKind::WeaponPresence],
                    subtypes: vec![],
                    weapon_classes: vec![artillery],
                },
                Some("hw_a"),
            ),
            Commitment {
                rule: CommitmentRule::Obligation {
                    act: "withdrawal".into(),
                    deadline: Some(at(14 * DAY)),
                },
                ..prohibition("withdrawal", &["a"], EventFilter::default(), Some("dmz"))
            },
        ],
        responses: vec![consult, measures, assistance],
        phases: vec![Phase {
            id: "relief-1".into(),
            title: Some("First tranche of sanctions relief".into()),
            after: None,
            requires: vec![
                PhaseCondition::NoFindings {
                    filter: filter(Severity::Serious),
                    for_: Duration::days(30),
                },
                PhaseCondition::Verified {
                    commitment: "withdrawal".into(),
                },
            ],
            consequence: Some(PhaseConsequence {
                action: "sanctions_relief".into(),
                tranche: Some(1),
                guarantors: vec!["g2".into()],
                within: Duration::days(30),
                description: "first tranche".into(),
            }),
            snapback: Some(Snapback {
                on: filter(Severity::Serious),
                action: "sanctions_reimposition".into(),
                guarantors: vec!["g2".into()],
                within: Duration::hours(72),
                description: "reimpose".into(),
            }),
        }],
        indicators: IndicatorRules {
            sectors: vec![Sector {
                id: "north".into(),
                zone: "north".into(),
            }],
            ..IndicatorRules::default()
        },
        locations: BTreeMap::new(),
    }
}

/// A report observed and submitted at `T0 + seconds`, 500 m uncertainty, mode `patrol`.
pub fn report(
    id: &str,
    monitor: &str,
    seconds: i64,
    lon: f64,
    lat: f64,
    kind: EventKind,
) -> Report {
    Report {
        schema: REPORT_SCHEMA.into(),
        id: id.into(),
        agreement: "demo".into(),
        monitor: monitor.into(),
        submitted_at: at(seconds),
        observed: ObservedTime {
            start: at(seconds),
            end: None,
        },
        location: Location::Point {
            point: [lon, lat],
            uncertainty_m: 500.0,
        },
        event: Event {
            kind,
            subtype: None,
            count: 1,
            weapon_class: WeaponClass(WeaponClass::UNDETERMINED.into()),
            assessment: None,
            casualties: None,
        },
        mode: ObservationMode::Patrol,
        attribution: None,
        media: vec![],
        text: None,
        source: None,
        signature: None,
    }
}

/// The same report, attributed by the monitor to `party`.
pub fn stated(mut report: Report, party: &str) -> Report {
    report.attribution = Some(Box::new(StatedAttribution {
        party: party.into(),
        basis: None,
    }));
    report
}

/// Two monitors of the mission (m1, m3) see an explosion attributed to `party` at
/// `T0 + seconds` at (`lon`, 48): enough for the standard. Report ids `{tag}-1`, `{tag}-2`.
pub fn shelling(tag: &str, party: &str, seconds: i64, lon: f64) -> Vec<Entry> {
    vec![
        Entry::Report(stated(
            report(
                &format!("{tag}-1"),
                "m1",
                seconds,
                lon,
                48.0,
                EventKind::Explosion,
            ),
            party,
        )),
        Entry::Report(stated(
            report(
                &format!("{tag}-2"),
                "m3",
                seconds + 60,
                lon,
                48.0,
                EventKind::Explosion,
            ),
            party,
        )),
    ]
}

/// A guarantor's action on an obligation, taken and submitted at `T0 + seconds`.
pub fn action(id: &str, guarantor: &str, obligation: &str, class: &str, seconds: i64) -> Entry {
    Entry::Action(GuarantorAction {
        schema: ACTION_SCHEMA.into(),
        id: id.into(),
        agreement: "demo".into(),
        guarantor: guarantor.into(),
        obligation: obligation.into(),
        action: class.into(),
        taken_at: at(seconds),
        submitted_at: at(seconds),
        text: None,
        signature: None,
    })
}

/// A verification by a UAV with media of act `act` at (`lon`, 48), enough on its own.
pub fn verification(id: &str, act: &str, seconds: i64, lon: f64) -> Entry {
    let mut r = report(id, "u1", seconds, lon, 48.0, EventKind::Verification);
    r.event.subtype = Some(act.into());
    r.mode = ObservationMode::Uav;
    r.media = vec![MediaRef {
        sha256: "ab".repeat(32),
        media_type: None,
    }];
    Entry::Report(r)
}

/// The monitors of the demo agreement, by the index property tests draw.
pub const MONITORS: [&str; 4] = ["m1", "m2", "m3", "u1"];

/// What happened, when (seconds from `T0`), where, and which party its reports state (if
/// any); what property tests generate before deciding who saw it.
#[derive(Clone, Debug)]
pub struct Occurrence {
    pub at_s: i64,
    pub lon: f64,
    pub lat: f64,
    pub kind: EventKind,
    pub party: Option<&'static str>,
}

/// The report `id` of `what` by `monitor`, observed at `T0 + seconds` offset by
/// (`dlon`, `dlat`): heavy weapons carry their class, verifications the withdrawal act, and
/// the report states the occurrence's party.
pub fn report_of(
    what: &Occurrence,
    id: &str,
    monitor: &str,
    seconds: i64,
    (dlon, dlat): (f64, f64),
) -> Report {
    let mut r = report(
        id,
        monitor,
        seconds,
        what.lon + dlon,
        what.lat + dlat,
        what.kind,
    );
    match what.kind {
        EventKind::WeaponPresence => {
            r.event.weapon_class = WeaponClass("artillery_ge_100mm".into())
        }
        EventKind::Verification => r.event.subtype = Some("withdrawal".into()),
        _ => {}
    }
    match what.party {
        Some(p) => stated(r, p),
        None => r,
    }
}

/// One monitor's sighting of an occurrence: which monitor (index into [`MONITORS`]), and
/// offsets in time and place of its observation, and of its submission after that.
#[derive(Clone, Debug)]
pub struct Sighting {
    pub monitor: usize,
    pub delay_s: i64,
    pub dlon: f64,
    pub dlat: f64,
    pub submitted_after_s: i64,
}

impl Sighting {
    /// The sighting monitor's id.
    pub fn monitor_id(&self) -> &'static str {
        MONITORS.get(self.monitor).copied().unwrap_or("m1")
    }

    /// The report `id` of `what` from this sighting, observed `delay_s` after it and
    /// submitted `submitted_after_s` after that.
    pub fn report(&self, what: &Occurrence, id: &str) -> Report {
        let t = what.at_s + self.delay_s;
        let mut r = report_of(what, id, self.monitor_id(), t, (self.dlon, self.dlat));
        r.submitted_at = at(t + self.submitted_after_s);
        r
    }
}

/// Guarantor g1's consultation action on the incident of report `e{n}-0`.
pub fn consultation_action(n: usize, seconds: i64) -> Entry {
    action(
        &format!("a{n}"),
        "g1",
        &format!("consult/g1/ceasefire@inc:e{n}-0"),
        "consultations",
        seconds,
    )
}

/// The assessment's digest; a test fails if it does not serialise.
pub fn digest_of(assessment: &pacta_core::assess::Assessment) -> String {
    match assessment.digest() {
        Ok(d) => d,
        Err(e) => panic!("assessment does not serialise: {e}"),
    }
}
