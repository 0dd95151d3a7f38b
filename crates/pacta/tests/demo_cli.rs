//! `pacta demo --no-serve`: the one-command start builds a data directory whose assessment
//! has content in every part of the dashboard, and refuses to overwrite an existing log.

use std::path::Path;
use std::process::{Command, Output};

fn pacta(args: &[&str], data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("pacta runs")
}

fn demo_without_serving(data: &Path, days: &str) -> Output {
    pacta(
        &[
            "demo",
            "--no-serve",
            "--listen",
            "127.0.0.1:0",
            "--seed",
            "1",
            "--days",
            days,
        ],
        data,
    )
}

/// The number printed right before `label` in `text` (e.g. "31 findings" -> 31).
fn count_before(text: &str, label: &str) -> u64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("`{label}` not in the demo's output:\n{text}"));
    text[..at]
        .split_whitespace()
        .last()
        .and_then(|n| n.trim_start_matches('(').parse().ok())
        .unwrap_or_else(|| panic!("no number before `{label}` in:\n{text}"))
}

#[test]
fn demo_without_serving_produces_findings_obligations_objections_and_rulings() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = demo_without_serving(&data, "30");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(count_before(&stdout, "signed reports") > 0);
    assert!(count_before(&stdout, "findings (") > 0);
    assert!(count_before(&stdout, "confirmed,") > 0);
    assert_eq!(
        count_before(&stdout, "contested"),
        1,
        "one objection awaits its ruling"
    );
    assert_eq!(
        count_before(&stdout, "dismissed"),
        1,
        "one objection was upheld"
    );
    assert!(count_before(&stdout, "obligations of the guarantors") > 0);
    assert!(count_before(&stdout, "fulfilled in time") > 0);
    assert!(count_before(&stdout, "late,") > 0);
    assert!(count_before(&stdout, "overdue") > 0);
    assert!(stdout.contains("dashboard: http://127.0.0.1:"));
    assert!(data.join("agreement/agreement.toml").is_file());
    assert!(data.join("log.key.json").is_file());
}

#[test]
fn demo_refuses_a_data_directory_that_already_holds_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(demo_without_serving(&data, "2").status.success());
    let again = demo_without_serving(&data, "2");
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already"), "{stderr}");
}

#[test]
fn demo_data_directory_replays_to_the_digest_the_server_logged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(demo_without_serving(&data, "7").status.success());
    let replay = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .arg("replay")
        .arg(&data)
        .output()
        .expect("pacta runs");
    assert!(
        replay.status.success(),
        "replay failed:\n{}\n{}",
        String::from_utf8_lossy(&replay.stdout),
        String::from_utf8_lossy(&replay.stderr)
    );
}
