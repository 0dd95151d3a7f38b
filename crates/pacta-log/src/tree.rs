//! The Merkle tree of RFC 9162 §2.1: root computation, inclusion and consistency proofs,
//! and their verification.
//!
//! [`Tree`] keeps every complete subtree hash in memory (about 64 bytes per entry), so that
//! roots and proofs for any earlier size cost O(log n) hash operations.

use crate::hash::{leaf_hash, node_hash, Hash, EMPTY_ROOT};

/// Why a proof failed to verify, or could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size.
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The index asked for.
        index: u64,
        /// The size of the tree.
        size: u64,
    },
    /// A tree size beyond the entries the tree holds (a proof or checkpoint newer than the
    /// copy of the log it is checked against).
    #[error("tree size {size} is beyond the {held} entries held")]
    SizeBeyondTree {
        /// The size asked for.
        size: u64,
        /// The number of entries held.
        held: u64,
    },
    /// The first size of a consistency proof exceeds the second.
    #[error("cannot prove size {old} consistent with smaller size {new}")]
    SizesOutOfOrder {
        /// The earlier size.
        old: u64,
        /// The later size.
        new: u64,
    },
    /// The proof has more or fewer hashes than the sizes call for.
    #[error("proof has {actual} hashes, expected {expected}")]
    WrongLength {
        /// How many hashes the sizes call for.
        expected: usize,
        /// How many the proof has.
        actual: usize,
    },
    /// The proof leads to a root other than the one given.
    #[error("proof leads to root {computed}, expected {expected}")]
    RootMismatch {
        /// The root the proof computes.
        computed: Hash,
        /// The root it should reach.
        expected: Hash,
    },
    /// For equal sizes, the two roots must be equal.
    #[error("equal sizes {size} with different roots {old} and {new}")]
    EqualSizesDifferentRoots {
        /// The common size.
        size: u64,
        /// The first root.
        old: Hash,
        /// The second root.
        new: Hash,
    },
}

/// An append-only Merkle tree holding every complete subtree hash.
#[derive(Clone, Default)]
pub struct Tree {
    /// `levels[k][i]` is the hash of leaves `i * 2^k .. (i + 1) * 2^k`.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree { levels: Vec::new() }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Appends the hash of one entry (see [`leaf_hash`]).
    pub fn push_leaf_hash(&mut self, hash: Hash) {
        let mut level = 0;
        let mut current = hash;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(current);
            if row.len() % 2 == 1 {
                return;
            }
            let left = row[row.len() - 2];
            current = node_hash(&left, &current);
            level += 1;
        }
    }

    /// Appends one entry.
    pub fn push_entry(&mut self, entry: &[u8]) {
        self.push_leaf_hash(leaf_hash(entry));
    }

    /// Hashes of the complete subtrees at `level` (each covering `2^level` leaves).
    pub fn level(&self, level: usize) -> &[Hash] {
        self.levels.get(level).map_or(&[], Vec::as_slice)
    }

    /// Root of the tree made of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        if size > self.size() {
            return Err(ProofError::SizeBeyondTree {
                size,
                held: self.size(),
            });
        }
        if size == 0 {
            return Ok(EMPTY_ROOT);
        }
        Ok(self.subtree(0, size))
    }

    /// Root of the whole tree.
    pub fn root(&self) -> Hash {
        self.root_at(self.size()).unwrap_or(EMPTY_ROOT)
    }

    /// Hash of leaves `lo..hi`, where `lo < hi <= size` and `lo` is a multiple of the
    /// largest power of two below `hi - lo` (true of every subtree RFC 9162 visits).
    fn subtree(&self, lo: u64, hi: u64) -> Hash {
        let width = hi - lo;
        if width.is_power_of_two() {
            let level = width.trailing_zeros() as usize;
            if let Some(hash) = self
                .levels
                .get(level)
                .and_then(|row| row.get((lo >> level) as usize))
            {
                return *hash;
            }
        }
        let split = largest_power_of_two_below(width);
        node_hash(&self.subtree(lo, lo + split), &self.subtree(lo + split, hi))
    }

    /// Inclusion proof (RFC 9162 §2.1.3.1) of leaf `index` in the tree of the first `size`
    /// leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        if size > self.size() {
            return Err(ProofError::SizeBeyondTree {
                size,
                held: self.size(),
            });
        }
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.inclusion_path(index, 0, size, &mut proof);
        Ok(proof)
    }

    fn inclusion_path(&self, index: u64, lo: u64, hi: u64, proof: &mut Vec<Hash>) {
        if hi - lo == 1 {
            return;
        }
        let split = largest_power_of_two_below(hi - lo);
        if index < lo + split {
            self.inclusion_path(index, lo, lo + split, proof);
            proof.push(self.subtree(lo + split, hi));
        } else {
            self.inclusion_path(index, lo + split, hi, proof);
            proof.push(self.subtree(lo, lo + split));
        }
    }

    /// Consistency proof (RFC 9162 §2.1.4.1) between the trees of the first `old` and the
    /// first `new` leaves.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        if old > new {
            return Err(ProofError::SizesOutOfOrder { old, new });
        }
        if new > self.size() {
            return Err(ProofError::SizeBeyondTree {
                size: new,
                held: self.size(),
            });
        }
        let mut proof = Vec::new();
        if old > 0 && old < new {
            self.consistency_path(old, 0, new, true, &mut proof);
        }
        Ok(proof)
    }

    fn consistency_path(&self, old: u64, lo: u64, hi: u64, whole: bool, proof: &mut Vec<Hash>) {
        if lo + old == hi {
            if !whole {
                proof.push(self.subtree(lo, hi));
            }
            return;
        }
        let split = largest_power_of_two_below(hi - lo);
        if old <= split {
            self.consistency_path(old, lo, lo + split, whole, proof);
            proof.push(self.subtree(lo + split, hi));
        } else {
            self.consistency_path(old - split, lo + split, hi, false, proof);
            proof.push(self.subtree(lo, lo + split));
        }
    }
}

