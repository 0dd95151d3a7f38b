//! Replay: recompute the assessment from the log alone and compare it with the digest the
//! server recorded (DESIGN §5.3, incremental = replay).

use std::path::Path;

use pacta_core::assess::{assess_intake, Intake};
use pacta_core::entry::strict::VERIFIED_TOGETHER;
use pacta_core::entry::types::Entry;
use pacta_core::entry::{canonical_bytes, parse_signature, Checked, LineChecker};
use pacta_core::time::Timestamp;
use pacta_log::{verify_log, DirStore};
use rayon::prelude::*;

use crate::datadir::{read_log_entries, AgreementFiles, DataDir, ASSESSMENT_SCHEMA};
use crate::server::log_entry_schema;

/// The outcome of a replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// Entries in the verified log.
    pub log_entries: u64,
    /// Index of the last `pacta.assessment/1` entry.
    pub assessment_index: u64,
    /// The prefix it covers: entries `0..prefix`.
    pub prefix: u64,
    /// Its as-of time.
    pub as_of: Timestamp,
    /// The digest the server recorded.
    pub recorded: String,
    /// The digest recomputed from the log.
    pub replayed: String,
}

impl Replay {
    /// Whether the two digests agree.
    pub fn matches(&self) -> bool {
        self.recorded == self.replayed
    }
}

/// Checks that a digest entry carries a strict Ed25519 signature of the log key over its
/// RFC 8785 form without `signature`, as entries are signed.
fn check_log_signature(bytes: &[u8], dir: &DataDir) -> Result<(), String> {
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| format!("malformed assessment entry: {e}"))?;
    let signature = match object.remove("signature") {
        Some(serde_json::Value::String(text)) => {
            parse_signature(&text).map_err(|e| format!("/signature: {e}"))?
        }
        _ => return Err("the assessment entry is not signed".into()),
    };
    let message = canonical_bytes(&object).map_err(|e| e.to_string())?;
    let key = dir.log_key().map_err(|e| e.to_string())?.verifying_key();
    key.verify_strict(&message, &signature)
        .map_err(|_| "the assessment entry is not signed by this log's key".to_owned())
}

/// Log entries checked together on every core; the results are taken in log order, so the
/// first bad entry is the one reported.
const CHECK_BATCH_ENTRIES: usize = 4096;

/// The domain entries of log entries `1..` of `prefix`, each strictly verified against the
/// agreement as ingest verified it: a log whose checkpoints verify but which holds an entry
/// its signer did not sign is not replayed. Digest entries are skipped. Consumes the log's
/// bytes a batch at a time, so they are freed as the entries are read, and keeps of each
/// entry only what the assessment reads.
fn verify_domain_entries(prefix: Vec<Vec<u8>>, checker: &LineChecker) -> Result<Intake, String> {
    let mut domain = Intake::new();
    let mut rest = prefix.into_iter().skip(1);
    let mut first = 1;
    loop {
        let batch: Vec<Vec<u8>> = rest.by_ref().take(CHECK_BATCH_ENTRIES).collect();
        if batch.is_empty() {
            break;
        }
        // Shares of the batch checked on every core, each verifying its signatures at once.
        let checked: Vec<Result<Option<Entry>, String>> = batch
            .par_chunks(VERIFIED_TOGETHER)
            .enumerate()
            .flat_map_iter(|(k, share)| check_share(checker, first + k * VERIFIED_TOGETHER, share))
            .collect();
        for entry in checked {
            domain.extend(entry?);
        }
        first += batch.len();
    }
    Ok(domain)
}

/// The domain entries among log entries `first..` (`share`), in order: `None` for a digest
/// entry, else the entry as the checker accepts it, or why not.
fn check_share(
    checker: &LineChecker,
    first: usize,
    share: &[Vec<u8>],
) -> Vec<Result<Option<Entry>, String>> {
    let bad = |i: usize, reason: String| format!("log entry {}: {reason}", first + i);
    // Whether each is a domain entry (one to check), or why it cannot be read at all.
    let domain: Vec<Result<bool, String>> = share
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            if log_entry_schema(bytes).map_err(|e| bad(i, e))? == ASSESSMENT_SCHEMA {
                return Ok(false);
            }
            std::str::from_utf8(bytes).map_err(|_| bad(i, "not UTF-8".into()))?;
            Ok(true)
        })
        .collect();
    let to_check = share
        .iter()
        .enumerate()
        .zip(&domain)
        .filter(|(_, domain)| matches!(domain, Ok(true)))
        .map(|((i, bytes), _)| (first + i, bytes.as_slice()));
    // One outcome for each domain entry, in the same order.
    let mut checked = checker.check_numbered_lines(to_check).into_iter();
    domain
        .into_iter()
        .enumerate()
        .map(|(i, domain)| {
            if !domain? {
                return Ok(None);
            }
            match checked.next() {
                Some(Ok(Checked::Entry(accepted))) => Ok(Some(accepted.entry)),
                Some(Ok(Checked::Blank)) => Err(bad(i, "empty".into())),
                Some(Err(error)) => Err(bad(i, error.rejection.to_string())),
                None => Err(bad(i, "not checked".into())),
            }
        })
        .collect()
}

