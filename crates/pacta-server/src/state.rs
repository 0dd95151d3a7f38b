//! The state every handler shares: the agreement, the clock, the log, the ledger of accepted
//! entries, the current assessment, the store and the metrics.
//!
//! Handlers of other modules (`query`, `dashboard`) read through [`AppState`]'s methods.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use pacta_core::agreement::model::Agreement;
use pacta_core::assess::{assess_intake, Assessment, Intake};
use pacta_core::entry::KeyRing;
use pacta_core::time::Timestamp;
use pacta_log::{DirStore, LogWriter};
use pacta_store::Store;

use crate::clock::Clock;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::problem::Problem;
use crate::sequencer::{EngineHandle, Ledger, Sequencer};

/// Shared state of a running server; cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    agreement: Arc<Agreement>,
    keys: KeyRing,
    clock: Arc<dyn Clock>,
    config: Config,
    public_dir: PathBuf,
    log: Arc<Mutex<LogWriter<DirStore>>>,
    ledger: Arc<RwLock<Ledger>>,
    sequencer: Sequencer,
    assessment: Mutex<Option<CachedAssessment>>,
    metrics: Metrics,
    store: Arc<dyn Store>,
    /// Admits store reads a few at a time, first come first served (see [`AppState::reads`]).
    reads: Arc<tokio::sync::Semaphore>,
    /// When the last checkpoint was signed (or the server started).
    checkpointed: Mutex<Instant>,
}

/// The assessment computed for a ledger of `entries` entries as of `as_of`.
struct CachedAssessment {
    entries: usize,
    as_of: Timestamp,
    assessment: Arc<Assessment>,
}

/// What [`AppState::new`] needs.
pub struct Parts {
    /// The agreement in force.
    pub agreement: Arc<Agreement>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The configuration.
    pub config: Config,
    /// The log's public directory (checkpoint, tiles, bundles).
    pub public_dir: PathBuf,
    /// The log writer (shared with the sequencer).
    pub log: Arc<Mutex<LogWriter<DirStore>>>,
    /// The ledger (shared with the sequencer).
    pub ledger: Arc<RwLock<Ledger>>,
    /// The sequencer's queue.
    pub sequencer: Sequencer,
    /// The metrics registry.
    pub metrics: Metrics,
    /// The store (an index of the log).
    pub store: Arc<dyn Store>,
}

impl AppState {
    /// Assembles the state of a server.
    pub fn new(parts: Parts) -> AppState {
        let keys = KeyRing::new(&parts.agreement);
        AppState {
            inner: Arc::new(Inner {
                keys,
                agreement: parts.agreement,
                clock: parts.clock,
                config: parts.config,
                public_dir: parts.public_dir,
                log: parts.log,
                ledger: parts.ledger,
                sequencer: parts.sequencer,
                assessment: Mutex::new(None),
                metrics: parts.metrics,
                store: parts.store,
                reads: Arc::new(tokio::sync::Semaphore::new(concurrent_reads())),
                checkpointed: Mutex::new(Instant::now()),
            }),
        }
    }

    /// The gate every store read passes. Reads are CPU work on the blocking pool: with more
    /// running than there are cores, the scheduler time-slices them and each one's latency
    /// stretches to that of the whole burst. Through a fair semaphore of a few permits per
    /// core they queue in arrival order instead, which keeps the tail close to the median.
    pub fn reads(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.inner.reads
    }

    /// The agreement in force.
    pub fn agreement(&self) -> &Arc<Agreement> {
        &self.inner.agreement
    }

    /// The agreement's keys, decoded once.
    pub fn keys(&self) -> &KeyRing {
        &self.inner.keys
    }

    /// The current time, from the server's clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The log's public directory.
    pub fn public_dir(&self) -> &PathBuf {
        &self.inner.public_dir
    }

    /// The sequencer's queue.
    pub fn sequencer(&self) -> &Sequencer {
        &self.inner.sequencer
    }

    /// The store: entries and the rows derived from them, for the read API. It is an index
    /// updated just after each durable append, so it may trail the ledger by a moment.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Notes that a checkpoint was just signed.
    pub fn note_checkpoint(&self) {
        if let Ok(mut at) = self.inner.checkpointed.lock() {
            *at = Instant::now();
        }
    }