/// Largest power of two strictly below `n`, for `n >= 2`.
fn largest_power_of_two_below(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2) that the leaf with hash `leaf` sits at
/// `index` in the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    let computed = root_from_inclusion(index, size, leaf, proof)?;
    if &computed != root {
        return Err(ProofError::RootMismatch {
            computed,
            expected: *root,
        });
    }
    Ok(())
}

/// The root that an inclusion proof leads to, checking only its shape.
pub fn root_from_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_length(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            actual: proof.len(),
        });
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut result = *leaf;
    for sibling in proof {
        if fnode & 1 == 1 || fnode == snode {
            result = node_hash(sibling, &result);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            result = node_hash(&result, sibling);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    Ok(result)
}

/// Number of hashes in an inclusion proof of `index` in a tree of `size` leaves.
fn inclusion_proof_length(index: u64, size: u64) -> usize {
    // The path splits into an inner part, below the point where the paths to `index` and
    // to the last leaf diverge, and a border part, one hash per set bit above it.
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    let border = (index >> inner).count_ones();
    (inner + border) as usize
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2) between the tree of `old` leaves with
/// root `old_root` and the tree of `new` leaves with root `new_root`.
pub fn verify_consistency(
    old: u64,
    new: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::SizesOutOfOrder { old, new });
    }
    if old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        if old_root != new_root {
            return Err(ProofError::EqualSizesDifferentRoots {
                size: old,
                old: *old_root,
                new: *new_root,
            });
        }
        return Ok(());
    }
    if old == 0 {
        // Every tree extends the empty tree; a proof has nothing to show.
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        return Ok(());
    }
    let expected = consistency_proof_length(old, new);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            actual: proof.len(),
        });
    }
    // When `old` is a complete subtree of `new`, its root is the first node of the path and
    // the proof omits it.
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let mut fnode = old - 1;
    let mut snode = new - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength {
            expected,
            actual: 0,
        });
    };
    let mut old_hash = *first;
    let mut new_hash = *first;
    for node in rest {
        if snode == 0 {
            return Err(ProofError::WrongLength {
                expected,
                actual: proof.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            old_hash = node_hash(node, &old_hash);
            new_hash = node_hash(node, &new_hash);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            new_hash = node_hash(&new_hash, node);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if &old_hash != old_root {
        return Err(ProofError::RootMismatch {
            computed: old_hash,
            expected: *old_root,
        });
    }
    if &new_hash != new_root {
        return Err(ProofError::RootMismatch {
            computed: new_hash,
            expected: *new_root,
        });
    }
    Ok(())
}

/// Number of hashes in a consistency proof between sizes `0 < old < new`.
fn consistency_proof_length(old: u64, new: u64) -> usize {
    let inner = 64 - ((old - 1) ^ (new - 1)).leading_zeros();
    let border = ((old - 1) >> inner).count_ones();
    // The path starts at the level of the lowest complete subtree of `old`; its root is
    // sent as the first hash unless `old` is that very subtree.
    let shift = old.trailing_zeros();
    let seed = u32::from(!old.is_power_of_two());
    (seed + inner - shift + border) as usize
}
