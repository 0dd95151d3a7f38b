//! Reading many entries, one JSON object a line (NDJSON), against one agreement.
//!
//! Reading a line has two halves. [`LineChecker::check`] looks at the line alone: it parses
//! and validates the entry, authorises its signer and verifies the signature, and hashes the
//! signed body. It holds no state, so a shell may check many lines at once on every core.
//! [`Admission::admit`] then takes the checked lines one at a time, in input order, and
//! decides what only the lines before can decide: a reused id, a resubmission, a retraction
//! of another monitor's report. [`EntryReader`] does both for one line; [`read_entries`] for a
//! whole text. Either way a bad line is reported with its 1-based number and the reason, and
//! the rest are still processed. A valid line's text is parsed once, into a tree that borrows
//! its strings; the typed entry, the signed message and the signature check work from it. A
//! line that is not a valid entry is read again by [`super::parse_entry`], which says why.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use super::canonical::{raw_canonical_forms, signed_form};
use super::raw::Raw;
use super::signature::{AuthError, CanonicalForms, KeyRing, SignError, SignatureCheck};
use super::strict::{StrictKey, VERIFIED_TOGETHER};
use super::types::Entry;
use super::validate::{parse_entry, parse_entry_raw, EntryError};
use crate::agreement::model::{Agreement, Role};
use ed25519_dalek::Signature;

/// An entry that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct AcceptedEntry {
    /// 1-based line number in the input.
    pub line: usize,
    pub entry: Entry,
    /// The role under which the agreement authorised its signer.
    pub role: Role,
    /// SHA-256 of the signed message (the RFC 8785 form without `signature`): equal for a
    /// resubmission of the same entry, whatever key of its signer signed it.
    pub body: [u8; 32],
    /// Length in bytes of the signed message.
    pub signed_len: usize,
}

/// A line that was not accepted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}: {rejection}")]
pub struct LineError {
    /// 1-based line number in the input.
    pub line: usize,
    pub rejection: Rejection,
}

/// Why a line was not accepted.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// Not JSON, or not a valid entry (with the JSON pointer of the offending value).
    #[error("{0}")]
    Invalid(EntryError),
    /// Valid, but not signed by a key the agreement lists for the entry's signer.
    #[error("{0}")]
    Unauthorised(AuthError),
    /// Its id was already used, on an earlier line, by an entry with a different body.
    #[error("id `{id}` was already used on line {first_line} for a different entry")]
    IdReused { id: String, first_line: usize },
    /// A retraction of a report that another monitor wrote: a monitor withdraws only its own.
    #[error(
        "/report: report `{report}` (line {report_line}) is monitor `{author}`'s; monitor \
         `{monitor}` may retract only its own reports"
    )]
    RetractsAnotherMonitorsReport {
        report: String,
        report_line: usize,
        author: String,
        monitor: String,
    },
}

/// Why an entry's text, taken alone, was not accepted: the rejections that need no other
/// entry to decide.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Unverified {
    /// Not JSON, or not a valid entry (with the JSON pointer of the offending value).
    #[error("{0}")]
    Invalid(EntryError),
    /// Valid, but not signed by a key the agreement lists for the entry's signer.
    #[error("{0}")]
    Unauthorised(AuthError),
}

impl From<Unverified> for Rejection {
    fn from(unverified: Unverified) -> Rejection {
        match unverified {
            Unverified::Invalid(e) => Rejection::Invalid(e),
            Unverified::Unauthorised(e) => Rejection::Unauthorised(e),
        }
    }
}

/// What [`LineChecker::check`] made of one line on its own.
// Most lines are entries; boxing would cost an allocation per entry.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Checked {
    /// Valid and signed by a key of its signer; not yet admitted.
    Entry(AcceptedEntry),
    /// Empty or only whitespace.
    Blank,
}

impl Checked {
    /// The same outcome with its entry in [`assessed_form`]: a shell that checks lines on
    /// every core drops the unread parts there rather than on the thread that admits.
    /// Admission reads only what `assessed_form` keeps.
    pub fn into_assessed_form(self) -> Checked {
        match self {
            Checked::Entry(mut accepted) => {
                accepted.entry = assessed_form(accepted.entry);
                Checked::Entry(accepted)
            }
            Checked::Blank => Checked::Blank,
        }
    }
}

