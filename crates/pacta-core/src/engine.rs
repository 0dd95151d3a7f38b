//! The incremental engine: the assessment a running server keeps up to date as entries arrive,
//! always equal (same canonical JSON, same digest) to [`crate::assess::assess`] over the same
//! entries (DESIGN.md §5, invariant 3: incremental = replay).
//!
//! # How it stays equal to a replay
//!
//! Corroboration is a greedy sweep in canonical order (observed start, then id) in which a
//! report joins an incident only if it is compatible with every member, and two reports can
//! only be compatible if their observations are at most `time_window` apart and their
//! locations at most `max_extent_km` apart. Link every two reports that close: the linked
//! groups (*components*) are independent. A report never joins an incident holding a report
//! of another component, the choice between incidents it can join looks only at those
//! incidents, and an incident's expiry and size bound depend only on its members; so the
//! sweep over all reports gives exactly the union of the sweeps over each component, with
//! the same incident ids (each the id of its first report).
//!
//! The engine keeps the kept copy of every report (one per id, the one corroboration keeps)
//! in a grid of cells, each ordered by observed start, so a report's possible partners are
//! found by a few range scans. When a report comes or goes (inserted, retracted, replaced as
//! the kept copy of its id, or moved across the as-of horizon), the next assessment drops the
//! components it belonged to or can reach, links their reports again (a removal can split a
//! component, an arrival merge several), and corroborates, attributes and rules on only those
//! components. Everything downstream of the per-incident rulings (deadline findings,
//! objections and rulings, responses, phases, indicators, counts) is a function of the whole
//! list of findings and is recomputed.
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
//! With `n` known reports, `r` reports in the components a change touches, `I` incidents,
//! `F` findings, `O` obligations and `E` objections, rulings and actions:
//! - [`Engine::insert`]: O(log n) bookkeeping; nothing is corroborated until an assessment
//!   is asked for, so a batch pays for each touched component once.
//! - [`Engine::assessment`] with the same `as_of` and no insert since: free (cached).
//! - otherwise: O(r log r) linking, corroboration, attribution and ruling for the touched
//!   components,
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
use crate::agreement::model::{Agreement, CorroborationRules};
use crate::assess::{Assessment, Counts};
use crate::attribute::attribute;
use crate::corroborate::{corroborate, root, union, Incident};
use crate::entry::resolve_location;
use crate::entry::types::{Entry, GuarantorAction, Objection, Report, Ruling};
use crate::geodesy::{distance_km, KM_PER_DEGREE};
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
#[derive(Debug)]
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
    /// The copies corroboration keeps, one per id, placed in space and time.
    field: Field,
    actions: BTreeSet<usize>,
    objections: BTreeSet<usize>,
    rulings: BTreeSet<usize>,
    /// Something known changed since the last rebuild.
    changed: bool,
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

    /// Makes `after` the copy of `id` that corroboration sees, in place of `before`.
    fn elect(&mut self, entries: &[Entry], id: &str, before: Option<Copy>, after: Option<Copy>) {
        if before == after {
            return;
        }
        if let Some((start, ..)) = before {
            self.field.remove(&(start, id.to_string()));
        }
        if let Some((start, _, _, index)) = after {
            if let Some(r) = report_at(entries, index) {
                self.field.place((start, id.to_string()), index, r);
            }
        }
    }
}

/// A report's canonical key: observed start, then id (one kept copy per id).
type Key = (Timestamp, String);

/// The component of a report placed since the last rebuild.
const UNASSIGNED: u64 = 0;

/// The kept copy of a report, where the neighbour search finds it.
#[derive(Debug)]
struct Placed {
    /// Its index in the engine's entries.
    index: usize,
    /// The resolved location, as corroboration computes it.
    lon: f64,
    lat: f64,
    /// The end of the observation (the start for an instant).
    end: Timestamp,
    /// Its cell: (row, column).
    cell: (i64, i64),
    /// The component it was corroborated in, or [`UNASSIGNED`].
    component: u64,
}

/// The reports corroboration sees, indexed by place and time so that a report's possible
/// partners (within `time_window` and `max_extent_km`) are found without a scan.
#[derive(Debug)]
struct Field {
    /// `time_window`, never negative.
    window: Duration,
    /// `max_extent_km` as corroboration bounds it: no two members of an incident are farther
    /// apart, so no two compatible reports are.
    extent_km: f64,
    /// The side of a cell in degrees (at least the extent, in degrees of latitude).
    cell_deg: f64,
    /// The longest observation interval placed so far (never shrinks): how far back in start
    /// time a partner can begin.
    longest: Duration,
    reports: BTreeMap<Key, Placed>,
    /// Keys by (row, column), so one range per row covers a span of columns.
    cells: BTreeMap<(i64, i64), BTreeSet<Key>>,
    /// Reports placed since the last rebuild.
    added: BTreeSet<Key>,
    /// Components that lost a report since the last rebuild.
    stale: BTreeSet<u64>,
}

