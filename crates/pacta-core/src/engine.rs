//! The incremental engine: the assessment a running server keeps up to date as entries arrive,
//! always equal (same canonical JSON, same digest) to [`crate::assess::assess`] over the same
//! entries (DESIGN.md §5, invariant 3: incremental = replay).
//!
//! # How it stays equal to a replay
//!
//! Corroboration is a greedy sweep in canonical order (observed start, then id), and two
//! reports can only be compatible if the later one starts no more than `time_window` after
//! the earlier one ends. So the reports, in canonical order, fall into *segments*: a new
//! segment begins at a report that starts more than `time_window` after every earlier report
//! has ended. No report of one segment is compatible with any report of another, so no
//! incident spans two segments, and the sweep over all reports gives exactly the union of
//! the sweeps over each segment (a report never joins an incident it is incompatible with,
//! and the tie-break between joinable incidents compares only incidents of its own segment).
//! Each segment is the connected component of the reports' *reach* intervals
//! `[start, end + time_window]`.
//!
//! When a report comes or goes (inserted, retracted, superseded as the first copy of its id,
//! or moved across the as-of horizon), its reach interval is marked dirty. At the next
//! assessment every segment whose reach meets a dirty interval is dropped with its incidents,
//! the reports in the merged span are split into segments again and corroborated, and only
//! the resulting incidents are attributed and ruled on. Everything downstream of the per
//! incident rulings (deadline findings, objections and rulings, responses, phases,
//! indicators, counts) is a cheap function of the findings and is recomputed.
//!
//! # Entries not yet known
//!
//! [`crate::assess::assess`] ignores entries submitted after `as_of`. The engine keeps a
//! *horizon*: entries submitted at or before it are applied to the state, later ones wait.
//! [`Engine::assessment`] moves the horizon to the requested `as_of`, applying (or, for an
//! earlier `as_of`, withdrawing) only the entries submitted in between. A server that asks
//! for its current time sees the horizon move forward by the few entries that arrived since
//! the last call; an entry submitted with a clock slightly ahead waits until its time comes.
//!
//! # Cost model
//!
//! With `n` known reports, `r` reports in the segments a change touches, `I` incidents,
//! `F` findings, `O` obligations and `E` objections, rulings and actions:
//! - [`Engine::insert`]: O(log n) bookkeeping; nothing is corroborated until an assessment
//!   is asked for, so a batch pays for each touched segment once.
//! - [`Engine::assessment`] with the same `as_of` and no insert since: free (cached).
//! - otherwise: O(r log r) corroboration, attribution and ruling for the touched segments,
//!   plus O(I + F log F + O log O + E log E) to splice the new incidents and findings into
//!   the kept lists (moves, not copies), settle objections, rerun the response ladders,
//!   phases and counts, plus the indicators' zone tests on the incidents with a standing
//!   finding. A batch `assess` is O(n log n) corroboration plus the same downstream work.
//! - an `as_of` earlier than the horizon withdraws the entries submitted in between: cheap
//!   for a recent moment, a replay for a distant one.
//!
//! Memory: every entry is kept (a report is a few hundred bytes), plus per report a key in
//! the canonical index, and the last assessment.
//!
//! # Changes for a store
//!
//! Every rebuild of the assessment is a *generation*. [`Engine::changes_since`] lists the
//! incidents, findings and obligations that changed (or disappeared) after a given
//! generation, so a store writes only those rows.

#![deny(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};

use crate::adjudicate::{rule, settle, Finding, FindingStatus, Verification};
use crate::agreement::model::Agreement;
use crate::assess::{Assessment, Counts};
use crate::attribute::attribute;
use crate::corroborate::{corroborate, Incident};
use crate::entry::types::{Entry, GuarantorAction, Objection, Report, Ruling};
use crate::indicator::{indicators, Indicators, Level};
use crate::phase::phases;
use crate::respond::{respond, ActionIndex, ObligationStatus};
use crate::time::{Duration, Timestamp};
use crate::zone::ZoneIndex;

/// The incidents, findings and obligations that changed after a generation, by id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    /// The generation the changes are counted from (exclusive).
    pub since: u64,
    /// The generation of the current assessment: pass it as `since` next time.
    pub generation: u64,
    /// Incidents.
    pub incidents: Changes,
    /// Findings.
    pub findings: Changes,
    /// Obligations.
    pub obligations: Changes,
}

