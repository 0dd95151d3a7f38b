//! Rows derived from an assessment, and the difference between two sets of them.

use std::collections::{BTreeMap, BTreeSet};

use pacta_core::adjudicate::Finding;
use pacta_core::assess::Assessment;
use pacta_core::corroborate::Incident;
use pacta_core::engine::{Changes, Delta};
use pacta_core::entry::resolve_location;
use pacta_core::entry::types::Report;
use pacta_core::respond::Obligation;
use serde::Serialize;

use crate::model::{FindingRow, IncidentRow, ObligationRow, ReportFacts};
use crate::{Result, StoreError};

/// Every derived row of one assessment, each list sorted by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DerivedRows {
    pub incidents: Vec<IncidentRow>,
    pub findings: Vec<FindingRow>,
    pub obligations: Vec<ObligationRow>,
}

/// The writes that turn one set of derived rows into another: rows to insert or overwrite,
/// and ids to delete.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DerivedDelta {
    pub upsert_incidents: Vec<IncidentRow>,
    pub delete_incidents: Vec<String>,
    pub upsert_findings: Vec<FindingRow>,
    pub delete_findings: Vec<String>,
    pub upsert_obligations: Vec<ObligationRow>,
    pub delete_obligations: Vec<String>,
}

/// How many rows a delta writes and deletes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeltaCounts {
    pub upserted: u64,
    pub deleted: u64,
}

/// The id and body SHA-256 of every stored derived row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DerivedFingerprints {
    pub incidents: BTreeMap<String, [u8; 32]>,
    pub findings: BTreeMap<String, [u8; 32]>,
    pub obligations: BTreeMap<String, [u8; 32]>,
}

/// SHA-256 of a derived row's JSON body, the fingerprint backends store beside it.
pub(crate) fn body_fingerprint(body: &str) -> [u8; 32] {
    crate::EntryRecord::hash_body(body.as_bytes())
}

fn json<T: Serialize>(what: &str, id: &str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|source| StoreError::Serialize {
        what: format!("{what} {id}"),
        source,
    })
}

/// The string a unit enum serializes to (`"provisional"`, `"grave"`, ...).
fn label<T: Serialize>(what: &str, id: &str, value: &T) -> Result<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        Ok(other) => Ok(other.to_string()),
        Err(source) => Err(StoreError::Serialize {
            what: format!("{what} of {id}"),
            source,
        }),
    }
}

impl DerivedRows {
    /// The rows of an assessment: its incidents, findings and obligations, each with its
    /// JSON body and the columns queries filter on.
    pub fn from_assessment(assessment: &Assessment) -> Result<DerivedRows> {
        let mut rows = DerivedRows {
            incidents: rows_of(&assessment.incidents, incident_row)?,
            findings: rows_of(&assessment.findings, finding_row)?,
            obligations: rows_of(&assessment.obligations, obligation_row)?,
        };
        rows.incidents.sort_by(|a, b| a.id.cmp(&b.id));
        rows.findings.sort_by(|a, b| a.id.cmp(&b.id));
        rows.obligations.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(rows)
    }
}

fn rows_of<T, R>(items: &[T], row: fn(&T) -> Result<R>) -> Result<Vec<R>> {
    items.iter().map(row).collect()
}

fn incident_row(incident: &Incident) -> Result<IncidentRow> {
    let kinds = incident
        .kinds
        .iter()
        .map(|k| label("kind", &incident.id, k))
        .collect::<Result<Vec<_>>>()?;
    Ok(IncidentRow {
        id: incident.id.clone(),
        start: incident.start,
        end: incident.end,
        lon: incident.lon,
        lat: incident.lat,
        kinds,
        party: incident.attribution.party.as_deref().map(str::to_string),
        body: json("incident", &incident.id, incident)?,
    })
}

fn finding_row(finding: &Finding) -> Result<FindingRow> {
    Ok(FindingRow {
        id: finding.id.clone(),
        commitment: finding.commitment.clone(),
        party: finding.party.clone(),
        status: label("status", &finding.id, &finding.status)?,
        severity: label("severity", &finding.id, &finding.severity)?,
        established_at: finding.established_at,
        incident: finding.incident.clone(),
        body: json("finding", &finding.id, finding)?,
    })
}

fn obligation_row(obligation: &Obligation) -> Result<ObligationRow> {
    Ok(ObligationRow {
        id: obligation.id.clone(),
        guarantor: obligation.guarantor.to_string(),
        status: label("status", &obligation.id, &obligation.status)?,
        opened_at: obligation.opened_at,
        due_at: obligation.due_at,
        body: json("obligation", &obligation.id, obligation)?,
    })
}

/// The rows of the items of `sorted` (sorted by id) whose ids `changes` lists as upserted,
/// and the ids it lists as removed.
fn changed_rows<T, R>(
    sorted: &[T],
    id: fn(&T) -> &str,
    row: fn(&T) -> Result<R>,
    changes: &Changes,
) -> Result<(Vec<R>, Vec<String>)> {
    let upserts = changes
        .upserted
        .iter()
        .filter_map(|wanted| {
            let at = sorted
                .binary_search_by(|item| id(item).cmp(wanted.as_str()))
                .ok()?;
            sorted.get(at)
        })
        .map(row)
        .collect::<Result<Vec<R>>>()?;
    Ok((upserts, changes.removed.clone()))
}