/// What [`Admission::admit`] (or [`EntryReader::read_line`]) made of one line.
// Most lines are accepted; boxing would cost an allocation per entry.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum LineOutcome {
    Accepted(AcceptedEntry),
    /// Empty or only whitespace.
    Blank,
    /// The same signed body as the entry accepted on `first_line` under that id: a
    /// resubmission, kept once.
    Duplicate {
        first_line: usize,
    },
}

/// The stateless half of reading a line: everything that depends on the line alone.
///
/// `check` takes `&self` and the checker is `Sync`, so a shell can check a batch of lines on
/// every core and admit the results in input order: the outcome is the same as reading the
/// lines one by one.
#[derive(Clone, Debug)]
pub struct LineChecker {
    keys: KeyRing,
}

impl LineChecker {
    /// A checker for entries under `agreement`.
    pub fn new(agreement: &Agreement) -> Self {
        LineChecker {
            keys: KeyRing::new(agreement),
        }
    }

    /// Parses, validates and authorises line number `line` (1-based), verifying its
    /// signature strictly, and hashes its signed body.
    pub fn check(&self, line: usize, text: &str) -> Result<Checked, LineError> {
        let read = self
            .begin(text)
            .map(|reading| reading.finish(&self.keys, None));
        self.finish(line, read)
    }

    /// Checks the lines of `batch` (numbered from `first_line`) on every core, keeping for
    /// each accepted entry only what the assessment reads; the results are in input order,
    /// for [`Admission`]. A line that is not UTF-8 is bad input on that line, not a failure
    /// of the whole read.
    #[cfg(feature = "parallel")]
    pub fn check_lines(
        &self,
        batch: &LineBatch,
        first_line: usize,
    ) -> Vec<Result<Checked, LineError>> {
        use rayon::prelude::*;
        (0..batch.len())
            .into_par_iter()
            .chunks(VERIFIED_TOGETHER)
            .flat_map_iter(|lines| {
                self.check_numbered_lines(
                    lines.into_iter().map(|i| (first_line + i, batch.line(i))),
                )
            })
            .collect()
    }

    /// [`LineChecker::check_lines`] on this thread alone: for a shell that checks several
    /// batches at once, one to a thread, where splitting each batch over the threads only
    /// made them wait for each other at its end.
    pub fn check_lines_here(
        &self,
        batch: &LineBatch,
        first_line: usize,
    ) -> Vec<Result<Checked, LineError>> {
        self.check_numbered_lines((first_line..).zip(batch.lines()))
    }

    /// [`LineChecker::check_lines_here`], appending the outcomes to `checked`: a shell
    /// checking batch after batch reuses one list.
    pub fn check_lines_here_into(
        &self,
        batch: &LineBatch,
        first_line: usize,
        checked: &mut Vec<Result<Checked, LineError>>,
    ) {
        self.check_numbered_lines_into((first_line..).zip(batch.lines()), checked);
    }

    /// Checks raw lines `(number, bytes)` on this thread, verifying the signatures of all of
    /// them at once ([`StrictKey::verify_each`]); the outcomes are those of
    /// [`LineChecker::check`], in assessed form, and in order. A line that is not UTF-8 is bad
    /// input on that line.
    pub fn check_numbered_lines<'b>(
        &self,
        lines: impl Iterator<Item = (usize, &'b [u8])>,
    ) -> Vec<Result<Checked, LineError>> {
        let mut checked = Vec::new();
        self.check_numbered_lines_into(lines, &mut checked);
        checked
    }