impl Delta {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.incidents.is_empty() && self.findings.is_empty() && self.obligations.is_empty()
    }
}

/// The ids of one kind of row that changed, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Ids present in the current assessment whose content is new or changed.
    pub upserted: Vec<String>,
    /// Ids no longer in the current assessment.
    pub removed: Vec<String>,
}

impl Changes {
    /// Whether no id changed.
    pub fn is_empty(&self) -> bool {
        self.upserted.is_empty() && self.removed.is_empty()
    }
}

/// One copy of a report id that is known and not retracted, ordered as corroboration picks
/// the copy it keeps: observed start, submission time, monitor, then arrival.
type Copy = (Timestamp, Timestamp, String, usize);

/// The known (applied) entries, indexed for incremental work.
#[derive(Debug, Default)]
struct Ledger {
    /// Entries known, of every kind (resubmitted copies included, as `assess` counts them).
    entries: u64,
    /// Known report copies not retracted.
    reports: u64,
    /// Known report copies retracted.
    retracted: u64,
    /// Known report copies by (monitor, report id).
    copies: BTreeMap<(String, String), Vec<usize>>,
    /// Known retractions by (monitor, report id), counted (a report may be retracted twice).
    retractions: BTreeMap<(String, String), usize>,
    /// Live (known, not retracted) copies by report id.
    live: BTreeMap<String, BTreeSet<Copy>>,
    /// The copy corroboration keeps for each id, by its canonical key (start, id).
    effective: BTreeMap<(Timestamp, String), usize>,
    actions: BTreeSet<usize>,
    objections: BTreeSet<usize>,
    rulings: BTreeSet<usize>,
    /// Reach intervals of reports that came or went since the last rebuild.
    dirty: Vec<(Timestamp, Timestamp)>,
    /// Something known changed since the last rebuild.
    changed: bool,
    /// `time_window`, never negative.
    window: Duration,
}

/// The interval in which a report can meet others: its observation, extended by the window.
fn reach(r: &Report, window: Duration) -> (Timestamp, Timestamp) {
    let start = r.observed.start;
    (start, r.observed.end_or_start().max(start).plus(window))
}

fn report_at(entries: &[Entry], index: usize) -> Option<&Report> {
    match entries.get(index) {
        Some(Entry::Report(r)) => Some(r),
        _ => None,
    }
}

impl Ledger {
    fn apply(&mut self, entries: &[Entry], index: usize) {
        let Some(entry) = entries.get(index) else {
            return;
        };
        self.entries += 1;
        self.changed = true;
        match entry {
            Entry::Report(r) => {
                let key = (r.monitor.clone(), r.id.clone());
                let retracted = self.retractions.contains_key(&key);
                self.copies.entry(key).or_default().push(index);
                if retracted {
                    self.retracted += 1;
                } else {
                    self.reports += 1;
                    self.go_live(entries, index);
                }
            }
            Entry::Retraction(t) => {
                let key = (t.monitor.clone(), t.report.clone());
                let count = self.retractions.entry(key.clone()).or_insert(0);
                *count += 1;
                if *count == 1 {
                    for index in self.copies.get(&key).cloned().unwrap_or_default() {
                        self.reports -= 1;
                        self.retracted += 1;
                        self.go_dead(entries, index);
                    }
                }
            }
            Entry::Action(_) => {
                self.actions.insert(index);
            }
            Entry::Objection(_) => {
                self.objections.insert(index);
            }
            Entry::Ruling(_) => {
                self.rulings.insert(index);
            }
        }
    }

