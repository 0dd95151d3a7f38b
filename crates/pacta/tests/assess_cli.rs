//! `pacta assess` checks lines in parallel batches and admits them in input order: its
//! verdicts, line numbers and digest are those of the core's serial reader.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pacta_core::assess::assess;
use pacta_core::entry::read_entries;
use pacta_core::time::Timestamp;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo")
}

fn pacta(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn batched_assess_reads_as_the_serial_reader_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    let demo = demo();
    let simulated = dir.path().join("simulated.ndjson");
    let out = pacta(&[
        "simulate".as_ref(),
        "--agreement".as_ref(),
        demo.as_os_str(),
        "--keys".as_ref(),
        demo.join("keys").as_os_str(),
        "--days".as_ref(),
        "3".as_ref(),
        "--out".as_ref(),
        simulated.as_os_str(),
        "--truth".as_ref(),
        dir.path().join("truth.json").as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reports: Vec<String> = std::fs::read_to_string(&simulated)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(reports.len() > 10, "{} reports", reports.len());

    // Enough copies that resubmissions of the first lines come several batches later, with
    // bad lines and a changed line among them.
    let mut lines: Vec<String> = Vec::new();
    while lines.len() < 9_000 {
        lines.extend(reports.iter().cloned());
        lines.push("{not json".into());
        lines.push(String::new());
    }
    let changed = lines[3].replacen("\"count\":", "\"count\":1", 1);
    assert_ne!(changed, lines[3]);
    lines.insert(5_000, changed);
    let text = lines.join("\r\n");
    let input = dir.path().join("entries.ndjson");
    std::fs::write(&input, &text).unwrap();

    let agreement = pacta_server::datadir::AgreementFiles::read(&demo)
        .unwrap()
        .agreement;
    let (accepted, errors) = read_entries(&text, &agreement);
    assert!(errors.len() > 3);
    let as_of: Timestamp = "2027-01-01T00:00:00Z".parse().unwrap();
    let entries: Vec<_> = accepted.into_iter().map(|a| a.entry).collect();
    let expected_digest = assess(&agreement, &entries, as_of).digest().unwrap();

    let out = pacta(&[
        "assess".as_ref(),
        "--agreement".as_ref(),
        demo.as_os_str(),
        "--reports".as_ref(),
        input.as_os_str(),
        "--as-of".as_ref(),
        "2027-01-01T00:00:00Z".as_ref(),
        "--max-errors".as_ref(),
        "100000".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let expected_stderr: String = errors
        .iter()
        .map(|e| format!("{}:{e}\n", input.display()))
        .collect();
    assert_eq!(stderr, expected_stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let duplicates = lines.iter().filter(|l| !l.is_empty()).count() - entries.len() - errors.len();
    assert!(
        stdout.contains(&format!(
            "entries: {} accepted from {} ({} rejected, {duplicates} duplicates)",
            entries.len(),
            input.display(),
            errors.len()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("digest: {expected_digest}")),
        "{stdout}"
    );
}
