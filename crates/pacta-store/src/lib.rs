//! Pacta's storage interface and its SQLite backend: log entries and the indexes derived from
//! them.
//!
//! The log (`pacta-log`) is the source of truth; a store is an index over it that can always be
//! rebuilt by replaying the log. [`Store`] is the one interface the server uses, object-safe
//! (`Arc<dyn Store>`) and free of SQLite-only notions so that a PostgreSQL backend can follow:
//! rows are addressed by their domain ids and log indexes (never by a backend row id), writes
//! go through an explicit [`Transaction`], and lists are paged by a keyset cursor
//! ([`PageKey`]), never by an offset.
//!
//! [`SqliteStore`] is the embedded default (bundled SQLite, WAL, versioned migrations).
//! The conformance suite in `tests/conformance` runs over `&dyn Store`, so every backend
//! passes the same tests.

mod derived;
mod error;
mod model;
mod sqlite;

pub use derived::{DeltaCounts, DerivedDelta, DerivedFingerprints, DerivedRows};
pub use error::StoreError;
pub use model::{
    AssessmentRecord, BBox, CheckpointRecord, EntryRecord, FindingQuery, FindingRow, IncidentQuery,
    IncidentRow, ObligationQuery, ObligationRow, Page, PageKey, ReportFacts, Signer, LIMIT_MAX,
};
pub use pacta_core::time::Timestamp;
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

/// The result type of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One storage interface for log entries and the indexes derived from them.
///
/// Reads see the last committed state. Writes happen only inside a [`Transaction`] obtained
/// from [`Store::begin`]; at most one write transaction is open at a time (a second `begin`
/// waits for the first to end).
pub trait Store: Send + Sync {
    /// Opens a write transaction. Dropping it without [`Transaction::commit`] rolls it back.
    fn begin(&self) -> Result<Box<dyn Transaction + '_>>;

    /// The log index after the last stored entry: where indexing resumes after a restart
    /// (entries `[0, next_log_index)` are stored).
    fn next_log_index(&self) -> Result<u64>;

    /// The entry at a log index.
    fn entry(&self, log_index: u64) -> Result<Option<EntryRecord>>;

    /// The entry with this id (reports, actions, objections, rulings and retractions have
    /// ids; agreement and assessment entries do not): the idempotency lookup of ingest.
    fn entry_by_id(&self, id: &str) -> Result<Option<EntryRecord>>;

    /// Up to `limit` entries with log index `>= from`, in log order.
    fn entries(&self, from: u64, limit: u32) -> Result<Vec<EntryRecord>>;

    /// Up to `limit` entries of one schema (e.g. `pacta.agreement/1`) with log index
    /// `>= from`, in log order.
    fn entries_with_schema(&self, schema: &str, from: u64, limit: u32) -> Result<Vec<EntryRecord>>;

    /// The indexed facts of a report, by report id.
    fn report(&self, id: &str) -> Result<Option<ReportFacts>>;

    /// Incidents matching the query, ordered by `(start, id)`.
    fn incidents(&self, query: &IncidentQuery) -> Result<Page<IncidentRow>>;

    /// One incident by id.
    fn incident(&self, id: &str) -> Result<Option<IncidentRow>>;

    /// Findings matching the query, ordered by `(established_at, id)`.
    fn findings(&self, query: &FindingQuery) -> Result<Page<FindingRow>>;

    /// One finding by id.
    fn finding(&self, id: &str) -> Result<Option<FindingRow>>;

    /// Obligations matching the query, ordered by `(opened_at, id)`.
    fn obligations(&self, query: &ObligationQuery) -> Result<Page<ObligationRow>>;

    /// One obligation by id.
    fn obligation(&self, id: &str) -> Result<Option<ObligationRow>>;

    /// The checkpoint with the largest tree size.
    fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>>;

    /// The checkpoint recorded for exactly this tree size.
    fn checkpoint(&self, size: u64) -> Result<Option<CheckpointRecord>>;

    /// The assessment digest entry with the largest log index.
    fn latest_assessment(&self) -> Result<Option<AssessmentRecord>>;

    /// The id and body hash of every stored derived row, to diff a new assessment against.
    fn derived_fingerprints(&self) -> Result<DerivedFingerprints>;

    /// Replaces the derived rows (incidents, findings, obligations) by `rows`, writing only
    /// the rows that changed, in one transaction.
    ///
    /// This reads the fingerprints of every stored row; a caller that keeps the previous
    /// [`DerivedRows`] should instead apply [`DerivedDelta::between`] in its own transaction.
    fn replace_derived(&self, rows: &DerivedRows) -> Result<DeltaCounts> {
        let delta = DerivedDelta::from_fingerprints(&self.derived_fingerprints()?, rows);
        let counts = delta.counts();
        let mut tx = self.begin()?;
        tx.apply(&delta)?;
        tx.commit()?;
        Ok(counts)
    }
}

/// A write transaction: all its writes become visible together at [`Transaction::commit`],
/// or none of them if it is dropped.
pub trait Transaction {
    /// Stores entries (any order). Storing an entry again with the same log index, id and
    /// body hash is a no-op; a different entry at a used log index, or a used id at another
    /// index, is [`StoreError::Conflict`].
    fn append_entries(&mut self, entries: &[EntryRecord]) -> Result<()>;

    /// Writes the derived rows that changed and deletes those that disappeared.
    fn apply(&mut self, delta: &DerivedDelta) -> Result<()>;

    /// Records a signed checkpoint (replacing one of the same tree size).
    fn put_checkpoint(&mut self, checkpoint: &CheckpointRecord) -> Result<()>;

    /// Records an assessment digest entry (replacing one at the same log index).
    fn put_assessment(&mut self, assessment: &AssessmentRecord) -> Result<()>;

    /// Makes every write of this transaction durable and visible, atomically.
    fn commit(self: Box<Self>) -> Result<()>;
}