    fn withdraw(&mut self, entries: &[Entry], index: usize) {
        let Some(entry) = entries.get(index) else {
            return;
        };
        self.entries -= 1;
        self.changed = true;
        match entry {
            Entry::Report(r) => {
                let key = (r.monitor.clone(), r.id.clone());
                if let Some(list) = self.copies.get_mut(&key) {
                    list.retain(|&i| i != index);
                    if list.is_empty() {
                        self.copies.remove(&key);
                    }
                }
                if self.retractions.contains_key(&key) {
                    self.retracted -= 1;
                } else {
                    self.reports -= 1;
                    self.go_dead(entries, index);
                }
            }
            Entry::Retraction(t) => {
                let key = (t.monitor.clone(), t.report.clone());
                let remaining = match self.retractions.get_mut(&key) {
                    Some(count) => {
                        *count -= 1;
                        *count
                    }
                    None => return,
                };
                if remaining == 0 {
                    self.retractions.remove(&key);
                    for index in self.copies.get(&key).cloned().unwrap_or_default() {
                        self.retracted -= 1;
                        self.reports += 1;
                        self.go_live(entries, index);
                    }
                }
            }
            Entry::Action(_) => {
                self.actions.remove(&index);
            }
            Entry::Objection(_) => {
                self.objections.remove(&index);
            }
            Entry::Ruling(_) => {
                self.rulings.remove(&index);
            }
        }
    }

    fn go_live(&mut self, entries: &[Entry], index: usize) {
        let Some(r) = report_at(entries, index) else {
            return;
        };
        let set = self.live.entry(r.id.clone()).or_default();
        let before = set.first().cloned();
        set.insert((r.observed.start, r.submitted_at, r.monitor.clone(), index));
        let after = set.first().cloned();
        self.elect(entries, &r.id, before, after);
    }

    fn go_dead(&mut self, entries: &[Entry], index: usize) {
        let Some(r) = report_at(entries, index) else {
            return;
        };
        let copy = (r.observed.start, r.submitted_at, r.monitor.clone(), index);
        let Some(set) = self.live.get_mut(&r.id) else {
            return;
        };
        let before = set.first().cloned();
        set.remove(&copy);
        let after = set.first().cloned();
        if set.is_empty() {
            self.live.remove(&r.id);
        }
        self.elect(entries, &r.id, before, after);
    }

    /// Makes `after` the copy of `id` that corroboration sees, in place of `before`, and marks
    /// both reach intervals dirty.
    fn elect(&mut self, entries: &[Entry], id: &str, before: Option<Copy>, after: Option<Copy>) {
        if before == after {
            return;
        }
        for (copy, keep) in [(before, false), (after, true)] {
            let Some((start, _, _, index)) = copy else {
                continue;
            };
            if keep {
                self.effective.insert((start, id.to_string()), index);
            } else {
                self.effective.remove(&(start, id.to_string()));
            }
            if let Some(r) = report_at(entries, index) {
                self.dirty.push(reach(r, self.window));
            }
        }
    }
}

/// A run of reports, in canonical order, that no report outside it can corroborate.
#[derive(Debug)]
struct Segment {
    /// The latest end of its reports plus `time_window`.
    reach: Timestamp,
    /// The ids of its incidents.
    incidents: Vec<String>,
}

/// What re-corroborating the touched segments produced.
#[derive(Default)]
struct Recomputed {
    /// Incidents of the dropped segments.
    removed: BTreeSet<String>,
    /// The new segments' incidents, attributed, sorted by id.
    incidents: Vec<Incident>,
    /// Their prohibition findings (status not settled), sorted by id.
    findings: Vec<Finding>,
    /// Their verified acts, sorted by id.
    verifications: Vec<Verification>,
}

/// What the server keeps: an agreement, every entry inserted, and the assessment as of the
/// last `as_of` asked for, updated incrementally. See the module documentation.
pub struct Engine {
    agreement: Agreement,
    zones: ZoneIndex,
    entries: Vec<Entry>,
    /// Every entry by (submission time, arrival index).
    by_submission: BTreeSet<(Timestamp, usize)>,
    /// Entries submitted at or before this are applied; `None` before the first assessment.
    horizon: Option<Timestamp>,
    ledger: Ledger,
    /// Segments by the observed start of their first report.
    segments: BTreeMap<Timestamp, Segment>,
    /// The last assessment built (as of `horizon`).
    state: Assessment,
    /// Whether `state` is as of the current horizon with every applied entry.
    built: bool,
    generation: u64,
    journal: Journal,
}