impl Field {
    fn new(rules: &CorroborationRules) -> Field {
        // The same bound corroboration applies.
        let extent_km = if rules.max_extent_km.is_finite() {
            rules.max_extent_km.max(0.0)
        } else {
            360.0 * KM_PER_DEGREE
        };
        Field {
            window: rules.time_window.max(Duration(0)),
            extent_km,
            cell_deg: (extent_km / KM_PER_DEGREE).clamp(1e-4, 360.0),
            longest: Duration(0),
            reports: BTreeMap::new(),
            cells: BTreeMap::new(),
            added: BTreeSet::new(),
            stale: BTreeSet::new(),
        }
    }

    /// Longitude in [-180, 180), so that one place has one column.
    fn wrap(lon: f64) -> f64 {
        (lon + 180.0).rem_euclid(360.0) - 180.0
    }

    fn row(&self, lat: f64) -> i64 {
        (lat / self.cell_deg).floor() as i64
    }

    /// The column of a longitude already in [-180, 180] (180 itself past the last column).
    fn column(&self, lon: f64) -> i64 {
        (lon / self.cell_deg).floor() as i64
    }

    fn place(&mut self, key: Key, index: usize, r: &Report) {
        let at = resolve_location(&r.location);
        let end = r.observed.end_or_start().max(r.observed.start);
        self.longest = self.longest.max(end.since(r.observed.start));
        let cell = (self.row(at.lat), self.column(Field::wrap(at.lon)));
        self.cells.entry(cell).or_default().insert(key.clone());
        self.added.insert(key.clone());
        let placed = Placed {
            index,
            lon: at.lon,
            lat: at.lat,
            end,
            cell,
            component: UNASSIGNED,
        };
        if let Some(old) = self.reports.insert(key, placed) {
            self.forget(old);
        }
    }

    fn remove(&mut self, key: &Key) {
        self.added.remove(key);
        if let Some(old) = self.reports.remove(key) {
            if let Some(keys) = self.cells.get_mut(&old.cell) {
                keys.remove(key);
                if keys.is_empty() {
                    self.cells.remove(&old.cell);
                }
            }
            self.forget(old);
        }
    }

    fn forget(&mut self, old: Placed) {
        if old.component != UNASSIGNED {
            self.stale.insert(old.component);
        }
    }

    /// Every placed report that could be compatible with `key`'s: observations no more than
    /// `time_window` apart and locations no more than the extent apart (a superset of
    /// corroboration's compatibility, which also bounds distance and compares kinds).
    fn neighbours(&self, key: &Key, out: &mut Vec<Key>) {
        out.clear();
        let Some(q) = self.reports.get(key) else {
            return;
        };
        let start = key.0;
        let dlat = self.extent_km / KM_PER_DEGREE * 1.01 + 1e-9;
        let polar = q.lat.abs() + dlat;
        let dlon = if polar < 89.0 {
            dlat / polar.to_radians().cos() * 1.01
        } else {
            360.0
        };
        // Column spans, split where the box crosses the antimeridian.
        let lon = Field::wrap(q.lon);
        let spans: Vec<(f64, f64)> = if dlon >= 180.0 {
            vec![(-180.0, 180.0)]
        } else if lon - dlon < -180.0 {
            vec![(-180.0, lon + dlon), (lon - dlon + 360.0, 180.0)]
        } else if lon + dlon >= 180.0 {
            vec![(lon - dlon, 180.0), (-180.0, lon + dlon - 360.0)]
        } else {
            vec![(lon - dlon, lon + dlon)]
        };
        let earliest = start.minus(self.window).minus(self.longest);
        let latest = q.end.plus(self.window);
        for row in self.row(q.lat - dlat)..=self.row(q.lat + dlat) {
            for &(west, east) in &spans {
                let columns = (row, self.column(west))..=(row, self.column(east));
                for keys in self.cells.range(columns).map(|(_, keys)| keys) {
                    let candidates = keys
                        .range((earliest, String::new())..)
                        .take_while(|k| k.0 <= latest);
                    for k in candidates {
                        if k == key {
                            continue;
                        }
                        let Some(p) = self.reports.get(k) else {
                            continue;
                        };
                        let gap = k.0.since(q.end).max(start.since(p.end));
                        if gap > self.window {
                            continue;
                        }
                        let d = distance_km((q.lon, q.lat), (p.lon, p.lat));
                        // NaN (no valid input gives it) fails here as it fails corroboration.
                        if d <= self.extent_km * (1.0 + 1e-9) + 1e-9 {
                            out.push(k.clone());
                        }
                    }
                }
            }
        }
    }
}

