//! `entry::assessed_form` drops only what the assessment never reads: the digest of entries
//! in that form is the digest of the entries as signed.

mod engine_common;

use engine_common::*;
use pacta_core::assess::assess;
use pacta_core::entry::assessed_form;
use pacta_core::entry::types::{Entry, SourceMapping};

#[test]
fn assessing_entries_in_assessed_form_gives_the_same_digest() {
    let mut entries = Vec::new();
    for n in 0..30i64 {
        let party = if n % 3 == 0 { "a" } else { "b" };
        let lon = east_of_line(2.0 + (n % 5) as f64);
        entries.extend(shelling(&format!("s{n}"), party, n * 7 * HOUR, lon));
        if n % 4 == 0 {
            entries.push(consultation_action(n as usize, n * 7 * HOUR + 2 * HOUR));
        }
    }
    entries.push(verification("v1", "withdrawal_completed", 3 * DAY, 37.0));
    for (n, entry) in entries.iter_mut().enumerate() {
        if let Entry::Report(report) = entry {
            report.text = Some(format!("Patrol note {n}."));
            report.signature = Some(format!("ed25519:{n}"));
            if n % 2 == 0 {
                report.source = Some(Box::new(SourceMapping {
                    dataset: Some("acled".into()),
                    source_id: Some(format!("UKR{n}")),
                    ..SourceMapping::default()
                }));
            }
        }
    }
    let as_of = at(12 * DAY);
    let agreement = agreement();
    let as_signed = assess(&agreement, &entries, as_of);
    assert!(as_signed.counts.findings > 0 && as_signed.counts.obligations > 0);
    let stripped: Vec<Entry> = entries.into_iter().map(assessed_form).collect();
    assert!(stripped.iter().all(|e| e.signature().is_none()));
    let assessed = assess(&agreement, &stripped, as_of);
    assert_eq!(digest_of(&assessed), digest_of(&as_signed));
}
