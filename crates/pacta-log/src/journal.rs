//! The sequencing journal: entries are appended and synced here before anything else
//! happens to them, so an acknowledged append survives a crash and is integrated later.
//!
//! Layout: an 8-byte magic `PACTAJ1\n`, the big-endian `u64` index of the first record,
//! then records `u32 length (big-endian) || leaf hash (32 bytes) || entry`. The leaf hash
//! doubles as a checksum: a record whose hash does not match is a torn write from a crash
//! before the sync returned, and it and everything after it are cut off on open.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::hash::{leaf_hash, Hash, HASH_BYTES};
use crate::store::{io_error, open_append, sync_dir, StoreError};
use crate::tiles::MAX_ENTRY_BYTES;

const MAGIC: &[u8; 8] = b"PACTAJ1\n";
const HEADER_BYTES: u64 = 16;
const RECORD_OVERHEAD: usize = 4 + HASH_BYTES;

/// An entry read back from the journal, with its leaf hash.
pub(crate) struct JournalRecord {
    pub(crate) entry: Vec<u8>,
    pub(crate) hash: Hash,
}

/// The append-only journal file.
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    start: u64,
    count: u64,
    bytes: u64,
}

fn corrupt(path: &Path, reason: String) -> StoreError {
    StoreError::Backend {
        path: path.display().to_string(),
        reason,
    }
}

impl Journal {
    /// Creates a journal whose first record will have index `start`, replacing any file at
    /// `path` atomically.
    pub(crate) fn create(path: &Path, start: u64) -> Result<Journal, StoreError> {
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let mut file = File::create(&temporary).map_err(|e| io_error(&temporary, e))?;
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&start.to_be_bytes());
        file.write_all(&header)
            .and_then(|()| file.sync_all())
            .map_err(|e| io_error(&temporary, e))?;
        fs::rename(&temporary, path).map_err(|e| io_error(path, e))?;
        if let Some(dir) = path.parent() {
            sync_dir(dir)?;
        }
        Ok(Journal {
            path: path.to_path_buf(),
            file: open_append(path)?,
            start,
            count: 0,
            bytes: HEADER_BYTES,
        })
    }

    /// Opens the journal, returning it with every intact record. A torn tail is cut off
    /// and its length in bytes returned.
    pub(crate) fn open(path: &Path) -> Result<(Journal, Vec<JournalRecord>, u64), StoreError> {
        let mut file = open_append(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| io_error(path, e))?;
        let header = bytes
            .get(..HEADER_BYTES as usize)
            .ok_or_else(|| corrupt(path, "journal shorter than its header".to_owned()))?;
        if &header[..8] != MAGIC {
            return Err(corrupt(path, "not a pacta journal (bad magic)".to_owned()));
        }
        let mut start_bytes = [0u8; 8];
        start_bytes.copy_from_slice(&header[8..16]);
        let start = u64::from_be_bytes(start_bytes);
        let mut records = Vec::new();
        let mut offset = HEADER_BYTES as usize;
        while let Some(record) = read_record(&bytes, offset) {
            offset += RECORD_OVERHEAD + record.entry.len();
            records.push(record);
        }
        let torn = (bytes.len() - offset) as u64;
        if torn > 0 {
            // Only an unacknowledged append can be torn: the sync of an acknowledged one
            // returned before its acknowledgement.
            file.set_len(offset as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| io_error(path, e))?;
            file.seek(SeekFrom::End(0)).map_err(|e| io_error(path, e))?;
        }
        let journal = Journal {
            path: path.to_path_buf(),
            file,
            start,
            count: records.len() as u64,
            bytes: offset as u64,
        };
        Ok((journal, records, torn))
    }

    /// Index of the first record.
    pub(crate) fn start(&self) -> u64 {
        self.start
    }

    /// Index the next record will get.
    pub(crate) fn end(&self) -> u64 {
        self.start + self.count
    }

    /// Size of the file in bytes.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends records and syncs them to disk; returns once they are durable.
    pub(crate) fn append(&mut self, records: &[(&[u8], Hash)]) -> Result<(), StoreError> {
        let mut buffer =
            Vec::with_capacity(records.iter().map(|(e, _)| e.len() + RECORD_OVERHEAD).sum());
        for (entry, hash) in records {
            debug_assert!(entry.len() <= MAX_ENTRY_BYTES);
            let length = u32::try_from(entry.len())
                .map_err(|_| corrupt(&self.path, "entry too large".to_owned()))?;
            buffer.extend_from_slice(&length.to_be_bytes());
            buffer.extend_from_slice(&hash.0);
            buffer.extend_from_slice(entry);
        }
        self.file
            .write_all(&buffer)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| io_error(&self.path, e))?;
        self.count += records.len() as u64;
        self.bytes += buffer.len() as u64;
        Ok(())
    }
}

fn read_record(bytes: &[u8], offset: usize) -> Option<JournalRecord> {
    let length = bytes.get(offset..offset + 4)?;
    let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
    if length > MAX_ENTRY_BYTES {
        return None;
    }
    let hash = Hash::from_slice(bytes.get(offset + 4..offset + RECORD_OVERHEAD)?)?;
    let entry = bytes.get(offset + RECORD_OVERHEAD..offset + RECORD_OVERHEAD + length)?;
    if leaf_hash(entry) != hash {
        return None;
    }
    Some(JournalRecord {
        entry: entry.to_vec(),
        hash,
    })
}