/// Reports connected by possible compatibility, corroborated together: no report outside
/// can join or affect its incidents.
#[derive(Debug)]
struct Component {
    /// Its reports' keys, in canonical order.
    members: Vec<Key>,
    /// The ids of its incidents.
    incidents: Vec<String>,
}

/// What re-corroborating the touched components produced.
#[derive(Default)]
struct Recomputed {
    /// Incidents of the dropped components.
    removed: BTreeSet<String>,
    /// The new components' incidents, attributed, sorted by id.
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
    /// Components by id.
    components: BTreeMap<u64, Component>,
    /// The last component id given.
    next_component: u64,
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
            entries: 0,
            reports: 0,
            retracted: 0,
            copies: BTreeMap::new(),
            retractions: BTreeMap::new(),
            live: BTreeMap::new(),
            field: Field::new(&agreement.corroboration),
            actions: BTreeSet::new(),
            objections: BTreeSet::new(),
            rulings: BTreeSet::new(),
            changed: false,
        };
        Engine {
            agreement,
            zones,
            entries: Vec::new(),
            by_submission: BTreeSet::new(),
            horizon: None,
            ledger,
            components: BTreeMap::new(),
            next_component: UNASSIGNED,
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

    /// Drops the components that lost a report or that a new report can reach, and
    /// corroborates their reports again, component by component.
    fn recorroborate(&mut self) -> Recomputed {
        let mut out = Recomputed::default();
        let field = &mut self.ledger.field;
        let added = std::mem::take(&mut field.added);
        let mut stale = std::mem::take(&mut field.stale);
        let mut near = Vec::new();
        for key in &added {
            field.neighbours(key, &mut near);
            for k in &near {
                if let Some(p) = field.reports.get(k) {
                    stale.insert(p.component);
                }
            }
        }
        let mut members = added;
        for id in stale {
            if let Some(component) = self.components.remove(&id) {
                out.removed.extend(component.incidents);
                members.extend(
                    component
                        .members
                        .into_iter()
                        .filter(|k| field.reports.contains_key(k)),
                );
            }
        }
        let keys: Vec<Key> = members.into_iter().collect();

        // Connected components of possible compatibility among these reports. Every
        // neighbour of one of them is one of them: the old components were closed under
        // neighbourhood, and the new reports' neighbours' components were all dropped.
        let mut parent: Vec<usize> = (0..keys.len()).collect();
        for (i, key) in keys.iter().enumerate() {
            field.neighbours(key, &mut near);
            for k in &near {
                if let Ok(j) = keys.binary_search(k) {
                    union(&mut parent, i, j);
                }
            }
        }
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..keys.len() {
            let r = root(&mut parent, i);
            groups.entry(r).or_default().push(i);
        }

        for group in groups.into_values() {
            self.next_component += 1;
            let id = self.next_component;
            let mut reports = Vec::with_capacity(group.len());
            let mut group_keys = Vec::with_capacity(group.len());
            for i in group {
                let Some(key) = keys.get(i) else {
                    continue;
                };
                if let Some(p) = field.reports.get_mut(key) {
                    p.component = id;
                    reports.extend(report_at(&self.entries, p.index));
                }
                group_keys.push(key.clone());
            }
            let mut incidents = corroborate(
                &self.agreement.corroboration,
                &self.agreement.monitors,
                reports,
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
            self.components.insert(
                id,
                Component {
                    members: group_keys,
                    incidents: incidents.iter().map(|i| i.id.clone()).collect(),
                },
            );
            out.incidents.extend(incidents);
        }
        out.incidents.sort_by(|a, b| a.id.cmp(&b.id));
        out.findings.sort_by(|a, b| a.id.cmp(&b.id));
        out.verifications.sort_by(|a, b| a.id.cmp(&b.id));
        out
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

/// Merges two lists sorted by id into one, moving the items. Additions are few next to the
/// kept items, so each finds its place by binary search rather than by comparing every kept
/// id on the way.
fn merge<T>(kept: Vec<T>, additions: Vec<T>, id: impl Fn(&T) -> &String) -> Vec<T> {
    let mut out = Vec::with_capacity(kept.len() + additions.len());
    let mut kept = kept.into_iter();
    for a in additions {
        let before = kept.as_slice().partition_point(|k| id(k) <= id(&a));
        out.extend(kept.by_ref().take(before));
        out.push(a);
    }
    out.extend(kept);
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
