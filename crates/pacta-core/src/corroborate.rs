//! Corroboration: grouping reports that describe the same real event into incidents.
//!
//! The result is a function of the *set* of reports, whatever order they arrive in: reports
//! are first put in a canonical order (observed start, then id) and processed in that order
//! with deterministic choices.
//!
//! Two reports are *compatible* when
//! - their observation intervals are no more than `time_window` apart,
//! - their locations are no farther apart than the sum of their uncertainty radii plus
//!   `distance_km`,
//! - their kinds agree (the same kind, or both kinds of fire; a `verification` only with the
//!   same subtype), and
//! - their weapon classes are equal or one is `undetermined`.
//!
//! A report joins an incident only if it is compatible with *every* report already in it
//! (complete linkage) and the incident stays within `max_extent_km` (the largest distance
//! between two members' locations) and `max_duration` (first start to last end). Single
//! linkage would chain a day of shelling every 2 km along a 100 km front into one incident;
//! complete linkage with these bounds cannot. Among several incidents a report could join, it
//! joins the one whose centroid is nearest, then the one whose first report comes first in
//! the canonical order; otherwise it opens a new incident. An incident holds at most
//! [`MAX_INCIDENT_REPORTS`] reports.
//!
//! The sweep keeps only *active* incidents (those a later report could still join: no member
//! ended more than `time_window` before the current report's start, and the incident began no
//! more than `max_duration` before it) in a grid of cells keyed by each incident's first
//! location, so each report is compared with the few incidents nearby in space and time:
//! O(n log n) overall.

#![deny(missing_docs)]

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use serde::{Serialize, Serializer};
use smallvec::SmallVec;
use strum::VariantArray;

use crate::agreement::model::{
    CorroborationRules, EventKind, Monitor, ObservationMode, WeaponClass,
};
use crate::attribute::Attribution;
use crate::entry::types::Report;
use crate::entry::{resolve_location, ResolvedLocation};
use crate::geodesy::{distance_km, KM_PER_DEGREE};
use crate::parallel;
use crate::shared::{SharedStr, SharedStrs};
use crate::time::Timestamp;

/// The smallest uncertainty radius assumed for a location, in kilometres: a stated radius of
/// zero would give a report infinite weight in a centroid.
pub const MIN_RADIUS_KM: f64 = 0.01;

/// The largest uncertainty radius taken at face value, in kilometres (half the Earth's
/// circumference); a larger or non-finite one is clamped to it.
pub const MAX_RADIUS_KM: f64 = 20_000.0;

fn clamp_radius(km: f64) -> f64 {
    if km.is_finite() {
        km.clamp(MIN_RADIUS_KM, MAX_RADIUS_KM)
    } else {
        MAX_RADIUS_KM
    }
}

/// The most reports one incident holds. A report that would be the next joins another
/// incident or opens one. Real events are reported a handful of times (the count field
/// carries the rounds); the bound keeps a flood of reports of one place from making the
/// complete-linkage check quadratic.
pub const MAX_INCIDENT_REPORTS: usize = 256;

/// Output precision for coordinates: 1e-6 degree (about 0.1 m), so every machine serialises
/// the same digits.
const MICRO: f64 = 1e6;

/// Rounds to the output precision of 1e-6 (a coordinate in degrees, a score). A non-finite
/// value, which no valid input produces, becomes 0 so the canonical JSON can always be written.
pub fn round_micro(x: f64) -> f64 {
    if x.is_finite() {
        (x * MICRO).round() / MICRO
    } else {
        0.0
    }
}

/// What corroboration reads of a report: a [`Report`] itself, or the [`Observation`] a replay
/// reduces each report to as it consumes the entries.
pub trait Witness: Sync {
    /// The report id.
    fn id(&self) -> &str;
    /// The report id as an incident holds it: the observation's own, shared (a replay frees
    /// the observations and the incidents keep their ids), or a copy of a report's.
    fn shared_id(&self) -> SharedStr;
    /// The monitor's id.
    fn monitor(&self) -> &str;
    /// When it was submitted.
    fn submitted_at(&self) -> Timestamp;
    /// The observed start.
    fn start(&self) -> Timestamp;
    /// The observed end, never before the start (the start for an instant).
    fn end(&self) -> Timestamp;
    /// The location as a point and a radius.
    fn place(&self) -> ResolvedLocation;
    /// The event's kind.
    fn kind(&self) -> EventKind;
    /// The event's subtype.
    fn subtype(&self) -> Option<&str>;
    /// The weapon class (`undetermined` when not stated).
    fn weapon_class(&self) -> &WeaponClass;
    /// The count (rounds, explosions).
    fn count(&self) -> u32;
    /// The casualties stated.
    fn casualties(&self) -> Option<u32>;
    /// How the monitor observed.
    fn mode(&self) -> ObservationMode;
    /// Whether it carries at least one media hash.
    fn with_media(&self) -> bool;
    /// The party the monitor attributes the event to, if any.
    fn stated_party(&self) -> Option<&str>;
}

impl Witness for Report {
    fn id(&self) -> &str {
        &self.id
    }
    fn shared_id(&self) -> SharedStr {
        SharedStr::from(self.id.as_str())
    }
    fn monitor(&self) -> &str {
        &self.monitor
    }
    fn submitted_at(&self) -> Timestamp {
        self.submitted_at
    }
    fn start(&self) -> Timestamp {
        self.observed.start
    }
    fn end(&self) -> Timestamp {
        self.observed.end_or_start().max(self.observed.start)
    }
    fn place(&self) -> ResolvedLocation {
        resolve_location(&self.location)
    }
    fn kind(&self) -> EventKind {
        self.event.kind
    }
    fn subtype(&self) -> Option<&str> {
        self.event.subtype.as_deref()
    }
    fn weapon_class(&self) -> &WeaponClass {
        &self.event.weapon_class
    }
    fn count(&self) -> u32 {
        self.event.count
    }
    fn casualties(&self) -> Option<u32> {
        self.event.casualties
    }
    fn mode(&self) -> ObservationMode {
        self.mode
    }
    fn with_media(&self) -> bool {
        !self.media.is_empty()
    }
    fn stated_party(&self) -> Option<&str> {
        self.attribution.as_ref().map(|a| a.party.as_str())
    }
}

