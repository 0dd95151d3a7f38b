//! Starting and stopping a server: open the data directory, rebuild the ledger from the log,
//! start the sequencer and the checkpoint task, serve until shutdown, then integrate and log
//! a final assessment digest.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use pacta_core::agreement::model::Agreement;
use pacta_core::entry::types::Entry;
use pacta_core::entry::{canonical_bytes, canonical_forms, parse_entry, sign_entry};
use pacta_core::time::Timestamp;
use pacta_log::DirStore;
use pacta_store::{CheckpointRecord, DerivedDelta, DerivedRows, SqliteStore, Store};
use rayon::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, SEQUENCER_QUEUE_DEPTH};
use crate::datadir::{
    read_log_entries, AgreementFiles, DataDir, DataDirError, DirLock, AGREEMENT_SCHEMA,
    ASSESSMENT_SCHEMA,
};
use crate::index::{catch_up, store_checkpoint, Indexer};
use crate::metrics::Metrics;
use crate::sequencer::{EngineHandle, Job, Ledger, Sequencer};
use crate::state::{AppState, Parts};

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data directory could not be opened.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The log's entries are not what a server writes.
    #[error("log entry {index}: {reason}")]
    LogEntry {
        /// The entry's index.
        index: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Listening or serving failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The store could not be opened or caught up with the log.
    #[error("store {path}: {reason}")]
    Store {
        /// The store's file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The final checkpoint or digest could not be written.
    #[error("on shutdown: {0}")]
    Shutdown(String),
    /// The configured tokens file could not be used (nothing was served).
    #[error(transparent)]
    Tokens(#[from] crate::auth::TokensError),
}

/// A started server: listening, not yet answering until [`Server::serve`].
pub struct Server {
    state: AppState,
    listener: TcpListener,
    signing_key: SigningKey,
    sequencer_thread: std::thread::JoinHandle<()>,
    _lock: DirLock,
}

/// Starts a server with the system clock and serves until `shutdown` completes.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    Server::start(config, Arc::new(SystemClock))
        .await?
        .serve(shutdown)
        .await
}

/// What the log told us when read back.
struct Recovered {
    agreement: Agreement,
    ledger: Ledger,
}

/// Log entries parsed together on every core at start-up; they are recorded in log order, so
/// the first bad entry is the one reported.
const RECOVER_BATCH_ENTRIES: usize = 4096;

/// Reads the log from the start: the agreement entry first, then domain entries and digest
/// entries, into a ledger. The entries are the server's own, verified when they were
/// ingested, so they are parsed and hashed here but their signatures are not checked again.
fn recover(entries: Vec<Vec<u8>>) -> Result<Recovered, ServerError> {
    let mut iter = entries.into_iter();
    let first = iter.next().ok_or(ServerError::LogEntry {
        index: 0,
        reason: format!("the log is empty; its first entry must be `{AGREEMENT_SCHEMA}`"),
    })?;
    let agreement = AgreementFiles::from_log_entry(&first)
        .map_err(|reason| ServerError::LogEntry { index: 0, reason })?
        .agreement;
    let mut ledger = Ledger::new(agreement.clone(), 1);
    let mut next_index = 1u64;
    loop {
        // A batch at a time, so each batch's bytes are freed once it is recorded.
        let batch: Vec<Vec<u8>> = iter.by_ref().take(RECOVER_BATCH_ENTRIES).collect();
        if batch.is_empty() {
            break;
        }
        let read: Vec<_> = batch.par_iter().map(|bytes| read_logged(bytes)).collect();
        for (offset, logged) in read.into_iter().enumerate() {
            let index = next_index + offset as u64;
            match logged.map_err(|reason| ServerError::LogEntry { index, reason })? {
                Logged::Digest { covers } => ledger.record_digest(index, covers),
                Logged::Domain { entry, body } => ledger.record(index, entry, body),
            }
        }
        next_index += batch.len() as u64;
    }
    Ok(Recovered { agreement, ledger })
}

/// A log entry after the first.
#[expect(
    clippy::large_enum_variant,
    reason = "almost every log entry is a domain entry; boxing them would cost an allocation each"
)]
enum Logged {
    /// A domain entry, with the hash of its signed body.
    Domain { entry: Entry, body: [u8; 32] },
    /// An assessment digest of the log prefix of `covers` entries.
    Digest { covers: u64 },
}

fn read_logged(bytes: &[u8]) -> Result<Logged, String> {
    match log_entry_schema(bytes)?.as_str() {
        ASSESSMENT_SCHEMA => {
            #[derive(serde::Deserialize)]
            struct Covers {
                entries: u64,
            }
            serde_json::from_slice::<Covers>(bytes)
                .map(|digest| Logged::Digest {
                    covers: digest.entries,
                })
                .map_err(|e| format!("malformed assessment entry: {e}"))
        }
        AGREEMENT_SCHEMA => Err("a second agreement entry; amendments are not supported".into()),
        _ => read_domain_entry(bytes).map(|(entry, body)| Logged::Domain { entry, body }),
    }
}

