//! Naive baselines that Pacta's corroboration is measured against, on the same reports:
//!
//! - **one finding per report**: every report is its own incident and is trusted alone (every
//!   evidence standard lowered to one report), as a tally of raw reports would;
//! - **spatial DBSCAN**: reports of one kind family clustered by the distance between their
//!   resolved centres alone, ignoring time, with the engine's DBSCAN kernel
//!   (`pacta_core::cluster::dbscan`, scikit-learn's definition; `eps` the agreement's
//!   corroboration distance, `min_points` 2, the point itself included); noise points are
//!   dropped; clusters are ruled on with the agreement's own evidence standards.
//!
//! Both feed their incidents through the engine's own attribution, adjudication and
//! response ladders (`pacta_core::attribute`, `pacta_core::adjudicate::rule` and `settle`,
//! `pacta_core::respond::respond`, with no objections and no guarantor actions, as in a
//! simulated run), so only the grouping differs. Phases are not run: their obligations
//! rest on no finding and the evaluation does not score them.

use std::collections::BTreeMap;

use pacta_core::adjudicate::{rule, settle};
use pacta_core::agreement::model::{Agreement, EventKind, ObservationMode, WeaponClass};
use pacta_core::attribute::{attribute, Attribution};
use pacta_core::cluster::dbscan;
use pacta_core::corroborate::{Confidence, ConfidenceLevel, Incident, Sources, Testimony};
use pacta_core::entry::resolve_location;
use pacta_core::entry::types::Report;
use pacta_core::geodesy::distance_km;
use pacta_core::respond::{respond, ActionIndex};
use pacta_core::time::Timestamp;
use pacta_core::zone::ZoneIndex;

use serde::Serialize;

use crate::evaluate::{
    Outcome, OutcomeAttribution, OutcomeFinding, OutcomeIncident, OutcomeObligation,
};

/// Every report alone is an incident and, for every evidence standard, enough.
pub fn one_per_report(agreement: &Agreement, reports: &[&Report], as_of: Timestamp) -> Outcome {
    let mut lenient = agreement.clone();
    for standard in lenient.evidence.values_mut() {
        standard.min_reports = 1;
        standard.min_independent_monitors = 1;
        standard.min_organisations = 1;
    }
    let groups: Vec<Vec<&Report>> = reports.iter().map(|r| vec![*r]).collect();
    outcome(&lenient, groups, as_of)
}

/// Reports clustered in space only, per kind family, by DBSCAN.
pub fn spatial_dbscan(
    agreement: &Agreement,
    reports: &[&Report],
    eps_km: f64,
    min_points: usize,
    as_of: Timestamp,
) -> Outcome {
    let mut families: BTreeMap<String, Vec<&Report>> = BTreeMap::new();
    for r in reports {
        families.entry(family(r)).or_default().push(r);
    }
    let mut groups = Vec::new();
    for members in families.into_values() {
        let points: Vec<(f64, f64)> = members
            .iter()
            .map(|r| {
                let at = resolve_location(&r.location);
                (at.lon, at.lat)
            })
            .collect();
        let labels = dbscan(&points, eps_km, min_points).labels;
        let mut clusters: BTreeMap<u32, Vec<&Report>> = BTreeMap::new();
        for (r, label) in members.iter().zip(labels) {
            if let Some(c) = label {
                clusters.entry(c).or_default().push(r);
            }
        }
        groups.extend(clusters.into_values());
    }
    outcome(agreement, groups, as_of)
}

/// Reports that may describe the same kind of event: fire of any kind, or one other kind
/// (verifications also by the act verified).
fn family(r: &Report) -> String {
    if r.event.kind.is_fire() {
        "fire".to_string()
    } else {
        format!(
            "{:?}/{}",
            r.event.kind,
            r.event.subtype.as_deref().unwrap_or("")
        )
    }
}

/// Rules on the incidents made of `groups` and returns what the evaluator reads.
fn outcome(agreement: &Agreement, groups: Vec<Vec<&Report>>, as_of: Timestamp) -> Outcome {
    let zones = ZoneIndex::compile(agreement);
    let mut incidents: Vec<Incident> = groups
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(|g| incident_of(agreement, g))
        .collect();
    for incident in &mut incidents {
        incident.attribution = attribute(incident, &agreement.attribution, &zones);
    }
    incidents.sort_by(|a, b| a.id.cmp(&b.id));
    let mut findings = rule(agreement, &zones, &incidents, as_of).findings;
    settle(agreement, &mut findings, &[], &[], as_of);
    let obligations = respond(agreement, &zones, &findings, &ActionIndex::default(), as_of);
    Outcome {
        agreement: agreement.id.clone(),
        as_of,
        incidents: incidents
            .iter()
            .map(|i| OutcomeIncident {
                id: i.id.clone(),
                reports: i.reports.iter().map(|r| r.to_string()).collect(),
                lon: i.lon,
                lat: i.lat,
                start: i.start,
                end: i.end,
                kinds: i.kinds.to_vec(),
                attribution: OutcomeAttribution {
                    party: i.attribution.party.as_deref().map(str::to_string),
                },
            })
            .collect(),
        findings: findings
            .into_iter()
            .map(|f| OutcomeFinding {
                status: variant_name(f.status),
                id: f.id,
                commitment: f.commitment,
                party: f.party,
                severity: f.severity,
                incident: f.incident,
            })
            .collect(),
        obligations: obligations
            .into_iter()
            .map(|o| OutcomeObligation {
                source: variant_name(o.source),
                origin: o.origin.to_string(),
                trigger: o.trigger.to_string(),
                findings: o.findings.iter().map(|f| f.to_string()).collect(),
                opened_at: o.opened_at,
                id: o.id,
            })
            .collect(),
    }
}