/// A report reduced to what corroboration reads, its strings moved out of the report (the
/// id copied once, into the shared string its incident will hold) and the rest (signature,
/// text, media, the location's description) dropped: about a third of a report's memory.
#[derive(Clone, Debug)]
pub struct Observation {
    id: SharedStr,
    monitor: String,
    submitted_at: Timestamp,
    start: Timestamp,
    end: Timestamp,
    place: ResolvedLocation,
    kind: EventKind,
    mode: ObservationMode,
    with_media: bool,
    count: u32,
    casualties: Option<u32>,
    subtype: Option<String>,
    weapon_class: WeaponClass,
    stated_party: Option<String>,
}

impl From<Report> for Observation {
    fn from(r: Report) -> Observation {
        Observation {
            submitted_at: r.submitted_at,
            start: r.start(),
            end: r.end(),
            place: r.place(),
            kind: r.event.kind,
            mode: r.mode,
            with_media: r.with_media(),
            count: r.event.count,
            casualties: r.event.casualties,
            stated_party: r.attribution.map(|a| a.party),
            id: r.id.into(),
            monitor: r.monitor,
            subtype: r.event.subtype,
            weapon_class: r.event.weapon_class,
        }
    }
}

impl Witness for Observation {
    fn id(&self) -> &str {
        &self.id
    }
    fn shared_id(&self) -> SharedStr {
        self.id.clone()
    }
    fn monitor(&self) -> &str {
        &self.monitor
    }
    fn submitted_at(&self) -> Timestamp {
        self.submitted_at
    }
    fn start(&self) -> Timestamp {
        self.start
    }
    fn end(&self) -> Timestamp {
        self.end
    }
    fn place(&self) -> ResolvedLocation {
        self.place
    }
    fn kind(&self) -> EventKind {
        self.kind
    }
    fn subtype(&self) -> Option<&str> {
        self.subtype.as_deref()
    }
    fn weapon_class(&self) -> &WeaponClass {
        &self.weapon_class
    }
    fn count(&self) -> u32 {
        self.count
    }
    fn casualties(&self) -> Option<u32> {
        self.casualties
    }
    fn mode(&self) -> ObservationMode {
        self.mode
    }
    fn with_media(&self) -> bool {
        self.with_media
    }
    fn stated_party(&self) -> Option<&str> {
        self.stated_party.as_deref()
    }
}

/// A report with its location resolved to a point and an uncertainty radius, and its
/// monitor's organisation: what corroboration works on.
#[derive(Clone, Copy)]
struct Sighting<'a> {
    report: &'a dyn Witness,
    /// The monitor's organisation; the monitor id itself when the agreement does not know it.
    organisation: &'a str,
    /// The resolved location (degrees) and its uncertainty radius.
    lon: f64,
    lat: f64,
    radius_km: f64,
    /// The observation interval (`end == start` for an instant).
    start: Timestamp,
    end: Timestamp,
}

impl<'a> Sighting<'a> {
    /// Resolves a report's location and observation interval. `organisation` is the monitor's
    /// organisation.
    fn new(report: &'a dyn Witness, organisation: &'a str) -> Sighting<'a> {
        let resolved = report.place();
        Sighting {
            report,
            organisation,
            lon: resolved.lon,
            lat: resolved.lat,
            radius_km: clamp_radius(resolved.radius_m / 1000.0),
            start: report.start(),
            end: report.end(),
        }
    }
}

/// How sure the engine is that an incident happened, from its independent sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfidenceLevel {
    /// Score below 0.6: one source.
    Low,
    /// Score from 0.6 to 0.75.
    Medium,
    /// Score from 0.75: three independent sources or their equivalent.
    High,
}

/// An incident's confidence: a score in [0, 1) and its level.
///
/// Independent sources are counted as
/// `n = organisations + 0.5 × (monitors − organisations) + 0.25 × (modes − 1)`: a second
/// organisation is a fully independent witness, a second monitor of the same organisation
/// half of one (they share training, tasking and chain of command), and each further means
/// of observation (camera besides patrol, say) a quarter.
/// The score is `n / (n + 1)`: one report 0.5, two organisations 0.67, three 0.75. Levels:
/// low below 0.6 (a single source), high from 0.75 (three independent sources or their
/// equivalent), medium between. Only exact IEEE arithmetic (no `pow`, no transcendental
/// functions) is used, so every machine gets the same digits.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Confidence {
    /// The band the score falls in.
    pub level: ConfidenceLevel,
    /// `n / (n + 1)` rounded to 1e-6.
    pub score: f64,
}

impl Confidence {
    fn from_sources(sources: &Sources) -> Confidence {
        let organisations = sources.organisations.len() as f64;
        let monitors = sources.monitors.len() as f64;
        let modes = sources.modes.len() as f64;
        let n = organisations
            + 0.5 * (monitors - organisations).max(0.0)
            + 0.25 * (modes - 1.0).max(0.0);
        let score = round_micro(n / (n + 1.0));
        let level = if score >= 0.75 {
            ConfidenceLevel::High
        } else if score >= 0.6 {
            ConfidenceLevel::Medium
        } else {
            ConfidenceLevel::Low
        };
        Confidence { level, score }
    }
}

/// A fieldless enum of at most 16 values, which a [`Set`] holds as bits. Its values are
/// `VariantArray::VARIANTS`, which the compiler lists, so a new variant cannot be left out.
pub trait Member: VariantArray + Copy + Ord + 'static {}

impl Member for EventKind {}

impl Member for ObservationMode {}

// A `Set` has sixteen bits.
const _: () = assert!(EventKind::VARIANTS.len() <= 16 && ObservationMode::VARIANTS.len() <= 16);