/// The `schema` member of a log entry.
pub(crate) fn log_entry_schema(bytes: &[u8]) -> Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Schema {
        schema: String,
    }
    serde_json::from_slice::<Schema>(bytes)
        .map(|s| s.schema)
        .map_err(|e| format!("not an entry with a `schema`: {e}"))
}

/// Parses a signed entry from the log, with the SHA-256 of its signed body.
pub(crate) fn read_domain_entry(bytes: &[u8]) -> Result<(Entry, [u8; 32]), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let parsed = parse_entry(text).map_err(|e| e.to_string())?;
    let forms = canonical_forms(&parsed.object).map_err(|e| e.to_string())?;
    Ok((parsed.entry, Sha256::digest(&forms.signed).into()))
}

/// The signed `pacta.assessment/1` entry of the engine's assessment as of `as_of`, and the
/// log prefix it covers: the one the engine holds when it is computed. `None` if no domain
/// entry arrived beyond `assessed_prefix`, the prefix the last digest covers.
fn assessment_entry(
    agreement: &Agreement,
    engine: &EngineHandle,
    assessed_prefix: u64,
    as_of: Timestamp,
    key: &SigningKey,
) -> Result<Option<(Vec<u8>, u64)>, String> {
    let digested = engine.with_engine_at(|engine, prefix| {
        (prefix.domain_end > assessed_prefix)
            .then(|| engine.assessment(as_of).digest().map(|d| (d, prefix.size)))
    })?;
    let Some(digested) = digested else {
        return Ok(None);
    };
    let (digest, covers) = digested.map_err(|e| format!("assessment digest: {e}"))?;
    let value = serde_json::json!({
        "schema": ASSESSMENT_SCHEMA,
        "agreement": agreement.id,
        "version": agreement.version,
        "as_of": as_of.to_rfc3339(),
        "entries": covers,
        "digest": digest,
    });
    let signed = sign_entry(&value, key).map_err(|e| e.to_string())?;
    let Value::Object(object) = signed else {
        return Err("a signed assessment entry is not an object".into());
    };
    let bytes = canonical_bytes(&object).map_err(|e| e.to_string())?;
    Ok(Some((bytes, covers)))
}

impl Server {
    /// Opens `config.data` (taking its lock), rebuilds the ledger from the log, starts the
    /// sequencer and binds `config.listen`. Refuses to start if the log disagrees with its
    /// last checkpoint.
    pub async fn start(config: Config, clock: Arc<dyn Clock>) -> Result<Server, ServerError> {
        let data = DataDir::at(&config.data);
        let lock = data.lock()?;
        let signing_key = data.log_key()?;
        let opened = {
            let data = data.clone();
            tokio::task::spawn_blocking(move || -> Result<_, ServerError> {
                let writer = data.open_log()?;
                let size = writer.checkpoint().size;
                let source = DirStore::new(data.public_dir()).map_err(|e| DataDirError::Log {
                    path: data.log_dir(),
                    reason: e.to_string(),
                })?;
                let entries =
                    read_log_entries(&source, size).map_err(|reason| DataDirError::Log {
                        path: data.log_dir(),
                        reason,
                    })?;
                let store_path = data.store_path();
                let store_error = |reason: String| ServerError::Store {
                    path: store_path.display().to_string(),
                    reason,
                };
                let store =
                    SqliteStore::open(&store_path).map_err(|e| store_error(e.to_string()))?;
                let caught_up = catch_up(&store, &entries).map_err(store_error)?;
                if caught_up > 0 {
                    tracing::info!("store caught up with the log: {caught_up} entries indexed");
                }
                Ok((writer, store, recover(entries)?))
            })
            .await
            .map_err(|e| ServerError::Shutdown(format!("recovery task failed: {e}")))??
        };
        let (writer, store, recovered) = opened;
        let store: Arc<dyn Store> = Arc::new(store);
        let log = Arc::new(Mutex::new(writer));
        let ledger = Arc::new(RwLock::new(recovered.ledger));
        let indexer = Indexer::start(store.clone()).map_err(|source| ServerError::Io {
            what: "starting the store's indexer thread".into(),
            source,
        })?;
        // The sequencer owns the indexer: when the sequencer stops, dropping it waits until
        // the store holds everything sequenced.
        let (sequencer, sequencer_thread) = Sequencer::start(
            log.clone(),
            ledger.clone(),
            SEQUENCER_QUEUE_DEPTH,
            Box::new(move |committed| indexer.index(committed)),
        );
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Io {
                    what: format!("listening on {}", config.listen),
                    source,
                })?;
        let state = AppState::new(Parts {
            agreement: Arc::new(recovered.agreement),
            clock,
            public_dir: data.public_dir(),
            config,
            log,
            ledger,
            sequencer,
            metrics: Metrics::default(),
            store,
        });
        Ok(Server {
            state,
            listener,
            signing_key,
            sequencer_thread,
            _lock: lock,
        })
    }

    /// The address the server listens on (the port chosen, if 0 was asked for).
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener
            .local_addr()
            .map_err(|source| ServerError::Io {
                what: "reading the listening address".into(),
                source,
            })
    }

    /// The shared state (for tests and for the demo, which ingests through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes; then integrates, logs a final assessment digest
    /// and stops the sequencer.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let Server {
            state,
            listener,
            signing_key,
            sequencer_thread,
            _lock,
        } = self;
        let ticker = tokio::spawn(checkpoint_task(state.clone(), signing_key.clone()));
        // A bad tokens file stops the server before it answers anything, through the same
        // orderly shutdown as a signal.
        let served = match crate::router(state.clone()) {
            Ok(app) => axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| ServerError::Io {
                what: "serving".into(),
                source,
            }),
            Err(e) => Err(ServerError::from(e)),
        };
        ticker.abort();
        let finished = log_assessment(&state, &signing_key).await;
        // Handles may outlive the server (tests, the demo): stop the sequencer explicitly,
        // and wait for it so the directory lock outlives the last write.
        let _ = state.sequencer().send(Job::Stop).await;
        drop(state);
        let _ = tokio::task::spawn_blocking(move || sequencer_thread.join()).await;
        served?;
        finished.map_err(ServerError::Shutdown)?;
        Ok(())
    }
}

