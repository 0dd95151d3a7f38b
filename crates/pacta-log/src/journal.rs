//! The sequencing journal: entries are appended and synced here before anything else
//! happens to them, so an acknowledged append survives a crash and is integrated later.
//!
//! Layout: an 8-byte magic `PACTAJ1\n`, the big-endian `u64` index of the first record,
//! then records `u32 length (big-endian) || leaf hash (32 bytes) || entry`. The leaf hash
//! doubles as a checksum.
//!
//! A crash before an append's sync returned can leave only the END of the journal torn:
//! a record that runs past the end of the file, a last record whose hash does not match,
//! or bytes that are all zero to the end (space the file system allocated but never
//! filled). Such a tail was never acknowledged and is cut off on open. A bad record with
//! anything but zeros after it cannot come from a crash; it is corruption, and opening is
//! refused with the file and the byte offset of the bad record.

use std::fs::{self, File};
use std::io::{BufReader, ErrorKind, Read, Seek, SeekFrom, Write};
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

fn corrupt_at(path: &Path, offset: u64, reason: &str) -> StoreError {
    StoreError::Corrupt {
        path: path.display().to_string(),
        offset,
        reason: reason.to_owned(),
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

    /// Opens the journal, returning it with every intact record. A torn tail (see the
    /// module documentation) is cut off and its length in bytes returned; a bad record
    /// before the tail is refused as corruption.
    pub(crate) fn open(path: &Path) -> Result<(Journal, Vec<JournalRecord>, u64), StoreError> {
        let mut file = open_append(path)?;
        let length = file.metadata().map_err(|e| io_error(path, e))?.len();
        let mut reader = BufReader::new(&mut file);
        let mut header = [0u8; HEADER_BYTES as usize];
        if read_up_to(&mut reader, &mut header).map_err(|e| io_error(path, e))? < header.len() {
            return Err(corrupt_at(
                path,
                0,
                "journal shorter than its 16-byte header",
            ));
        }
        if &header[..8] != MAGIC {
            return Err(corrupt_at(path, 0, "not a pacta journal (bad magic)"));
        }
        let mut start_bytes = [0u8; 8];
        start_bytes.copy_from_slice(&header[8..]);
        let start = u64::from_be_bytes(start_bytes);
        let mut records = Vec::new();
        let mut offset = HEADER_BYTES;
        let torn = loop {
            match read_record(&mut reader, offset, length).map_err(|e| io_error(path, e))? {
                Record::Intact(record) => {
                    offset += (RECORD_OVERHEAD + record.entry.len()) as u64;
                    records.push(record);
                }
                Record::End => break 0,
                Record::Torn => break length - offset,
                Record::Bad { reason, end } => {
                    let torn_tail = match end {
                        Some(end) if end >= length => true,
                        Some(_) => only_zeros_follow(&mut reader).map_err(|e| io_error(path, e))?,
                        None => false,
                    };
                    if torn_tail {
                        break length - offset;
                    }
                    return Err(corrupt_at(
                        path,
                        offset,
                        &format!(
                            "{reason} (record {}), and more data follows it: the journal is corrupt, not torn by a crash; refusing to cut acknowledged entries",
                            start.saturating_add(records.len() as u64)
                        ),
                    ));
                }
            }
        };
        drop(reader);
        if torn > 0 {
            // Only an unacknowledged append can be torn: the sync of an acknowledged one
            // returned before its acknowledgement.
            file.set_len(offset)
                .and_then(|()| file.sync_all())
                .map_err(|e| io_error(path, e))?;
        }
        file.seek(SeekFrom::End(0)).map_err(|e| io_error(path, e))?;
        let journal = Journal {
            path: path.to_path_buf(),
            file,
            start,
            count: records.len() as u64,
            bytes: offset,
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
                .map_err(|_| corrupt_at(&self.path, self.bytes, "entry too large for a record"))?;
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

/// What the journal holds at a record's offset.
enum Record {
    /// A whole record whose hash matches its entry.
    Intact(JournalRecord),
    /// The end of the file, exactly at a record boundary.
    End,
    /// A record cut short by the end of the file.
    Torn,
    /// A record that is whole but wrong; `end` is the offset just past it, or `None` when
    /// its length field cannot have come from a torn write, so it cannot be a torn tail.
    Bad { reason: String, end: Option<u64> },
}

/// Reads the record at `offset` of a journal of `length` bytes. The allocation for an
/// entry is bounded by [`MAX_ENTRY_BYTES`] and by the bytes the file actually holds.
fn read_record(reader: &mut impl Read, offset: u64, length: u64) -> std::io::Result<Record> {
    let mut length_bytes = [0u8; 4];
    match read_up_to(reader, &mut length_bytes)? {
        0 => return Ok(Record::End),
        n if n < length_bytes.len() => return Ok(Record::Torn),
        _ => {}
    }
    let size = u32::from_be_bytes(length_bytes) as usize;
    if size > MAX_ENTRY_BYTES {
        // The writer never writes such a length, and a torn write only loses bytes: this
        // is corruption wherever it stands.
        return Ok(Record::Bad {
            reason: format!(
                "record length {size} exceeds the maximum entry size {MAX_ENTRY_BYTES}"
            ),
            end: None,
        });
    }
    let end = offset + (RECORD_OVERHEAD + size) as u64;
    if end > length {
        return Ok(Record::Torn);
    }
    let mut hash = Hash([0u8; HASH_BYTES]);
    let mut entry = vec![0u8; size];
    if read_up_to(reader, &mut hash.0)? < HASH_BYTES || read_up_to(reader, &mut entry)? < size {
        return Ok(Record::Torn);
    }
    if leaf_hash(&entry) != hash {
        return Ok(Record::Bad {
            reason: format!("the leaf hash of the {size}-byte entry does not match the record"),
            end: Some(end),
        });
    }
    Ok(Record::Intact(JournalRecord { entry, hash }))
}

/// Reads until `buffer` is full or the input ends; returns the bytes read.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Whether every remaining byte is zero.
fn only_zeros_follow(reader: &mut impl Read) -> std::io::Result<bool> {
    let mut buffer = [0u8; 8192];
    loop {
        let n = read_up_to(reader, &mut buffer)?;
        if buffer[..n].iter().any(|b| *b != 0) {
            return Ok(false);
        }
        if n < buffer.len() {
            return Ok(true);
        }
    }
}
