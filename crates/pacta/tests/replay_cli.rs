//! `pacta replay` exit codes and output on directories without a recorded digest.

use std::process::Command;

fn pacta() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
}

#[test]
fn replay_of_a_directory_without_a_log_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = pacta().arg("replay").arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no log/ directory"));
}

#[test]
fn replay_of_a_log_without_an_assessment_entry_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let agreement = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scenarios/agreements/ceasefire");
    pacta_server::DataDir::create(&data, &agreement).unwrap();
    let output = pacta().arg("replay").arg(&data).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("pacta.assessment/1"));
}
