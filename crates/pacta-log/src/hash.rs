//! RFC 6962 / RFC 9162 hashing: leaves are `SHA-256(0x00 || entry)`, interior nodes are
//! `SHA-256(0x01 || left || right)`, and the empty tree hashes to `SHA-256("")`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// Number of bytes in a SHA-256 hash.
pub const HASH_BYTES: usize = 32;

/// A SHA-256 hash of a leaf, an interior node or a tree.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash(pub [u8; HASH_BYTES]);

/// Root of the empty tree (RFC 6962 §2.1: the hash of the empty string).
pub const EMPTY_ROOT: Hash = Hash([
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
]);

impl Hash {
    /// Reads a hash from exactly 32 bytes; `None` for any other length.
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; HASH_BYTES]>::try_from(bytes).ok().map(Hash)
    }

    /// Parses standard base64 (RFC 4648 §4) of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Option<Hash> {
        STANDARD
            .decode(text)
            .ok()
            .and_then(|bytes| Hash::from_slice(&bytes))
    }

    /// Parses 64 lowercase or uppercase hexadecimal digits.
    pub fn from_hex(text: &str) -> Option<Hash> {
        if text.len() != 2 * HASH_BYTES || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; HASH_BYTES];
        for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Hash(out))
    }

    /// Standard base64, as in checkpoints and proofs.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Lowercase hexadecimal.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

impl std::fmt::Debug for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl std::fmt::Display for Hash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

/// Hash of a log entry: `SHA-256(0x00 || entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(entry);
    Hash(hasher.finalize().into())
}

/// Hash of an interior node: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}
