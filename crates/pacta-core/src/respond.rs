//! Response ladders: from findings to guarantors' obligations, with deadlines, fulfilment by
//! action entries, and escalation.
//!
//! A rung's trigger fires on the findings that *count* for it: with basis `provisional`
//! every finding that stands (not dismissed), from the time it was established; with basis
//! `confirmed` only confirmed findings, from the time they were confirmed. Each firing opens
//! one obligation per named guarantor, identified `{rung}/{guarantor}/{trigger key}` where the
//! key is the id of the firing's first finding (a `finding` trigger), `pattern:{time}` or
//! `offensive:{time}`. A firing runs from its opening (`opened_at`) up to and including its
//! deadline (`due_at`, `opened_at` plus the rung's `within`).
//!
//! Coalescing (a `finding` trigger, unless the rung says `coalesce = false`): a matching
//! finding fires the rung only if no earlier firing of the same rung for the same party (the
//! finding's `party`; unattributed findings are a party of their own) is still running at the
//! time the finding counts. Otherwise it *joins* that firing: it is added to the firing's
//! `findings` (sorted by id) and opens nothing. So five serious breaches by one party in an
//! afternoon call for one round of consultations, not five. Whether a finding joins depends
//! only on findings and times, never on guarantors' actions, so which obligations exist never
//! depends on who acted. With `coalesce = false` every matching finding fires on its own.
//! Pattern and offensive triggers group findings by their own window and do not coalesce.
//!
//! Escalation: an obligation that misses its deadline (if the rung escalates on missed
//! deadlines), or that is still unmet when another matching finding counts (if the rung
//! escalates on continued breach), opens the `escalate_to` rung's obligations at that moment,
//! under the same trigger key and with `escalated_from` naming it. "Matching" is judged by
//! the trigger filter and basis of the rung, or for a rung reached only by escalation, of the
//! rung that escalated to it. For a coalescing firing, and the firings it escalates to, only
//! the findings of its own party count (exactly those that join it): one party's breaches do
//! not escalate the response to another's. For other firings any party's do. One firing of a rung escalates at most once, at the earliest such moment
//! among its guarantors' obligations, so three silent guarantors do not open the next rung
//! three times. The escalated firing carries the escalating firing's findings that counted up
//! to and including the moment of escalation; findings that join the lower firing later stay
//! with it alone. An obligation reached both by its own trigger and by escalation is owed
//! once: the earlier opening stands.

#![deny(missing_docs)]

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::adjudicate::{Finding, FindingStatus};
use crate::agreement::model::{Agreement, FindingFilter, ResponseRung, Trigger, TriggerBasis};
use crate::entry::types::GuarantorAction;
use crate::parallel;
use crate::shared::{SharedList, SharedStr};
use crate::time::Timestamp;
use crate::zone::ZoneIndex;

/// Where an obligation comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationSource {
    /// A response rung, fired by findings or by escalation.
    Response,
    /// A phase's consequence (e.g. a sanctions-relief tranche).
    Phase,
    /// A phase's snapback after a breach.
    Snapback,
}

/// Where an obligation stands as of the assessment time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObligationStatus {
    /// Not yet due, no action recorded.
    Open,
    /// The guarantor recorded the action by the deadline.
    Fulfilled,
    /// The guarantor recorded the action after the deadline.
    FulfilledLate,
    /// The deadline passed with no action recorded.
    Overdue,
}

/// What a guarantor owes, by when, and whether it delivered.
///
/// The strings a firing's obligations have in common (the rung's, the trigger, the findings)
/// are shared between them rather than copied per guarantor: at
/// 10^6 reports there are hundreds of thousands of obligations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Obligation {
    /// `{rung}/{guarantor}/{trigger}`, `phase:{phase}/{guarantor}` or
    /// `snapback:{phase}/{guarantor}`: what a guarantor's action entry names.
    pub id: String,
    /// What opened it.
    pub source: ObligationSource,
    /// The rung or phase that opened it.
    pub origin: SharedStr,
    /// The guarantor that owes it.
    pub guarantor: SharedStr,
    /// The action class that fulfils it.
    pub action: SharedStr,
    /// The agreement's description of the action.
    pub description: SharedStr,
    /// The finding id, `pattern:{time}`, `offensive:{time}`, or for phases `entry` and the
    /// snapback finding id.
    pub trigger: SharedStr,
    /// The findings that fired it, sorted.
    pub findings: SharedList,
    /// When the trigger fired (or the escalation or phase entry happened).
    pub opened_at: Timestamp,
    /// `opened_at` plus the rung's or phase's `within`.
    pub due_at: Timestamp,
    /// As of the assessment time.
    pub status: ObligationStatus,
    /// The action entry that fulfilled it.
    pub fulfilled_by: Option<String>,
    /// When the fulfilling action was taken.
    pub acted_at: Option<Timestamp>,
    /// The obligation whose missed deadline or continued breach opened this one.
    pub escalated_from: Option<String>,
}