impl Engine {
    /// An engine for `agreement` with no entries.
    pub fn new(agreement: Agreement) -> Engine {
        let zones = ZoneIndex::compile(&agreement);
        // Empty, so that the first assessment lists everything it holds as changed.
        let state = Assessment {
            agreement: agreement.id.clone(),
            agreement_version: agreement.version,
            as_of: agreement.effective,
            counts: Counts::default(),
            incidents: Vec::new(),
            findings: Vec::new(),
            verifications: Vec::new(),
            obligations: Vec::new(),
            phases: Vec::new(),
            indicators: Indicators {
                level: Level::Normal,
                sectors: Vec::new(),
            },
        };
        let ledger = Ledger {
            window: agreement.corroboration.time_window.max(Duration(0)),
            ..Ledger::default()
        };
        Engine {
            agreement,
            zones,
            entries: Vec::new(),
            by_submission: BTreeSet::new(),
            horizon: None,
            ledger,
            segments: BTreeMap::new(),
            state,
            built: false,
            generation: 0,
            journal: Journal::default(),
        }
    }

    /// The agreement assessed.
    pub fn agreement(&self) -> &Agreement {
        &self.agreement
    }

    /// Every entry inserted, in arrival order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Adds one entry, already verified and authorised. Entries may arrive in any order,
    /// observed or submitted earlier than entries already inserted; the assessment depends
    /// only on the set.
    pub fn insert(&mut self, entry: Entry) {
        let index = self.entries.len();
        let submitted = entry.submitted_at();
        self.entries.push(entry);
        self.by_submission.insert((submitted, index));
        if self.horizon.is_some_and(|h| submitted <= h) {
            self.ledger.apply(&self.entries, index);
        }
    }

    /// Adds entries in order, as [`Engine::insert`] does one by one; the work is done at the
    /// next assessment, once for the whole batch.
    pub fn insert_batch(&mut self, entries: impl IntoIterator<Item = Entry>) {
        for entry in entries {
            self.insert(entry);
        }
    }

    /// The assessment as of `as_of` over every entry inserted: the same as
    /// [`crate::assess::assess`] over those entries. Cached until the next insert or a
    /// different `as_of`.
    pub fn assessment(&mut self, as_of: Timestamp) -> &Assessment {
        self.move_horizon(as_of);
        if !self.built || self.ledger.changed || self.state.as_of != as_of {
            self.rebuild(as_of);
        }
        &self.state
    }

    /// The generation of the last assessment built (0 before the first).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The incidents, findings and obligations that changed in the assessments built after
    /// generation `since`, up to the last one built (call [`Engine::assessment`] first).
    pub fn changes_since(&self, since: u64) -> Delta {
        Delta {
            since,
            generation: self.generation,
            incidents: self
                .journal
                .incidents
                .since(since, |id| find(&self.state.incidents, id, |i| &i.id)),
            findings: self
                .journal
                .findings
                .since(since, |id| find(&self.state.findings, id, |f| &f.id)),
            obligations: self
                .journal
                .obligations
                .since(since, |id| find(&self.state.obligations, id, |o| &o.id)),
        }
    }

    /// Applies the entries submitted up to `as_of`, and withdraws those submitted after it.
    fn move_horizon(&mut self, as_of: Timestamp) {
        let (apply, withdraw): (Vec<usize>, Vec<usize>) = match self.horizon {
            None => (
                self.by_submission
                    .range(..=(as_of, usize::MAX))
                    .map(|&(_, i)| i)
                    .collect(),
                Vec::new(),
            ),
            Some(h) if as_of > h => (
                self.by_submission
                    .range((h, usize::MAX)..=(as_of, usize::MAX))
                    .map(|&(_, i)| i)
                    .collect(),
                Vec::new(),
            ),
            Some(h) if as_of < h => (
                Vec::new(),
                self.by_submission
                    .range((as_of, usize::MAX)..=(h, usize::MAX))
                    .map(|&(_, i)| i)
                    .collect(),
            ),
            Some(_) => (Vec::new(), Vec::new()),
        };
        for index in apply {
            self.ledger.apply(&self.entries, index);
        }
        for index in withdraw {
            self.ledger.withdraw(&self.entries, index);
        }
        self.horizon = Some(as_of);
    }

