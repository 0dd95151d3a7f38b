//! The log writer, staged as in Tessera: append durably to the journal, integrate batches
//! into the tree, write tiles and entry bundles, sign and publish a checkpoint.
//!
//! Invariants:
//! - an append returns only after its journal record is synced, and every journal record
//!   is integrated by a later [`LogWriter::integrate`], even after a crash;
//! - every checkpoint signed extends the previous one (the new tree's root at the old size
//!   equals the old root, checked before signing), so two signed checkpoints never fork;
//! - tiles and bundles are written once; rewriting one with other bytes is refused;
//! - on open, the stored entries, tiles, journal and checkpoint are checked against each
//!   other and the writer refuses to start on any disagreement, naming it;
//! - one writer at a time: a writer holds an exclusive lock on `JOURNAL.lock` (the journal
//!   path with `.lock` appended) from before it reads or writes anything until it is
//!   dropped, so two processes can never append to, or integrate, the same log.

use std::fs::{File, OpenOptions, TryLockError};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::checkpoint::Checkpoint;
use crate::error::Error;
use crate::hash::{leaf_hash, Hash, EMPTY_ROOT};
use crate::journal::Journal;
use crate::note::{sign_note, NoteSigner};
use crate::proof::{ConsistencyProof, InclusionProof, SignedTree};
use crate::store::{io_error, TileStore, CHECKPOINT_PATH};
use crate::tiles::{
    check_entry_size, decode_bundle, decode_tile, encode_bundle, encode_tile, hashes_at_level,
    tile_levels, tile_path, tiles_for_size, TileKind, TILE_HEIGHT, TILE_WIDTH,
};
use crate::tree::Tree;

/// Default journal size above which a fully integrated journal is started afresh, bounding
/// both disk use and the time to read it back on open.
pub const JOURNAL_COMPACT_BYTES: u64 = 64 << 20;

/// A writable log over a [`TileStore`] and a journal file.
pub struct LogWriter<S: TileStore> {
    store: S,
    journal: Journal,
    journal_path: PathBuf,
    signer: NoteSigner,
    journal_compact_bytes: u64,
    /// The integrated tree and the last published checkpoint.
    signed: SignedTree,
    /// Appended but not yet integrated.
    pending: Vec<(Vec<u8>, Hash)>,
    /// Bytes of a torn, never acknowledged append cut from the journal on open.
    discarded_journal_bytes: u64,
    /// Entries of the last, incomplete bundle of the integrated tree.
    bundle_tail: Vec<Vec<u8>>,
    /// Why the writer stopped, if it did: after a failed journal write or integration the
    /// state in memory may differ from the state on disk (a write may be half done, a sync
    /// may have lost data), so the writer refuses to go on; reopening rebuilds both from
    /// what is on disk.
    failed: Option<String>,
    /// The exclusive lock on the log, released when the writer is dropped (closing the
    /// file releases it, also when the process dies).
    _lock: File,
}

impl<S: TileStore> LogWriter<S> {
    /// Creates an empty log: a fresh journal and a signed checkpoint of size 0. Fails if the
    /// store already holds a checkpoint.
    pub fn create(
        store: S,
        journal_path: &Path,
        origin: &str,
        signer: NoteSigner,
    ) -> Result<LogWriter<S>, Error> {
        let lock = lock_log(journal_path)?;
        if store.fetch(CHECKPOINT_PATH)?.is_some() {
            return Err(Error::Inconsistent(format!(
                "a checkpoint already exists; refusing to create a second log over it (origin {origin})"
            )));
        }
        if journal_path.exists() {
            return Err(Error::Inconsistent(format!(
                "journal {} already exists; refusing to create a log over it",
                journal_path.display()
            )));
        }
        Journal::create(journal_path, 0)?;
        let checkpoint = Checkpoint {
            origin: origin.to_owned(),
            size: 0,
            root: EMPTY_ROOT,
            extensions: Vec::new(),
        };
        store.put_checkpoint(sign_note(&checkpoint.to_text(), &[&signer], 0)?.as_bytes())?;
        // Opening the log just written costs nothing for an empty log and leaves one way
        // to build a writer.
        LogWriter::open_locked(store, journal_path, origin, signer, lock)
    }

    /// Opens an existing log, rebuilding the tree from the entry bundles and checking it
    /// against the stored tiles, the journal and the last checkpoint. Cost: one SHA-256 per
    /// entry and a read of every bundle and tile.
    pub fn open(
        store: S,
        journal_path: &Path,
        origin: &str,
        signer: NoteSigner,
    ) -> Result<LogWriter<S>, Error> {
        let lock = lock_log(journal_path)?;
        LogWriter::open_locked(store, journal_path, origin, signer, lock)
    }

