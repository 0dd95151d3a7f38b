//! The sequencer: the one writer of the log.
//!
//! Handlers verify entries in parallel, then hand them to the sequencer through a bounded
//! queue. The sequencer takes everything waiting (up to [`GROUP_COMMIT_ENTRIES_MAX`]
//! entries), decides idempotency against every id accepted so far, appends the new entries
//! under one journal fsync (group commit), records them in the [`Ledger`], and only then
//! answers. Integration into the tree, checkpoints and assessment digests go through the
//! same queue. A digest is computed beside the sequencer, from the engine, and names the log
//! prefix the engine held ([`Prefix`]); entries sequenced meanwhile are simply not in it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use pacta_core::agreement::model::Agreement;
use pacta_core::assess::Assessment;
use pacta_core::engine::Engine;
use pacta_core::entry::types::Entry;
use pacta_core::time::Timestamp;
use pacta_log::{DirStore, LogWriter};
use tokio::sync::{mpsc, oneshot};

use crate::config::GROUP_COMMIT_ENTRIES_MAX;

/// An entry that passed verification, waiting to be sequenced.
#[derive(Debug)]
pub struct Candidate {
    /// The entry as parsed.
    pub entry: Entry,
    /// SHA-256 of the signed body (the canonical form without `signature`): two submissions
    /// under one id are the same entry exactly when these agree.
    pub body: [u8; 32],
    /// The RFC 8785 canonical form with `signature`: the bytes logged.
    pub canonical: Vec<u8>,
}

/// What the sequencer made of one candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sequenced {
    /// Newly appended at this log index, durably.
    Accepted(u64),
    /// Already accepted with the same body, at this log index.
    Duplicate(u64),
    /// The id is already used, at this log index, by an entry with a different body.
    Conflict(u64),
    /// A retraction of a report by another monitor than the report's own.
    RetractsOthers {
        /// The report.
        report: String,
        /// Its monitor.
        author: String,
    },
    /// The log could not be written: nothing of this group was acknowledged.
    Failed(String),
}

/// What is remembered of an accepted entry.
#[derive(Clone, Debug)]
struct Seen {
    index: u64,
    body: [u8; 32],
    /// For a report, its monitor (who alone may retract it).
    report_monitor: Option<String>,
}

/// Every entry accepted so far, with the index of each id, and the incremental engine that
/// keeps the assessment of them up to date (`pacta_core::engine`, equal to a batch
/// `assess` of the same entries).
///
/// The sequencer records entries here before answering, so the id check of the next group
/// sees them; the engine lives behind a lock of its own and takes the recorded entries only
/// when an assessment is asked for. An assessment of a large log takes long (seconds at 10^6
/// reports): were the engine fed under the ledger's lock, or were digests computed on the
/// sequencer's thread, every refresh of the store and every digest would stall ingest for
/// that long.
pub struct Ledger {
    ids: HashMap<String, Seen>,
    /// Domain entries recorded.
    recorded: usize,
    engine: Arc<Mutex<Engine>>,
    arrivals: Arc<Mutex<Arrivals>>,
    /// Log size: the index the next entry will get.
    log_size: u64,
    /// The log prefix the last `pacta.assessment/1` entry covers (0 if none).
    assessed_prefix: u64,
}

/// Recorded entries the engine has not taken yet, and the log prefix they complete. Both
/// change together under one lock, so whoever takes the entries knows exactly which prefix
/// of the log the engine then holds.
#[derive(Debug, Default)]
struct Arrivals {
    /// In log order.
    entries: Vec<Entry>,
    prefix: Prefix,
}

/// A prefix of the log, as the engine holds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prefix {
    /// Log entries in the prefix: every domain entry below this index is in the engine.
    pub size: u64,
    /// One past the last domain entry in the prefix (0 if none): a digest of this prefix says
    /// something new only if this lies beyond the prefix the last digest covered.
    pub domain_end: u64,
}