    fn rebuild(&mut self, as_of: Timestamp) {
        self.generation += 1;
        let generation = self.generation;
        let fresh = self.recorroborate();
        let agreement = &self.agreement;
        let state = &mut self.state;

        let changed = splice(
            &mut state.incidents,
            |i| &i.id,
            |i| fresh.removed.contains(&i.id),
            fresh.incidents,
        );
        self.journal.incidents.record(generation, changed);
        splice(
            &mut state.verifications,
            |v| &v.id,
            |v| fresh.removed.contains(&v.incident),
            fresh.verifications,
        );

        // Findings: prohibition findings of kept incidents stay (their status is settled
        // again below); deadline findings depend on `as_of` and are computed afresh.
        let in_time: BTreeSet<&str> = state
            .verifications
            .iter()
            .filter(|v| v.in_time)
            .map(|v| v.commitment.as_str())
            .collect();
        let mut additions = fresh.findings;
        additions.extend(
            rule(agreement, &self.zones, &[], as_of)
                .findings
                .into_iter()
                .filter(|f| !in_time.contains(f.commitment.as_str())),
        );
        additions.sort_by(|a, b| a.id.cmp(&b.id));
        let added: BTreeSet<String> = additions.iter().map(|f| f.id.clone()).collect();
        let mut dropped: BTreeMap<String, Finding> = BTreeMap::new();
        let mut kept = Vec::with_capacity(state.findings.len());
        for f in std::mem::take(&mut state.findings) {
            let gone = f
                .incident
                .as_ref()
                .is_none_or(|i| fresh.removed.contains(i));
            if gone {
                dropped.insert(f.id.clone(), f);
            } else {
                kept.push(f);
            }
        }
        let before: Vec<Settled> = kept.iter().map(Settled::of).collect();
        state.findings = merge(kept, additions, |f| &f.id);

        let known = |set: &BTreeSet<usize>| -> Vec<&Entry> {
            set.iter().filter_map(|&i| self.entries.get(i)).collect()
        };
        let objections: Vec<&Objection> = known(&self.ledger.objections)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Objection(o) => Some(o),
                _ => None,
            })
            .collect();
        let rulings: Vec<&Ruling> = known(&self.ledger.rulings)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Ruling(r) => Some(r),
                _ => None,
            })
            .collect();
        let actions: Vec<&GuarantorAction> = known(&self.ledger.actions)
            .into_iter()
            .filter_map(|e| match e {
                Entry::Action(a) => Some(a),
                _ => None,
            })
            .collect();
        settle(agreement, &mut state.findings, &objections, &rulings, as_of);

        let mut changed = Vec::new();
        let mut previous = before.into_iter();
        for f in &state.findings {
            let same = if added.contains(&f.id) {
                dropped.remove(&f.id).is_some_and(|old| old == *f)
            } else {
                previous.next().is_some_and(|old| old == Settled::of(f))
            };
            if !same {
                changed.push(f.id.clone());
            }
        }
        changed.extend(dropped.into_keys());
        self.journal.findings.record(generation, changed);

        let action_index = ActionIndex::new(&actions);
        let mut obligations = respond(
            agreement,
            &self.zones,
            &state.findings,
            &action_index,
            as_of,
        );
        let (phase_states, phase_obligations) = phases(
            agreement,
            &state.findings,
            &state.verifications,
            &action_index,
            as_of,
        );
        obligations.extend(phase_obligations);
        obligations.sort_by(|a, b| a.id.cmp(&b.id));
        let changed = differing(&state.obligations, &obligations, |o| &o.id);
        self.journal.obligations.record(generation, changed);
        state.obligations = obligations;
        state.phases = phase_states;
        state.indicators = indicators(
            agreement,
            &self.zones,
            &state.incidents,
            &state.findings,
            as_of,
        );
        state.as_of = as_of;
        state.counts = counts(&self.ledger, state);
        self.ledger.changed = false;
        self.built = true;
    }

    /// Drops the segments the dirty intervals touch and corroborates their reports again.
    fn recorroborate(&mut self) -> Recomputed {
        let mut out = Recomputed::default();
        let mut dirty = std::mem::take(&mut self.ledger.dirty);
        if dirty.is_empty() {
            return out;
        }
        dirty.sort_unstable();
        let mut next = 0;
        while let Some(&(mut lo, mut hi)) = dirty.get(next) {
            next += 1;
            // Grow the span until no dirty interval and no segment meets it any more.
            loop {
                let mut grew = false;
                while let Some(&(start, end)) = dirty.get(next).filter(|d| d.0 <= hi) {
                    lo = lo.min(start);
                    hi = hi.max(end);
                    next += 1;
                    grew = true;
                }
                // Segments are disjoint and sorted, so only the last one starting by `hi`
                // can meet the span; once it ends before `lo`, every earlier one does too.
                let meeting = self
                    .segments
                    .range(..=hi)
                    .next_back()
                    .filter(|(_, s)| s.reach >= lo)
                    .map(|(&k, _)| k);
                if let Some(key) = meeting {
                    if let Some(segment) = self.segments.remove(&key) {
                        lo = lo.min(key);
                        hi = hi.max(segment.reach);
                        out.removed.extend(segment.incidents);
                        grew = true;
                    }
                }
                if !grew {
                    break;
                }
            }
            self.corroborate_span(lo, hi, &mut out);
        }
        out.incidents.sort_by(|a, b| a.id.cmp(&b.id));
        out.findings.sort_by(|a, b| a.id.cmp(&b.id));
        out.verifications.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Splits the reports starting in `[lo, hi]` into segments and corroborates each.
    fn corroborate_span(&mut self, lo: Timestamp, hi: Timestamp, out: &mut Recomputed) {
        let window = self.ledger.window;
        let mut pieces: Vec<(Timestamp, Timestamp, Vec<&Report>)> = Vec::new();
        let reports = self
            .ledger
            .effective
            .range((lo, String::new())..)
            .take_while(|((start, _), _)| *start <= hi)
            .filter_map(|(_, &i)| report_at(&self.entries, i));
        for r in reports {
            let (start, end) = reach(r, window);
            match pieces.last_mut() {
                Some((_, piece_reach, members)) if start <= *piece_reach => {
                    *piece_reach = (*piece_reach).max(end);
                    members.push(r);
                }
                _ => pieces.push((start, end, vec![r])),
            }
        }
        for (first, piece_reach, members) in pieces {
            let mut incidents = corroborate(
                &self.agreement.corroboration,
                &self.agreement.monitors,
                members,
            );
            for incident in &mut incidents {
                incident.attribution =
                    attribute(incident, &self.agreement.attribution, &self.zones);
            }
            // Per-incident rulings do not depend on the time; deadline findings (the only
            // ones that do) are left out here and computed over all incidents.
            let rulings = rule(
                &self.agreement,
                &self.zones,
                &incidents,
                Timestamp(i64::MIN),
            );
            out.findings.extend(
                rulings
                    .findings
                    .into_iter()
                    .filter(|f| f.incident.is_some()),
            );
            out.verifications.extend(rulings.verifications);
            self.segments.insert(
                first,
                Segment {
                    reach: piece_reach,
                    incidents: incidents.iter().map(|i| i.id.clone()).collect(),
                },
            );
            out.incidents.extend(incidents);
        }
    }
}