/// Guarantors' actions indexed by the obligation they answer and the guarantor.
#[derive(Debug, Default)]
pub struct ActionIndex<'a> {
    by_obligation: BTreeMap<(&'a str, &'a str), Vec<&'a GuarantorAction>>,
}

impl<'a> ActionIndex<'a> {
    /// Indexes actions; those submitted after the assessment time must already be left out.
    pub fn new(actions: &[&'a GuarantorAction]) -> ActionIndex<'a> {
        let mut by_obligation: BTreeMap<(&str, &str), Vec<&GuarantorAction>> = BTreeMap::new();
        for a in actions {
            by_obligation
                .entry((a.obligation.as_str(), a.guarantor.as_str()))
                .or_default()
                .push(a);
        }
        for list in by_obligation.values_mut() {
            list.sort_by(|a, b| (a.taken_at, &a.id).cmp(&(b.taken_at, &b.id)));
        }
        ActionIndex { by_obligation }
    }

    /// The first action (by time taken, then id) of the obligation's class by its guarantor.
    fn first(&self, obligation: &Obligation) -> Option<&'a GuarantorAction> {
        self.by_obligation
            .get(&(obligation.id.as_str(), obligation.guarantor.as_str()))?
            .iter()
            .find(|a| *a.action == *obligation.action)
            .copied()
    }
}

/// Sets an obligation's status as of `as_of` from the guarantor's recorded actions.
pub fn fulfil(obligation: &mut Obligation, actions: &ActionIndex, as_of: Timestamp) {
    let action = actions.first(obligation);
    obligation.fulfilled_by = action.map(|a| a.id.clone());
    obligation.acted_at = action.map(|a| a.taken_at);
    obligation.status = match action {
        Some(a) if a.taken_at <= obligation.due_at => ObligationStatus::Fulfilled,
        Some(_) => ObligationStatus::FulfilledLate,
        None if as_of > obligation.due_at => ObligationStatus::Overdue,
        None => ObligationStatus::Open,
    };
}

/// Whether a finding matches a rung's, phase's or snapback's filter.
pub fn finding_matches(filter: &FindingFilter, f: &Finding) -> bool {
    f.severity >= filter.min_severity
        && filter
            .party
            .as_ref()
            .is_none_or(|p| f.party.as_ref() == Some(p))
        && (filter.commitments.is_empty() || filter.commitments.contains(&f.commitment))
}

/// The findings that count for a basis, with the time each counts from, sorted by that time
/// then id.
pub fn counted(findings: &[Finding], basis: TriggerBasis) -> Vec<(Timestamp, &Finding)> {
    let mut out: Vec<(Timestamp, &Finding)> = findings
        .iter()
        .filter_map(|f| match basis {
            TriggerBasis::Provisional if f.stands() => Some((f.established_at, f)),
            TriggerBasis::Confirmed if f.status == FindingStatus::Confirmed => {
                f.confirmed_at.map(|t| (t, f))
            }
            _ => None,
        })
        .collect();
    parallel::sort_by(&mut out, |a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    out
}

/// One firing of a rung.
struct Firing<'a> {
    rung: &'a ResponseRung,
    /// The rung's strings, shared by its obligations.
    text: &'a RungText,
    key: SharedStr,
    at: Timestamp,
    /// The findings of the firing and when each counted, in that order (so an escalation can
    /// take those that counted by its moment with one binary search).
    findings: Vec<(Timestamp, &'a str)>,
    escalated_from: Option<String>,
    /// The rung whose trigger says which further findings are a continued breach: this rung,
    /// or for a rung reached only by escalation, the rung it escalated from.
    breach: &'a ResponseRung,
    /// For a coalescing firing (and the firings it escalates to), the party whose breaches
    /// it answers (`None` inside: unattributed findings); else any party's count.
    party: Option<Option<&'a str>>,
    depth: usize,
}

impl Firing<'_> {
    /// The last instant the firing runs: findings that count up to it join a coalescing one.
    fn due_at(&self) -> Timestamp {
        self.at.plus(self.rung.within)
    }
}

fn trigger_filter(trigger: &Trigger) -> Option<&FindingFilter> {
    match trigger {
        Trigger::Finding(filter)
        | Trigger::Pattern { filter, .. }
        | Trigger::Offensive { filter, .. } => Some(filter),
        Trigger::Escalation => None,
    }
}

/// The firings of a rung's own trigger.
fn fire<'a>(
    rung: &'a ResponseRung,
    text: &'a RungText,
    counted: &[(Timestamp, &'a Finding)],
    zones: &ZoneIndex,
) -> Vec<Firing<'a>> {
    let firing = |key: String, at: Timestamp, findings: Vec<(Timestamp, &'a str)>| Firing {
        rung,
        text,
        key: key.into(),
        at,
        findings,
        escalated_from: None,
        breach: rung,
        party: None,
        depth: 0,
    };
    let mut out = Vec::new();
    match &rung.trigger {
        Trigger::Finding(filter) => {
            // Each party's latest firing: only it can still be running, since the party's
            // next firing opens only after it has ended.
            let mut latest: BTreeMap<Option<&str>, usize> = BTreeMap::new();
            for (t, f) in counted.iter().filter(|(_, f)| finding_matches(filter, f)) {
                let party = f.party.as_deref();
                let running = latest
                    .get(&party)
                    .and_then(|&i| out.get_mut(i))
                    .filter(|o: &&mut Firing| rung.coalesce && *t <= o.due_at());
                match running {
                    Some(joined) => joined.findings.push((*t, f.id.as_str())),
                    None => {
                        latest.insert(party, out.len());
                        let mut opened = firing(f.id.clone(), *t, vec![(*t, f.id.as_str())]);
                        opened.party = rung.coalesce.then_some(party);
                        out.push(opened);
                    }
                }
            }
        }
        Trigger::Pattern {
            filter,
            count,
            window,
        } => {
            let matching: Vec<&(Timestamp, &Finding)> = counted
                .iter()
                .filter(|(_, f)| finding_matches(filter, f))
                .collect();
            let needed = (*count).max(1) as usize;
            let mut lo = 0;
            for (i, (t, _)) in matching.iter().enumerate() {
                // The window is (t - window, t]; after a firing it restarts past that finding.
                while lo < i
                    && matching
                        .get(lo)
                        .is_some_and(|(u, _)| *u <= t.minus(*window))
                {
                    lo += 1;
                }
                if i + 1 - lo >= needed {
                    let members = members(matching.get(lo..=i).unwrap_or_default());
                    out.push(firing(format!("pattern:{t}"), *t, members));
                    lo = i + 1;
                }
            }
        }
        Trigger::Offensive {
            filter,
            along,
            span_km,
            window,
        } => {
            let matching: Vec<&(Timestamp, &Finding)> = counted
                .iter()
                .filter(|(_, f)| finding_matches(filter, f))
                .collect();
            // Each finding's projection on the line (a geodesic computation, the costliest
            // step here) is its own: they are made on every core.
            let placed: Vec<(&(Timestamp, &Finding), f64)> =
                parallel::filter_map(&matching, |&entry| {
                    let [lon, lat] = entry.1.location?;
                    Some((entry, zones.position_along(along, lon, lat)?.along_km))
                });
            let time = |j: usize| placed.get(j).map(|((t, _), _)| *t);
            let along_km = |j: usize| placed.get(j).map_or(0.0, |(_, x)| *x);
            // Sliding window (t - window, t] with monotonic queues of the smallest and largest
            // positions, so each finding is handled in amortised constant time.
            let mut lo = 0;
            let mut lowest: VecDeque<usize> = VecDeque::new();
            let mut highest: VecDeque<usize> = VecDeque::new();
            for (i, ((t, _), x)) in placed.iter().enumerate() {
                while lowest.back().is_some_and(|&j| along_km(j) >= *x) {
                    lowest.pop_back();
                }
                lowest.push_back(i);
                while highest.back().is_some_and(|&j| along_km(j) <= *x) {
                    highest.pop_back();
                }
                highest.push_back(i);
                while lo < i && time(lo).is_some_and(|u| u <= t.minus(*window)) {
                    lo += 1;
                }
                while lowest.front().is_some_and(|&j| j < lo) {
                    lowest.pop_front();
                }
                while highest.front().is_some_and(|&j| j < lo) {
                    highest.pop_front();
                }
                let span = match (highest.front(), lowest.front()) {
                    (Some(&h), Some(&l)) => along_km(h) - along_km(l),
                    _ => 0.0,
                };
                if span > *span_km {
                    let entries: Vec<&(Timestamp, &Finding)> = placed
                        .get(lo..=i)
                        .unwrap_or_default()
                        .iter()
                        .map(|(e, _)| *e)
                        .collect();
                    out.push(firing(format!("offensive:{t}"), *t, members(&entries)));
                    lo = i + 1;
                    lowest.clear();
                    highest.clear();
                }
            }
        }
        Trigger::Escalation => {}
    }
    out
}

fn members<'a>(entries: &[&(Timestamp, &'a Finding)]) -> Vec<(Timestamp, &'a str)> {
    entries.iter().map(|(t, f)| (*t, f.id.as_str())).collect()
}