/// Appends a digest of the current assessment (if entries arrived since the last one) and
/// integrates. The assessment is computed here, beside the sequencer, which goes on
/// sequencing meanwhile; the digest names the log prefix it covers.
pub async fn log_assessment(state: &AppState, key: &SigningKey) -> Result<Option<u64>, String> {
    let agreement = state.agreement().clone();
    let as_of = state.now();
    let key = key.clone();
    let (engine, assessed_prefix) = state
        .with_ledger(|ledger| (ledger.engine(), ledger.assessed_prefix()))
        .map_err(|p| p.detail().to_owned())?;
    let entry = tokio::task::spawn_blocking(move || {
        assessment_entry(&agreement, &engine, assessed_prefix, as_of, &key)
    })
    .await
    .map_err(|e| format!("assessment task failed: {e}"))??;
    let Some((bytes, covers)) = entry else {
        state.note_checkpoint();
        return Ok(None);
    };
    let (reply, answer) = oneshot::channel();
    state
        .sequencer()
        .send(Job::AppendDigest {
            bytes,
            covers,
            reply: Some(reply),
        })
        .await?;
    let index = answer
        .await
        .map_err(|_| "the sequencer stopped".to_owned())??;
    state.note_checkpoint();
    Ok(Some(index))
}

/// How long derived rows may lag the clock when no entry arrives (deadlines still pass).
const DERIVED_REFRESH: Duration = Duration::from_secs(60);

/// What the store was last brought up to: the ledger size and when, and the engine
/// generation its derived rows were written from. This task is the only writer of derived
/// rows, so the next refresh writes only the rows the engine changed since that generation.
#[derive(Default)]
struct StoreSync {
    last: Option<(usize, tokio::time::Instant)>,
    generation: Option<u64>,
    /// How long the last refresh took.
    cost: Duration,
}

/// A refresh waits at least this many times as long as the last one took: it reassesses
/// every finding, seconds of work on a large log, and under heavy ingest refreshing every
/// `derived_interval_ms` would take most of a core from verification. Spaced so, refreshes
/// use at most a fifth of one core, and the rows lag the log by a few refresh times.
const REFRESH_SPACING: u32 = 4;

impl StoreSync {
    /// Whether the derived rows are due for a refresh, with `entries` recorded: entries
    /// arrived and the least interval passed (`least`, or [`REFRESH_SPACING`] times the last
    /// refresh's cost if longer), or [`DERIVED_REFRESH`] passed in any case.
    fn due(&self, entries: usize, least: Duration) -> bool {
        match self.last {
            Some((count, at)) => {
                let least = least.max(self.cost * REFRESH_SPACING);
                (count != entries && at.elapsed() >= least) || at.elapsed() >= DERIVED_REFRESH
            }
            None => true,
        }
    }
}

/// What a refresh writes: the rows that changed since the last one, or every row.
enum Writes {
    Changed(DerivedDelta),
    All(DerivedRows),
}