/// A derived row: its id and JSON body are all a diff needs.
trait Keyed: Clone {
    fn id(&self) -> &str;
    fn body(&self) -> &str;
}

macro_rules! keyed {
    ($($t:ty),*) => {$(
        impl Keyed for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn body(&self) -> &str {
                &self.body
            }
        }
    )*};
}
keyed!(IncidentRow, FindingRow, ObligationRow);

/// Rows of `new` that are absent from `old` or differ from it, and ids of `old` that are
/// absent from `new`.
fn diff_rows<T: Keyed>(old: &[T], new: &[T]) -> (Vec<T>, Vec<String>) {
    let old_by_id: BTreeMap<&str, &str> = old.iter().map(|r| (r.id(), r.body())).collect();
    let new_ids: BTreeSet<&str> = new.iter().map(Keyed::id).collect();
    let upserts = new
        .iter()
        .filter(|r| old_by_id.get(r.id()) != Some(&r.body()))
        .cloned()
        .collect();
    let deletes = old_by_id
        .keys()
        .filter(|id| !new_ids.contains(*id))
        .map(|id| id.to_string())
        .collect();
    (upserts, deletes)
}

/// Like [`diff_rows`], against stored fingerprints instead of rows.
fn diff_fingerprints<T: Keyed>(
    old: &BTreeMap<String, [u8; 32]>,
    new: &[T],
) -> (Vec<T>, Vec<String>) {
    let new_ids: BTreeSet<&str> = new.iter().map(Keyed::id).collect();
    let upserts = new
        .iter()
        .filter(|r| old.get(r.id()) != Some(&body_fingerprint(r.body())))
        .cloned()
        .collect();
    let deletes = old
        .keys()
        .filter(|id| !new_ids.contains(id.as_str()))
        .cloned()
        .collect();
    (upserts, deletes)
}

impl DerivedDelta {
    /// The writes that turn `old` (what the store holds) into `new`.
    pub fn between(old: &DerivedRows, new: &DerivedRows) -> DerivedDelta {
        DerivedDelta::from_tables(
            diff_rows(&old.incidents, &new.incidents),
            diff_rows(&old.findings, &new.findings),
            diff_rows(&old.obligations, &new.obligations),
        )
    }

    /// The writes that bring rows derived from an engine's assessment of generation
    /// `delta.since` up to `assessment`, its current one: only the rows `delta` (from
    /// `Engine::changes_since`) names, so a refresh costs what changed, not the whole
    /// assessment.
    pub fn from_changes(assessment: &Assessment, delta: &Delta) -> Result<DerivedDelta> {
        Ok(DerivedDelta::from_tables(
            changed_rows(
                &assessment.incidents,
                |i| i.id.as_str(),
                incident_row,
                &delta.incidents,
            )?,
            changed_rows(
                &assessment.findings,
                |f| f.id.as_str(),
                finding_row,
                &delta.findings,
            )?,
            changed_rows(
                &assessment.obligations,
                |o| o.id.as_str(),
                obligation_row,
                &delta.obligations,
            )?,
        ))
    }

    /// The writes that turn the stored rows, known by their fingerprints, into `new`.
    pub fn from_fingerprints(old: &DerivedFingerprints, new: &DerivedRows) -> DerivedDelta {
        DerivedDelta::from_tables(
            diff_fingerprints(&old.incidents, &new.incidents),
            diff_fingerprints(&old.findings, &new.findings),
            diff_fingerprints(&old.obligations, &new.obligations),
        )
    }

    /// Assembles a delta from each table's `(upserts, deletes)`, whichever way they were
    /// diffed.
    fn from_tables(
        (upsert_incidents, delete_incidents): (Vec<IncidentRow>, Vec<String>),
        (upsert_findings, delete_findings): (Vec<FindingRow>, Vec<String>),
        (upsert_obligations, delete_obligations): (Vec<ObligationRow>, Vec<String>),
    ) -> DerivedDelta {
        DerivedDelta {
            upsert_incidents,
            delete_incidents,
            upsert_findings,
            delete_findings,
            upsert_obligations,
            delete_obligations,
        }
    }

    /// Whether applying the delta changes nothing.
    pub fn is_empty(&self) -> bool {
        self.counts() == DeltaCounts::default()
    }

    /// How many rows the delta writes and deletes.
    pub fn counts(&self) -> DeltaCounts {
        let n = |len: usize| len as u64;
        DeltaCounts {
            upserted: n(self.upsert_incidents.len())
                + n(self.upsert_findings.len())
                + n(self.upsert_obligations.len()),
            deleted: n(self.delete_incidents.len())
                + n(self.delete_findings.len())
                + n(self.delete_obligations.len()),
        }
    }
}

impl ReportFacts {
    /// The facts a store indexes for a report.
    pub fn from_report(report: &Report) -> Result<ReportFacts> {
        let place = resolve_location(&report.location);
        Ok(ReportFacts {
            id: report.id.clone(),
            monitor: report.monitor.clone(),
            kind: label("kind", &report.id, &report.event.kind)?,
            observed_start: report.observed.start,
            observed_end: report.observed.end_or_start(),
            lon: place.lon,
            lat: place.lat,
        })
    }
}