/// A rung's strings, made once and shared by every obligation the rung opens.
struct RungText {
    origin: SharedStr,
    action: SharedStr,
    description: SharedStr,
    guarantors: Vec<SharedStr>,
}

impl RungText {
    fn new(rung: &ResponseRung) -> RungText {
        RungText {
            origin: rung.id.as_str().into(),
            action: rung.action.as_str().into(),
            description: rung.description.as_str().into(),
            guarantors: rung.guarantors.iter().map(|g| g.as_str().into()).collect(),
        }
    }
}

/// The obligations of one firing, one per guarantor, with their status.
fn obligations_of(firing: &Firing, actions: &ActionIndex, as_of: Timestamp) -> Vec<Obligation> {
    let text = firing.text;
    let mut findings: Vec<String> = firing
        .findings
        .iter()
        .map(|(_, id)| id.to_string())
        .collect();
    findings.sort();
    let findings = SharedList::from(findings);
    text.guarantors
        .iter()
        .map(|g| {
            let mut id =
                String::with_capacity(firing.rung.id.len() + g.len() + firing.key.len() + 2);
            for part in [&firing.rung.id, "/", g, "/", &firing.key] {
                id.push_str(part);
            }
            let mut o = Obligation {
                id,
                source: ObligationSource::Response,
                origin: text.origin.clone(),
                guarantor: g.clone(),
                action: text.action.clone(),
                description: text.description.clone(),
                trigger: firing.key.clone(),
                findings: findings.clone(),
                opened_at: firing.at,
                due_at: firing.due_at(),
                status: ObligationStatus::Open,
                fulfilled_by: None,
                acted_at: None,
                escalated_from: firing.escalated_from.clone(),
            };
            fulfil(&mut o, actions, as_of);
            o
        })
        .collect()
}