/// The engine of a [`Ledger`], usable without holding the ledger.
#[derive(Clone)]
pub struct EngineHandle {
    /// Never locked from inside a rayon job: the engine's corroboration, adjudication and
    /// responses run on rayon's pool while this lock is held, and a pool thread waiting for
    /// it would deadlock them.
    engine: Arc<Mutex<Engine>>,
    arrivals: Arc<Mutex<Arrivals>>,
}

impl EngineHandle {
    /// Runs `read` over the assessment of every entry recorded so far as of `as_of`,
    /// brought up to date incrementally.
    pub fn with_assessment<T>(
        &self,
        as_of: Timestamp,
        read: impl FnOnce(&Assessment) -> T,
    ) -> Result<T, String> {
        self.with_engine(|engine| read(engine.assessment(as_of)))
    }

    /// Runs `work` on the engine once it holds every entry recorded so far.
    pub fn with_engine<T>(&self, work: impl FnOnce(&mut Engine) -> T) -> Result<T, String> {
        self.with_engine_at(|engine, _| work(engine))
    }

    /// Runs `work` on the engine once it holds every entry recorded so far, telling it the
    /// log prefix those entries make up.
    pub fn with_engine_at<T>(
        &self,
        work: impl FnOnce(&mut Engine, Prefix) -> T,
    ) -> Result<T, String> {
        let mut engine = self
            .engine
            .lock()
            .map_err(|_| "the engine lock is poisoned".to_owned())?;
        let (arrived, prefix) = {
            let mut arrivals = self
                .arrivals
                .lock()
                .map_err(|_| "the ledger's queue lock is poisoned".to_owned())?;
            (std::mem::take(&mut arrivals.entries), arrivals.prefix)
        };
        engine.insert_batch(arrived);
        Ok(work(&mut engine, prefix))
    }
}

impl Ledger {
    /// A ledger for `agreement` over a log of `log_size` entries holding no domain entries
    /// yet.
    pub fn new(agreement: Agreement, log_size: u64) -> Ledger {
        Ledger {
            ids: HashMap::new(),
            recorded: 0,
            engine: Arc::new(Mutex::new(Engine::new(agreement))),
            arrivals: Arc::new(Mutex::new(Arrivals {
                entries: Vec::new(),
                prefix: Prefix {
                    size: log_size,
                    domain_end: 0,
                },
            })),
            log_size,
            assessed_prefix: 0,
        }
    }

    /// Records an entry accepted at `index` (while reading the log back, or when sequenced).
    pub fn record(&mut self, index: u64, entry: Entry, body: [u8; 32]) {
        let report_monitor = match &entry {
            Entry::Report(report) => Some(report.monitor.clone()),
            _ => None,
        };
        self.ids.insert(
            entry.id().to_owned(),
            Seen {
                index,
                body,
                report_monitor,
            },
        );
        self.recorded += 1;
        self.log_size = self.log_size.max(index + 1);
        // A poisoned queue means a panic while the engine took entries; the entries recorded
        // from now on are still in the log, and a restart (or `pacta replay`) sees them.
        if let Ok(mut arrivals) = self.arrivals.lock() {
            arrivals.entries.push(entry);
            arrivals.prefix = Prefix {
                size: self.log_size,
                domain_end: index + 1,
            };
        }
    }

    /// The engine, to assess without holding the ledger.
    pub fn engine(&self) -> EngineHandle {
        EngineHandle {
            engine: self.engine.clone(),
            arrivals: self.arrivals.clone(),
        }
    }

    /// Notes a `pacta.assessment/1` entry at `index`, the digest of the log prefix of
    /// `covers` entries.
    pub fn record_digest(&mut self, index: u64, covers: u64) {
        self.log_size = self.log_size.max(index + 1);
        self.assessed_prefix = self.assessed_prefix.max(covers);
        if let Ok(mut arrivals) = self.arrivals.lock() {
            arrivals.prefix.size = self.log_size;
        }
    }

