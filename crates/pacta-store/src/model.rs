//! The records a store keeps and the queries it answers.

use pacta_core::time::Timestamp;
use sha2::{Digest, Sha256};

/// The largest page a list query returns; larger `limit`s are clamped to it.
pub const LIMIT_MAX: u32 = 1_000;

/// Who signed an entry: the role the agreement gave the key, and the signer's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    /// `monitor`, `guarantor`, `party` or `panel`.
    pub role: String,
    /// The monitor, guarantor, party or panel id.
    pub id: String,
}

/// One log entry as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryRecord {
    /// Position in the log (0-based).
    pub log_index: u64,
    /// The entry's own id, for entries that have one.
    pub id: Option<String>,
    /// The `schema` member, e.g. `pacta.report/1`.
    pub schema: String,
    /// The signer, for signed submissions (not for agreement or assessment entries).
    pub signer: Option<Signer>,
    /// The entry's `submitted_at`, when it has one.
    pub submitted_at: Option<Timestamp>,
    /// The RFC 8785 canonical JSON bytes, exactly as appended to the log.
    pub canonical: Vec<u8>,
    /// SHA-256 of `canonical`: resubmitting an id is idempotent only with the same hash.
    pub body_sha256: [u8; 32],
    /// For a report, the facts the store indexes.
    pub report: Option<ReportFacts>,
}

impl EntryRecord {
    /// SHA-256 of canonical entry bytes, as `body_sha256` expects.
    pub fn hash_body(canonical: &[u8]) -> [u8; 32] {
        Sha256::digest(canonical).into()
    }
}

/// The indexed facts of a report entry.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportFacts {
    /// The report id.
    pub id: String,
    /// The monitor that signed it.
    pub monitor: String,
    /// The event kind (`artillery`, `small_arms`, ...).
    pub kind: String,
    /// The observation interval (`start == end` for an instant).
    pub observed_start: Timestamp,
    pub observed_end: Timestamp,
    /// The resolved centre of the reported location, degrees.
    pub lon: f64,
    pub lat: f64,
}

/// An incident row: the filtered columns plus the incident's JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentRow {
    /// `inc:` and the id of the first member report.
    pub id: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Centroid, degrees.
    pub lon: f64,
    pub lat: f64,
    /// Distinct kinds, sorted.
    pub kinds: Vec<String>,
    /// The party the incident is attributed to, if any.
    pub party: Option<String>,
    /// The incident as JSON (the serialization of `pacta_core::corroborate::Incident`).
    pub body: String,
}

/// A finding row: the filtered columns plus the finding's JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingRow {
    /// `{commitment}@{incident}` or `{commitment}@deadline:{party}`.
    pub id: String,
    pub commitment: String,
    /// The party in breach, if attributed.
    pub party: Option<String>,
    /// `provisional`, `contested`, `confirmed` or `dismissed`.
    pub status: String,
    /// The commitment's severity as the agreement names it.
    pub severity: String,
    pub established_at: Timestamp,
    /// The incident the finding rests on, if any.
    pub incident: Option<String>,
    /// The finding as JSON (the serialization of `pacta_core::adjudicate::Finding`).
    pub body: String,
}

/// An obligation row: the filtered columns plus the obligation's JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct ObligationRow {
    pub id: String,
    pub guarantor: String,
    /// `open`, `fulfilled`, `fulfilled_late` or `overdue`.
    pub status: String,
    pub opened_at: Timestamp,
    pub due_at: Timestamp,
    /// The obligation as JSON (the serialization of `pacta_core::respond::Obligation`).
    pub body: String,
}

/// A signed checkpoint of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRecord {
    /// The tree size it commits to.
    pub size: u64,
    /// The RFC 6962 root hash at that size.
    pub root_hash: [u8; 32],
    /// The signed checkpoint note, as served at `/checkpoint`.
    pub note: String,
}

/// A `pacta.assessment/1` entry: the digest of the assessment of the log prefix
/// `[0, entries)` as of `as_of`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssessmentRecord {
    /// Where the assessment entry itself sits in the log.
    pub log_index: u64,
    pub agreement: String,
    pub version: u32,
    pub as_of: Timestamp,
    /// The log size the assessment covers.
    pub entries: u64,
    /// Hex SHA-256 of the assessment's canonical JSON.
    pub digest: String,
}

/// A rectangle in degrees, `min <= max` on both axes (no antimeridian wrap).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl BBox {
    /// Whether a point lies in the rectangle (edges included).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        (self.min_lon..=self.max_lon).contains(&lon) && (self.min_lat..=self.max_lat).contains(&lat)
    }
}

/// A position in a list ordered by `(time, id)`: the last row of a page. The next page holds
/// the rows strictly after it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageKey {
    pub at: Timestamp,
    pub id: String,
}

/// One page of a list, and where the next one starts (`None` on the last page).
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<PageKey>,
}

/// Filters for [`crate::Store::incidents`]. Times filter the incident's `start`:
/// `from <= start < to`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncidentQuery {
    /// Centroid inside this rectangle.
    pub bbox: Option<BBox>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// One of the incident's kinds.
    pub kind: Option<String>,
    /// The attributed party.
    pub party: Option<String>,
    /// Start after this position.
    pub after: Option<PageKey>,
    /// Page size, clamped to `1..=LIMIT_MAX`.
    pub limit: u32,
}

/// Filters for [`crate::Store::findings`]. Times filter `established_at`:
/// `from <= established_at < to`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FindingQuery {
    pub party: Option<String>,
    pub commitment: Option<String>,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub after: Option<PageKey>,
    /// Page size, clamped to `1..=LIMIT_MAX`.
    pub limit: u32,
}

/// Filters for [`crate::Store::obligations`], ordered by `(opened_at, id)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObligationQuery {
    pub guarantor: Option<String>,
    pub status: Option<String>,
    pub after: Option<PageKey>,
    /// Page size, clamped to `1..=LIMIT_MAX`.
    pub limit: u32,
}

/// The page size a backend uses for a requested `limit`.
pub(crate) fn clamp_limit(limit: u32) -> u32 {
    limit.clamp(1, LIMIT_MAX)
}