/// When an obligation escalates, if it does: at its deadline if missed, or at the first
/// further matching finding while it is unmet. `breaches` holds the times at which findings
/// matching the breach rung's filter count, sorted.
fn escalation_time(
    rung: &ResponseRung,
    o: &Obligation,
    breaches: &[Timestamp],
    as_of: Timestamp,
) -> Option<Timestamp> {
    let unmet_at = |t: Timestamp| o.acted_at.is_none_or(|acted| acted > t);
    let missed = (rung.escalate_on_missed_deadline && as_of > o.due_at && unmet_at(o.due_at))
        .then_some(o.due_at);
    // Only the first later finding can be the moment: if the guarantor had acted by then, it
    // had acted by every later one too.
    let continued = breaches
        .get(breaches.partition_point(|t| *t <= o.opened_at))
        .copied()
        .filter(|t| rung.escalate_on_continued_breach && *t <= o.due_at && unmet_at(*t));
    match (missed, continued) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// When the findings matching a rung's filter count, sorted: of any party, and by party.
#[derive(Default)]
struct Breaches<'a> {
    any: Vec<Timestamp>,
    by_party: BTreeMap<Option<&'a str>, Vec<Timestamp>>,
}

/// Every obligation the response ladders open as of `as_of`, sorted by id.
pub fn respond(
    agreement: &Agreement,
    zones: &ZoneIndex,
    findings: &[Finding],
    actions: &ActionIndex,
    as_of: Timestamp,
) -> Vec<Obligation> {
    let provisional = counted(findings, TriggerBasis::Provisional);
    let confirmed = counted(findings, TriggerBasis::Confirmed);
    let counted_for = |rung: &ResponseRung| match rung.basis {
        TriggerBasis::Provisional => provisional.as_slice(),
        TriggerBasis::Confirmed => confirmed.as_slice(),
    };
    let texts: Vec<RungText> = agreement.responses.iter().map(RungText::new).collect();
    let rungs: BTreeMap<&str, (&ResponseRung, &RungText)> = agreement
        .responses
        .iter()
        .zip(&texts)
        .map(|(r, text)| (r.id.as_str(), (r, text)))
        .collect();
    // For each rung with a filter, when findings matching it count (sorted), of any party
    // and by party.
    // Each rung's on its own core, with `parallel`.
    let rungs_and_texts: Vec<(&ResponseRung, &RungText)> =
        agreement.responses.iter().zip(&texts).collect();
    let breaches: BTreeMap<&str, Breaches> = parallel::filter_map(&rungs_and_texts, |&(r, _)| {
        let filter = trigger_filter(&r.trigger)?;
        let mut breaches = Breaches::default();
        for (t, f) in counted_for(r)
            .iter()
            .filter(|(_, f)| finding_matches(filter, f))
        {
            breaches.any.push(*t);
            breaches
                .by_party
                .entry(f.party.as_deref())
                .or_default()
                .push(*t);
        }
        Some((r.id.as_str(), breaches))
    })
    .into_iter()
    .collect();

    let firings: Vec<Firing> = parallel::map(&rungs_and_texts, |&(rung, text)| {
        fire(rung, text, counted_for(rung), zones)
    })
    .into_iter()
    .flatten()
    .collect();
    let ladder = Ladder {
        rungs,
        breaches,
        // Escalation chains are acyclic and at most as long as the ladder; the depth bound
        // keeps an unvalidated cyclic agreement from looping.
        max_depth: agreement.responses.len(),
        actions,
        as_of,
    };
    // A firing and the chain of escalations it starts depend on nothing else, so the chains
    // are followed on every core. They are gathered last firing first, each chain in order:
    // the order in which one stack of firings (popped, then its escalation pushed) opened
    // them, which the stable sort keeps among obligations of one id, opening and escalation.
    sorted_by_id(parallel::map(&firings, |first| ladder.chain(first)))
}