    /// How many domain entries were recorded.
    pub fn recorded(&self) -> usize {
        self.recorded
    }

    /// The log index of the entry with this id.
    pub fn index_of(&self, id: &str) -> Option<u64> {
        self.ids.get(id).map(|seen| seen.index)
    }

    /// The log size as sequenced (journaled; possibly not yet in a checkpoint).
    pub fn log_size(&self) -> u64 {
        self.log_size
    }

    /// The log prefix the last assessment digest covers (0 if none was logged).
    pub fn assessed_prefix(&self) -> u64 {
        self.assessed_prefix
    }
}

/// Work for the sequencer.
pub enum Job {
    /// Stop after the jobs queued before this one; later submissions fail with 503.
    Stop,
    /// Sequence these candidates; answer with one outcome each, in order.
    Submit {
        /// Verified entries.
        candidates: Vec<Candidate>,
        /// Where the outcomes go.
        reply: oneshot::Sender<Vec<Sequenced>>,
    },
    /// Integrate pending entries and sign a checkpoint.
    Integrate {
        /// Told the checkpoint size, or the failure.
        reply: Option<oneshot::Sender<Result<u64, String>>>,
    },
    /// Append an assessment digest made by the server, then integrate.
    AppendDigest {
        /// The signed `pacta.assessment/1` entry.
        bytes: Vec<u8>,
        /// The log prefix it is the digest of.
        covers: u64,
        /// Told the index appended, or the failure.
        reply: Option<oneshot::Sender<Result<u64, String>>>,
    },
}

/// The sending side of the sequencer's queue.
#[derive(Clone)]
pub struct Sequencer {
    queue: mpsc::Sender<Job>,
}

/// What the sequencer made durable, in log order, for the store's index.
#[derive(Debug)]
pub enum Committed {
    /// A group of newly accepted domain entries: index, entry, canonical bytes.
    Entries(Vec<(u64, Entry, Vec<u8>)>),
    /// An assessment digest the server appended.
    Digest {
        /// Its log index.
        index: u64,
        /// Its canonical bytes.
        bytes: Vec<u8>,
    },
}

/// Called with everything made durable, in log order, after the callers have been answered:
/// hands it to the store's indexer.
pub type AfterCommit = Box<dyn FnMut(Committed) + Send>;

impl Sequencer {
    /// Starts the sequencer on its own thread. It stops when every [`Sequencer`] handle is
    /// dropped, after finishing the jobs queued.
    pub fn start(
        log: Arc<Mutex<LogWriter<DirStore>>>,
        ledger: Arc<RwLock<Ledger>>,
        queue_depth: usize,
        after_commit: AfterCommit,
    ) -> (Sequencer, std::thread::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(queue_depth);
        let handle = std::thread::Builder::new()
            .name("pacta-sequencer".into())
            .spawn(move || run(receiver, &log, &ledger, after_commit));
        match handle {
            Ok(handle) => (Sequencer { queue: sender }, handle),
            // Without a thread nothing can be written; a handle whose queue is closed makes
            // every submission fail with 503 rather than the process dying.
            Err(_) => {
                let (closed, _) = mpsc::channel(1);
                (Sequencer { queue: closed }, std::thread::spawn(|| ()))
            }
        }
    }

    /// Queues a job, waiting for room (back-pressure). Fails only if the sequencer stopped.
    pub async fn send(&self, job: Job) -> Result<(), String> {
        self.queue
            .send(job)
            .await
            .map_err(|_| "the sequencer has stopped".to_owned())
    }
}

