//! Adjudication: ruling on incidents against commitments, and settling each ruling's status.
//!
//! Two stages, each a pure function, so a server can re-run only the second when an
//! objection or a ruling arrives:
//! 1. [`rule`] compares every incident with every commitment and finds breaches (and
//!    verified acts);
//! 2. [`settle`] gives each finding its status as of a moment from the objection window,
//!    objections and the panel's rulings.
//!
//! A finding rests on an incident that matches the commitment's event filter, began within
//! the commitment's period, lies inside its zone (judged at the incident's centroid), is
//! attributed to a party the commitment binds, and meets the commitment's evidence standard.
//! An unattributed incident gives an `unattributed` finding only when the commitment binds
//! every party (then it is a breach whoever did it). Reports of kind `verification` record
//! acts, not breaches: a prohibition catches them only if its filter names that kind.

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::agreement::model::{
    Agreement, Commitment, CommitmentRule, EventFilter, EventKind, EvidenceStandard, Severity,
    SeverityRule,
};
use crate::corroborate::{Incident, Testimony};
use crate::entry::types::{Objection, Ruling, RulingDecision};
use crate::parallel;
use crate::shared::SharedStr;
use crate::time::Timestamp;
use crate::zone::ZoneIndex;

/// Where a finding stands as of the assessment time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// Within the objection window, no objection lodged (or an objection already rejected
    /// before the window ends).
    Provisional,
    /// The bound party objected in time; the panel has not ruled.
    Contested,
    /// The window passed without a successful objection.
    Confirmed,
    /// The panel upheld an objection.
    Dismissed,
}

/// A ruling that a commitment was breached.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// `{commitment}@{incident}`, or `{commitment}@deadline:{party}` for an act not verified
    /// by its deadline.
    pub id: String,
    /// The commitment breached.
    pub commitment: String,
    /// The article reference, if the agreement gives one.
    pub article: Option<String>,
    /// The agreement's own words (one shared copy per commitment: every finding of a
    /// commitment repeats them).
    pub text: SharedStr,
    /// The agreement the ruling applied.
    pub agreement: String,
    /// The agreement version.
    pub agreement_version: u32,
    /// The party in breach; `None` for an unattributed breach of a commitment binding all.
    pub party: Option<String>,
    /// From the commitment's severity rule.
    pub severity: Severity,
    /// As of the assessment time.
    pub status: FindingStatus,
    /// When the evidence standard was met (the submission time of the report that completed
    /// it), or the deadline for an unverified act.
    pub established_at: Timestamp,
    /// When the objection window ends.
    pub objection_deadline: Timestamp,
    /// When it was confirmed, if it was by the assessment time.
    pub confirmed_at: Option<Timestamp>,
    /// When the panel upheld an objection, if it did.
    pub dismissed_at: Option<Timestamp>,
    /// The objection that counted, if any.
    pub objection: Option<String>,
    /// The ruling on that objection.
    pub ruling: Option<String>,
    /// The incident it rests on; `None` for an act not verified by its deadline.
    pub incident: Option<String>,
    /// `[lon, lat]` of the incident, for maps and offensive patterns.
    pub location: Option<[f64; 2]>,
    /// The report ids the finding rests on, sorted.
    pub reports: Vec<String>,
    /// A short explanation, built from the facts in a fixed form.
    pub why: String,
}

impl Finding {
    /// Whether the finding still stands (everything but `dismissed`).
    pub fn stands(&self) -> bool {
        self.status != FindingStatus::Dismissed
    }
}

/// An act verified by monitors for an obligation-by-deadline commitment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// `{commitment}@{incident}`.
    pub id: String,
    /// The obligation-by-deadline commitment.
    pub commitment: String,
    /// The verifying incident.
    pub incident: String,
    /// When the act was observed (the incident's start).
    pub observed_at: Timestamp,
    /// When the evidence standard was met.
    pub verified_at: Timestamp,
    /// Observed before the deadline (always true when there is none).
    pub in_time: bool,
}

/// The result of [`rule`]: findings (status not yet settled) and verified acts, sorted by id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rulings {
    /// Breaches found, status provisional until [`settle`] runs.
    pub findings: Vec<Finding>,
    /// Acts verified by monitors.
    pub verifications: Vec<Verification>,
}