    /// [`LineChecker::check_numbered_lines`], appending the outcomes to `checked`.
    fn check_numbered_lines_into<'b>(
        &self,
        lines: impl Iterator<Item = (usize, &'b [u8])>,
        checked: &mut Vec<Result<Checked, LineError>>,
    ) {
        checked.reserve(lines.size_hint().0);
        let readings = lines.map(|(line, bytes)| {
            // Validating alone is several times cheaper than the lossy conversion's scan.
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => std::borrow::Cow::Borrowed(text),
                Err(_) => String::from_utf8_lossy(bytes),
            };
            (line, self.begin(text.trim_end_matches(['\n', '\r'])))
        });
        finish_each(&self.keys, readings, |line, read| {
            checked.push(self.finish(line, read).map(Checked::into_assessed_form));
        });
    }

    /// A line read as far as its signature; `None` if blank.
    fn begin(&self, text: &str) -> Option<Reading<'_, Vec<u8>>> {
        if text.trim().is_empty() {
            return None;
        }
        Some(
            self.keys
                .begin_reading(text, signed_form, |forms| forms.signed),
        )
    }

    /// The outcome of line `line` read as `read` (`None` if blank).
    fn finish(&self, line: usize, read: Option<ReadEntry<Vec<u8>>>) -> Result<Checked, LineError> {
        let Some(read) = read else {
            return Ok(Checked::Blank);
        };
        let (entry, role, signed) = read.map_err(|unverified| LineError {
            line,
            rejection: unverified.into(),
        })?;
        Ok(Checked::Entry(AcceptedEntry {
            line,
            body: Sha256::digest(&signed).into(),
            signed_len: signed.len(),
            entry,
            role,
        }))
    }
}

/// Raw NDJSON lines held in one buffer, as a shell reads them for [`read_batches`]: filled a
/// line at a time, then checked, then cleared and filled again. One buffer a batch, reused,
/// where a buffer a line cost an allocation and a free on another thread for every line of a
/// replay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineBatch {
    text: Vec<u8>,
    /// Where each line ends in `text`.
    ends: Vec<usize>,
}

impl LineBatch {
    /// A batch holding no line.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one line, its end included or not.
    pub fn push(&mut self, line: &[u8]) {
        self.text.extend_from_slice(line);
        self.ends.push(self.text.len());
    }

    /// How many lines it holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether it holds no line.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// How many bytes its lines hold, line ends included.
    pub fn byte_len(&self) -> usize {
        self.text.len()
    }

    /// Empties it, keeping its buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Line `index` (from 0), its end as read; empty past the last.
    pub fn line(&self, index: usize) -> &[u8] {
        let start = index
            .checked_sub(1)
            .and_then(|before| self.ends.get(before))
            .copied()
            .unwrap_or(0);
        let end = self.ends.get(index).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or_default()
    }

    /// Its lines in order, their ends as read.
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.line(i))
    }
}

impl<'a> FromIterator<&'a [u8]> for LineBatch {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(lines: I) -> Self {
        let mut batch = LineBatch::new();
        lines.into_iter().for_each(|line| batch.push(line));
        batch
    }
}

/// Batches checked at once by [`read_batches`] per thread of the pool: enough that no core
/// waits while the batches before are admitted in order, few enough that only these raw
/// lines are held at once. Two kept both cores busy 1.86 to 1.87 of a replay's verification
/// at 10^6 reports, four 1.88, eight no more (`bench/BENCHMARKS.md`, run 8); with batches
/// admitted one at a time between refills, four keep them busy 1.97 of it (run 9).
#[cfg(feature = "parallel")]
const BATCHES_IN_FLIGHT_PER_THREAD: usize = 4;