/// Distinct values of a small enum, a bit each: two bytes where a `Vec` takes 24 and a heap
/// block, in each of 700k incidents at 10^6 reports. Read, compared, printed and written as
/// the sorted list of values it stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Set<T> {
    bits: u16,
    of: PhantomData<T>,
}

impl<T: Member> Set<T> {
    /// The empty set.
    pub fn new() -> Set<T> {
        Set {
            bits: 0,
            of: PhantomData,
        }
    }

    fn bit(value: T) -> u16 {
        T::VARIANTS.binary_search(&value).map_or(0, |i| 1 << i)
    }

    /// Adds `value`.
    pub fn insert(&mut self, value: T) {
        self.bits |= Self::bit(value);
    }

    /// Whether `value` is in the set.
    pub fn contains(&self, value: &T) -> bool {
        self.bits & Self::bit(*value) != 0
    }

    /// The values, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &'static T> {
        let bits = self.bits;
        T::VARIANTS
            .iter()
            .enumerate()
            .filter(move |&(i, _)| bits & (1 << i) != 0)
            .map(|(_, value)| value)
    }

    /// How many values.
    pub fn len(&self) -> usize {
        self.bits.count_ones() as usize
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.bits == 0
    }

    /// The values, sorted.
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().copied().collect()
    }
}

impl<T: Member> Default for Set<T> {
    fn default() -> Set<T> {
        Set::new()
    }
}

impl<T: Member> FromIterator<T> for Set<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Set<T> {
        let mut set = Set::new();
        for value in values {
            set.insert(value);
        }
        set
    }
}

impl<T: Member> From<Vec<T>> for Set<T> {
    fn from(values: Vec<T>) -> Set<T> {
        values.into_iter().collect()
    }
}

impl<T: Member + fmt::Debug> fmt::Debug for Set<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Member + Serialize> Serialize for Set<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Who and what an incident rests on: distinct monitors, organisations and modes, sorted.
/// The names are shared: a few monitors and organisations recur in every incident.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sources {
    /// Monitor ids.
    pub monitors: SharedStrs,
    /// Their organisations (a monitor unknown to the agreement is its own organisation).
    pub organisations: SharedStrs,
    /// Observation modes used.
    pub modes: Set<ObservationMode>,
}

/// One member report's contribution to evidence standards, kept for adjudication. Indices
/// point into the incident's `reports`, `sources.monitors` and `sources.organisations`, so
/// distinct indices are distinct monitors and organisations. They are `u16` (an incident
/// holds at most [`MAX_INCIDENT_REPORTS`] reports), which makes a testimony 16 bytes and lets
/// an incident hold its one testimony inline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Testimony {
    /// Index into the incident's `reports`.
    pub report: u16,
    /// Index into `sources.monitors`.
    pub monitor: u16,
    /// Index into `sources.organisations`.
    pub organisation: u16,
    /// How the monitor observed.
    pub mode: ObservationMode,
    /// The report carries at least one media hash.
    pub with_media: bool,
    /// When the report was submitted: evidence standards are met at such a moment.
    pub submitted_at: Timestamp,
}

// Testimony indices are `u16`.
const _: () = assert!(MAX_INCIDENT_REPORTS <= u16::MAX as usize);

/// A group of reports describing one real event.
///
/// 10^6 reports make about 700k incidents, all held until the assessment is written: their
/// lists hold one item inline (most incidents rest on one report), and their names
/// (reports, monitors, organisations, weapon class, stated parties) are shared strings, so
/// that building one without a subtype allocates only its id.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Incident {
    /// `inc:` followed by the id of its first report in canonical order.
    pub id: String,
    /// Member report ids, sorted.
    pub reports: SharedStrs,
    /// Longitude of the inverse-variance weighted centroid of the members' locations (1e-6
    /// degree).
    pub lon: f64,
    /// Latitude of the centroid.
    pub lat: f64,
    /// Uncertainty of the centroid in metres: the fused uncertainty of the members, but never
    /// less than the distance from the centroid to the farthest member location.
    pub radius_m: u64,
    /// Earliest observed start among the members.
    pub start: Timestamp,
    /// Latest observed end.
    pub end: Timestamp,
    /// Distinct kinds reported, sorted (several only for kinds of fire).
    pub kinds: Set<EventKind>,
    /// Distinct subtypes reported, sorted.
    pub subtypes: Vec<String>,
    /// The determined weapon class if any member determined one (members never disagree),
    /// else `undetermined`. Written as a [`WeaponClass`] is.
    pub weapon_class: SharedStr,
    /// The largest count any member reported: reports of one event count the same rounds.
    pub count: u32,
    /// The largest casualty figure any member reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub casualties: Option<u32>,
    /// Distinct monitors, organisations and modes.
    pub sources: Sources,
    /// From the independent sources.
    pub confidence: Confidence,
    /// From the monitors' statements; [`crate::attribute::attribute`] adds control.
    pub attribution: Attribution,
    /// Each member's monitor, organisation, mode, media and submission time, sorted by
    /// submission time then report id: what evidence standards are checked against.
    #[serde(skip)]
    pub testimony: SmallVec<[Testimony; 1]>,
}

fn kinds_compatible(a: &dyn Witness, b: &dyn Witness) -> bool {
    let (ka, kb) = (a.kind(), b.kind());
    if ka == EventKind::Verification || kb == EventKind::Verification {
        return ka == kb && a.subtype() == b.subtype();
    }
    ka == kb || (ka.is_fire() && kb.is_fire())
}

fn weapons_compatible(a: &WeaponClass, b: &WeaponClass) -> bool {
    a == b || a.is_undetermined() || b.is_undetermined()
}

/// The gap between two closed intervals, zero if they overlap.
fn time_gap(a: &Sighting, b: &Sighting) -> i64 {
    b.start
        .since(a.end)
        .as_seconds()
        .max(a.start.since(b.end).as_seconds())
        .max(0)
}