/// When `standard` is met by the incident's testimony, walking it in submission order: the
/// submission time of the report that completes it. `None` if never.
pub fn established_at(standard: &EvidenceStandard, testimony: &[Testimony]) -> Option<Timestamp> {
    // Few distinct monitors per incident: a linear scan beats a set and allocates less.
    let mut monitors: Vec<u16> = Vec::new();
    let mut organisations: Vec<u16> = Vec::new();
    for (n, t) in testimony.iter().enumerate() {
        if !monitors.contains(&t.monitor) {
            monitors.push(t.monitor);
        }
        if !organisations.contains(&t.organisation) {
            organisations.push(t.organisation);
        }
        let alone = standard
            .alone
            .iter()
            .any(|rule| rule.mode == t.mode && (t.with_media || !rule.with_media));
        let counted = n + 1 >= standard.min_reports as usize
            && monitors.len() >= standard.min_independent_monitors as usize
            && organisations.len() >= standard.min_organisations as usize;
        if alone || counted {
            return Some(t.submitted_at);
        }
    }
    None
}

fn filter_matches(filter: &EventFilter, incident: &Incident) -> bool {
    let kinds_ok = if filter.kinds.is_empty() {
        incident.kinds.iter().any(|k| *k != EventKind::Verification)
    } else {
        incident.kinds.iter().any(|k| filter.kinds.contains(k))
    };
    let subtypes_ok = filter.subtypes.is_empty()
        || incident
            .subtypes
            .iter()
            .any(|s| filter.subtypes.contains(s));
    let weapons_ok = filter.weapon_classes.is_empty()
        || filter
            .weapon_classes
            .iter()
            .any(|w| w.0 == *incident.weapon_class);
    kinds_ok && subtypes_ok && weapons_ok
}

/// The severity of a breach by this incident: the base, raised by the first matching rule.
pub fn severity_of(rule: &SeverityRule, incident: &Incident) -> Severity {
    let raise = rule.raise.iter().find(|r| {
        (r.weapon_classes.is_empty()
            || r.weapon_classes
                .iter()
                .any(|w| w.0 == *incident.weapon_class))
            && r.min_count.is_none_or(|n| incident.count >= n)
            && (!r.with_casualties || incident.casualties.is_some_and(|c| c > 0))
    });
    match raise {
        Some(r) => rule.base.max(r.to),
        None => rule.base,
    }
}

fn binds_everyone(agreement: &Agreement, commitment: &Commitment) -> bool {
    !agreement.parties.is_empty()
        && agreement
            .parties
            .keys()
            .all(|p| commitment.binds.contains(p))
}

fn in_period(commitment: &Commitment, t: Timestamp) -> bool {
    t >= commitment.from && commitment.until.is_none_or(|until| t < until)
}

fn in_zone(commitment: &Commitment, zones: &ZoneIndex, incident: &Incident) -> bool {
    commitment
        .zone
        .as_deref()
        .is_none_or(|z| zones.contains(z, incident.lon, incident.lat))
}

fn standard_of<'a>(agreement: &'a Agreement, c: &Commitment) -> Option<&'a EvidenceStandard> {
    c.evidence.as_ref().and_then(|e| agreement.evidence.get(e))
}

/// Appends `1 report` or `2 reports`.
fn plural(out: &mut String, n: usize, one: &str, many: &str) {
    if n == 1 {
        out.push_str("1 ");
        out.push_str(one);
    } else {
        out.push_str(itoa::Buffer::new().format(n));
        out.push(' ');
        out.push_str(many);
    }
}

/// A unit variant's serialised name (`weapon_presence`).
fn name_of<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .map(|s| s.trim_matches('"').to_string())
        .unwrap_or_default()
}