/// The name a status or source has in the assessment's JSON (a unit variant's serde name).
fn variant_name(variant: impl Serialize) -> String {
    match serde_json::to_value(variant) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

/// An incident made of `group`, built the way the engine builds its own (sources, testimony,
/// stated attribution) except for the centre, which is the plain mean of the members'.
fn incident_of(agreement: &Agreement, mut group: Vec<&Report>) -> Incident {
    group.sort_by(|a, b| a.id.cmp(&b.id));
    let located: Vec<(f64, f64, f64)> = group
        .iter()
        .map(|r| {
            let at = resolve_location(&r.location);
            (at.lon, at.lat, at.radius_m)
        })
        .collect();
    let n = located.len().max(1) as f64;
    let lon = located.iter().map(|p| p.0).sum::<f64>() / n;
    let lat = located.iter().map(|p| p.1).sum::<f64>() / n;
    let radius_m = located
        .iter()
        .map(|p| distance_km((lon, lat), (p.0, p.1)) * 1000.0 + p.2)
        .fold(0.0_f64, f64::max);
    let organisation_of = |monitor: &str| {
        agreement
            .monitors
            .get(monitor)
            .map(|m| m.organisation.clone())
            .unwrap_or_else(|| monitor.to_string())
    };
    let mut monitors: Vec<String> = group.iter().map(|r| r.monitor.clone()).collect();
    monitors.sort();
    monitors.dedup();
    let mut organisations: Vec<String> = monitors.iter().map(|m| organisation_of(m)).collect();
    organisations.sort();
    organisations.dedup();
    let mut modes: Vec<ObservationMode> = group.iter().map(|r| r.mode).collect();
    modes.sort();
    modes.dedup();
    let mut kinds: Vec<EventKind> = group.iter().map(|r| r.event.kind).collect();
    kinds.sort();
    kinds.dedup();
    let mut subtypes: Vec<String> = group
        .iter()
        .filter_map(|r| r.event.subtype.clone())
        .collect();
    subtypes.sort();
    subtypes.dedup();
    let mut classes: BTreeMap<&WeaponClass, usize> = BTreeMap::new();
    for r in &group {
        if !r.event.weapon_class.is_undetermined() {
            *classes.entry(&r.event.weapon_class).or_default() += 1;
        }
    }
    // The most reported determined class; ties go to the first in order.
    let weapon_class = classes
        .iter()
        .fold(None::<(&WeaponClass, usize)>, |best, (c, k)| match best {
            Some((_, bk)) if bk >= *k => best,
            _ => Some((c, *k)),
        })
        .map(|(c, _)| (*c).clone())
        .unwrap_or_else(|| WeaponClass(WeaponClass::UNDETERMINED.to_string()));
    let mut stated: Vec<String> = group
        .iter()
        .filter_map(|r| r.attribution.as_ref().map(|a| a.party.clone()))
        .collect();
    stated.sort();
    stated.dedup();
    // Testimony indices are `u16`: in a group of more than 65,535 reports (the engine's hold
    // at most 256) the later reports' indices saturate, which changes only the order of
    // testimonies that tie on submission time; monitors and organisations are far fewer.
    let index = |i: usize| u16::try_from(i).unwrap_or(u16::MAX);
    let mut testimony: Vec<Testimony> = group
        .iter()
        .enumerate()
        .map(|(i, r)| Testimony {
            report: index(i),
            monitor: index(monitors.binary_search(&r.monitor).unwrap_or(0)),
            organisation: index(
                organisations
                    .binary_search(&organisation_of(&r.monitor))
                    .unwrap_or(0),
            ),
            mode: r.mode,
            with_media: !r.media.is_empty(),
            submitted_at: r.submitted_at,
        })
        .collect();
    testimony.sort_by(|a, b| {
        a.submitted_at
            .cmp(&b.submitted_at)
            .then(a.report.cmp(&b.report))
    });
    Incident {
        id: format!(
            "base:{}",
            group.first().map(|r| r.id.as_str()).unwrap_or("")
        ),
        reports: group.iter().map(|r| r.id.as_str().into()).collect(),
        lon,
        lat,
        radius_m: radius_m.ceil() as u64,
        start: group
            .iter()
            .map(|r| r.observed.start)
            .min()
            .unwrap_or_default(),
        end: group
            .iter()
            .map(|r| r.observed.end_or_start())
            .max()
            .unwrap_or_default(),
        kinds: kinds.into(),
        subtypes,
        weapon_class: weapon_class.0.into(),
        count: group.iter().map(|r| r.event.count).max().unwrap_or(1),
        casualties: group.iter().filter_map(|r| r.event.casualties).max(),
        sources: Sources {
            monitors: monitors.iter().map(|m| m.as_str().into()).collect(),
            organisations: organisations.iter().map(|o| o.as_str().into()).collect(),
            modes: modes.into(),
        },
        // Adjudication does not read confidence, and the baselines claim none.
        confidence: Confidence {
            level: ConfidenceLevel::Low,
            score: 0.0,
        },
        attribution: Attribution::from_statements(stated.into_iter().map(Into::into).collect()),
        testimony: testimony.into(),
    }
}