/// Reads batches of raw NDJSON lines (numbered from 1 across the batches) as
/// [`EntryReader`] would one by one, giving `take` each line's outcome in input order.
/// `fill` puts the next lines of the input into the empty batch it is given (as many as a
/// batch should hold; none at the end of the input). The lines are checked on every core,
/// several batches at once (each on one thread), while the calling thread admits the lines
/// before them, one batch at a time, and fills the next batch, so no core waits for the
/// sequential part; a batch whose lines were checked is filled again. Call it from outside
/// the thread pool (a shell's main thread); on a thread of the pool it checks one batch at a
/// time on the rest of the pool. An error from `fill` stops the reading and is returned,
/// after the lines of the batches before were taken (the lines `fill` had put into the
/// batch it failed on are dropped); a panic while checking a batch is resumed on the calling
/// thread.
#[cfg(feature = "parallel")]
pub fn read_batches<E>(
    checker: &LineChecker,
    mut fill: impl FnMut(&mut LineBatch) -> Result<(), E>,
    mut take: impl FnMut(Result<LineOutcome, LineError>),
) -> Result<(), E> {
    use std::collections::VecDeque;
    use std::panic::AssertUnwindSafe;
    use std::sync::mpsc;

    let mut admission = Admission::new();
    // Empties `checked`, keeping its room for another batch.
    let mut admit = |checked: &mut Vec<Result<Checked, LineError>>| {
        for outcome in checked.drain(..) {
            take(outcome.and_then(|checked| admission.admit(checked)));
        }
    };
    let mut first_line = 1;
    if rayon::current_thread_index().is_some() {
        // Waiting on a channel here would hold a thread the checks need.
        let mut batch = LineBatch::new();
        loop {
            batch.clear();
            fill(&mut batch)?;
            if batch.is_empty() {
                return Ok(());
            }
            admit(&mut checker.check_lines(&batch, first_line));
            first_line += batch.len();
        }
    }
    let in_flight = BATCHES_IN_FLIGHT_PER_THREAD * rayon::current_num_threads();
    type Checks = Vec<Result<Checked, LineError>>;
    let (done, finished) = mpsc::channel::<(usize, LineBatch, std::thread::Result<Checks>)>();
    rayon::in_place_scope(|scope| {
        // Results of batches `taken..sent`, by batch number: each is admitted once every
        // batch before it has been.
        let mut waiting: VecDeque<Option<Checks>> = VecDeque::new();
        // Batches checked, to be filled again, and lists of outcomes admitted, to be filled
        // again: each batch's outcomes are megabytes, which the allocator would otherwise
        // return to the system and fault in again for every batch.
        let mut spare: Vec<LineBatch> = Vec::new();
        let mut spare_checks: Vec<Checks> = Vec::new();
        let (mut sent, mut taken) = (0, 0);
        let mut outcome = Ok(());
        let mut input_left = true;
        loop {
            if input_left && sent - taken < in_flight {
                let mut batch = spare.pop().unwrap_or_default();
                batch.clear();
                match fill(&mut batch) {
                    Ok(()) if !batch.is_empty() => {
                        let done = done.clone();
                        let (number, line) = (sent, first_line);
                        first_line += batch.len();
                        sent += 1;
                        waiting.push_back(None);
                        let mut checks = spare_checks.pop().unwrap_or_default();
                        scope.spawn(move |_| {
                            // A panic is sent too: this thread waits for every batch's
                            // result, and would otherwise wait for ever.
                            let checks = std::panic::catch_unwind(AssertUnwindSafe(|| {
                                checker.check_lines_here_into(&batch, line, &mut checks);
                                checks
                            }));
                            // The receiver outlives the scope, so the send cannot fail.
                            let _ = done.send((number, batch, checks));
                        });
                        continue;
                    }
                    Ok(()) => input_left = false,
                    Err(error) => {
                        outcome = Err(error);
                        input_left = false;
                    }
                }
            }
            // One checked batch admitted, then the pool topped up again: admitting every
            // checked batch in a row (up to all of those in flight, when the oldest was
            // slow) left both cores idle for tens of milliseconds at a time (`perf sched`).
            if waiting.front().is_some_and(Option::is_some) {
                if let Some(mut checked) = waiting.pop_front().flatten() {
                    admit(&mut checked);
                    spare_checks.push(checked);
                }
                taken += 1;
                continue;
            }
            if sent == taken {
                return outcome;
            }
            // Every batch `taken..sent` was spawned and sends exactly once.
            let Ok((number, batch, checks)) = finished.recv() else {
                return outcome;
            };
            spare.push(batch);
            let checked = checks.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            if let Some(slot) = waiting.get_mut(number - taken) {
                *slot = Some(checked);
            }
        }
    })
}