    /// [`Self::open`] once the lock is held.
    fn open_locked(
        store: S,
        journal_path: &Path,
        origin: &str,
        signer: NoteSigner,
        lock: File,
    ) -> Result<LogWriter<S>, Error> {
        // Safe only under the lock: another live writer's staged files would look the same.
        store.discard_unpublished()?;
        let signed_checkpoint = store.fetch(CHECKPOINT_PATH)?.ok_or_else(|| {
            Error::Inconsistent("no checkpoint: the log was never created".to_owned())
        })?;
        let checkpoint = Checkpoint::open(&signed_checkpoint, &[signer.verifier()], Some(origin))?;
        let (tree, bundle_tail) = rebuild_from_bundles(&store, checkpoint.size, &mut |_| {})?;
        let root = tree.root();
        if root != checkpoint.root {
            return Err(Error::Inconsistent(format!(
                "stored entries 0..{} hash to root {root}, but the last checkpoint signs {}",
                checkpoint.size, checkpoint.root
            )));
        }
        compare_stored_tiles(&store, &tree)?;
        let (journal, records, discarded_journal_bytes) = Journal::open(journal_path)?;
        if journal.start() > checkpoint.size {
            return Err(Error::Inconsistent(format!(
                "journal {} starts at entry {}, but the checkpoint covers only {} entries: entries {}..{} are missing",
                journal_path.display(),
                journal.start(),
                checkpoint.size,
                checkpoint.size,
                journal.start()
            )));
        }
        if journal.end() < checkpoint.size {
            // Every integrated entry was synced to the journal before it was integrated, and
            // compaction starts the journal at the checkpoint's size, so a journal that
            // ends early lost acknowledged records; appending to it would reuse indexes.
            return Err(Error::Inconsistent(format!(
                "journal {} ends at entry {}, but the checkpoint covers {} entries: the journal lost records it had synced",
                journal_path.display(),
                journal.end(),
                checkpoint.size
            )));
        }
        let mut pending = Vec::new();
        for (offset, record) in records.into_iter().enumerate() {
            let index = journal.start() + offset as u64;
            match tree.level(0).get(index as usize) {
                Some(stored) if *stored != record.hash => {
                    return Err(Error::Inconsistent(format!(
                        "journal {} entry {index} has leaf hash {}, but the integrated entry {index} has {stored}",
                        journal_path.display(),
                        record.hash
                    )));
                }
                Some(_) => {}
                None => pending.push((record.entry, record.hash)),
            }
        }
        let signed_checkpoint = String::from_utf8(signed_checkpoint)
            .map_err(|_| Error::Inconsistent("checkpoint is not UTF-8".to_owned()))?;
        Ok(LogWriter {
            store,
            journal,
            journal_path: journal_path.to_path_buf(),
            signer,
            journal_compact_bytes: JOURNAL_COMPACT_BYTES,
            signed: SignedTree {
                tree,
                checkpoint,
                signed_checkpoint,
            },
            pending,
            discarded_journal_bytes,
            bundle_tail,
            failed: None,
            _lock: lock,
        })
    }

    /// Sets the journal size above which the journal is started afresh once all of it is
    /// integrated (default [`JOURNAL_COMPACT_BYTES`]).
    pub fn with_journal_compaction(mut self, bytes: u64) -> LogWriter<S> {
        self.journal_compact_bytes = bytes;
        self
    }

    /// Appends entries durably (one journal write and one sync for the whole batch) and
    /// returns their indexes. They appear in the tree at the next [`Self::integrate`].
    pub fn append<E: AsRef<[u8]>>(&mut self, entries: &[E]) -> Result<Range<u64>, Error> {
        for entry in entries {
            check_entry_size(entry.as_ref()).map_err(|source| Error::Bundle {
                path: "append".to_owned(),
                source,
            })?;
        }
        self.refuse_if_failed()?;
        let first = self.journal.end();
        let records: Vec<(&[u8], Hash)> = entries
            .iter()
            .map(|e| (e.as_ref(), leaf_hash(e.as_ref())))
            .collect();
        if let Err(error) = self.journal.append(&records) {
            self.failed = Some(format!("an append failed: {error}"));
            return Err(error.into());
        }
        self.pending.extend(
            records
                .into_iter()
                .map(|(entry, hash)| (entry.to_vec(), hash)),
        );
        Ok(first..self.journal.end())
    }

