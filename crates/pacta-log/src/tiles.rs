//! C2SP `tlog-tiles`: tile and entry-bundle paths, and the entry-bundle encoding.
//!
//! Tiles have height 8: a tile at level `L` holds up to 256 consecutive hashes of tree
//! level `8 L`. A full tile is at `tile/L/N`; a partial one of width `W` (1..=255) at
//! `tile/L/N.p/W`. Entry bundles (`tile/entries/N[.p/W]`) hold the entries themselves, each
//! prefixed by its length as a big-endian `u16`.

use crate::hash::{Hash, HASH_BYTES};

/// Hashes per full tile, and entries per full bundle.
pub const TILE_WIDTH: u64 = 256;
/// Tree levels spanned by one tile level.
pub const TILE_HEIGHT: u32 = 8;
/// Largest entry the bundle format can carry: its length prefix is a `u16`.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// Which kind of resource a tile path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileKind {
    /// A hash tile at a tile level.
    Hashes(u8),
    /// An entry bundle.
    Entries,
}

/// Path of a tile or bundle: `index` is the tile index, `width` the number of hashes or
/// entries it holds (256 for a full one).
pub fn tile_path(kind: TileKind, index: u64, width: u64) -> String {
    let level = match kind {
        TileKind::Hashes(level) => level.to_string(),
        TileKind::Entries => "entries".to_owned(),
    };
    let mut path = format!("tile/{level}/{}", index_path(index));
    if width < TILE_WIDTH {
        path.push_str(&format!(".p/{width}"));
    }
    path
}

/// Encodes an index as groups of three digits, all but the last prefixed by `x`:
/// 1234067 becomes `x001/x234/067`.
fn index_path(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

/// The tiles (index, width) at one tile level for a tree of `size` entries: every full
/// tile and, if the row does not end on a tile boundary, the final partial one.
pub fn tiles_for_size(level: u8, size: u64) -> impl Iterator<Item = (u64, u64)> {
    let count = hashes_at_level(level, size);
    let tiles = count.div_ceil(TILE_WIDTH);
    (0..tiles).map(move |index| (index, (count - index * TILE_WIDTH).min(TILE_WIDTH)))
}

/// Number of hashes a tree of `size` entries has at tile level `level` (each covering
/// `256^level` entries).
pub fn hashes_at_level(level: u8, size: u64) -> u64 {
    size.checked_shr(TILE_HEIGHT * u32::from(level))
        .unwrap_or(0)
}

/// Number of tile levels that hold at least one hash for a tree of `size` entries.
pub fn tile_levels(size: u64) -> u8 {
    let mut levels = 0u8;
    while hashes_at_level(levels, size) > 0 {
        levels += 1;
    }
    levels
}

/// Why an entry or a bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// An entry is larger than [`MAX_ENTRY_BYTES`].
    #[error("entry of {size} bytes exceeds the maximum entry size of {MAX_ENTRY_BYTES} bytes (the tlog-tiles bundle length prefix is a 16-bit integer)")]
    EntryTooLarge {
        /// Size of the refused entry.
        size: usize,
    },
    /// A bundle ends inside an entry or its length prefix.
    #[error("bundle truncated in entry {entry} at byte {offset}")]
    Truncated {
        /// Position of the entry within the bundle.
        entry: usize,
        /// Byte offset where it was cut.
        offset: usize,
    },
}

/// Checks that an entry fits the bundle format.
pub fn check_entry_size(entry: &[u8]) -> Result<(), BundleError> {
    if entry.len() > MAX_ENTRY_BYTES {
        return Err(BundleError::EntryTooLarge { size: entry.len() });
    }
    Ok(())
}

/// Encodes entries as a bundle.
pub fn encode_bundle<E: AsRef<[u8]>>(entries: &[E]) -> Result<Vec<u8>, BundleError> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.as_ref().len() + 2).sum());
    for entry in entries {
        let entry = entry.as_ref();
        let length = u16::try_from(entry.len())
            .map_err(|_| BundleError::EntryTooLarge { size: entry.len() })?;
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(entry);
    }
    Ok(out)
}

/// Decodes a bundle into its entries.
pub fn decode_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, BundleError> {
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let truncated = BundleError::Truncated {
            entry: entries.len(),
            offset,
        };
        let prefix = bytes.get(offset..offset + 2).ok_or(truncated.clone())?;
        let length = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        let entry = bytes
            .get(offset + 2..offset + 2 + length)
            .ok_or(truncated)?;
        entries.push(entry);
        offset += 2 + length;
    }
    Ok(entries)
}

/// Concatenates hashes into tile bytes.
pub fn encode_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|hash| hash.0).collect()
}

/// Splits tile bytes into hashes; `None` if the length is not a multiple of 32.
pub fn decode_tile(bytes: &[u8]) -> Option<Vec<Hash>> {
    if !bytes.len().is_multiple_of(HASH_BYTES) {
        return None;
    }
    bytes
        .chunks_exact(HASH_BYTES)
        .map(Hash::from_slice)
        .collect()
}
