//! Reading many entries, one JSON object a line (NDJSON), against one agreement.
//!
//! Each line is read, validated, authorised and checked for id reuse on its own: a bad line
//! is reported with its 1-based number and the reason, and the rest are still processed. The
//! JSON text is parsed once; the canonical forms and the signature check work on that value.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::signature::{AuthError, KeyRing};
use super::types::Entry;
use super::validate::{parse_entry, EntryError};
use crate::agreement::model::{Agreement, Role};

/// An entry that passed every check.
#[derive(Clone, Debug, PartialEq)]
pub struct AcceptedEntry {
    /// 1-based line number in the input.
    pub line: usize,
    pub entry: Entry,
    /// The role under which the agreement authorised its signer.
    pub role: Role,
    /// The RFC 8785 canonical form of the entry as received, `signature` included: the bytes
    /// to store and to log, from which anyone can re-check the signature.
    pub canonical: Vec<u8>,
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

/// What [`EntryReader::read_line`] made of one line.
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

/// Reads entries line by line against one agreement, remembering the ids seen so far.
///
/// Use it directly to show progress or to stream; [`read_entries`] reads a whole text.
#[derive(Debug)]
pub struct EntryReader {
    keys: KeyRing,
    /// Entry id → what is remembered of the entry first accepted under it.
    seen: BTreeMap<String, Seen>,
}

/// What the reader keeps of an accepted entry: enough to recognise a resubmission and to
/// check who may retract a report.
#[derive(Debug)]
struct Seen {
    line: usize,
    /// SHA-256 of the signed message (canonical form without `signature`).
    body: [u8; 32],
    /// For a report, its monitor.
    report_monitor: Option<String>,
}

impl EntryReader {
    /// A reader for entries under `agreement`.
    pub fn new(agreement: &Agreement) -> Self {
        EntryReader {
            keys: KeyRing::new(agreement),
            seen: BTreeMap::new(),
        }
    }

    /// Reads line number `line` (1-based). Duplicates compare signed bodies (the canonical
    /// form without `signature`), so the same report signed twice by two keys of its monitor
    /// is still one report.
    pub fn read_line(&mut self, line: usize, text: &str) -> Result<LineOutcome, LineError> {
        if text.trim().is_empty() {
            return Ok(LineOutcome::Blank);
        }
        let reject = |rejection| LineError { line, rejection };
        let parsed = parse_entry(text).map_err(|e| reject(Rejection::Invalid(e)))?;
        let authorised = self
            .keys
            .authorise(&parsed)
            .map_err(|e| reject(Rejection::Unauthorised(e)))?;
        let body: [u8; 32] = Sha256::digest(&authorised.canonical.signed).into();
        let id = parsed.entry.id();
        if let Some(first) = self.seen.get(id) {
            if first.body == body {
                return Ok(LineOutcome::Duplicate {
                    first_line: first.line,
                });
            }
            return Err(reject(Rejection::IdReused {
                id: id.to_string(),
                first_line: first.line,
            }));
        }
        if let Entry::Retraction(retraction) = &parsed.entry {
            // A report not seen yet (an earlier batch, or a later line) is left to the
            // assessment, which ignores retractions by anyone but the report's monitor.
            let author = self
                .seen
                .get(&retraction.report)
                .and_then(|seen| Some((seen.line, seen.report_monitor.as_ref()?)));
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
        let report_monitor = match &parsed.entry {
            Entry::Report(report) => Some(report.monitor.clone()),
            _ => None,
        };
        self.seen.insert(
            id.to_string(),
            Seen {
                line,
                body,
                report_monitor,
            },
        );
        Ok(LineOutcome::Accepted(AcceptedEntry {
            line,
            entry: parsed.entry,
            role: authorised.role,
            canonical: authorised.canonical.full,
        }))
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