    /// Integrates every pending entry: writes bundles and tiles, then signs and publishes a
    /// checkpoint. Returns the checkpoint (unchanged if nothing was pending).
    pub fn integrate(&mut self) -> Result<&Checkpoint, Error> {
        self.refuse_if_failed()?;
        if let Err(error) = self.integrate_pending() {
            self.failed = Some(format!("an integration failed: {error}"));
            return Err(error);
        }
        Ok(&self.signed.checkpoint)
    }

    /// Refuses to go on after a failed append or integration.
    fn refuse_if_failed(&self) -> Result<(), Error> {
        match &self.failed {
            Some(reason) => Err(Error::Inconsistent(format!(
                "this writer stopped because {reason}; reopen the log to recover from the journal {}",
                self.journal_path.display()
            ))),
            None => Ok(()),
        }
    }

    fn integrate_pending(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let old_size = self.signed.tree.size();
        let pending = std::mem::take(&mut self.pending);
        for (entry, hash) in pending {
            self.signed.tree.push_leaf_hash(hash);
            self.bundle_tail.push(entry);
            if self.bundle_tail.len() as u64 == TILE_WIDTH {
                let index = (self.signed.tree.size() - 1) / TILE_WIDTH;
                self.write_bundle(index)?;
                self.bundle_tail.clear();
            }
        }
        if !self.bundle_tail.is_empty() {
            self.write_bundle(self.signed.tree.size() / TILE_WIDTH)?;
        }
        self.write_tiles(old_size)?;

        let new_size = self.signed.tree.size();
        let root_at_old = self.signed.tree.root_at(old_size)?;
        if root_at_old != self.signed.checkpoint.root {
            return Err(Error::Inconsistent(format!(
                "refusing to sign: the tree at size {old_size} has root {root_at_old}, but the last checkpoint signs {}",
                self.signed.checkpoint.root
            )));
        }
        let checkpoint = Checkpoint {
            origin: self.signed.checkpoint.origin.clone(),
            size: new_size,
            root: self.signed.tree.root(),
            extensions: Vec::new(),
        };
        let signed = sign_note(&checkpoint.to_text(), &[&self.signer], 0)?;
        self.store.put_checkpoint(signed.as_bytes())?;
        self.signed.checkpoint = checkpoint;
        self.signed.signed_checkpoint = signed;
        debug_assert_eq!(
            new_size,
            self.journal.end(),
            "every journal record is integrated"
        );
        // Compacting only after the checkpoint is durable keeps every entry in the journal
        // or under a published checkpoint at all times.
        if self.journal.bytes() > self.journal_compact_bytes {
            self.journal = Journal::create(&self.journal_path, new_size)?;
        }
        Ok(())
    }

    fn write_bundle(&self, index: u64) -> Result<(), Error> {
        let path = tile_path(TileKind::Entries, index, self.bundle_tail.len() as u64);
        let bytes = encode_bundle(&self.bundle_tail).map_err(|source| Error::Bundle {
            path: path.clone(),
            source,
        })?;
        self.store.put_immutable(&path, &bytes)?;
        Ok(())
    }

    /// Writes every hash tile that changed between `old_size` and the current size.
    fn write_tiles(&self, old_size: u64) -> Result<(), Error> {
        let new_size = self.signed.tree.size();
        for level in 0..tile_levels(new_size) {
            let old_count = hashes_at_level(level, old_size);
            let new_count = hashes_at_level(level, new_size);
            if new_count == old_count {
                continue;
            }
            let row = self
                .signed
                .tree
                .level(TILE_HEIGHT as usize * usize::from(level));
            for index in old_count / TILE_WIDTH..new_count.div_ceil(TILE_WIDTH) {
                let start = index * TILE_WIDTH;
                let width = (new_count - start).min(TILE_WIDTH);
                let hashes = row
                    .get(start as usize..(start + width) as usize)
                    .ok_or_else(|| {
                        Error::Inconsistent(format!(
                            "tree level {level} has {} hashes, fewer than {}",
                            row.len(),
                            start + width
                        ))
                    })?;
                let path = tile_path(TileKind::Hashes(level), index, width);
                self.store.put_immutable(&path, &encode_tile(hashes))?;
            }
        }
        Ok(())
    }