/// An incident under construction. Its members form a linked list through `next` (one slot
/// per sighting), which saves an allocation per incident on the hot path.
struct Cluster {
    first: usize,
    last: usize,
    size: usize,
    anchor: (f64, f64),
    start: Timestamp,
    end: Timestamp,
    earliest_end: Timestamp,
    weight: f64,
    weighted_lon: f64,
    weighted_lat: f64,
    active: bool,
}

/// `next[i]` is the sighting after `i` in its incident, `NONE` for the last.
const NONE: usize = usize::MAX;

/// The members of a cluster, in the order they joined.
fn members<'s>(cluster: &Cluster, next: &'s [usize]) -> impl Iterator<Item = usize> + 's {
    std::iter::successors(Some(cluster.first), move |&i| {
        next.get(i).copied().filter(|&n| n != NONE)
    })
}

impl Cluster {
    fn open(index: usize, s: &Sighting) -> Cluster {
        let w = 1.0 / (s.radius_km * s.radius_km);
        Cluster {
            first: index,
            last: index,
            size: 1,
            anchor: (s.lon, s.lat),
            start: s.start,
            end: s.end,
            earliest_end: s.end,
            weight: w,
            weighted_lon: w * s.lon,
            weighted_lat: w * s.lat,
            active: true,
        }
    }

    fn centroid(&self) -> (f64, f64) {
        (
            self.weighted_lon / self.weight,
            self.weighted_lat / self.weight,
        )
    }

    fn add(&mut self, index: usize, s: &Sighting, next: &mut [usize]) {
        if let Some(slot) = next.get_mut(self.last) {
            *slot = index;
        }
        self.last = index;
        self.size += 1;
        let w = 1.0 / (s.radius_km * s.radius_km);
        self.weight += w;
        self.weighted_lon += w * s.lon;
        self.weighted_lat += w * s.lat;
        self.end = self.end.max(s.end);
        self.earliest_end = self.earliest_end.min(s.end);
    }

    /// After this instant no report (processed in start order) can join.
    fn expiry(&self, rules: &CorroborationRules) -> Timestamp {
        self.earliest_end
            .plus(rules.time_window)
            .min(self.start.plus(rules.max_duration))
    }
}

/// The grid of active incidents, keyed by the cell of each incident's first location.
struct Grid {
    cell_deg: f64,
    /// Only looked up, never iterated, so its order reaches no output; a lookup per cell
    /// near every sighting costs a few cache misses less than a `BTreeMap`'s search.
    cells: HashMap<(i64, i64), Vec<usize>, CellHash>,
}

/// The hash of grid cells, ten or so lookups per report: fixed (no random seed), and
/// SipHash's resistance to chosen keys buys nothing for cells of validated coordinates.
type CellHash = foldhash::fast::FixedState;

impl Grid {
    fn new(max_extent_km: f64) -> Grid {
        Grid {
            cell_deg: (max_extent_km / KM_PER_DEGREE).clamp(1e-4, 360.0),
            cells: HashMap::default(),
        }
    }

    fn key(&self, lon: f64, lat: f64) -> (i64, i64) {
        (
            (lon / self.cell_deg).floor() as i64,
            (lat / self.cell_deg).floor() as i64,
        )
    }

    fn insert(&mut self, cluster: usize, at: (f64, f64)) {
        let key = self.key(at.0, at.1);
        self.cells.entry(key).or_default().push(cluster);
    }

    fn remove(&mut self, cluster: usize, at: (f64, f64)) {
        let key = self.key(at.0, at.1);
        // Emptied cells stay: there are few distinct cells, and keeping them saves
        // reallocating their lists as incidents come and go.
        if let Some(list) = self.cells.get_mut(&key) {
            list.retain(|&c| c != cluster);
        }
    }

    /// Every cell in which an anchor may lie within `km` of `p`.
    fn near_cells(&self, p: (f64, f64), km: f64, out: &mut Vec<(i64, i64)>) {
        out.clear();
        let dlat = km / KM_PER_DEGREE * 1.01 + 1e-9;
        let cos = (p.1.abs() + dlat).min(89.9).to_radians().cos();
        let dlon = dlat / cos;
        let (x0, y0) = self.key(p.0 - dlon, p.1 - dlat);
        let (x1, y1) = self.key(p.0 + dlon, p.1 + dlat);
        for x in x0..=x1 {
            for y in y0..=y1 {
                out.push((x, y));
            }
        }
    }

    /// Every cluster whose anchor may lie within `km` of `p`.
    fn near(&self, p: (f64, f64), km: f64, cells: &mut Vec<(i64, i64)>, out: &mut Vec<usize>) {
        self.near_cells(p, km, cells);
        out.clear();
        for cell in cells.iter() {
            if let Some(list) = self.cells.get(cell) {
                out.extend_from_slice(list);
            }
        }
    }
}

/// Groups reports into incidents. `monitors` gives each monitor's organisation (a monitor the
/// agreement does not list counts as its own organisation). Reports sharing an id are one
/// report (a resubmission): the first in canonical order is kept.
///
/// Incidents are returned sorted by id, each with its attribution from the monitors'
/// statements alone (see [`crate::attribute::attribute`] for attribution by control).
///
/// Reports that can never share an incident are swept separately (see
/// [`corroborate_in_batches`]); with the `parallel` feature, on every core.
pub fn corroborate<'a, W: Witness + 'a>(
    rules: &CorroborationRules,
    monitors: &'a BTreeMap<String, Monitor>,
    reports: impl IntoIterator<Item = &'a W>,
) -> Vec<Incident> {
    corroborate_in_batches(rules, monitors, reports, BATCH_REPORTS)
}

/// The fewest reports [`corroborate`] sweeps as one batch: below it, linking the reports into
/// components would cost more than the batches save.
pub const BATCH_REPORTS: usize = 4096;

/// At most about this many batches: enough for every core to take several, few enough that a
/// batch's sweep structures are not rebuilt for a handful of reports.
const BATCHES: usize = 64;