/// Written piece by piece into one buffer: every finding has one, and the formatting
/// machinery cost more than the rest of the ruling.
fn incident_why(
    c: &Commitment,
    incident: &Incident,
    party: Option<&str>,
    met: Timestamp,
) -> String {
    let mut why = String::with_capacity(256);
    for (n, kind) in incident.kinds.iter().enumerate() {
        if n > 0 {
            why.push('/');
        }
        why.push_str(&name_of(kind));
    }
    why.push_str(" (");
    why.push_str(&incident.weapon_class);
    // Writing into a `String` cannot fail.
    let _ = write!(why, ") at lat {:.6}, lon {:.6}", incident.lat, incident.lon);
    if let Some(z) = &c.zone {
        for part in [" inside zone `", z, "`"] {
            why.push_str(part);
        }
    }
    why.push_str(", on ");
    why.push_str(&incident.start.to_rfc3339());
    why.push_str(", ");
    match party {
        Some(p) => {
            for part in [
                "attributed to `",
                p,
                "` (",
                &name_of(&incident.attribution.basis),
                ")",
            ] {
                why.push_str(part);
            }
        }
        None => why.push_str("unattributed, and the commitment binds every party"),
    }
    why.push_str("; ");
    plural(&mut why, incident.reports.len(), "report", "reports");
    why.push_str(" from ");
    plural(
        &mut why,
        incident.sources.monitors.len(),
        "monitor",
        "monitors",
    );
    why.push_str(" of ");
    let organisations = incident.sources.organisations.len();
    plural(&mut why, organisations, "organisation", "organisations");
    for part in [
        " met evidence standard `",
        c.evidence.as_deref().unwrap_or_default(),
        "` at ",
        &met.to_rfc3339(),
    ] {
        why.push_str(part);
    }
    why
}

fn new_finding(
    agreement: &Agreement,
    c: &Commitment,
    text: &SharedStr,
    id: String,
    party: Option<String>,
    severity: Severity,
    established_at: Timestamp,
) -> Finding {
    Finding {
        id,
        commitment: c.id.clone(),
        article: c.article.clone(),
        text: text.clone(),
        agreement: agreement.id.clone(),
        agreement_version: agreement.version,
        party,
        severity,
        status: FindingStatus::Provisional,
        established_at,
        objection_deadline: established_at.plus(agreement.objection_window),
        confirmed_at: None,
        dismissed_at: None,
        objection: None,
        ruling: None,
        incident: None,
        location: None,
        reports: Vec::new(),
        why: String::new(),
    }
}

