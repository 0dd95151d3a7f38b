use proptest::prelude::*;
use serde_json::json;

use super::{agreement, key, report, report_with, signed_line, PATROL_07, PATROL_08};
use sha2::{Digest, Sha256};

#[cfg(feature = "parallel")]
use crate::entry::LineBatch;
use crate::entry::{
    read_entries, Admission, EntryErrorReason, EntryReader, LineChecker, LineOutcome, Rejection,
};

#[test]
fn bad_lines_are_reported_with_their_numbers_and_the_rest_accepted() {
    let good = signed_line(&report(), &key(PATROL_07));
    let second = signed_line(&report_with(json!({"id": "r2"})), &key(PATROL_07));
    let mut bad_latitude = report_with(json!({"id": "r3"}));
    bad_latitude["location"] = json!({"point": [37.8, 95.0], "uncertainty_m": 10});
    let text = [
        good.as_str(),
        "{not json",
        "",
        &signed_line(&bad_latitude, &key(PATROL_07)),
        &signed_line(&report_with(json!({"id": "r4"})), &key(PATROL_08)),
        second.as_str(),
    ]
    .join("\n");
    let (accepted, errors) = read_entries(&text, &agreement());
    assert_eq!(
        accepted.iter().map(|a| a.line).collect::<Vec<_>>(),
        vec![1, 6]
    );
    assert_eq!(
        errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        vec![2, 4, 5]
    );
    assert!(matches!(&errors[0].rejection, Rejection::Invalid(e)
        if matches!(e.reason, EntryErrorReason::Json(_))));
    assert_eq!(
        errors[1].to_string(),
        "line 4: /location/point/1: latitude 95 is outside -90..=90"
    );
    assert!(matches!(errors[2].rejection, Rejection::Unauthorised(_)));
}

#[test]
fn identical_resubmission_is_kept_once() {
    let line = signed_line(&report(), &key(PATROL_07));
    let (accepted, errors) = read_entries(&format!("{line}\n{line}\n"), &agreement());
    assert_eq!(accepted.len(), 1);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn reused_id_with_a_different_body_is_an_error_on_the_later_line() {
    let first = signed_line(&report(), &key(PATROL_07));
    let mut changed = report();
    changed["event"]["count"] = json!(5);
    let second = signed_line(&changed, &key(PATROL_07));
    let (accepted, errors) = read_entries(&format!("{first}\n{second}"), &agreement());
    assert_eq!(accepted.len(), 1);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "line 2: id `patrol-07/2026-03-16/001` was already used on line 1 for a different entry"
    );
}

#[test]
fn forged_line_does_not_claim_an_id() {
    let forged = signed_line(&report(), &key(PATROL_08));
    let genuine = signed_line(&report(), &key(PATROL_07));
    let (accepted, errors) = read_entries(&format!("{forged}\n{genuine}"), &agreement());
    assert_eq!(accepted.iter().map(|a| a.line).collect::<Vec<_>>(), vec![2]);
    assert_eq!(errors.len(), 1);
}

#[test]
fn crlf_line_endings_and_blank_lines_are_accepted() {
    let line = signed_line(&report(), &key(PATROL_07));
    let (accepted, errors) = read_entries(&format!("\r\n{line}\r\n  \r\n"), &agreement());
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].line, 2);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn accepted_body_is_the_hash_of_the_signed_message() {
    let line = signed_line(&report(), &key(PATROL_07));
    let (accepted, _) = read_entries(&line, &agreement());
    let mut object: serde_json::Value = serde_json::from_str(&line).expect("JSON");
    object.as_object_mut().expect("object").remove("signature");
    let signed = serde_json_canonicalizer::to_vec(&object).expect("JCS");
    assert_eq!(accepted[0].body, <[u8; 32]>::from(Sha256::digest(&signed)));
    assert_eq!(accepted[0].signed_len, signed.len());
}

/// Every kind of line admission tells apart: accepted, blank, invalid, duplicate, reused id,
/// retraction of another monitor's report, and a monitor's retraction of its own.
fn mixed_lines() -> Vec<String> {
    let report_line = signed_line(&report(), &key(PATROL_07));
    let mut changed = report();
    changed["event"]["count"] = json!(5);
    vec![
        report_line.clone(),
        String::new(),
        "{not json".to_string(),
        report_line,
        signed_line(&changed, &key(PATROL_07)),
        signed_line(&retraction("patrol-08/ret/1", "patrol-08"), &key(PATROL_08)),
        signed_line(&report_with(json!({"id": "r2"})), &key(PATROL_08)),
        signed_line(&retraction("patrol-07/ret/1", "patrol-07"), &key(PATROL_07)),
    ]
}

/// `lines` read one by one by [`EntryReader`], numbered from 1.
fn read_line_by_line(lines: &[String]) -> Vec<Result<LineOutcome, crate::entry::LineError>> {
    let agreement = agreement();
    let mut reader = EntryReader::new(&agreement);
    lines
        .iter()
        .enumerate()
        .map(|(i, text)| reader.read_line(i + 1, text))
        .collect()
}