/// [`corroborate`], with the reports split into batches of whole components of at least
/// `batch` reports (one batch when there are fewer than twice as many). Two reports are
/// linked when their observations are at most `time_window` apart and their locations at
/// most `max_extent_km` apart (as the engine links them, see [`crate::engine`]); a report
/// only joins an incident whose members are all linked to it, so an incident never spans two
/// components and sweeping any union of whole components, in canonical order, gives exactly
/// that union's incidents of one sweep over all the reports. The result does not depend on
/// `batch` (the proptests in `tests/engine_determinism.rs` check it); with the `parallel`
/// feature, the batches are swept on every core.
pub fn corroborate_in_batches<'a, W: Witness + 'a>(
    rules: &CorroborationRules,
    monitors: &'a BTreeMap<String, Monitor>,
    reports: impl IntoIterator<Item = &'a W>,
    batch: usize,
) -> Vec<Incident> {
    // Each report's canonical key is read once, beside it: the sort compares keys without
    // going through the trait, on every core with `parallel`. It is stable, so reports whose
    // keys tie (none do once admission has kept each id once) stay in input order.
    let mut ordered: Vec<(CanonicalKey, &dyn Witness)> = reports
        .into_iter()
        .map(|r| -> (CanonicalKey, &dyn Witness) { (canonical(r), r) })
        .collect();
    parallel::sort_by(&mut ordered, |a, b| a.0.cmp(&b.0));
    // Lookup only: which copy is kept depends on the canonical order, not on the set's; a
    // fixed-seed hash, cheaper than SipHash on ids.
    let mut seen: HashSet<&str, foldhash::fast::FixedState> =
        HashSet::with_capacity_and_hasher(ordered.len(), foldhash::fast::FixedState::default());
    ordered.retain(|(_, r)| seen.insert(r.id()));
    // Tens of megabytes at 10^6 reports: not held while the incidents are built.
    drop(seen);
    let mut sightings: Vec<Sighting> = parallel::map(&ordered, |&(_, r)| {
        let organisation = monitors
            .get(r.monitor())
            .map(|m| m.organisation.as_str())
            .unwrap_or(r.monitor());
        Sighting::new(r, organisation)
    });
    drop(ordered);
    let names = Names::of(&sightings);
    let max_extent_km = extent_bound(rules);
    let lengths = arrange_in_batches(rules, max_extent_km, &mut sightings, batch);
    let mut slices = Vec::with_capacity(lengths.len());
    let mut rest = sightings.as_slice();
    for length in lengths {
        let (slice, after) = rest.split_at(length.min(rest.len()));
        slices.push(slice);
        rest = after;
    }
    let swept: Vec<Swept> = parallel::map(&slices, |slice| {
        cluster_sightings(rules, max_extent_km, slice)
    });

    // Built once, in id order, straight into a list of exactly as many slots as incidents:
    // sorting the (large) incidents afterwards, or gathering each batch's list into one,
    // would move every incident and hold two copies of many.
    let mut order: Vec<(&str, &Sighting, &Swept, &Cluster)> =
        Vec::with_capacity(swept.iter().map(|batch| batch.clusters.len()).sum());
    order.extend(swept.iter().flat_map(|batch| {
        batch.clusters.iter().filter_map(move |cluster| {
            let first = batch.sightings.get(cluster.first)?;
            Some((first.report.id(), first, batch, cluster))
        })
    }));
    // Ids are distinct (one kept copy per report id), so any sort gives this order.
    parallel::sort_by(&mut order, |a, b| a.0.cmp(b.0));
    let build = |&(_, first, batch, cluster): &(&str, &Sighting, &Swept, &Cluster)| {
        build_incident(first, cluster, batch.sightings, &batch.next, &names)
    };
    parallel::map(&order, build)
}

/// One batch's sweep: its incidents under construction, and their members' links.
struct Swept<'s, 'a> {
    sightings: &'s [Sighting<'a>],
    clusters: Vec<Cluster>,
    next: Vec<usize>,
}

/// `max_extent_km` as the sweep applies it: never negative, and the whole Earth when infinite.
fn extent_bound(rules: &CorroborationRules) -> f64 {
    if rules.max_extent_km.is_finite() {
        rules.max_extent_km.max(0.0)
    } else {
        360.0 * KM_PER_DEGREE
    }
}