fn run(
    mut receiver: mpsc::Receiver<Job>,
    log: &Mutex<LogWriter<DirStore>>,
    ledger: &RwLock<Ledger>,
    mut after_commit: AfterCommit,
) {
    let mut carried: Option<Job> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match receiver.blocking_recv() {
                Some(job) => job,
                None => return,
            },
        };
        match first {
            Job::Stop => return,
            Job::Submit { candidates, reply } => {
                let mut group = vec![(candidates, reply)];
                let mut count = group.iter().map(|(c, _)| c.len()).sum::<usize>();
                // Group commit: everything already waiting shares the fsync.
                while count < GROUP_COMMIT_ENTRIES_MAX {
                    match receiver.try_recv() {
                        Ok(Job::Submit { candidates, reply }) => {
                            count += candidates.len();
                            group.push((candidates, reply));
                        }
                        Ok(other) => {
                            carried = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                commit(group, log, ledger, &mut after_commit);
            }
            Job::Integrate { reply } => {
                let result = integrate(log);
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
            Job::AppendDigest {
                bytes,
                covers,
                reply,
            } => {
                let result = append_digest(&bytes, covers, log, ledger);
                if let Ok(index) = result {
                    after_commit(Committed::Digest { index, bytes });
                }
                if let Some(reply) = reply {
                    let _ = reply.send(result);
                }
            }
        }
    }
}

fn integrate(log: &Mutex<LogWriter<DirStore>>) -> Result<u64, String> {
    let mut writer = log
        .lock()
        .map_err(|_| "the log lock is poisoned".to_owned())?;
    writer
        .integrate()
        .map(|checkpoint| checkpoint.size)
        .map_err(|e| e.to_string())
}

fn append_digest(
    bytes: &[u8],
    covers: u64,
    log: &Mutex<LogWriter<DirStore>>,
    ledger: &RwLock<Ledger>,
) -> Result<u64, String> {
    let index = {
        let mut writer = log.lock().map_err(|_| "the log lock is poisoned")?;
        let range = writer.append(&[bytes]).map_err(|e| e.to_string())?;
        writer.integrate().map_err(|e| e.to_string())?;
        range.start
    };
    ledger
        .write()
        .map_err(|_| "the ledger lock is poisoned")?
        .record_digest(index, covers);
    Ok(index)
}

type Group = Vec<(Vec<Candidate>, oneshot::Sender<Vec<Sequenced>>)>;

/// Decides, appends under one fsync, records, answers, then indexes.
fn commit(
    group: Group,
    log: &Mutex<LogWriter<DirStore>>,
    ledger: &RwLock<Ledger>,
    after_commit: &mut AfterCommit,
) {
    // Decide every candidate against the ledger and against earlier ones in this group.
    let mut outcomes: Vec<Vec<Sequenced>> = Vec::with_capacity(group.len());
    let mut new: Vec<(usize, usize)> = Vec::new();
    {
        let Ok(ledger) = ledger.read() else {
            answer_all_failed(group, "the ledger lock is poisoned");
            return;
        };
        let mut in_group: HashMap<&str, (usize, usize)> = HashMap::new();
        for (g, (candidates, _)) in group.iter().enumerate() {
            let mut answers = Vec::with_capacity(candidates.len());
            for (c, candidate) in candidates.iter().enumerate() {
                let id = candidate.entry.id();
                let answer = if let Some(seen) = ledger.ids.get(id) {
                    if seen.body == candidate.body {
                        Sequenced::Duplicate(seen.index)
                    } else {
                        Sequenced::Conflict(seen.index)
                    }
                } else if let Some(&(g0, c0)) = in_group.get(id) {
                    // Resolved below, once the first one's index is known.
                    let same = group
                        .get(g0)
                        .and_then(|(cs, _)| cs.get(c0))
                        .is_some_and(|first| first.body == candidate.body);
                    if same {
                        Sequenced::Duplicate(u64::MAX)
                    } else {
                        Sequenced::Conflict(u64::MAX)
                    }
                } else if let Some(refusal) = retraction_refusal(&candidate.entry, &ledger, &group)
                {
                    refusal
                } else {
                    in_group.insert(id, (g, c));
                    new.push((g, c));
                    Sequenced::Accepted(u64::MAX)
                };
                answers.push(answer);
            }
            outcomes.push(answers);
        }
    }

    let bytes: Vec<&[u8]> = new
        .iter()
        .filter_map(|&(g, c)| group.get(g)?.0.get(c).map(|cand| cand.canonical.as_slice()))
        .collect();
    let appended = if bytes.is_empty() {
        Ok(0..0)
    } else {
        match log.lock() {
            Ok(mut writer) => writer.append(&bytes).map_err(|e| e.to_string()),
            Err(_) => Err("the log lock is poisoned".to_owned()),
        }
    };
    let range = match appended {
        Ok(range) => range,
        Err(reason) => {
            tracing::error!("log append failed, nothing acknowledged: {reason}");
            answer_all_failed(group, &reason);
            return;
        }
    };

    // Indexes of the new entries, by (group, candidate).
    let mut index_of: HashMap<(usize, usize), u64> = HashMap::with_capacity(new.len());
    for (offset, &(g, c)) in new.iter().enumerate() {
        index_of.insert((g, c), range.start + offset as u64);
    }
    let mut id_index: HashMap<&str, u64> = HashMap::new();
    for (&(g, c), &index) in &index_of {
        if let Some(candidate) = group.get(g).and_then(|(cs, _)| cs.get(c)) {
            id_index.insert(candidate.entry.id(), index);
        }
    }
    for (g, answers) in outcomes.iter_mut().enumerate() {
        for (c, answer) in answers.iter_mut().enumerate() {
            let id = group
                .get(g)
                .and_then(|(cs, _)| cs.get(c))
                .map(|cand| cand.entry.id())
                .unwrap_or_default();
            match answer {
                Sequenced::Accepted(index) => {
                    *index = index_of.get(&(g, c)).copied().unwrap_or(u64::MAX);
                }
                Sequenced::Duplicate(index) | Sequenced::Conflict(index) if *index == u64::MAX => {
                    *index = id_index.get(id).copied().unwrap_or(u64::MAX);
                }
                _ => {}
            }
        }
    }

    // Record, then answer: a reader that sees the answer finds the entry in the ledger.
    let mut committed: Vec<(u64, Entry, Vec<u8>)> = Vec::with_capacity(new.len());
    let mut replies = Vec::with_capacity(group.len());
    let mut group_iter = group.into_iter().enumerate();
    {
        let mut ledger_guard = ledger.write();
        for (g, (candidates, reply)) in group_iter.by_ref() {
            for (c, candidate) in candidates.into_iter().enumerate() {
                if let Some(&index) = index_of.get(&(g, c)) {
                    if let Ok(ledger) = ledger_guard.as_mut() {
                        ledger.record(index, candidate.entry.clone(), candidate.body);
                    }
                    committed.push((index, candidate.entry, candidate.canonical));
                }
            }
            replies.push(reply);
        }
    }
    for (reply, answers) in replies.into_iter().zip(outcomes) {
        let _ = reply.send(answers);
    }
    if !committed.is_empty() {
        after_commit(Committed::Entries(committed));
    }
}

/// A retraction may withdraw only its own monitor's report. A report not known yet is left
/// to the assessment, which ignores retractions by anyone but the report's monitor.
fn retraction_refusal(entry: &Entry, ledger: &Ledger, group: &Group) -> Option<Sequenced> {
    let Entry::Retraction(retraction) = entry else {
        return None;
    };
    let author = ledger
        .ids
        .get(&retraction.report)
        .and_then(|seen| seen.report_monitor.clone())
        .or_else(|| {
            group
                .iter()
                .flat_map(|(cs, _)| cs)
                .find_map(|c| match &c.entry {
                    Entry::Report(r) if r.id == retraction.report => Some(r.monitor.clone()),
                    _ => None,
                })
        })?;
    (author != retraction.monitor).then(|| Sequenced::RetractsOthers {
        report: retraction.report.clone(),
        author,
    })
}

fn answer_all_failed(group: Group, reason: &str) {
    for (candidates, reply) in group {
        let _ = reply.send(vec![Sequenced::Failed(reason.to_owned()); candidates.len()]);
    }
}