/// A finding's settled fields, to tell whether settling again changed it.
#[derive(PartialEq)]
struct Settled {
    status: FindingStatus,
    confirmed_at: Option<Timestamp>,
    dismissed_at: Option<Timestamp>,
    objection: Option<String>,
    ruling: Option<String>,
}

impl Settled {
    fn of(f: &Finding) -> Settled {
        Settled {
            status: f.status,
            confirmed_at: f.confirmed_at,
            dismissed_at: f.dismissed_at,
            objection: f.objection.clone(),
            ruling: f.ruling.clone(),
        }
    }
}

fn counts(ledger: &Ledger, state: &Assessment) -> Counts {
    let findings_with =
        |s: FindingStatus| state.findings.iter().filter(|f| f.status == s).count() as u64;
    let obligations_with =
        |s: ObligationStatus| state.obligations.iter().filter(|o| o.status == s).count() as u64;
    Counts {
        entries: ledger.entries,
        reports: ledger.reports,
        retracted: ledger.retracted,
        incidents: state.incidents.len() as u64,
        findings: state.findings.len() as u64,
        findings_provisional: findings_with(FindingStatus::Provisional),
        findings_contested: findings_with(FindingStatus::Contested),
        findings_confirmed: findings_with(FindingStatus::Confirmed),
        findings_dismissed: findings_with(FindingStatus::Dismissed),
        obligations: state.obligations.len() as u64,
        obligations_open: obligations_with(ObligationStatus::Open),
        obligations_fulfilled: obligations_with(ObligationStatus::Fulfilled),
        obligations_fulfilled_late: obligations_with(ObligationStatus::FulfilledLate),
        obligations_overdue: obligations_with(ObligationStatus::Overdue),
    }
}

