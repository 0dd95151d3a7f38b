//! Verification of a published log by a third party who trusts only the log's public key.
//!
//! Every hash is recomputed from the entry bundles; tiles are never trusted, only compared.
//! (Readers that authenticate a tile by its position in the tree alone, as some tile
//! clients do, can be fed a tile whose hashes were never checked against any entry.)

use crate::checkpoint::Checkpoint;
use crate::error::Error;
use crate::hash::Hash;
use crate::note::NoteVerifier;
use crate::proof::{
    check_against_checkpoint, ConsistencyProof, InclusionProof, ProofFileError, SignedTree,
};
use crate::store::{TileSource, CHECKPOINT_PATH};
use crate::tiles::{decode_tile, tile_path, TileKind, TILE_WIDTH};
use crate::tree::{verify_consistency, verify_inclusion, ProofError, Tree};
use crate::writer::{compare_stored_tiles, rebuild_from_bundles};

/// A log whose checkpoint, entries and tiles all verified.
pub struct VerifiedLog {
    signed: SignedTree,
    tiles_checked: u64,
}

impl VerifiedLog {
    /// The verified checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.signed.checkpoint
    }

    /// The verified checkpoint as served, with its signatures.
    pub fn signed_checkpoint(&self) -> &str {
        &self.signed.signed_checkpoint
    }

    /// A C2SP `tlog-proof` that entry `index` is in the verified checkpoint. Anyone holding
    /// a verified copy of the log can produce proofs; no secret is involved.
    pub fn inclusion_proof(&self, index: u64) -> Result<InclusionProof, Error> {
        self.signed.inclusion_proof(index)
    }

    /// A proof that the tree of the first `old_size` entries is a prefix of the verified
    /// checkpoint's tree.
    pub fn consistency_proof(&self, old_size: u64) -> Result<ConsistencyProof, Error> {
        self.signed.consistency_proof(old_size)
    }

    /// Number of hash tiles compared.
    pub fn tiles_checked(&self) -> u64 {
        self.tiles_checked
    }

    /// Leaf hash of entry `index`, as recomputed from its bundle.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        self.signed.tree.level(0).get(index as usize).copied()
    }

    /// Checks an inclusion proof against this log: its checkpoint must be signed by a
    /// trusted key, the entry at its index must be the one in this log, and its hashes must
    /// lead to its checkpoint's root, which must be this log's root at that size.
    pub fn check_inclusion_proof(
        &self,
        proof: &InclusionProof,
        trusted: &[NoteVerifier],
    ) -> Result<(), ProofFileError> {
        self.check_against_checkpoint(&proof.checkpoint, trusted, |checkpoint| {
            let leaf = self
                .leaf_hash(proof.index)
                .ok_or(ProofError::IndexOutOfRange {
                    index: proof.index,
                    size: self.signed.tree.size(),
                })?;
            verify_inclusion(
                proof.index,
                checkpoint.size,
                &leaf,
                &proof.hashes,
                &checkpoint.root,
            )
        })
    }

    /// Checks a consistency proof: its checkpoint must be signed by a trusted key and match
    /// this log, its old root must be this log's root at the old size, and the hashes must
    /// prove the two consistent.
    pub fn check_consistency_proof(
        &self,
        proof: &ConsistencyProof,
        trusted: &[NoteVerifier],
    ) -> Result<(), ProofFileError> {
        self.check_against_checkpoint(&proof.checkpoint, trusted, |checkpoint| {
            verify_consistency(
                proof.old_size,
                checkpoint.size,
                &proof.hashes,
                &proof.old_root,
                &checkpoint.root,
            )
        })
    }

    /// Opens a proof's checkpoint (trusted signature, this log's origin, this log's root at
    /// its size) and runs `check` against it.
    fn check_against_checkpoint(
        &self,
        signed_checkpoint: &str,
        trusted: &[NoteVerifier],
        check: impl FnOnce(&Checkpoint) -> Result<(), ProofError>,
    ) -> Result<(), ProofFileError> {
        check_against_checkpoint(
            signed_checkpoint,
            trusted,
            Some(&self.signed.checkpoint.origin),
            |checkpoint| self.check_root(checkpoint).and_then(|()| check(checkpoint)),
        )
        .map(|_| ())
    }

    /// A checkpoint from a proof must agree with the verified tree at its size.
    fn check_root(&self, checkpoint: &Checkpoint) -> Result<(), ProofError> {
        let root = self.signed.tree.root_at(checkpoint.size)?;
        if root != checkpoint.root {
            return Err(ProofError::RootMismatch {
                computed: root,
                expected: checkpoint.root,
            });
        }
        Ok(())
    }
}