/// `lines` in batches of `size` raw lines, as a shell reads a file.
#[cfg(feature = "parallel")]
fn batches_of(lines: &[String], size: usize) -> Vec<LineBatch> {
    lines
        .chunks(size)
        .map(|chunk| {
            let lines: Vec<Vec<u8>> = chunk
                .iter()
                .map(|l| format!("{l}\n").into_bytes())
                .collect();
            lines.iter().map(Vec::as_slice).collect()
        })
        .collect()
}

/// `read_batches`' outcomes for `batches`, each accepted entry put back to what
/// `EntryReader` gives only in the parts the assessment reads.
#[cfg(feature = "parallel")]
fn read_in_batches(
    batches: Vec<Result<LineBatch, &'static str>>,
) -> (
    Vec<Result<LineOutcome, crate::entry::LineError>>,
    Result<(), &'static str>,
) {
    let checker = LineChecker::new(&agreement());
    let mut outcomes = Vec::new();
    let mut batches = batches.into_iter();
    // As a shell fills each batch it is given from its input: with the next one's lines.
    let fill = |batch: &mut LineBatch| match batches.next() {
        Some(Ok(next)) => {
            next.lines().for_each(|line| batch.push(line));
            Ok(())
        }
        Some(Err(error)) => Err(error),
        None => Ok(()),
    };
    let end = crate::entry::read_batches(&checker, fill, |outcome| outcomes.push(outcome));
    (outcomes, end)
}

/// What is compared of an outcome: accepted entries are in assessed form after a batch read.
#[cfg(feature = "parallel")]
fn in_assessed_form(
    outcomes: Vec<Result<LineOutcome, crate::entry::LineError>>,
) -> Vec<Result<LineOutcome, crate::entry::LineError>> {
    outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Ok(LineOutcome::Accepted(mut accepted)) => {
                accepted.entry = crate::entry::assessed_form(accepted.entry);
                Ok(LineOutcome::Accepted(accepted))
            }
            other => other,
        })
        .collect()
}

/// Batches checked several at once on every core and admitted in order read exactly as the
/// lines read one by one, whatever the batch size, from the main thread or from a thread of
/// the pool.
#[cfg(feature = "parallel")]
#[test]
fn reading_in_batches_on_every_core_equals_reading_line_by_line() {
    let lines: Vec<String> = (0..6).flat_map(|_| mixed_lines()).collect();
    let serial = in_assessed_form(read_line_by_line(&lines));
    for size in [1, 2, 3, 7, lines.len()] {
        let batches = || batches_of(&lines, size).into_iter().map(Ok).collect();
        let (outcomes, end) = read_in_batches(batches());
        assert_eq!(end, Ok(()));
        assert_eq!(outcomes, serial, "batches of {size}");
        let (in_pool, end) = rayon::scope(|_| read_in_batches(batches()));
        assert_eq!(end, Ok(()));
        assert_eq!(
            in_pool, serial,
            "batches of {size}, from a thread of the pool"
        );
    }
}

/// A batch that cannot be read stops the reading: the lines before it are taken, none
/// after, and the error is returned.
#[cfg(feature = "parallel")]
#[test]
fn a_batch_that_cannot_be_read_stops_the_reading_after_the_lines_before_it() {
    let lines = mixed_lines();
    let serial = in_assessed_form(read_line_by_line(&lines));
    let mut batches: Vec<Result<LineBatch, &'static str>> =
        batches_of(&lines, 3).into_iter().map(Ok).collect();
    batches.insert(2, Err("disk on fire"));
    let (outcomes, end) = read_in_batches(batches.clone());
    assert_eq!(end, Err("disk on fire"));
    assert_eq!(outcomes, serial[..6]);
    // The same from a thread of the pool, which checks one batch at a time.
    let (in_pool, end) = rayon::scope(|_| read_in_batches(batches));
    assert_eq!(end, Err("disk on fire"));
    assert_eq!(in_pool, serial[..6]);
}

/// Lines checked in any order (as a shell checks a batch on every core) and admitted in
/// input order read exactly as the serial reader reads them.
#[test]
fn checking_out_of_order_and_admitting_in_order_equals_reading_line_by_line() {
    let lines = mixed_lines();
    let agreement = agreement();
    let serial = read_line_by_line(&lines);

    let checker = LineChecker::new(&agreement);
    let mut checked: Vec<_> = lines
        .iter()
        .enumerate()
        .rev()
        .map(|(i, text)| checker.check(i + 1, text))
        .collect();
    checked.reverse();
    let mut admission = Admission::new();
    let batched: Vec<_> = checked
        .into_iter()
        .map(|c| c.and_then(|c| admission.admit(c)))
        .collect();
    assert_eq!(batched, serial);
    let kinds: Vec<&str> = serial
        .iter()
        .map(|outcome| match outcome {
            Ok(LineOutcome::Accepted(_)) => "accepted",
            Ok(LineOutcome::Blank) => "blank",
            Ok(LineOutcome::Duplicate { .. }) => "duplicate",
            Err(_) => "rejected",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "accepted",
            "blank",
            "rejected",
            "duplicate",
            "rejected",
            "rejected",
            "rejected",
            "accepted"
        ]
    );
}