#[derive(serde::Deserialize)]
struct AssessmentEntry {
    as_of: String,
    entries: u64,
    digest: String,
}

/// Verifies the log in `data` (signature of the checkpoint, every tile and entry, every
/// domain entry's signature against the agreement), reads the agreement from its first entry,
/// and recomputes the digest of the last recorded assessment from the log prefix it names. `Err` says what could not be read or verified.
pub fn replay(data: &Path) -> Result<Replay, String> {
    let dir = DataDir::at(data);
    let verifier = dir.log_verifier().map_err(|e| e.to_string())?;
    let origin = dir.origin().map_err(|e| e.to_string())?;
    let source = DirStore::new(dir.public_dir()).map_err(|e| e.to_string())?;
    let verified = verify_log(&source, &[verifier], Some(&origin))
        .map_err(|e| format!("the log does not verify: {e}"))?;
    let size = verified.checkpoint().size;
    let entries = read_log_entries(&source, size)?;
    let first = entries.first().ok_or("the log is empty")?;
    let agreement = AgreementFiles::from_log_entry(first)
        .map_err(|e| format!("log entry 0: {e}"))?
        .agreement;
    let (assessment_index, recorded) = entries
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, bytes)| {
            (log_entry_schema(bytes).ok()? == ASSESSMENT_SCHEMA).then_some((i, bytes))
        })
        .ok_or_else(|| format!("the log has no `{ASSESSMENT_SCHEMA}` entry to check against"))?;
    check_log_signature(recorded, &dir)
        .map_err(|e| format!("log entry {assessment_index}: {e}"))?;
    let recorded: AssessmentEntry = serde_json::from_slice(recorded)
        .map_err(|e| format!("log entry {assessment_index}: malformed assessment: {e}"))?;
    let as_of: Timestamp = recorded
        .as_of
        .parse()
        .map_err(|e| format!("log entry {assessment_index}: as_of: {e}"))?;
    let mut prefix = entries;
    prefix.truncate(usize::try_from(recorded.entries).unwrap_or(usize::MAX));
    let domain = verify_domain_entries(prefix, &LineChecker::new(&agreement))?;
    // The log is read once; the assessment takes the observations and frees them once
    // corroborated.
    let replayed = assess_intake(&agreement, domain, as_of, &mut |_| {})
        .digest()
        .map_err(|e| format!("assessment digest: {e}"))?;
    Ok(Replay {
        log_entries: size,
        assessment_index: assessment_index as u64,
        prefix: recorded.entries,
        as_of,
        recorded: recorded.digest,
        replayed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_skips_digest_entries_and_names_each_bad_entry_by_its_index() {
        let agreement = AgreementFiles::read(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/scenarios/agreements/ceasefire"
        )))
        .expect("the test agreement reads")
        .agreement;
        let checker = LineChecker::new(&agreement);
        let share: Vec<Vec<u8>> = vec![
            // A digest entry is skipped before any check of its text.
            br#"{"schema":"pacta.assessment/1","digest":"x"}"#.to_vec(),
            b"{\"schema\":\"pacta.report/1\",\"text\":\"\xff\"}".to_vec(),
            br#"{"schema":"pacta.report/1"}"#.to_vec(),
            b"not json".to_vec(),
        ];
        let checked = check_share(&checker, 5, &share);
        assert_eq!(checked.len(), 4);
        assert!(matches!(checked[0], Ok(None)), "{:?}", checked[0]);
        let errors: Vec<String> = checked[1..]
            .iter()
            .map(|c| c.clone().err().unwrap_or_default())
            .collect();
        assert!(errors[0].starts_with("log entry 6: "), "{}", errors[0]);
        assert!(errors[1].starts_with("log entry 7: "), "{}", errors[1]);
        assert!(errors[2].starts_with("log entry 8: "), "{}", errors[2]);
    }
}