/// A signed entry read from its text, validated, and authorised with its signature verified.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedEntry {
    pub entry: Entry,
    /// The role under which the agreement authorised its signer.
    pub role: Role,
    /// Its canonical forms: the message the signature covers, and the bytes to log.
    pub canonical: CanonicalForms,
}

/// What a reader keeps of an entry's canonical form, and the signed message within it.
trait SignedMessage {
    fn signed_message(&self) -> &[u8];
}

impl SignedMessage for Vec<u8> {
    fn signed_message(&self) -> &[u8] {
        self
    }
}

impl SignedMessage for CanonicalForms {
    fn signed_message(&self) -> &[u8] {
        &self.signed
    }
}

impl KeyRing {
    /// Reads one signed entry's text, validates it and authorises it, verifying its signature
    /// strictly: the verdicts and errors of [`parse_entry`] then [`KeyRing::authorise`], with
    /// a valid entry's text parsed only once (the reading [`LineChecker::check`] does), and
    /// both canonical forms, as a server logs an entry.
    pub fn verify_text(&self, text: &str) -> Result<VerifiedEntry, Unverified> {
        let (entry, role, canonical) =
            self.read_signed(text, raw_canonical_forms, |forms| forms)?;
        Ok(VerifiedEntry {
            entry,
            role,
            canonical,
        })
    }

    /// [`KeyRing::verify_text`] for each of `texts`, in order, with the signatures verified
    /// at once ([`StrictKey::verify_each`]): for a batch of entries, as a server ingests one.
    pub fn verify_texts<'t>(
        &self,
        texts: impl IntoIterator<Item = &'t str>,
    ) -> Vec<Result<VerifiedEntry, Unverified>> {
        let readings = texts.into_iter().map(|text| {
            let reading = self.begin_reading(text, raw_canonical_forms, |forms| forms);
            ((), Some(reading))
        });
        let mut verified = Vec::new();
        finish_each(self, readings, |(), read| {
            // Every reading is `Some`, so each gives one outcome.
            verified.extend(read.map(|read| {
                read.map(|(entry, role, canonical)| VerifiedEntry {
                    entry,
                    role,
                    canonical,
                })
            }));
        });
        verified
    }

    /// Parses, validates and authorises `text`. `from_raw` computes what the caller keeps of
    /// the canonical form from the one-pass tree; a text that reading does not accept goes to
    /// [`parse_entry`], whose forms `from_full` turns into the same.
    fn read_signed<K: SignedMessage>(
        &self,
        text: &str,
        from_raw: impl FnOnce(&Raw<'_>) -> Result<K, SignError>,
        from_full: impl FnOnce(CanonicalForms) -> K,
    ) -> ReadEntry<K> {
        self.begin_reading(text, from_raw, from_full)
            .finish(self, None)
    }

    /// [`KeyRing::read_signed`] up to the signature: a valid entry that passed every other
    /// check awaits the verification of its signature.
    fn begin_reading<K: SignedMessage>(
        &self,
        text: &str,
        from_raw: impl FnOnce(&Raw<'_>) -> Result<K, SignError>,
        from_full: impl FnOnce(CanonicalForms) -> K,
    ) -> Reading<'_, K> {
        match parse_entry_raw(text) {
            Some((entry, raw)) => match self.check_all_but_signature(&entry, || from_raw(&raw)) {
                Ok(check) => Reading::Awaiting(entry, check),
                Err(e) => Reading::Done(Err(Unverified::Unauthorised(e))),
            },
            // Not a valid entry: the full reader says why.
            None => Reading::Done((|| {
                let parsed = parse_entry(text).map_err(Unverified::Invalid)?;
                let authorised = self.authorise(&parsed).map_err(Unverified::Unauthorised)?;
                Ok((
                    parsed.entry,
                    authorised.role,
                    from_full(authorised.canonical),
                ))
            })()),
        }
    }
}

/// An entry read from its text and authorised, with what the reader keeps of its canonical
/// form; or why it was not.
type ReadEntry<K> = Result<(Entry, Role, K), Unverified>;

/// An entry's text read as far as its signature.
enum Reading<'k, K> {
    /// Decided without a verification still to make.
    Done(ReadEntry<K>),
    /// A valid entry, every check but the signature's passed.
    Awaiting(Entry, SignatureCheck<'k, K>),
}

