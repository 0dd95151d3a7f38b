//! The store's one error type.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database itself failed (I/O, corruption, lock timeout), during `context`.
    #[error("store: {context}: {source}")]
    Backend {
        context: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A write contradicts what is stored (another entry at a used log index, a used id
    /// at another index).
    #[error("store conflict: {0}")]
    Conflict(String),
    /// A stored value cannot be read back as the interface type (e.g. a negative log index).
    #[error("store holds an invalid value: {0}")]
    Corrupt(String),
    /// The database was written by a newer version of Pacta.
    #[error("store schema version {found} is newer than this build supports ({supported})")]
    SchemaTooNew { found: i64, supported: i64 },
    /// A derived row could not be built from the assessment.
    #[error("cannot serialize {what}: {source}")]
    Serialize {
        what: String,
        #[source]
        source: serde_json::Error,
    },
}