    /// The last published checkpoint.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.signed.checkpoint
    }

    /// The last published checkpoint, signed, as served.
    pub fn signed_checkpoint(&self) -> &str {
        &self.signed.signed_checkpoint
    }

    /// Number of entries appended but not yet integrated.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Bytes cut from the end of the journal on open: the remains of an append that a crash
    /// interrupted before it was synced, hence never acknowledged.
    pub fn discarded_journal_bytes(&self) -> u64 {
        self.discarded_journal_bytes
    }

    /// Index the next appended entry will get.
    pub fn next_index(&self) -> u64 {
        self.journal.end()
    }

    /// The integrated tree.
    pub fn tree(&self) -> &Tree {
        &self.signed.tree
    }

    /// A C2SP `tlog-proof` that entry `index` is in the last checkpoint.
    pub fn inclusion_proof(&self, index: u64) -> Result<InclusionProof, Error> {
        self.signed.inclusion_proof(index)
    }

    /// A proof that the tree of the first `old_size` entries is a prefix of the last
    /// checkpoint's tree.
    pub fn consistency_proof(&self, old_size: u64) -> Result<ConsistencyProof, Error> {
        self.signed.consistency_proof(old_size)
    }
}

/// Path of the lock file of the log whose journal is `journal_path`.
pub fn lock_path(journal_path: &Path) -> PathBuf {
    let mut path = journal_path.as_os_str().to_owned();
    path.push(".lock");
    PathBuf::from(path)
}

/// Takes the exclusive lock of the log whose journal is `journal_path`, without waiting.
fn lock_log(journal_path: &Path) -> Result<File, Error> {
    let path = lock_path(journal_path);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_error(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(Error::Locked {
            path: path.display().to_string(),
        }),
        Err(TryLockError::Error(e)) => Err(io_error(&path, e).into()),
    }
}

/// Reads every entry bundle of a tree of `size` entries, returning the tree and the
/// entries of the last, incomplete bundle. `progress` is told the number of entries read
/// after each bundle.
pub(crate) fn rebuild_from_bundles(
    source: &dyn crate::store::TileSource,
    size: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<(Tree, Vec<Vec<u8>>), Error> {
    let mut tree = Tree::new();
    let mut tail = Vec::new();
    for (index, width) in tiles_for_size(0, size) {
        let path = tile_path(TileKind::Entries, index, width);
        let bytes = source.fetch(&path)?.ok_or_else(|| {
            Error::Inconsistent(format!(
                "{path} is missing: the checkpoint covers {size} entries"
            ))
        })?;
        let entries = decode_bundle(&bytes).map_err(|source| Error::Bundle {
            path: path.clone(),
            source,
        })?;
        if entries.len() as u64 != width {
            return Err(Error::Inconsistent(format!(
                "{path} holds {} entries, expected {width} (entries {}..{})",
                entries.len(),
                index * TILE_WIDTH,
                index * TILE_WIDTH + width
            )));
        }
        for entry in &entries {
            tree.push_entry(entry);
        }
        if width < TILE_WIDTH {
            tail = entries.iter().map(|e| e.to_vec()).collect();
        }
        progress(tree.size());
    }
    Ok((tree, tail))
}

/// Compares every stored hash tile of the tree (full tiles and the final partial ones)
/// with the hashes recomputed from the entries.
pub(crate) fn compare_stored_tiles(
    source: &dyn crate::store::TileSource,
    tree: &Tree,
) -> Result<u64, Error> {
    let size = tree.size();
    let mut checked = 0;
    for level in 0..tile_levels(size) {
        let row = tree.level(TILE_HEIGHT as usize * usize::from(level));
        for (index, width) in tiles_for_size(level, size) {
            let path = tile_path(TileKind::Hashes(level), index, width);
            let start = index * TILE_WIDTH;
            let stored = source.fetch(&path)?.ok_or_else(|| {
                Error::Inconsistent(format!("{path} is missing (tree size {size})"))
            })?;
            let stored = decode_tile(&stored)
                .filter(|hashes| hashes.len() as u64 == width)
                .ok_or_else(|| {
                    Error::Inconsistent(format!(
                        "{path} is {} bytes, expected {} ({width} hashes)",
                        stored.len(),
                        width * 32
                    ))
                })?;
            for (offset, stored_hash) in stored.iter().enumerate() {
                let position = start + offset as u64;
                let expected = row.get(position as usize).copied().unwrap_or(EMPTY_ROOT);
                if *stored_hash != expected {
                    let span = 1u64 << (TILE_HEIGHT * u32::from(level));
                    return Err(Error::Inconsistent(format!(
                        "{path}: hash {offset} (tree level {}, covering entries {}..{}) is {stored_hash}, but the entries give {expected}",
                        TILE_HEIGHT * u32::from(level),
                        position * span,
                        (position + 1) * span
                    )));
                }
            }
            checked += 1;
        }
    }
    Ok(checked)
}
