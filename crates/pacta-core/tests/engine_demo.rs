//! The engine on the shipped demo agreement (`examples/demo`), parsed from its files: real
//! geometry (an illustrative line of contact through settlements near the 2025 front), real
//! derived zones and the full ladder. The test finds places and commitments by their
//! properties rather than by name, so it follows edits to the example.

mod engine_common;

use std::path::PathBuf;

use pacta_core::agreement::model::{
    Agreement, CommitmentRule, EventKind, ObservationMode, Trigger, WeaponClass, ZoneShape,
};
use pacta_core::agreement::{parse_agreement, SourceLoader};
use pacta_core::assess::assess;
use pacta_core::entry::types::*;
use pacta_core::geodesy::KM_PER_DEGREE;
use pacta_core::time::{Duration, Timestamp};
use pacta_core::zone::ZoneIndex;

struct Directory(PathBuf);

impl SourceLoader for Directory {
    fn load(&self, relative_path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(relative_path)).map_err(|e| e.to_string())
    }
}

fn demo() -> Agreement {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo");
    let text = match std::fs::read_to_string(dir.join("agreement.toml")) {
        Ok(t) => t,
        Err(e) => panic!("examples/demo/agreement.toml: {e}"),
    };
    match parse_agreement("agreement.toml", &text, &Directory(dir)) {
        Ok(parsed) => parsed.agreement,
        Err(d) => panic!("the demo agreement does not parse: {d:?}"),
    }
}

/// The vertices of the line of contact.
fn contact_line(agreement: &Agreement) -> Vec<(f64, f64)> {
    agreement
        .zones
        .values()
        .find_map(|z| match &z.shape {
            ZoneShape::Line(lines) => Some(
                lines
                    .iter()
                    .flat_map(|l| l.coords().map(|c| (c.x, c.y)))
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default()
}

/// A point `km` into party `party`'s side, level with a vertex in the middle of the line.
fn into_side(agreement: &Agreement, party: &str, km: f64) -> (f64, f64) {
    let zones = ZoneIndex::compile(agreement);
    let line = contact_line(agreement);
    let (lon, lat) = line.get(line.len() / 2).copied().unwrap_or_default();
    let dlon = km / (KM_PER_DEGREE * lat.to_radians().cos());
    [
        (lon - dlon, lat),
        (lon + dlon, lat),
        (lon, lat - km / KM_PER_DEGREE),
        (lon, lat + km / KM_PER_DEGREE),
    ]
    .into_iter()
    .find(|p| zones.party_controlling(p.0, p.1) == Some(party))
    .unwrap_or_else(|| panic!("no point {km} km into {party}'s side near {lon},{lat}"))
}

/// A report for the demo agreement, observed and submitted at `at`.
fn report(
    id: &str,
    monitor: &str,
    at: Timestamp,
    p: (f64, f64),
    kind: EventKind,
    mode: ObservationMode,
) -> Entry {
    let mut r = engine_common::report(
        id,
        monitor,
        at.since(engine_common::at(0)).as_seconds(),
        p.0,
        p.1,
        kind,
    );
    r.agreement = "demo-ceasefire".into();
    r.mode = mode;
    Entry::Report(r)
}

#[test]
fn artillery_inside_a_partys_exclusion_zone_is_a_finding_against_that_party() {
    let agreement = demo();
    let commitment = agreement
        .commitments
        .iter()
        .find(|c| {
            c.binds == ["a"]
                && matches!(&c.rule, CommitmentRule::Prohibition(f)
                    if f.weapon_classes.iter().any(|w| w.0 == "artillery_ge_100mm"))
        })
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let at = agreement.effective.plus(Duration::days(40));
    let p = into_side(&agreement, "a", 25.0);
    let mut entries = vec![
        report(
            "w1",
            "imm-patrol-1",
            at,
            p,
            EventKind::WeaponPresence,
            ObservationMode::Patrol,
        ),
        report(
            "w2",
            "osint-sat-1",
            at.plus(Duration::minutes(10)),
            p,
            EventKind::WeaponPresence,
            ObservationMode::Satellite,
        ),
    ];
    for e in &mut entries {
        if let Entry::Report(r) = e {
            r.event.weapon_class = WeaponClass("artillery_ge_100mm".into());
        }
    }
    let a = assess(&agreement, &entries, at.plus(Duration::days(1)));
    let f = a
        .findings
        .iter()
        .find(|f| f.commitment == commitment)
        .unwrap_or_else(|| {
            panic!(
                "no {commitment} finding in {:?}",
                a.findings.iter().map(|f| &f.id).collect::<Vec<_>>()
            )
        });
    assert_eq!(f.party.as_deref(), Some("a"));
    assert_eq!(f.reports, vec!["w1", "w2"]);
}

#[test]
fn fire_spread_along_the_line_within_a_day_reaches_the_offensive_rung() {
    let agreement = demo();
    let offensive: Vec<&str> = agreement
        .responses
        .iter()
        .filter(|r| matches!(r.trigger, Trigger::Offensive { .. }))
        .map(|r| r.id.as_str())
        .collect();
    assert!(!offensive.is_empty(), "the demo has an offensive rung");
    let start = agreement.effective.plus(Duration::days(40));
    let line = contact_line(&agreement);
    let mut entries = Vec::new();
    // Shelling at every vertex of the line within a few hours, attributed to party b, each
    // seen by two patrols.
    for (i, vertex) in line.iter().enumerate() {
        let at = start.plus(Duration::minutes(10 * i as i64));
        for (k, monitor) in ["imm-patrol-1", "imm-patrol-2"].into_iter().enumerate() {
            let mut r = report(
                &format!("s{i}-{k}"),
                monitor,
                at.plus(Duration::minutes(k as i64)),
                *vertex,
                EventKind::Explosion,
                ObservationMode::Heard,
            );
            if let Entry::Report(r) = &mut r {
                r.attribution = Some(Box::new(StatedAttribution {
                    party: "b".into(),
                    basis: None,
                }));
            }
            entries.push(r);
        }
    }
    let a = assess(&agreement, &entries, start.plus(Duration::days(5)));
    assert!(a.findings.len() >= line.len());
    assert!(
        a.obligations
            .iter()
            .any(|o| offensive.contains(&o.origin.as_str())),
        "no obligation from {offensive:?}: {:?}",
        a.obligations.iter().map(|o| &o.id).collect::<Vec<_>>()
    );
    assert!(a.digest().is_ok());
}
