//! The crate's error type: every variant says what failed and where.

use crate::checkpoint::CheckpointError;
use crate::note::NoteError;
use crate::proof::ProofFileError;
use crate::store::StoreError;
use crate::tiles::BundleError;
use crate::tree::ProofError;

/// Any failure of the log or of its verification.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A checkpoint is malformed, for another log, or not signed by a trusted key.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A key or note is malformed.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// An entry bundle is malformed, or an entry is too large.
    #[error("{path}: {source}")]
    Bundle {
        /// The bundle path (or `append` for a refused entry).
        path: String,
        /// What is wrong.
        source: BundleError,
    },
    /// A proof could not be generated.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// A proof file is malformed or does not verify.
    #[error("{path}: {source}")]
    ProofFile {
        /// The proof file.
        path: String,
        /// What is wrong.
        source: ProofFileError,
    },
    /// Another writer holds the log's lock: two writers appending to one log would fork it.
    #[error("{path} is locked by another writer of this log, in this or another process; only one may append at a time, or the log could fork")]
    Locked {
        /// The lock file.
        path: String,
    },
    /// Stored data disagrees with itself or with a signed checkpoint. The message says which
    /// file, which index and which two values disagree.
    #[error("{0}")]
    Inconsistent(String),
}