/// What following a firing's escalations needs.
struct Ladder<'a, 'i> {
    rungs: BTreeMap<&'a str, (&'a ResponseRung, &'a RungText)>,
    /// For each rung with a filter, when matching findings count.
    breaches: BTreeMap<&'a str, Breaches<'a>>,
    max_depth: usize,
    actions: &'i ActionIndex<'i>,
    as_of: Timestamp,
}

impl<'a> Ladder<'a, '_> {
    /// The obligations `first` opens, then those of each escalation in turn.
    fn chain(&self, first: &Firing<'a>) -> Vec<Obligation> {
        let mut chain = obligations_of(first, self.actions, self.as_of);
        let mut next = self.escalation(first, &chain);
        while let Some(firing) = next {
            let opened = obligations_of(&firing, self.actions, self.as_of);
            next = self.escalation(&firing, &opened);
            chain.extend(opened);
        }
        chain
    }

    /// The firing `firing` escalates to, given the obligations it `opened`, if it does.
    fn escalation(&self, firing: &Firing<'a>, opened: &[Obligation]) -> Option<Firing<'a>> {
        let (target, text) = firing
            .rung
            .escalate_to
            .as_deref()
            .and_then(|id| self.rungs.get(id).copied())
            .filter(|_| firing.depth < self.max_depth)?;
        let times = self
            .breaches
            .get(firing.breach.id.as_str())
            .and_then(|b| match firing.party {
                Some(party) => b.by_party.get(&party),
                None => Some(&b.any),
            })
            .map_or(&[][..], Vec::as_slice);
        let (at, from) = opened
            .iter()
            .filter_map(|o| escalation_time(firing.rung, o, times, self.as_of).map(|t| (t, &o.id)))
            .min()?;
        let known = firing.findings.partition_point(|(t, _)| *t <= at);
        Some(Firing {
            rung: target,
            text,
            key: firing.key.clone(),
            at,
            findings: firing.findings.get(..known).unwrap_or_default().to_vec(),
            escalated_from: Some(from.clone()),
            breach: if trigger_filter(&target.trigger).is_some() {
                target
            } else {
                firing.breach
            },
            party: firing.party,
            depth: firing.depth + 1,
        })
    }
}

