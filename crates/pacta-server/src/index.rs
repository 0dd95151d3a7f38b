//! Indexing into the store: every log entry becomes an [`EntryRecord`]; assessment digests,
//! checkpoints and the derived rows (incidents, findings, obligations) follow. The store is
//! an index: on start it catches up from the log, which stays the source of truth.

use pacta_core::agreement::model::Role;
use pacta_core::entry::types::Entry;
use pacta_store::{
    AssessmentRecord, CheckpointRecord, EntryRecord, ReportFacts, Signer, Store, StoreError,
};

use std::sync::Arc;

use crate::datadir::{AGREEMENT_SCHEMA, ASSESSMENT_SCHEMA};
use crate::sequencer::Committed;
use crate::server::{log_entry_schema, read_domain_entry};

/// How a store names a role.
fn role_label(role: Role) -> &'static str {
    match role {
        Role::Monitor => "monitor",
        Role::Guarantor => "guarantor",
        Role::Party => "party",
        Role::Panel => "panel",
    }
}

/// The store record of a signed entry logged at `index` as `canonical`.
pub fn domain_record(
    index: u64,
    entry: &Entry,
    canonical: &[u8],
) -> Result<EntryRecord, StoreError> {
    let (role, signer) = entry.signer();
    let report = match entry {
        Entry::Report(report) => Some(ReportFacts::from_report(report)?),
        _ => None,
    };
    Ok(EntryRecord {
        log_index: index,
        id: Some(entry.id().to_owned()),
        schema: entry.schema().to_owned(),
        signer: Some(Signer {
            role: role_label(role).to_owned(),
            id: signer.to_owned(),
        }),
        submitted_at: Some(entry.submitted_at()),
        canonical: canonical.to_vec(),
        body_sha256: EntryRecord::hash_body(canonical),
        report,
    })
}

/// The store record of an entry the server wrote (agreement, assessment digest).
fn own_record(index: u64, schema: &str, canonical: &[u8]) -> EntryRecord {
    EntryRecord {
        log_index: index,
        id: None,
        schema: schema.to_owned(),
        signer: None,
        submitted_at: None,
        canonical: canonical.to_vec(),
        body_sha256: EntryRecord::hash_body(canonical),
        report: None,
    }
}

/// The assessment record of a `pacta.assessment/1` entry at `index`.
pub fn assessment_record(index: u64, canonical: &[u8]) -> Result<AssessmentRecord, String> {
    #[derive(serde::Deserialize)]
    struct Digest {
        agreement: String,
        version: u32,
        as_of: String,
        entries: u64,
        digest: String,
    }
    let digest: Digest = serde_json::from_slice(canonical)
        .map_err(|e| format!("log entry {index}: malformed assessment entry: {e}"))?;
    Ok(AssessmentRecord {
        log_index: index,
        agreement: digest.agreement,
        version: digest.version,
        as_of: digest
            .as_of
            .parse()
            .map_err(|e| format!("log entry {index}: as_of: {e}"))?,
        entries: digest.entries,
        digest: digest.digest,
    })
}

/// Any log entry as a store record (and, for a digest entry, its assessment record).
pub fn log_record(
    index: u64,
    canonical: &[u8],
) -> Result<(EntryRecord, Option<AssessmentRecord>), String> {
    let schema = log_entry_schema(canonical).map_err(|e| format!("log entry {index}: {e}"))?;
    match schema.as_str() {
        AGREEMENT_SCHEMA => Ok((own_record(index, &schema, canonical), None)),
        ASSESSMENT_SCHEMA => Ok((
            own_record(index, &schema, canonical),
            Some(assessment_record(index, canonical)?),
        )),
        _ => {
            let (entry, _) =
                read_domain_entry(canonical).map_err(|e| format!("log entry {index}: {e}"))?;
            let record = domain_record(index, &entry, canonical).map_err(|e| e.to_string())?;
            Ok((record, None))
        }
    }
}

/// Most entries written to the store in one transaction while catching up.
const CATCH_UP_CHUNK: usize = 4_096;