/// Reorders `sightings` (in canonical order) into batches of whole components, each batch
/// still in canonical order, and returns the batches' lengths.
///
/// Linking uses the sweep's own grid cells and neighbourhood ([`Grid::near`]): when the sweep
/// finds an incident a report can join, its first member lies in a cell the report's
/// neighbourhood covers, within the window and the extent, so the two are linked here, and
/// every later member was linked to it in turn.
fn arrange_in_batches(
    rules: &CorroborationRules,
    max_extent_km: f64,
    sightings: &mut [Sighting],
    batch: usize,
) -> Vec<usize> {
    let n = sightings.len();
    let batch = batch.max(1);
    if n < batch.saturating_mul(2) {
        return vec![n];
    }
    let target = batch.max(n.div_ceil(BATCHES));
    // Only its cells: the same as the sweep's.
    let grid = Grid::new(max_extent_km);
    // Lookup only: the reports still within the window of the sweep, by cell.
    let mut recent: HashMap<(i64, i64), Vec<usize>, CellHash> = HashMap::default();
    let mut cells = Vec::new();
    let mut parent: Vec<usize> = (0..n).collect();
    for (i, s) in sightings.iter().enumerate() {
        grid.near_cells((s.lon, s.lat), max_extent_km, &mut cells);
        for cell in &cells {
            let Some(list) = recent.get_mut(cell) else {
                continue;
            };
            // Sightings come in start order, so one too old for this one is too old for all
            // that follow.
            list.retain(|&j| {
                sightings
                    .get(j)
                    .is_some_and(|a| time_gap(a, s) <= rules.time_window.as_seconds())
            });
            for &j in list.iter() {
                let Some(a) = sightings.get(j) else {
                    continue;
                };
                // As the sweep measures it: earlier member first.
                if distance_km((a.lon, a.lat), (s.lon, s.lat)) <= max_extent_km {
                    union(&mut parent, i, j);
                }
            }
        }
        recent.entry(grid.key(s.lon, s.lat)).or_default().push(i);
    }
    drop((recent, cells));

    // Whole components, in the order of their first sightings, fill batches of `target`.
    let mut size = vec![0usize; n];
    for i in 0..n {
        let r = root(&mut parent, i);
        if let Some(count) = size.get_mut(r) {
            *count += 1;
        }
    }
    let mut batch_of = vec![usize::MAX; n];
    let mut lengths: Vec<usize> = Vec::new();
    for i in 0..n {
        let r = root(&mut parent, i);
        if batch_of.get(r).is_some_and(|&b| b != usize::MAX) {
            continue;
        }
        let component = size.get(r).copied().unwrap_or(0);
        match lengths.last_mut() {
            Some(length) if *length < target => *length += component,
            _ => lengths.push(component),
        }
        if let Some(b) = batch_of.get_mut(r) {
            *b = lengths.len() - 1;
        }
    }
    drop(size);
    // Each sighting's new place: batches in order, canonical order within each.
    let mut offsets: Vec<usize> = Vec::with_capacity(lengths.len());
    let mut total = 0;
    for length in &lengths {
        offsets.push(total);
        total += length;
    }
    let mut place: Vec<usize> = (0..n)
        .map(|i| {
            let b = batch_of
                .get(root(&mut parent, i))
                .copied()
                .unwrap_or_default();
            offsets.get_mut(b).map_or(i, |o| {
                *o += 1;
                *o - 1
            })
        })
        .collect();
    drop((parent, batch_of));
    // The permutation applied in place, one cycle at a time.
    for i in 0..n {
        while let Some(&to) = place.get(i) {
            if to == i || to >= n {
                break;
            }
            sightings.swap(i, to);
            place.swap(i, to);
        }
    }
    lengths
}

/// The representative of `i`'s set, halving paths on the way.
pub(crate) fn root(parent: &mut [usize], mut i: usize) -> usize {
    while let Some(&p) = parent.get(i) {
        if p == i {
            break;
        }
        let grandparent = parent.get(p).copied().unwrap_or(p);
        if let Some(slot) = parent.get_mut(i) {
            *slot = grandparent;
        }
        i = grandparent;
    }
    i
}

/// Joins the sets of `a` and `b`; the smaller index represents both, so the result does not
/// depend on the order of the unions.
pub(crate) fn union(parent: &mut [usize], a: usize, b: usize) {
    let (ra, rb) = (root(parent, a), root(parent, b));
    let (keep, join) = if ra < rb { (ra, rb) } else { (rb, ra) };
    if let Some(slot) = parent.get_mut(join) {
        *slot = keep;
    }
}

/// The canonical order of reports: observed start, then id; submission time and monitor
/// only order copies of one id.
fn canonical(r: &dyn Witness) -> CanonicalKey<'_> {
    (r.start(), r.id(), r.submitted_at(), r.monitor())
}

/// What orders reports canonically: start, id, submission, monitor.
type CanonicalKey<'a> = (Timestamp, &'a str, Timestamp, &'a str);

/// The sweep over sightings already in canonical order, with the extent as
/// [`extent_bound`] gives it.
fn cluster_sightings<'s, 'a>(
    rules: &CorroborationRules,
    max_extent_km: f64,
    sightings: &'s [Sighting<'a>],
) -> Swept<'s, 'a> {
    let mut grid = Grid::new(max_extent_km);
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut next = vec![NONE; sightings.len()];
    let mut expiries: BinaryHeap<Reverse<(Timestamp, usize)>> = BinaryHeap::new();
    let mut candidates = Vec::new();
    let mut cells = Vec::new();

    for (index, s) in sightings.iter().enumerate() {
        // Retire incidents that no report from now on can join.
        while let Some(Reverse((expiry, c))) = expiries.peek().copied() {
            if expiry >= s.start {
                break;
            }
            expiries.pop();
            if let Some(cluster) = clusters.get_mut(c) {
                if cluster.active && cluster.expiry(rules) < s.start {
                    cluster.active = false;
                    grid.remove(c, cluster.anchor);
                }
            }
        }

        grid.near((s.lon, s.lat), max_extent_km, &mut cells, &mut candidates);
        let mut best: Option<(f64, usize)> = None;
        for &c in &candidates {
            let Some(cluster) = clusters.get(c) else {
                continue;
            };
            if !joinable(cluster, s, sightings, &next, rules, max_extent_km) {
                continue;
            }
            let d = distance_km(cluster.centroid(), (s.lon, s.lat));
            let better = match best {
                None => true,
                Some((best_d, best_c)) => match d.total_cmp(&best_d) {
                    Ordering::Less => true,
                    Ordering::Greater => false,
                    // Clusters are numbered in the canonical order of their first reports.
                    Ordering::Equal => c < best_c,
                },
            };
            if better {
                best = Some((d, c));
            }
        }

        let c = match best {
            Some((_, c)) => {
                if let Some(cluster) = clusters.get_mut(c) {
                    cluster.add(index, s, &mut next);
                    if cluster.size >= MAX_INCIDENT_REPORTS {
                        cluster.active = false;
                        grid.remove(c, cluster.anchor);
                    }
                }
                c
            }
            None => {
                clusters.push(Cluster::open(index, s));
                let c = clusters.len() - 1;
                grid.insert(c, (s.lon, s.lat));
                c
            }
        };
        if let Some(cluster) = clusters.get(c) {
            expiries.push(Reverse((cluster.expiry(rules), c)));
        }
    }

    Swept {
        sightings,
        clusters,
        next,
    }
}