/// The batch check on every core gives each line's verdict, numbered from the batch's first
/// line, whatever its line end, and a line that is not UTF-8 is rejected on its own.
#[cfg(feature = "parallel")]
#[test]
fn checking_a_batch_on_every_core_keeps_each_lines_number_and_verdict() {
    let agreement = agreement();
    let checker = LineChecker::new(&agreement);
    let good = signed_line(&report(), &key(PATROL_07));
    let good = format!("{good}\r\n");
    let lines: LineBatch = [good.as_bytes(), &[0xff, b'{', b'}', b'\n'], b"\n"]
        .into_iter()
        .collect();
    let checked = checker.check_lines(&lines, 41);
    let numbers: Vec<Option<usize>> = checked
        .iter()
        .map(|c| c.as_ref().err().map(|e| e.line))
        .collect();
    assert_eq!(numbers, [None, Some(42), None]);
    assert!(matches!(
        checked.first(),
        Some(Ok(crate::entry::ndjson::Checked::Entry(accepted))) if accepted.line == 41
    ));
    assert!(matches!(
        checked.get(2),
        Some(Ok(crate::entry::ndjson::Checked::Blank))
    ));
    // On one thread, as `read_batches` checks each batch: the same outcomes.
    assert_eq!(checker.check_lines_here(&lines, 41), checked);
}

/// A batch gives back each line as pushed, empty ones included, nothing past its last, and
/// holds nothing once cleared.
#[test]
fn a_line_batch_keeps_each_line_as_pushed() {
    let pushed: [&[u8]; 4] = [b"{\"a\":1}\n", b"\n", b"", b"last"];
    let mut batch: crate::entry::LineBatch = pushed.into_iter().collect();
    assert_eq!(batch.len(), 4);
    assert_eq!(batch.byte_len(), 13);
    assert_eq!(batch.lines().collect::<Vec<_>>(), pushed);
    assert_eq!(batch.line(3), b"last");
    assert_eq!(batch.line(4), b"");
    batch.clear();
    assert!(batch.is_empty());
    assert_eq!(batch.lines().count(), 0);
    batch.push(b"again\n");
    assert_eq!(batch.line(0), b"again\n");
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let (accepted, errors) = read_entries(&text, &agreement());
        prop_assert!(accepted.is_empty());
        prop_assert!(errors.len() <= text.lines().count());
    }

    #[test]
    fn arbitrary_json_like_text_never_panics(
        text in r#"[{}\[\]",:0-9a-z_ .eE+-]{0,200}"#
    ) {
        let _ = read_entries(&text, &agreement());
    }

    #[test]
    fn any_single_byte_change_to_a_signed_line_is_not_accepted_as_a_different_entry(
        index in 0usize..1000, byte in any::<u8>()
    ) {
        let line = signed_line(&report(), &key(PATROL_07));
        let mut bytes = line.clone().into_bytes();
        let at = index % bytes.len();
        bytes[at] = byte;
        if let Ok(changed) = String::from_utf8(bytes) {
            let (accepted, _) = read_entries(&changed, &agreement());
            let (original, _) = read_entries(&line, &agreement());
            for entry in accepted {
                // A change that survives must leave the entry itself unchanged (whitespace,
                // escapes, number spelling), never alter what was signed.
                prop_assert_eq!(&entry.entry, &original[0].entry);
            }
        }
    }
}

fn retraction(id: &str, monitor: &str) -> serde_json::Value {
    json!({
        "schema": "pacta.retraction/1", "id": id, "agreement": "demo", "monitor": monitor,
        "report": "patrol-07/2026-03-16/001", "submitted_at": "2026-03-16T19:00:00Z",
        "reason": "Wrong bearing."
    })
}

#[test]
fn monitor_may_retract_its_own_report() {
    let report = signed_line(&report(), &key(PATROL_07));
    let retraction = signed_line(&retraction("patrol-07/ret/1", "patrol-07"), &key(PATROL_07));
    let (accepted, errors) = read_entries(&format!("{report}\n{retraction}"), &agreement());
    assert_eq!(accepted.len(), 2);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn monitor_may_not_retract_another_monitors_report() {
    let report = signed_line(&report(), &key(PATROL_07));
    let retraction = signed_line(&retraction("patrol-08/ret/1", "patrol-08"), &key(PATROL_08));
    let (accepted, errors) = read_entries(&format!("{report}\n{retraction}"), &agreement());
    assert_eq!(accepted.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "line 2: /report: report `patrol-07/2026-03-16/001` (line 1) is monitor `patrol-07`'s; \
         monitor `patrol-08` may retract only its own reports"
    );
}