/// The chains' obligations, taken last chain first and each chain in order (the order in
/// which one stack of firings opened them), sorted by id, then opening and escalation
/// (stably), each id kept once (its first). Obligations are large and, at 10^6 reports,
/// hundreds of thousands: they are put in one list of the exact size, their order is found
/// by sorting an index, and they are then rearranged in that list, so that no second list of
/// them is ever held.
fn sorted_by_id(chains: Vec<Vec<Obligation>>) -> Vec<Obligation> {
    fn key(o: &Obligation) -> (&str, Timestamp, Option<&str>) {
        (&o.id, o.opened_at, o.escalated_from.as_deref())
    }
    let mut opened = Vec::with_capacity(chains.iter().map(Vec::len).sum());
    for chain in chains.into_iter().rev() {
        opened.extend(chain);
    }
    let mut order = parallel::sort_index_by(&opened, |a, b| key(a).cmp(&key(b)));
    let id = |n: usize| opened.get(n).map(|o| o.id.as_str());
    order.dedup_by(|later, first| id(*later) == id(*first));
    parallel::gather(opened, &order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agreement::model::Severity;
    use crate::entry::types::ACTION_SCHEMA;

    fn finding(
        id: &str,
        party: Option<&str>,
        severity: Severity,
        status: FindingStatus,
    ) -> Finding {
        Finding {
            id: id.into(),
            commitment: "ceasefire".into(),
            article: None,
            text: "".into(),
            agreement: "demo".into(),
            agreement_version: 1,
            party: party.map(str::to_string),
            severity,
            status,
            established_at: Timestamp(100),
            objection_deadline: Timestamp(200),
            confirmed_at: (status == FindingStatus::Confirmed).then_some(Timestamp(200)),
            dismissed_at: None,
            objection: None,
            ruling: None,
            incident: None,
            location: None,
            reports: vec![],
            why: String::new(),
        }
    }

    fn obligation(due: i64) -> Obligation {
        Obligation {
            id: "consult/g1/f1".into(),
            source: ObligationSource::Response,
            origin: "consult".into(),
            guarantor: "g1".into(),
            action: "consultations".into(),
            description: "".into(),
            trigger: "f1".into(),
            findings: vec!["f1".to_string()].into(),
            opened_at: Timestamp(0),
            due_at: Timestamp(due),
            status: ObligationStatus::Open,
            fulfilled_by: None,
            acted_at: None,
            escalated_from: None,
        }
    }

    fn action(guarantor: &str, class: &str, taken: i64) -> GuarantorAction {
        GuarantorAction {
            schema: ACTION_SCHEMA.into(),
            id: format!("act-{guarantor}-{taken}"),
            agreement: "demo".into(),
            guarantor: guarantor.into(),
            obligation: "consult/g1/f1".into(),
            action: class.into(),
            taken_at: Timestamp(taken),
            submitted_at: Timestamp(taken),
            text: None,
            signature: None,
        }
    }

    #[test]
    fn a_filter_naming_a_party_ignores_unattributed_findings() {
        let filter = FindingFilter {
            min_severity: Severity::Serious,
            party: Some("b".into()),
            commitments: vec![],
        };
        let f = finding("f1", None, Severity::Grave, FindingStatus::Confirmed);
        assert!(!finding_matches(&filter, &f));
        let f = finding("f1", Some("b"), Severity::Grave, FindingStatus::Confirmed);
        assert!(finding_matches(&filter, &f));
    }

    #[test]
    fn a_filter_ignores_findings_below_its_severity() {
        let filter = FindingFilter {
            min_severity: Severity::Serious,
            party: None,
            commitments: vec![],
        };
        let f = finding("f1", Some("b"), Severity::Minor, FindingStatus::Confirmed);
        assert!(!finding_matches(&filter, &f));
    }

    #[test]
    fn confirmed_basis_counts_only_confirmed_findings_from_confirmation() {
        let findings = [
            finding(
                "f1",
                Some("b"),
                Severity::Serious,
                FindingStatus::Provisional,
            ),
            finding("f2", Some("b"), Severity::Serious, FindingStatus::Confirmed),
            finding("f3", Some("b"), Severity::Serious, FindingStatus::Dismissed),
        ];
        let confirmed = counted(&findings, TriggerBasis::Confirmed);
        assert_eq!(confirmed.len(), 1);
        assert_eq!(
            (confirmed[0].0, confirmed[0].1.id.as_str()),
            (Timestamp(200), "f2")
        );
        let provisional = counted(&findings, TriggerBasis::Provisional);
        assert_eq!(provisional.len(), 2, "every finding but the dismissed one");
    }

    #[test]
    fn an_action_at_the_deadline_is_in_time() {
        let a = action("g1", "consultations", 50);
        let index = ActionIndex::new(&[&a]);
        let mut o = obligation(50);
        fulfil(&mut o, &index, Timestamp(100));
        assert_eq!(o.status, ObligationStatus::Fulfilled);
        assert_eq!(o.fulfilled_by.as_deref(), Some("act-g1-50"));
    }

    #[test]
    fn another_guarantors_action_does_not_fulfil() {
        let a = action("g2", "consultations", 10);
        let index = ActionIndex::new(&[&a]);
        let mut o = obligation(50);
        fulfil(&mut o, &index, Timestamp(100));
        assert_eq!(o.status, ObligationStatus::Overdue);
    }

    /// A provisional finding of severity serious by `party`, established at `at`.
    fn breach(id: &str, party: Option<&str>, at: i64) -> Finding {
        Finding {
            established_at: Timestamp(at),
            ..finding(id, party, Severity::Serious, FindingStatus::Provisional)
        }
    }

    /// A rung of guarantor g1 counting provisional findings, due 100 s after it fires.
    fn rung(id: &str, trigger: Trigger, escalate_to: Option<&str>) -> ResponseRung {
        ResponseRung {
            id: id.into(),
            title: None,
            trigger,
            basis: TriggerBasis::Provisional,
            guarantors: vec!["g1".into()],
            action: format!("{id}_action"),
            description: String::new(),
            within: crate::time::Duration(100),
            escalate_to: escalate_to.map(str::to_string),
            escalate_on_missed_deadline: escalate_to.is_some(),
            escalate_on_continued_breach: escalate_to.is_some(),
            coalesce: true,
        }
    }

    fn serious() -> Trigger {
        Trigger::Finding(FindingFilter {
            min_severity: Severity::Serious,
            party: None,
            commitments: vec![],
        })
    }

    fn ladder(responses: Vec<ResponseRung>) -> Agreement {
        Agreement {
            id: "demo".into(),
            title: String::new(),
            version: 1,
            effective: Timestamp(0),
            until: None,
            objection_window: crate::time::Duration(100),
            parties: BTreeMap::new(),
            guarantors: BTreeMap::new(),
            monitors: BTreeMap::new(),
            panel: BTreeMap::new(),
            zones: BTreeMap::new(),
            evidence: BTreeMap::new(),
            corroboration: Default::default(),
            attribution: Default::default(),
            commitments: vec![],
            responses,
            phases: vec![],
            indicators: Default::default(),
            locations: BTreeMap::new(),
        }
    }

    /// Every obligation's id and findings, as of a time after every deadline, with no action.
    fn owed(agreement: &Agreement, findings: &[Finding]) -> Vec<(String, Vec<String>)> {
        let zones = ZoneIndex::compile(agreement);
        let actions = ActionIndex::new(&[]);
        respond(agreement, &zones, findings, &actions, Timestamp(10_000))
            .into_iter()
            .map(|o| (o.id, o.findings.to_vec()))
            .collect()
    }

    fn owes(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        list.iter()
            .map(|(id, findings)| {
                (
                    id.to_string(),
                    findings.iter().map(|f| f.to_string()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn a_finding_counted_at_the_deadline_joins_the_running_firing() {
        let agreement = ladder(vec![rung("consult", serious(), None)]);
        let findings = [breach("f2", Some("b"), 200), breach("f1", Some("b"), 100)];
        assert_eq!(
            owed(&agreement, &findings),
            owes(&[("consult/g1/f1", &["f1", "f2"])])
        );
    }

    #[test]
    fn a_finding_one_second_after_the_deadline_fires_again() {
        let agreement = ladder(vec![rung("consult", serious(), None)]);
        let findings = [breach("f1", Some("b"), 100), breach("f2", Some("b"), 201)];
        assert_eq!(
            owed(&agreement, &findings),
            owes(&[("consult/g1/f1", &["f1"]), ("consult/g1/f2", &["f2"])])
        );
    }

    #[test]
    fn each_party_and_the_unattributed_findings_fire_apart() {
        let agreement = ladder(vec![rung("consult", serious(), None)]);
        let findings = [
            breach("f1", Some("a"), 100),
            breach("f2", Some("b"), 110),
            breach("f3", None, 120),
            breach("f4", None, 130),
            breach("f5", Some("a"), 140),
        ];
        assert_eq!(
            owed(&agreement, &findings),
            owes(&[
                ("consult/g1/f1", &["f1", "f5"]),
                ("consult/g1/f2", &["f2"]),
                ("consult/g1/f3", &["f3", "f4"]),
            ])
        );
    }

    #[test]
    fn without_coalescing_each_finding_fires() {
        let mut each = rung("consult", serious(), None);
        each.coalesce = false;
        let agreement = ladder(vec![each]);
        let findings = [breach("f1", Some("b"), 100), breach("f2", Some("b"), 150)];
        assert_eq!(
            owed(&agreement, &findings),
            owes(&[("consult/g1/f1", &["f1"]), ("consult/g1/f2", &["f2"])])
        );
    }

    #[test]
    fn only_the_firings_own_party_continues_its_breach() {
        let mut consult = rung("consult", serious(), Some("measures"));
        consult.escalate_on_missed_deadline = false;
        let agreement = ladder(vec![consult, rung("measures", Trigger::Escalation, None)]);
        // a's finding at 150 opens a's own consultations and leaves b's as they are; b's
        // at 160 is the continued breach that escalates b's.
        let findings = [
            breach("f1", Some("b"), 100),
            breach("f2", Some("a"), 150),
            breach("f3", Some("b"), 160),
        ];
        assert_eq!(
            owed(&agreement, &findings),
            owes(&[
                ("consult/g1/f1", &["f1", "f3"]),
                ("consult/g1/f2", &["f2"]),
                ("measures/g1/f1", &["f1", "f3"]),
            ])
        );
    }

    #[test]
    fn an_escalation_carries_the_findings_counted_by_its_moment() {
        let agreement = ladder(vec![
            rung("consult", serious(), Some("measures")),
            rung("measures", Trigger::Escalation, None),
        ]);
        // f2 is a continued breach while g1 has not acted: the ladder escalates at 150, and
        // f3, joining later, stays with the consultations.
        let findings = [
            breach("f1", Some("b"), 100),
            breach("f2", Some("b"), 150),
            breach("f3", Some("b"), 180),
        ];
        assert_eq!(
            owed(&agreement, &findings),
            owes(&[
                ("consult/g1/f1", &["f1", "f2", "f3"]),
                ("measures/g1/f1", &["f1", "f2"]),
            ])
        );
    }

    proptest::proptest! {
        /// Sorting an index and rearranging the chains' obligations in place gives what
        /// sorting the chains' obligations themselves (stably, last chain first) and keeping
        /// each id's first gave; the trigger tells apart obligations that tie on id, opening
        /// and escalation.
        #[test]
        fn sorted_by_id_sorts_stably_and_keeps_each_ids_first(
            chains in proptest::collection::vec(
                proptest::collection::vec((0u8..6, 0i64..3, proptest::option::of(0u8..2)), 0..8),
                0..60,
            ),
        ) {
            let mut n = 0;
            let chains: Vec<Vec<Obligation>> = chains
                .iter()
                .map(|chain| {
                    chain
                        .iter()
                        .map(|(id, at, from)| {
                            n += 1;
                            Obligation {
                                id: format!("rung/g{id}/f"),
                                opened_at: Timestamp(*at),
                                escalated_from: from.map(|f| format!("o{f}")),
                                trigger: n.to_string().into(),
                                ..obligation(100)
                            }
                        })
                        .collect()
                })
                .collect();
            let mut reference: Vec<Obligation> = chains.iter().rev().flatten().cloned().collect();
            reference.sort_by(|a, b| {
                (&a.id, a.opened_at, &a.escalated_from).cmp(&(&b.id, b.opened_at, &b.escalated_from))
            });
            reference.dedup_by(|later, first| later.id == first.id);
            proptest::prop_assert_eq!(sorted_by_id(chains), reference);
        }
    }

    #[test]
    fn an_obligation_is_open_until_its_deadline_passes() {
        let index = ActionIndex::new(&[]);
        let mut o = obligation(50);
        fulfil(&mut o, &index, Timestamp(50));
        assert_eq!(o.status, ObligationStatus::Open);
        fulfil(&mut o, &index, Timestamp(51));
        assert_eq!(o.status, ObligationStatus::Overdue);
    }
}