/// Whether sighting `s` may join `cluster`: compatible with every member, and the cluster
/// stays within the extent and duration bounds.
fn joinable(
    cluster: &Cluster,
    s: &Sighting,
    sightings: &[Sighting],
    next: &[usize],
    rules: &CorroborationRules,
    max_extent_km: f64,
) -> bool {
    if !cluster.active {
        return false;
    }
    let duration = cluster.end.max(s.end).since(cluster.start.min(s.start));
    if duration > rules.max_duration {
        return false;
    }
    members(cluster, next).all(|m| {
        let Some(other) = sightings.get(m) else {
            return false;
        };
        if time_gap(other, s) > rules.time_window.as_seconds()
            || !kinds_compatible(other.report, s.report)
            || !weapons_compatible(other.report.weapon_class(), s.report.weapon_class())
        {
            return false;
        }
        let d = distance_km((other.lon, other.lat), (s.lon, s.lat));
        d <= other.radius_km + s.radius_km + rules.distance_km && d <= max_extent_km
    })
}

/// Sightings [`Names::of`] reads on one thread: enough that gathering the slices' names costs
/// little beside reading them.
const NAMES_SLICE: usize = 1 << 14;

/// One shared copy of each monitor, organisation, weapon class and stated party, made before
/// the batches are swept so that all of them share it: a handful of names recur in every
/// incident.
struct Names<'a> {
    shared: BTreeMap<&'a str, SharedStr>,
}

