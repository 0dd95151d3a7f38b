//! Self-contained proof files.
//!
//! Inclusion proofs use C2SP `tlog-proof` (`c2sp.org/tlog-proof@v1`): optional `extra`
//! line, `index N`, one base64 hash per line, a blank line, then the signed checkpoint
//! verbatim. C2SP defines no file format for consistency proofs, so this crate uses the
//! same shape: `pacta.log/consistency-proof@v1`, `old <size> <base64 root>`, the hashes, a
//! blank line and the signed checkpoint of the larger tree.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::error::Error;
use crate::hash::{leaf_hash, Hash};
use crate::note::NoteVerifier;
use crate::tree::{verify_consistency, verify_inclusion, ProofError, Tree};

/// First line of a C2SP inclusion proof.
pub const INCLUSION_HEADER: &str = "c2sp.org/tlog-proof@v1";
/// First line of a consistency proof file.
pub const CONSISTENCY_HEADER: &str = "pacta.log/consistency-proof@v1";

/// Why a proof file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofFileError {
    /// A line is malformed.
    #[error("proof line {line}: {reason}")]
    Line {
        /// One-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The embedded checkpoint is malformed or not signed by a trusted key.
    #[error("proof checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The hashes do not prove what the file claims.
    #[error("proof does not verify against its checkpoint (size {size}): {source}")]
    Invalid {
        /// Size of the checkpointed tree.
        size: u64,
        /// Why.
        source: ProofError,
    },
}

/// An inclusion proof of one entry, with the checkpoint it leads to (C2SP `tlog-proof`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InclusionProof {
    /// Unauthenticated application data.
    pub extra: Option<Vec<u8>>,
    /// Index of the entry.
    pub index: u64,
    /// Sibling hashes from the leaf upwards.
    pub hashes: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: String,
}

/// A consistency proof from an earlier tree to the checkpointed one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// Size of the earlier tree.
    pub old_size: u64,
    /// Root of the earlier tree.
    pub old_root: Hash,
    /// The proof hashes (RFC 9162 §2.1.4).
    pub hashes: Vec<Hash>,
    /// The signed checkpoint of the later tree, verbatim.
    pub checkpoint: String,
}

fn line_error(line: usize, reason: impl Into<String>) -> ProofFileError {
    ProofFileError::Line {
        line,
        reason: reason.into(),
    }
}

fn parse_decimal(text: &str, line: usize, what: &str) -> Result<u64, ProofFileError> {
    let canonical = text == "0" || (!text.starts_with('0') && !text.is_empty());
    text.parse::<u64>()
        .ok()
        .filter(|_| canonical && text.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            line_error(
                line,
                format!("{what} must be a decimal without leading zeros"),
            )
        })
}

/// Splits `header\n...lines...\n\ncheckpoint` into its head lines and checkpoint.
fn split_proof<'a>(text: &'a str, header: &str) -> Result<(Vec<&'a str>, &'a str), ProofFileError> {
    let (head, checkpoint) = text
        .split_once("\n\n")
        .ok_or_else(|| line_error(1, "no blank line before the checkpoint"))?;
    let lines: Vec<&str> = head.split('\n').collect();
    if lines.first() != Some(&header) {
        return Err(line_error(1, format!("expected {header:?}")));
    }
    Ok((lines, checkpoint))
}

/// Appends the hash lines, the blank line and the checkpoint to a proof's head lines.
fn finish_proof(mut out: String, hashes: &[Hash], checkpoint: &str) -> String {
    for hash in hashes {
        out.push_str(&hash.to_base64());
        out.push('\n');
    }
    out.push('\n');
    out.push_str(checkpoint);
    out
}

/// A tree and the signed checkpoint of its first `checkpoint.size` entries: the state a
/// log writer and a verified copy of a log both hold and cut proofs from.
pub(crate) struct SignedTree {
    pub(crate) tree: Tree,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) signed_checkpoint: String,
}

impl SignedTree {
    /// An inclusion proof of entry `index` in the checkpointed tree.
    pub(crate) fn inclusion_proof(&self, index: u64) -> Result<InclusionProof, Error> {
        Ok(InclusionProof {
            extra: None,
            index,
            hashes: self.tree.inclusion_proof(index, self.checkpoint.size)?,
            checkpoint: self.signed_checkpoint.clone(),
        })
    }

    /// A consistency proof from the first `old_size` entries to the checkpointed tree.
    pub(crate) fn consistency_proof(&self, old_size: u64) -> Result<ConsistencyProof, Error> {
        Ok(ConsistencyProof {
            old_size,
            old_root: self.tree.root_at(old_size)?,
            hashes: self
                .tree
                .consistency_proof(old_size, self.checkpoint.size)?,
            checkpoint: self.signed_checkpoint.clone(),
        })
    }
}

/// Opens a proof's signed checkpoint (signed by one of `trusted`, for `origin` when given)
/// and runs `check` against it; the proof is valid when both succeed.
pub(crate) fn check_against_checkpoint(
    signed_checkpoint: &str,
    trusted: &[NoteVerifier],
    origin: Option<&str>,
    check: impl FnOnce(&Checkpoint) -> Result<(), ProofError>,
) -> Result<Checkpoint, ProofFileError> {
    let checkpoint = Checkpoint::open(signed_checkpoint.as_bytes(), trusted, origin)?;
    check(&checkpoint).map_err(|source| ProofFileError::Invalid {
        size: checkpoint.size,
        source,
    })?;
    Ok(checkpoint)
}