    /// Time since the last checkpoint was signed.
    pub fn checkpoint_age(&self) -> Duration {
        self.inner
            .checkpointed
            .lock()
            .map(|at| at.elapsed())
            .unwrap_or_default()
    }

    /// Entries covered by the last signed checkpoint.
    pub fn checkpoint_size(&self) -> Result<u64, Problem> {
        Ok(self.lock_log()?.checkpoint().size)
    }

    /// The log writer, locked (briefly: the sequencer appends through it).
    pub fn lock_log(&self) -> Result<std::sync::MutexGuard<'_, LogWriter<DirStore>>, Problem> {
        self.inner
            .log
            .lock()
            .map_err(|_| Problem::internal("the log lock is poisoned"))
    }

    /// Runs `read` over the ledger of accepted entries.
    pub fn with_ledger<T>(&self, read: impl FnOnce(&Ledger) -> T) -> Result<T, Problem> {
        let ledger = self
            .inner
            .ledger
            .read()
            .map_err(|_| Problem::internal("the ledger lock is poisoned"))?;
        Ok(read(&ledger))
    }

    /// The log index of the accepted entry with this id.
    pub fn index_of(&self, id: &str) -> Result<Option<u64>, Problem> {
        self.with_ledger(|ledger| ledger.index_of(id))
    }

    /// The assessment of every accepted entry as of now (the server's clock). Computed once
    /// per change of the ledger or of the clock's second, and shared.
    pub fn assessment(&self) -> Result<Arc<Assessment>, Problem> {
        self.assessment_as_of(self.now())
    }

    /// A past moment's assessment, by a batch `assess` of the entries submitted by then.
    /// Moving the engine back would withdraw every later entry, and the next refresh would
    /// apply them all again and rewrite every row they touch: one public request for an old
    /// date would cost the server two rebuilds of the whole log.
    fn past_assessment(
        &self,
        engine: &EngineHandle,
        as_of: Timestamp,
    ) -> Result<Arc<Assessment>, Problem> {
        let entries: Intake = engine
            .with_engine(|engine| {
                engine
                    .entries()
                    .iter()
                    .filter(|entry| entry.submitted_at() <= as_of)
                    .cloned()
                    .collect()
            })
            .map_err(Problem::internal)?;
        Ok(Arc::new(assess_intake(
            self.agreement(),
            entries,
            as_of,
            &mut |_| {},
        )))
    }

    /// The assessment of every accepted entry as of `as_of` (entries submitted later are
    /// ignored, so a past `as_of` shows the state then).
    pub fn assessment_as_of(&self, as_of: Timestamp) -> Result<Arc<Assessment>, Problem> {
        let mut cache = self
            .inner
            .assessment
            .lock()
            .map_err(|_| Problem::internal("the assessment lock is poisoned"))?;
        let cached = cache.as_ref().filter(|cached| cached.as_of == as_of);
        let cached_entries = cached.map(|cached| cached.entries);
        // The count read with the engine handle is at most what the engine then takes, so a
        // cache keyed by it is never newer than its assessment (at worst rebuilt once more).
        let (entries, engine) = self.with_ledger(|ledger| (ledger.recorded(), ledger.engine()))?;
        let fresh = if Some(entries) == cached_entries {
            None
        } else {
            let assessment = if as_of < self.now() {
                self.past_assessment(&engine, as_of)?
            } else {
                engine
                    .with_assessment(as_of, |assessment| Arc::new(assessment.clone()))
                    .map_err(Problem::internal)?
            };
            Some(CachedAssessment {
                entries,
                as_of,
                assessment,
            })
        };
        match (fresh, cache.as_ref()) {
            (Some(fresh), _) => {
                let assessment = fresh.assessment.clone();
                *cache = Some(fresh);
                Ok(assessment)
            }
            (None, Some(cached)) => Ok(cached.assessment.clone()),
            (None, None) => Err(Problem::internal("the assessment cache emptied while held")),
        }
    }
}

/// Store reads admitted at once: two per core. One per core left cores idle while a read's
/// answer was handed back (a sixth to a fifth less throughput in the A/B of `bench/BENCHMARKS.md`);
/// unbounded, the blocking pool time-slices every read and the tail stretches.
fn concurrent_reads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .saturating_mul(2)
}