/// Verifies a whole published log: the checkpoint signature (by one of `trusted`, and for
/// `origin` when given), every entry bundle, the root recomputed from the entries, and every
/// stored hash tile. Errors name the file and index that disagree.
pub fn verify_log(
    source: &dyn TileSource,
    trusted: &[NoteVerifier],
    origin: Option<&str>,
) -> Result<VerifiedLog, Error> {
    verify_log_with_progress(source, trusted, origin, &mut |_, _| {})
}

/// [`verify_log`], telling `progress` how many entries of how many have been read and
/// hashed after each bundle (for a progress bar on large logs).
pub fn verify_log_with_progress(
    source: &dyn TileSource,
    trusted: &[NoteVerifier],
    origin: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifiedLog, Error> {
    let note = source
        .fetch(CHECKPOINT_PATH)?
        .ok_or_else(|| Error::Inconsistent(format!("{CHECKPOINT_PATH} is missing")))?;
    let checkpoint = Checkpoint::open(&note, trusted, origin)?;
    let signed_checkpoint = String::from_utf8(note)
        .map_err(|_| Error::Inconsistent(format!("{CHECKPOINT_PATH} is not UTF-8")))?;
    let total = checkpoint.size;
    let (tree, _) = rebuild_from_bundles(source, total, &mut |done| progress(done, total))?;
    let root = tree.root();
    if root != checkpoint.root {
        return Err(locate_tampered_entry(source, &tree, &checkpoint)
            .unwrap_or_else(|| {
                Error::Inconsistent(format!(
                    "entries 0..{} hash to root {root}, but the checkpoint signs {} (neither the entry bundles nor the level-0 tiles match it)",
                    checkpoint.size, checkpoint.root
                ))
            }));
    }
    let tiles_checked = compare_stored_tiles(source, &tree)?;
    Ok(VerifiedLog {
        signed: SignedTree {
            tree,
            checkpoint,
            signed_checkpoint,
        },
        tiles_checked,
    })
}

/// When the entries do not give the signed root but the stored level-0 tiles do, the
/// entries are at fault: name the first entry whose hash differs.
fn locate_tampered_entry(
    source: &dyn TileSource,
    from_entries: &Tree,
    checkpoint: &Checkpoint,
) -> Option<Error> {
    let mut from_tiles = Tree::new();
    let mut stored_leaves = Vec::new();
    for (index, width) in crate::tiles::tiles_for_size(0, checkpoint.size) {
        let bytes = source
            .fetch(&tile_path(TileKind::Hashes(0), index, width))
            .ok()??;
        let hashes = decode_tile(&bytes)?;
        if hashes.len() as u64 != width {
            return None;
        }
        stored_leaves.extend(hashes);
    }
    for hash in &stored_leaves {
        from_tiles.push_leaf_hash(*hash);
    }
    if from_tiles.root() != checkpoint.root {
        return None;
    }
    let (index, (recomputed, signed)) = from_entries
        .level(0)
        .iter()
        .zip(&stored_leaves)
        .enumerate()
        .find(|(_, (a, b))| a != b)?;
    let index = index as u64;
    let bundle = index / TILE_WIDTH;
    let width = (checkpoint.size - bundle * TILE_WIDTH).min(TILE_WIDTH);
    Some(Error::Inconsistent(format!(
        "entry {index} (entry {} of {}) hashes to {recomputed}, but the signed tree has {signed}: the entry was altered",
        index % TILE_WIDTH,
        tile_path(TileKind::Entries, bundle, width)
    )))
}