impl<K: SignedMessage> Reading<'_, K> {
    /// The verification an awaiting entry needs first.
    fn first_verification(&self) -> Option<(&StrictKey, &[u8], &Signature)> {
        match self {
            Reading::Awaiting(_, check) => Some(check.first_verification(K::signed_message)),
            Reading::Done(_) => None,
        }
    }

    /// The outcome, given the verdict of [`Reading::first_verification`] if it was made.
    fn finish(self, ring: &KeyRing, first_verdict: Option<bool>) -> ReadEntry<K> {
        match self {
            Reading::Done(outcome) => outcome,
            Reading::Awaiting(entry, check) => {
                let (role, _, kept) = check
                    .finish(ring, &entry, K::signed_message, first_verdict)
                    .map_err(Unverified::Unauthorised)?;
                Ok((entry, role, kept))
            }
        }
    }
}

/// Each reading finished (`None`s passed through) and given to `take` with its tag, in
/// order, the verifications they await first made a group at a time
/// ([`StrictKey::verify_each`]): the outcomes of finishing each alone. The readings are taken
/// a group at a time too, so only a group's are held.
fn finish_each<'k, T, K: SignedMessage>(
    ring: &'k KeyRing,
    readings: impl Iterator<Item = (T, Option<Reading<'k, K>>)>,
    mut take: impl FnMut(T, Option<ReadEntry<K>>),
) {
    let mut readings = readings.peekable();
    let mut group = Vec::with_capacity(VERIFIED_TOGETHER);
    while readings.peek().is_some() {
        group.extend(readings.by_ref().take(VERIFIED_TOGETHER));
        let verdicts = StrictKey::verify_each(
            group
                .iter()
                .filter_map(|(_, reading)| reading.as_ref()?.first_verification()),
        );
        // One verdict for each reading that awaited one, in the same order.
        let mut verdicts = verdicts.into_iter();
        for (tag, reading) in group.drain(..) {
            let outcome = reading.map(|reading| {
                let verdict = match reading {
                    Reading::Awaiting(..) => verdicts.next(),
                    Reading::Done(_) => None,
                };
                reading.finish(ring, verdict)
            });
            take(tag, outcome);
        }
    }
}

/// The sequential half of reading: remembers the entries admitted so far, and admits or
/// rejects each checked line in input order.
#[derive(Debug, Default)]
pub struct Admission {
    /// Entry id → what is remembered of the entry first accepted under it. A hash map with
    /// fixed keys: it is only looked up, never iterated, so its order reaches no output, and
    /// it has no random seed; the ids in it are those of entries whose signers the agreement
    /// lists. At 10^6 entries it is about half the size of a `BTreeMap` of `String`s, and
    /// quicker.
    seen: HashMap<Box<str>, Seen, foldhash::fast::FixedState>,
    /// The monitors of the reports seen, each once, so that [`Seen`] holds an index rather
    /// than a copy of the name.
    monitors: Vec<String>,
    monitor_index: BTreeMap<String, u32>,
}

/// What admission keeps of an accepted entry: enough to recognise a resubmission and to
/// check who may retract a report.
#[derive(Debug)]
struct Seen {
    line: usize,
    body: [u8; 32],
    /// For a report, its monitor (an index into [`Admission::monitors`]).
    report_monitor: Option<u32>,
}

