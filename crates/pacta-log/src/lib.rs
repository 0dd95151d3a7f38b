//! A transparency log that anyone can verify without trusting its operator.
//!
//! - [`hash`] and [`tree`]: the RFC 6962 / RFC 9162 Merkle tree, with inclusion and
//!   consistency proofs and their verification;
//! - [`note`]: C2SP `signed-note` (Ed25519) and `tlog-cosignature` (witness cosignatures);
//! - [`checkpoint`]: C2SP `tlog-checkpoint`;
//! - [`tiles`]: C2SP `tlog-tiles` paths, tiles and entry bundles;
//! - [`proof`]: C2SP `tlog-proof` inclusion proof files, and consistency proof files;
//! - [`store`]: where the published files live ([`store::DirStore`] for a directory);
//! - [`writer`]: the log writer (append durably, integrate, publish a checkpoint);
//! - [`verify`]: verification of a whole published log from its files.
//!
//! A verifier needs only [`verify::verify_log`] with a [`store::TileSource`] and the log's
//! verifier key ([`note::NoteVerifier::parse`]).

#![deny(missing_docs)]

pub mod checkpoint;
pub mod error;
pub mod hash;
mod journal;
pub mod note;
pub mod proof;
pub mod store;
pub mod tiles;
pub mod tree;
pub mod verify;
pub mod writer;

pub use checkpoint::Checkpoint;
pub use error::Error;
pub use hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT};
pub use note::{NoteSigner, NoteVerifier};
pub use proof::{ConsistencyProof, InclusionProof};
pub use store::{DirStore, TileSource, TileStore};
pub use tiles::MAX_ENTRY_BYTES;
pub use tree::{verify_consistency, verify_inclusion, Tree};
pub use verify::{verify_log, verify_log_with_progress, VerifiedLog};
pub use writer::LogWriter;