/// Merges two lists sorted by id into one, moving the items.
fn merge<T>(kept: Vec<T>, additions: Vec<T>, id: impl Fn(&T) -> &String) -> Vec<T> {
    let mut out = Vec::with_capacity(kept.len() + additions.len());
    let mut kept = kept.into_iter().peekable();
    let mut additions = additions.into_iter().peekable();
    loop {
        let take_kept = match (kept.peek(), additions.peek()) {
            (Some(k), Some(a)) => id(k) <= id(a),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_kept {
            kept.next()
        } else {
            additions.next()
        };
        out.extend(next);
    }
    out
}

/// Replaces the items `drop` selects with `additions` (sorted by id) in a list sorted by id;
/// returns the ids whose content changed or disappeared.
fn splice<T: PartialEq>(
    list: &mut Vec<T>,
    id: impl Fn(&T) -> &String,
    drop: impl Fn(&T) -> bool,
    additions: Vec<T>,
) -> Vec<String> {
    let mut dropped: BTreeMap<String, T> = BTreeMap::new();
    let mut kept = Vec::with_capacity(list.len());
    for item in std::mem::take(list) {
        if drop(&item) {
            dropped.insert(id(&item).clone(), item);
        } else {
            kept.push(item);
        }
    }
    let mut changed: Vec<String> = Vec::new();
    for a in &additions {
        if dropped.remove(id(a)).is_none_or(|old| old != *a) {
            changed.push(id(a).clone());
        }
    }
    changed.extend(dropped.into_keys());
    *list = merge(kept, additions, id);
    changed
}

/// The ids that differ between two lists sorted by id (changed, added or removed).
fn differing<T: PartialEq>(old: &[T], new: &[T], id: impl Fn(&T) -> &String) -> Vec<String> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) => match id(a).cmp(id(b)) {
                std::cmp::Ordering::Less => {
                    out.push(id(a).clone());
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    out.push(id(b).clone());
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    if a != b {
                        out.push(id(a).clone());
                    }
                    i += 1;
                    j += 1;
                }
            },
            (Some(a), None) => {
                out.push(id(a).clone());
                i += 1;
            }
            (None, Some(b)) => {
                out.push(id(b).clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// Whether a list sorted by id holds `wanted`.
fn find<T>(list: &[T], wanted: &str, id: impl Fn(&T) -> &String) -> bool {
    list.binary_search_by(|item| id(item).as_str().cmp(wanted))
        .is_ok()
}

/// When each id last changed, for [`Engine::changes_since`].
#[derive(Debug, Default)]
struct Journal {
    incidents: ChangeLog,
    findings: ChangeLog,
    obligations: ChangeLog,
}

/// The generation in which each id of one kind last changed, indexed both ways.
#[derive(Debug, Default)]
struct ChangeLog {
    last: BTreeMap<String, u64>,
    by_generation: BTreeSet<(u64, String)>,
}

impl ChangeLog {
    fn record(&mut self, generation: u64, ids: Vec<String>) {
        for id in ids {
            if let Some(old) = self.last.insert(id.clone(), generation) {
                self.by_generation.remove(&(old, id.clone()));
            }
            self.by_generation.insert((generation, id));
        }
    }

    fn since(&self, since: u64, present: impl Fn(&str) -> bool) -> Changes {
        let mut out = Changes::default();
        let after = since.saturating_add(1);
        for (_, id) in self.by_generation.range((after, String::new())..) {
            if present(id) {
                out.upserted.push(id.clone());
            } else {
                out.removed.push(id.clone());
            }
        }
        out.upserted.sort();
        out.removed.sort();
        out
    }
}