impl Admission {
    /// Admission with nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Admits the next checked line. Lines must come in input order: the first line to use
    /// an id claims it. Duplicates compare signed bodies, so the same report signed twice by
    /// two keys of its monitor is still one report.
    pub fn admit(&mut self, checked: Checked) -> Result<LineOutcome, LineError> {
        let accepted = match checked {
            Checked::Blank => return Ok(LineOutcome::Blank),
            Checked::Entry(accepted) => accepted,
        };
        let line = accepted.line;
        let reject = |rejection| LineError { line, rejection };
        let id = accepted.entry.id();
        if let Some(first) = self.seen.get(id) {
            if first.body == accepted.body {
                return Ok(LineOutcome::Duplicate {
                    first_line: first.line,
                });
            }
            return Err(reject(Rejection::IdReused {
                id: id.to_string(),
                first_line: first.line,
            }));
        }
        if let Entry::Retraction(retraction) = &accepted.entry {
            // A report not seen yet (an earlier batch, or a later line) is left to the
            // assessment, which ignores retractions by anyone but the report's monitor.
            let author = self.seen.get(retraction.report.as_str()).and_then(|seen| {
                let monitor = self
                    .monitors
                    .get(usize::try_from(seen.report_monitor?).ok()?)?;
                Some((seen.line, monitor))
            });
            if let Some((report_line, author)) = author {
                if *author != retraction.monitor {
                    return Err(reject(Rejection::RetractsAnotherMonitorsReport {
                        report: retraction.report.clone(),
                        report_line,
                        author: author.clone(),
                        monitor: retraction.monitor.clone(),
                    }));
                }
            }
        }
        let report_monitor = match &accepted.entry {
            Entry::Report(report) => Some(self.monitor_index(&report.monitor)),
            _ => None,
        };
        self.seen.insert(
            id.into(),
            Seen {
                line,
                body: accepted.body,
                report_monitor,
            },
        );
        Ok(LineOutcome::Accepted(accepted))
    }

    /// The index of `monitor` in [`Admission::monitors`], added if new.
    fn monitor_index(&mut self, monitor: &str) -> u32 {
        if let Some(index) = self.monitor_index.get(monitor) {
            return *index;
        }
        // The monitors are those the agreement lists, far fewer than 2^32.
        let index = u32::try_from(self.monitors.len()).unwrap_or(u32::MAX);
        self.monitors.push(monitor.to_string());
        self.monitor_index.insert(monitor.to_string(), index);
        index
    }
}

/// `entry` with what the assessment never reads dropped, for a reader that holds every entry
/// until it assesses them: a report's signature, its free text and source coding, and its
/// `schema` and `agreement` (checked when the line was read; [`Entry::schema`] still
/// answers). About a fifth of a report in memory; the assessment and its digest are the
/// same (a test in `tests/assessed_form.rs` checks it). Not for storing, logging or
/// re-verifying: the signature is gone.
pub fn assessed_form(entry: Entry) -> Entry {
    match entry {
        Entry::Report(mut report) => {
            report.signature = None;
            report.text = None;
            report.source = None;
            report.schema = String::new();
            report.agreement = String::new();
            Entry::Report(report)
        }
        other => other,
    }
}

/// Reads entries line by line against one agreement, remembering the ids seen so far: a
/// [`LineChecker`] and an [`Admission`] together.
///
/// Use it directly to show progress or to stream; [`read_entries`] reads a whole text.
#[derive(Debug)]
pub struct EntryReader {
    checker: LineChecker,
    admission: Admission,
}

impl EntryReader {
    /// A reader for entries under `agreement`.
    pub fn new(agreement: &Agreement) -> Self {
        EntryReader {
            checker: LineChecker::new(agreement),
            admission: Admission::new(),
        }
    }

    /// Reads line number `line` (1-based): [`LineChecker::check`], then
    /// [`Admission::admit`].
    pub fn read_line(&mut self, line: usize, text: &str) -> Result<LineOutcome, LineError> {
        let checked = self.checker.check(line, text)?;
        self.admission.admit(checked)
    }
}

/// Reads every line of `text` (NDJSON; blank lines skipped; `\n` or `\r\n`) against
/// `agreement`. Returns the accepted entries in input order, each id once, and one error per
/// rejected line in input order.
pub fn read_entries(text: &str, agreement: &Agreement) -> (Vec<AcceptedEntry>, Vec<LineError>) {
    let mut reader = EntryReader::new(agreement);
    let mut accepted = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.lines().enumerate() {
        match reader.read_line(index + 1, line) {
            Ok(LineOutcome::Accepted(entry)) => accepted.push(entry),
            Ok(LineOutcome::Blank | LineOutcome::Duplicate { .. }) => {}
            Err(error) => errors.push(error),
        }
    }
    (accepted, errors)
}