/// Rules on every incident against every commitment, as of `as_of` (deadlines after it have
/// not passed yet). Incidents must carry their final attribution.
pub fn rule(
    agreement: &Agreement,
    zones: &ZoneIndex,
    incidents: &[Incident],
    as_of: Timestamp,
) -> Rulings {
    let mut out = Rulings::default();
    for c in &agreement.commitments {
        let Some(standard) = standard_of(agreement, c) else {
            // No evidence standard: nothing can ever establish a breach (the lint says so).
            continue;
        };
        let text = SharedStr::from(c.text.as_str());
        match &c.rule {
            CommitmentRule::Prohibition(filter) => {
                // Each incident is ruled on alone: on every core, findings in incident order.
                out.findings
                    .extend(parallel::filter_map(incidents, |incident| {
                        prohibition_finding(agreement, zones, c, &text, filter, standard, incident)
                    }));
            }
            CommitmentRule::Obligation { act, deadline } => {
                let verified = verifications(zones, c, act, *deadline, standard, incidents);
                let in_time = verified.iter().any(|v| v.in_time);
                if let Some(deadline) = deadline {
                    if !in_time && as_of >= *deadline {
                        for party in &c.binds {
                            let mut f = new_finding(
                                agreement,
                                c,
                                &text,
                                format!("{}@deadline:{party}", c.id),
                                Some(party.clone()),
                                c.severity.base,
                                *deadline,
                            );
                            f.why = format!(
                                "act `{act}` not verified by monitors{} before the deadline {deadline}",
                                c.zone
                                    .as_ref()
                                    .map(|z| format!(" in zone `{z}`"))
                                    .unwrap_or_default()
                            );
                            out.findings.push(f);
                        }
                    }
                }
                out.verifications.extend(verified);
            }
        }
    }
    // Findings are large: their order is found on an index, and they are then rearranged in
    // place.
    let order = parallel::sort_index_by(&out.findings, |a, b| a.id.cmp(&b.id));
    out.findings = parallel::gather(std::mem::take(&mut out.findings), &order);
    out.verifications.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

fn prohibition_finding(
    agreement: &Agreement,
    zones: &ZoneIndex,
    c: &Commitment,
    text: &SharedStr,
    filter: &EventFilter,
    standard: &EvidenceStandard,
    incident: &Incident,
) -> Option<Finding> {
    if !filter_matches(filter, incident) || !in_period(c, incident.start) {
        return None;
    }
    let party = match &incident.attribution.party {
        Some(p) if c.binds.iter().any(|b| p == b) => Some(p.to_string()),
        Some(_) => return None,
        None if binds_everyone(agreement, c) => None,
        None => return None,
    };
    // The zone test is the costliest; it runs only for incidents that pass the cheap tests.
    if !in_zone(c, zones, incident) {
        return None;
    }
    let met = established_at(standard, &incident.testimony)?;
    let mut f = new_finding(
        agreement,
        c,
        text,
        format!("{}@{}", c.id, incident.id),
        party,
        severity_of(&c.severity, incident),
        met,
    );
    f.why = incident_why(c, incident, f.party.as_deref(), met);
    f.incident = Some(incident.id.clone());
    f.location = Some([incident.lon, incident.lat]);
    f.reports = incident.reports.iter().map(|r| r.to_string()).collect();
    Some(f)
}

/// Incidents that verify the act `act` for commitment `c`: verification reports of that
/// subtype, in the zone, observed from the commitment's start, meeting the evidence standard.
fn verifications(
    zones: &ZoneIndex,
    c: &Commitment,
    act: &str,
    deadline: Option<Timestamp>,
    standard: &EvidenceStandard,
    incidents: &[Incident],
) -> Vec<Verification> {
    incidents
        .iter()
        .filter(|i| {
            i.kinds.contains(&EventKind::Verification)
                && i.subtypes.iter().any(|s| s == act)
                && i.start >= c.from
                && in_zone(c, zones, i)
        })
        .filter_map(|i| {
            let verified_at = established_at(standard, &i.testimony)?;
            Some(Verification {
                id: format!("{}@{}", c.id, i.id),
                commitment: c.id.clone(),
                incident: i.id.clone(),
                observed_at: i.start,
                verified_at,
                in_time: deadline.is_none_or(|d| i.start < d),
            })
        })
        .collect()
}

/// Gives each finding its status as of `as_of`.
///
/// The first objection (by submission time, then id) lodged by the finding's party (any bound
/// party for an unattributed finding) within the objection window counts; the first ruling on
/// it decides. Without an objection a finding is provisional until the window ends, then
/// confirmed. With one it is contested until the ruling: `upheld` dismisses it at the ruling
/// time; `rejected` confirms it at the ruling time or at the window's end, whichever is later.
/// Objections and rulings submitted after `as_of` must already have been left out.
pub fn settle(
    agreement: &Agreement,
    findings: &mut [Finding],
    objections: &[&Objection],
    rulings: &[&Ruling],
    as_of: Timestamp,
) {
    let mut by_finding: BTreeMap<&str, Vec<&Objection>> = BTreeMap::new();
    for o in objections {
        by_finding.entry(o.finding.as_str()).or_default().push(o);
    }
    for list in by_finding.values_mut() {
        list.sort_by(|a, b| (a.submitted_at, &a.id).cmp(&(b.submitted_at, &b.id)));
    }
    let mut by_objection: BTreeMap<&str, Vec<&Ruling>> = BTreeMap::new();
    for r in rulings {
        by_objection
            .entry(r.objection.as_str())
            .or_default()
            .push(r);
    }
    for list in by_objection.values_mut() {
        list.sort_by(|a, b| (a.submitted_at, &a.id).cmp(&(b.submitted_at, &b.id)));
    }

    for f in findings.iter_mut() {
        let window_end = f.objection_deadline;
        let may_object = |party: &str| match &f.party {
            Some(p) => p == party,
            None => agreement
                .commitments
                .iter()
                .any(|c| c.id == f.commitment && c.binds.iter().any(|b| b == party)),
        };
        let objection = by_finding.get(f.id.as_str()).and_then(|list| {
            list.iter().copied().find(|o| {
                may_object(&o.party)
                    && o.submitted_at >= f.established_at
                    && o.submitted_at < window_end
            })
        });
        let ruling = objection.and_then(|o| {
            by_objection
                .get(o.id.as_str())?
                .iter()
                .copied()
                .find(|r| r.submitted_at >= o.submitted_at)
        });
        f.objection = objection.map(|o| o.id.clone());
        f.ruling = ruling.map(|r| r.id.clone());
        f.confirmed_at = None;
        f.dismissed_at = None;
        f.status = match (objection, ruling) {
            (Some(_), Some(r)) if r.decision == RulingDecision::Upheld => {
                f.dismissed_at = Some(r.submitted_at);
                FindingStatus::Dismissed
            }
            (Some(_), Some(r)) => confirm_at(f, r.submitted_at.max(window_end), as_of),
            (Some(_), None) => FindingStatus::Contested,
            (None, _) => confirm_at(f, window_end, as_of),
        };
    }
}

fn confirm_at(f: &mut Finding, at: Timestamp, as_of: Timestamp) -> FindingStatus {
    if as_of >= at {
        f.confirmed_at = Some(at);
        FindingStatus::Confirmed
    } else {
        FindingStatus::Provisional
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::model::{SeverityRaise, WeaponClass};
    use crate::assess::fixtures;

    #[test]
    fn severity_is_raised_by_the_first_matching_rule() {
        let rule = SeverityRule {
            base: Severity::Minor,
            raise: vec![
                SeverityRaise {
                    to: Severity::Grave,
                    weapon_classes: vec![],
                    min_count: None,
                    with_casualties: true,
                },
                SeverityRaise {
                    to: Severity::Serious,
                    weapon_classes: vec![WeaponClass("artillery_ge_100mm".into())],
                    min_count: None,
                    with_casualties: false,
                },
            ],
        };
        let mut incident = fixtures::incident("inc:r1", 0);
        assert_eq!(severity_of(&rule, &incident), Severity::Minor);
        incident.weapon_class = "artillery_ge_100mm".into();
        assert_eq!(severity_of(&rule, &incident), Severity::Serious);
        incident.casualties = Some(2);
        assert_eq!(severity_of(&rule, &incident), Severity::Grave);
    }

    /// The explanation's exact words, which the digest covers: one of each plural, a zone
    /// and a party; then several, no zone and no party.
    #[test]
    fn the_explanation_of_a_finding_reads_as_it_always_has() {
        let mut c = fixtures::ceasefire();
        c.zone = Some("dmz".into());
        let incident = fixtures::incident("inc:r1", 0);
        assert_eq!(
            incident_why(&c, &incident, Some("a"), Timestamp(60)),
            "explosion (undetermined) at lat 48.000000, lon 37.000000 inside zone `dmz`, on \
             1970-01-01T00:00:00Z, attributed to `a` (none); 1 report from 1 monitor of 1 \
             organisation met evidence standard `standard` at 1970-01-01T00:01:00Z"
        );
        let mut incident = fixtures::incident("inc:r2", 86_400);
        incident.kinds.insert(EventKind::WeaponPresence);
        incident.reports.push("r3".into());
        incident.sources.monitors.push("m3".into());
        incident.sources.organisations.push("un".into());
        incident.lat = 47.123_456_7;
        c.zone = None;
        assert_eq!(
            incident_why(&c, &incident, None, Timestamp(86_400)),
            "explosion/weapon_presence (undetermined) at lat 47.123457, lon 37.000000, on \
             1970-01-02T00:00:00Z, unattributed, and the commitment binds every party; 2 reports \
             from 2 monitors of 2 organisations met evidence standard `standard` at \
             1970-01-02T00:00:00Z"
        );
    }

    fn finding_at(established: i64) -> Finding {
        let agreement = fixtures::agreement();
        let c = fixtures::ceasefire();
        new_finding(
            &agreement,
            &c,
            &SharedStr::from(c.text.as_str()),
            "ceasefire@inc:r1".into(),
            Some("a".into()),
            Severity::Serious,
            Timestamp(established),
        )
    }

    fn objection(id: &str, party: &str, at: i64) -> Objection {
        Objection {
            schema: crate::entry::types::OBJECTION_SCHEMA.into(),
            id: id.into(),
            agreement: "demo".into(),
            party: party.into(),
            finding: "ceasefire@inc:r1".into(),
            submitted_at: Timestamp(at),
            grounds: "not us".into(),
            signature: None,
        }
    }

    fn ruling(objection: &str, decision: RulingDecision, at: i64) -> Ruling {
        Ruling {
            schema: crate::entry::types::RULING_SCHEMA.into(),
            id: format!("ruling-{objection}"),
            agreement: "demo".into(),
            panelist: "p1".into(),
            objection: objection.into(),
            decision,
            submitted_at: Timestamp(at),
            reasons: "reasons".into(),
            signature: None,
        }
    }

    const WINDOW: i64 = 72 * 3600;

    #[test]
    fn finding_is_provisional_within_the_objection_window() {
        let mut f = [finding_at(0)];
        settle(
            &fixtures::agreement(),
            &mut f,
            &[],
            &[],
            Timestamp(WINDOW - 1),
        );
        assert_eq!(f[0].status, FindingStatus::Provisional);
    }

    #[test]
    fn finding_is_confirmed_when_the_window_ends_without_objection() {
        let mut f = [finding_at(0)];
        settle(&fixtures::agreement(), &mut f, &[], &[], Timestamp(WINDOW));
        assert_eq!(f[0].status, FindingStatus::Confirmed);
        assert_eq!(f[0].confirmed_at, Some(Timestamp(WINDOW)));
    }

    #[test]
    fn objection_in_time_contests_the_finding() {
        let mut f = [finding_at(0)];
        let o = objection("o1", "a", 100);
        settle(
            &fixtures::agreement(),
            &mut f,
            &[&o],
            &[],
            Timestamp(WINDOW * 5),
        );
        assert_eq!(f[0].status, FindingStatus::Contested);
    }

    #[test]
    fn objection_by_another_party_does_not_count() {
        let mut f = [finding_at(0)];
        let o = objection("o1", "b", 100);
        settle(
            &fixtures::agreement(),
            &mut f,
            &[&o],
            &[],
            Timestamp(WINDOW),
        );
        assert_eq!(f[0].status, FindingStatus::Confirmed);
    }

    #[test]
    fn objection_after_the_window_does_not_count() {
        let mut f = [finding_at(0)];
        let o = objection("o1", "a", WINDOW + 1);
        settle(
            &fixtures::agreement(),
            &mut f,
            &[&o],
            &[],
            Timestamp(WINDOW * 2),
        );
        assert_eq!(f[0].status, FindingStatus::Confirmed);
    }

    #[test]
    fn upheld_objection_dismisses_the_finding() {
        let mut f = [finding_at(0)];
        let o = objection("o1", "a", 100);
        let r = ruling("o1", RulingDecision::Upheld, 200);
        settle(&fixtures::agreement(), &mut f, &[&o], &[&r], Timestamp(300));
        assert_eq!(f[0].status, FindingStatus::Dismissed);
        assert_eq!(f[0].dismissed_at, Some(Timestamp(200)));
    }

    #[test]
    fn rejected_objection_confirms_at_the_later_of_ruling_and_window_end() {
        let mut f = [finding_at(0)];
        let o = objection("o1", "a", 100);
        let early = ruling("o1", RulingDecision::Rejected, 200);
        settle(
            &fixtures::agreement(),
            &mut f,
            &[&o],
            &[&early],
            Timestamp(WINDOW),
        );
        assert_eq!(f[0].confirmed_at, Some(Timestamp(WINDOW)));
        let late = ruling("o1", RulingDecision::Rejected, WINDOW * 2);
        settle(
            &fixtures::agreement(),
            &mut f,
            &[&o],
            &[&late],
            Timestamp(WINDOW * 3),
        );
        assert_eq!(f[0].confirmed_at, Some(Timestamp(WINDOW * 2)));
    }
}