/// Stores every log entry the store does not have yet (`entries` is the whole log).
pub fn catch_up(store: &dyn Store, entries: &[Vec<u8>]) -> Result<u64, String> {
    let from = store.next_log_index().map_err(|e| e.to_string())?;
    let start = usize::try_from(from)
        .unwrap_or(usize::MAX)
        .min(entries.len());
    let missing = entries.get(start..).unwrap_or_default();
    for (chunk_number, chunk) in missing.chunks(CATCH_UP_CHUNK).enumerate() {
        let first = start + chunk_number * CATCH_UP_CHUNK;
        let mut records = Vec::with_capacity(chunk.len());
        let mut assessments = Vec::new();
        for (offset, bytes) in chunk.iter().enumerate() {
            let (record, assessment) = log_record((first + offset) as u64, bytes)?;
            records.push(record);
            assessments.extend(assessment);
        }
        let mut tx = store.begin().map_err(|e| e.to_string())?;
        tx.append_entries(&records).map_err(|e| e.to_string())?;
        for assessment in &assessments {
            tx.put_assessment(assessment).map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(missing.len() as u64)
}

/// Groups the sequencer may hand over before it waits for the indexer: enough to absorb a slow
/// transaction, few enough that the store never lags the log by more than seconds of ingest.
const INDEX_QUEUE_GROUPS: usize = 16;

/// The store's indexer: a thread of its own that writes what the sequencer made durable, in
/// log order, so SQLite's work is off the path of every acknowledgement. The store is an
/// index that catches up from the log on start, so a failure here loses nothing; it is
/// logged. Dropping the indexer waits until everything handed over is written.
pub struct Indexer {
    queue: Option<std::sync::mpsc::SyncSender<Committed>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Indexer {
    /// Starts the indexer's thread over `store`.
    pub fn start(store: Arc<dyn Store>) -> std::io::Result<Indexer> {
        let (queue, received) = std::sync::mpsc::sync_channel(INDEX_QUEUE_GROUPS);
        let thread = std::thread::Builder::new()
            .name("pacta-indexer".into())
            .spawn(move || {
                for committed in received {
                    if let Err(e) = index_committed(store.as_ref(), committed) {
                        tracing::error!("indexing in the store failed (restart to catch up): {e}");
                    }
                }
            })?;
        Ok(Indexer {
            queue: Some(queue),
            thread: Some(thread),
        })
    }

    /// Hands over what was committed, waiting while the queue is full (back-pressure on the
    /// sequencer rather than unbounded memory).
    pub fn index(&self, committed: Committed) {
        if let Some(queue) = &self.queue {
            if queue.send(committed).is_err() {
                tracing::error!("the indexer has stopped; the store catches up on restart");
            }
        }
    }
}

impl Drop for Indexer {
    fn drop(&mut self) {
        // Closing the queue ends the thread's loop once it has written what is queued.
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the indexer panicked; the store catches up on restart");
            }
        }
    }
}

fn index_committed(store: &dyn Store, committed: Committed) -> Result<(), String> {
    match committed {
        Committed::Entries(entries) => {
            let records = entries
                .iter()
                .map(|(index, entry, canonical)| domain_record(*index, entry, canonical))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            store_entries(store, &records).map_err(|e| e.to_string())
        }
        Committed::Digest { index, bytes } => store_assessment(store, index, &bytes),
    }
}

/// Stores newly logged entries in one transaction.
pub fn store_entries(store: &dyn Store, records: &[EntryRecord]) -> Result<(), StoreError> {
    let mut tx = store.begin()?;
    tx.append_entries(records)?;
    tx.commit()
}

/// Stores a digest entry the server appended.
pub fn store_assessment(store: &dyn Store, index: u64, canonical: &[u8]) -> Result<(), String> {
    let record = own_record(index, ASSESSMENT_SCHEMA, canonical);
    let assessment = assessment_record(index, canonical)?;
    let mut tx = store.begin().map_err(|e| e.to_string())?;
    tx.append_entries(&[record]).map_err(|e| e.to_string())?;
    tx.put_assessment(&assessment).map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())
}

/// Records a signed checkpoint.
pub fn store_checkpoint(store: &dyn Store, checkpoint: CheckpointRecord) -> Result<(), StoreError> {
    let mut tx = store.begin()?;
    tx.put_checkpoint(&checkpoint)?;
    tx.commit()
}