/// Records the last checkpoint and, when entries arrived or [`DERIVED_REFRESH`] passed,
/// the derived rows of the current assessment, in the store.
async fn sync_store(state: &AppState, sync: &mut StoreSync) {
    let previous = sync.generation.take();
    let state = state.clone();
    let entries = state.with_ledger(|ledger| ledger.recorded()).unwrap_or(0);
    let due = sync.due(
        entries,
        Duration::from_millis(state.config().derived_interval_ms),
    );
    let started = tokio::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || -> Result<Option<u64>, String> {
        let checkpoint = {
            let writer = state.lock_log().map_err(|p| p.detail().to_owned())?;
            CheckpointRecord {
                size: writer.checkpoint().size,
                root_hash: writer.checkpoint().root.0,
                note: writer.signed_checkpoint().to_owned(),
            }
        };
        store_checkpoint(state.store().as_ref(), checkpoint).map_err(|e| e.to_string())?;
        if !due {
            return Ok(previous);
        }
        let now = state.now();
        let engine = state
            .with_ledger(|ledger| ledger.engine())
            .map_err(|p| p.detail().to_owned())?;
        // The rows are built under the engine's lock (it owns the assessment) and written
        // after it is released, so ingest and readers wait for neither.
        let (writes, generation) = engine.with_engine(|engine| {
            engine.assessment(now);
            let generation = engine.generation();
            let delta = previous.map(|since| engine.changes_since(since));
            let assessment = engine.assessment(now);
            let writes = match delta {
                Some(delta) => DerivedDelta::from_changes(assessment, &delta).map(Writes::Changed),
                // After a start the store may hold rows of an earlier run: compare with them.
                None => DerivedRows::from_assessment(assessment).map(Writes::All),
            };
            (writes, generation)
        })?;
        match writes.map_err(|e| e.to_string())? {
            Writes::Changed(delta) => {
                let mut tx = state.store().begin().map_err(|e| e.to_string())?;
                tx.apply(&delta).map_err(|e| e.to_string())?;
                tx.commit().map_err(|e| e.to_string())?;
            }
            Writes::All(rows) => {
                state
                    .store()
                    .replace_derived(&rows)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(Some(generation))
    })
    .await;
    match result {
        Ok(Ok(generation)) => {
            if due {
                sync.last = Some((entries, tokio::time::Instant::now()));
                sync.cost = started.elapsed();
            }
            sync.generation = generation;
        }
        Ok(Err(reason)) => tracing::error!("updating the store failed: {reason}"),
        Err(e) => tracing::error!("store task failed: {e}"),
    }
}

/// Integrates and signs a checkpoint every `checkpoint_interval_ms`, and logs an assessment
/// digest every `assessment_interval_seconds`.
async fn checkpoint_task(state: AppState, key: SigningKey) {
    let interval = Duration::from_millis(state.config().checkpoint_interval_ms.max(10));
    let every = Duration::from_secs(state.config().assessment_interval_seconds.max(1));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_assessment = tokio::time::Instant::now();
    let mut store_sync = StoreSync::default();
    loop {
        ticks.tick().await;
        sync_store(&state, &mut store_sync).await;
        if last_assessment.elapsed() >= every {
            last_assessment = tokio::time::Instant::now();
            if let Err(reason) = log_assessment(&state, &key).await {
                tracing::error!("logging the assessment digest failed: {reason}");
            }
            continue;
        }
        let (reply, answer) = oneshot::channel();
        if state
            .sequencer()
            .send(Job::Integrate { reply: Some(reply) })
            .await
            .is_err()
        {
            return;
        }
        match answer.await {
            Ok(Ok(_)) => state.note_checkpoint(),
            Ok(Err(reason)) => tracing::error!("integrating the log failed: {reason}"),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synced(entries: usize, ago: Duration, cost: Duration) -> StoreSync {
        StoreSync {
            last: Some((entries, tokio::time::Instant::now() - ago)),
            generation: Some(1),
            cost,
        }
    }

    #[test]
    fn a_refresh_waits_for_new_entries_and_the_least_interval() {
        let least = Duration::from_secs(1);
        assert!(StoreSync::default().due(0, least));
        assert!(!synced(10, Duration::from_secs(5), Duration::ZERO).due(10, least));
        assert!(!synced(10, Duration::from_millis(100), Duration::ZERO).due(11, least));
        assert!(synced(10, Duration::from_secs(2), Duration::ZERO).due(11, least));
        // Deadlines pass without entries: the rows are refreshed now and then regardless.
        assert!(synced(10, DERIVED_REFRESH, Duration::ZERO).due(10, least));
    }

    #[test]
    fn a_costly_refresh_spaces_the_next_one() {
        let least = Duration::from_secs(1);
        let cost = Duration::from_secs(2);
        assert!(!synced(10, Duration::from_secs(7), cost).due(11, least));
        assert!(synced(10, cost * REFRESH_SPACING, cost).due(11, least));
    }
}