impl<'a> Names<'a> {
    /// The names of `sightings`: gathered from slices of them on every core (with
    /// `parallel`), then each given its one shared copy.
    fn of(sightings: &[Sighting<'a>]) -> Names<'a> {
        let slices: Vec<&[Sighting<'a>]> = sightings.chunks(NAMES_SLICE).collect();
        let mut names: BTreeSet<&'a str> = BTreeSet::from([WeaponClass::UNDETERMINED]);
        for found in parallel::map(&slices, |slice| Names::in_slice(slice)) {
            names.extend(found);
        }
        Names {
            shared: names
                .into_iter()
                .map(|name| (name, SharedStr::from(name)))
                .collect(),
        }
    }

    /// The distinct names of `slice`.
    fn in_slice(slice: &[Sighting<'a>]) -> BTreeSet<&'a str> {
        let mut names = BTreeSet::new();
        // One lookup for most sightings: a monitor's organisation is the same for all its
        // reports, and weapon classes are mostly undetermined.
        let mut monitors = BTreeSet::new();
        for s in slice {
            if monitors.insert(s.report.monitor()) {
                names.insert(s.report.monitor());
                names.insert(s.organisation);
            }
            let weapon_class = s.report.weapon_class();
            if !weapon_class.is_undetermined() {
                names.insert(&weapon_class.0);
            }
            if let Some(party) = s.report.stated_party() {
                names.insert(party);
            }
        }
        names
    }

    /// The shared copy of `name` (a new one for a name not seen, which [`Names::of`] rules
    /// out).
    fn get(&self, name: &str) -> SharedStr {
        self.shared
            .get(name)
            .cloned()
            .unwrap_or_else(|| SharedStr::from(name))
    }
}

/// An incident's members, or a list of their distinct names: on the stack for all but the
/// rare incidents of more than 8 reports.
type Few<T> = SmallVec<[T; 8]>;

/// The incident of `cluster`, whose first member is `first`.
fn build_incident(
    first: &Sighting,
    cluster: &Cluster,
    sightings: &[Sighting],
    next: &[usize],
    names: &Names,
) -> Incident {
    let mut members: Few<&Sighting> = members(cluster, next)
        .filter_map(|m| sightings.get(m))
        .collect();
    // Report ids are distinct (one kept copy per id): in id order, member `i` is report `i`.
    members.sort_unstable_by(|a, b| a.report.id().cmp(b.report.id()));
    let (lon, lat) = cluster.centroid();
    let fused_km = 1.0 / cluster.weight.sqrt();
    let spread_km = members
        .iter()
        .map(|s| distance_km((lon, lat), (s.lon, s.lat)))
        .fold(0.0, f64::max);
    let radius_m = (fused_km.max(spread_km) * 1000.0).round() as u64;

    let monitors: Few<&str> = distinct(members.iter().map(|s| s.report.monitor()));
    let organisations: Few<&str> = distinct(members.iter().map(|s| s.organisation));
    let position = |list: &[&str], x: &str| index(list.binary_search(&x).unwrap_or(0));
    let mut testimony: SmallVec<[Testimony; 1]> = members
        .iter()
        .enumerate()
        .map(|(report, s)| Testimony {
            report: index(report),
            monitor: position(&monitors, s.report.monitor()),
            organisation: position(&organisations, s.organisation),
            mode: s.report.mode(),
            with_media: s.report.with_media(),
            submitted_at: s.report.submitted_at(),
        })
        .collect();
    // Report indices follow the sorted ids, so this is (submission time, report id).
    testimony.sort_unstable_by_key(|t| (t.submitted_at, t.report));

    // Members never disagree on a determined class.
    let weapon_class = members
        .iter()
        .map(|s| s.report.weapon_class())
        .find(|w| !w.is_undetermined())
        .unwrap_or(first.report.weapon_class());
    let sources = Sources {
        monitors: monitors.iter().map(|&m| names.get(m)).collect(),
        organisations: organisations.iter().map(|&o| names.get(o)).collect(),
        modes: members.iter().map(|s| s.report.mode()).collect(),
    };
    let stated: Few<&str> = distinct(members.iter().filter_map(|s| s.report.stated_party()));
    let subtypes: Few<&str> = distinct(members.iter().filter_map(|s| s.report.subtype()));
    Incident {
        id: format!("inc:{}", first.report.id()),
        reports: members.iter().map(|s| s.report.shared_id()).collect(),
        lon: round_micro(lon),
        lat: round_micro(lat),
        radius_m,
        start: cluster.start,
        end: cluster.end,
        kinds: members.iter().map(|s| s.report.kind()).collect(),
        subtypes: subtypes.iter().map(|s| s.to_string()).collect(),
        weapon_class: names.get(&weapon_class.0),
        count: members.iter().map(|s| s.report.count()).max().unwrap_or(1),
        casualties: members.iter().filter_map(|s| s.report.casualties()).max(),
        confidence: Confidence::from_sources(&sources),
        sources,
        attribution: Attribution::from_statements(stated.iter().map(|&p| names.get(p)).collect()),
        testimony,
    }
}

/// An index into an incident's lists, which hold at most [`MAX_INCIDENT_REPORTS`] items.
fn index(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// The distinct items, sorted.
fn distinct<A: smallvec::Array>(items: impl Iterator<Item = A::Item>) -> SmallVec<A>
where
    A::Item: Ord,
{
    let mut v: SmallVec<A> = items.collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(monitors: &[&str], organisations: &[&str], modes: &[ObservationMode]) -> Sources {
        Sources {
            monitors: monitors.iter().map(|&m| m.into()).collect(),
            organisations: organisations.iter().map(|&o| o.into()).collect(),
            modes: modes.iter().copied().collect(),
        }
    }

    #[test]
    fn a_single_source_is_low_confidence() {
        let c = Confidence::from_sources(&sources(&["m1"], &["osce"], &[ObservationMode::Saw]));
        assert_eq!((c.level, c.score), (ConfidenceLevel::Low, 0.5));
    }

    #[test]
    fn a_second_monitor_of_the_same_organisation_counts_half() {
        let c =
            Confidence::from_sources(&sources(&["m1", "m2"], &["osce"], &[ObservationMode::Saw]));
        assert_eq!((c.level, c.score), (ConfidenceLevel::Medium, 0.6));
    }

    #[test]
    fn three_organisations_are_high_confidence() {
        let c = Confidence::from_sources(&sources(
            &["m1", "m2", "m3"],
            &["osce", "sat", "un"],
            &[ObservationMode::Saw],
        ));
        assert_eq!((c.level, c.score), (ConfidenceLevel::High, 0.75));
    }

    fn observation(id: &str, monitor: &str, lon: f64, party: Option<&str>) -> Observation {
        Observation {
            id: id.into(),
            monitor: monitor.into(),
            submitted_at: Timestamp(0),
            start: Timestamp(0),
            end: Timestamp(0),
            place: ResolvedLocation {
                lon,
                lat: 48.0,
                radius_m: 100.0,
            },
            kind: EventKind::Explosion,
            mode: ObservationMode::Saw,
            with_media: false,
            count: 1,
            casualties: None,
            subtype: None,
            weapon_class: WeaponClass(WeaponClass::UNDETERMINED.into()),
            stated_party: party.map(str::to_string),
        }
    }

    fn same_allocation(a: &SharedStr, b: &SharedStr) -> bool {
        std::ptr::eq(a.as_str(), b.as_str())
    }

    #[test]
    fn an_incident_of_one_report_holds_its_lists_inline_and_shares_its_names() {
        // Two incidents 100 km apart, by one monitor stating one party.
        let observations = [
            observation("r1", "m1", 37.0, Some("a")),
            observation("r2", "m1", 38.5, Some("a")),
        ];
        let incidents = corroborate(
            &CorroborationRules::default(),
            &BTreeMap::new(),
            &observations,
        );
        let [one, two] = incidents.as_slice() else {
            panic!("{} incidents", incidents.len());
        };
        for i in [one, two] {
            assert!(!i.reports.spilled() && !i.testimony.spilled());
            assert!(!i.sources.monitors.spilled() && !i.sources.organisations.spilled());
            assert!(!i.attribution.stated.spilled());
        }
        // The observation's own id, and one copy of each name for both incidents.
        assert!(same_allocation(&one.reports[0], &observations[0].id));
        assert!(same_allocation(
            &one.sources.monitors[0],
            &two.sources.monitors[0]
        ));
        assert!(same_allocation(&one.weapon_class, &two.weapon_class));
        let parties = [&one.attribution.stated[0], &two.attribution.stated[0]];
        assert!(same_allocation(parties[0], parties[1]));
        assert_eq!(one.attribution.party.as_deref(), Some("a"));
    }

    #[test]
    fn lists_of_names_are_the_size_of_a_vec_and_a_testimony_is_16_bytes() {
        assert_eq!(size_of::<SharedStrs>(), size_of::<Vec<SharedStr>>());
        assert_eq!(size_of::<Testimony>(), 16);
    }

    #[test]
    fn sets_read_compare_print_and_serialise_as_the_sorted_lists_they_stand_for() {
        use EventKind::{Burst, Explosion, Verification};
        let set: Set<EventKind> = [Verification, Burst, Explosion, Burst]
            .into_iter()
            .collect();
        let list = vec![Explosion, Burst, Verification];
        assert_eq!(set.to_vec(), list);
        assert_eq!((set.len(), set.is_empty()), (3, false));
        assert!(set.contains(&Burst) && !set.contains(&EventKind::Flare));
        assert_eq!(format!("{set:?}"), format!("{list:?}"));
        assert_eq!(
            serde_json::to_string(&set).ok(),
            serde_json::to_string(&list).ok()
        );
        assert_eq!(
            crate::canonical::to_vec(&set).ok(),
            crate::canonical::to_vec(&list).ok()
        );
        assert_eq!(set, Set::from(list));
        assert!(Set::<ObservationMode>::new().is_empty());
    }

    /// A set finds a value's bit by binary search: the variants must be listed in their
    /// order, each once.
    #[test]
    fn every_kind_and_mode_is_listed_once_in_order() {
        assert!(EventKind::VARIANTS.windows(2).all(|w| w[0] < w[1]));
        assert!(ObservationMode::VARIANTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn rounding_keeps_six_decimals_and_maps_non_finite_to_zero() {
        assert_eq!(round_micro(48.123_456_789), 48.123_457);
        assert_eq!(round_micro(f64::NAN), 0.0);
    }
}