/// Most hashes a proof file may hold. In a tree of fewer than 2^64 entries an inclusion
/// proof has at most 64 hashes and a consistency proof at most 65; a longer list is
/// refused before it is decoded rather than carried into verification.
pub const MAX_PROOF_HASHES: usize = 65;

fn parse_hash_lines(lines: &[&str], first_line: usize) -> Result<Vec<Hash>, ProofFileError> {
    if lines.len() > MAX_PROOF_HASHES {
        return Err(line_error(
            first_line + MAX_PROOF_HASHES,
            format!("more than {MAX_PROOF_HASHES} hashes; no proof in a tree of fewer than 2^64 entries is that long"),
        ));
    }
    lines
        .iter()
        .enumerate()
        .map(|(offset, line)| {
            Hash::from_base64(line)
                .ok_or_else(|| line_error(first_line + offset, "not base64 of a 32-byte hash"))
        })
        .collect()
}

impl InclusionProof {
    /// The proof file text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{INCLUSION_HEADER}\n");
        if let Some(extra) = &self.extra {
            out.push_str(&format!("extra {}\n", STANDARD.encode(extra)));
        }
        out.push_str(&format!("index {}\n", self.index));
        finish_proof(out, &self.hashes, &self.checkpoint)
    }

    /// Parses a proof file (without verifying it).
    pub fn parse(text: &str) -> Result<InclusionProof, ProofFileError> {
        let (lines, checkpoint) = split_proof(text, INCLUSION_HEADER)?;
        let mut next = 1;
        let mut extra = None;
        if let Some(encoded) = lines.get(next).and_then(|l| l.strip_prefix("extra ")) {
            extra = Some(
                STANDARD
                    .decode(encoded)
                    .map_err(|_| line_error(next + 1, "extra data is not base64"))?,
            );
            next += 1;
        }
        let index_text = lines
            .get(next)
            .and_then(|l| l.strip_prefix("index "))
            .ok_or_else(|| line_error(next + 1, "expected \"index N\""))?;
        let index = parse_decimal(index_text, next + 1, "index")?;
        let hashes = parse_hash_lines(lines.get(next + 1..).unwrap_or_default(), next + 2)?;
        Ok(InclusionProof {
            extra,
            index,
            hashes,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// Verifies that `entry` is at the proof's index in the checkpointed tree, and that the
    /// checkpoint is signed by a trusted key (and is for `origin`, when given).
    pub fn verify(
        &self,
        entry: &[u8],
        trusted: &[NoteVerifier],
        origin: Option<&str>,
    ) -> Result<Checkpoint, ProofFileError> {
        check_against_checkpoint(&self.checkpoint, trusted, origin, |checkpoint| {
            verify_inclusion(
                self.index,
                checkpoint.size,
                &leaf_hash(entry),
                &self.hashes,
                &checkpoint.root,
            )
        })
    }
}

impl ConsistencyProof {
    /// The proof file text.
    pub fn to_text(&self) -> String {
        let out = format!(
            "{CONSISTENCY_HEADER}\nold {} {}\n",
            self.old_size,
            self.old_root.to_base64()
        );
        finish_proof(out, &self.hashes, &self.checkpoint)
    }

    /// Parses a proof file (without verifying it).
    pub fn parse(text: &str) -> Result<ConsistencyProof, ProofFileError> {
        let (lines, checkpoint) = split_proof(text, CONSISTENCY_HEADER)?;
        let old = lines
            .get(1)
            .and_then(|l| l.strip_prefix("old "))
            .ok_or_else(|| line_error(2, "expected \"old SIZE ROOT\""))?;
        let (size_text, root_text) = old
            .split_once(' ')
            .ok_or_else(|| line_error(2, "expected \"old SIZE ROOT\""))?;
        let old_size = parse_decimal(size_text, 2, "old size")?;
        let old_root = Hash::from_base64(root_text)
            .ok_or_else(|| line_error(2, "old root is not base64 of a 32-byte hash"))?;
        let hashes = parse_hash_lines(lines.get(2..).unwrap_or_default(), 3)?;
        Ok(ConsistencyProof {
            old_size,
            old_root,
            hashes,
            checkpoint: checkpoint.to_owned(),
        })
    }

    /// Verifies that the tree of `old_size` entries with root `old_root` is a prefix of the
    /// checkpointed tree, and that the checkpoint is signed by a trusted key.
    pub fn verify(
        &self,
        trusted: &[NoteVerifier],
        origin: Option<&str>,
    ) -> Result<Checkpoint, ProofFileError> {
        check_against_checkpoint(&self.checkpoint, trusted, origin, |checkpoint| {
            verify_consistency(
                self.old_size,
                checkpoint.size,
                &self.hashes,
                &self.old_root,
                &checkpoint.root,
            )
        })
    }
}
