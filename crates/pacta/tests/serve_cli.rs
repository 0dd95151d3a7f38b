//! `pacta serve --help` documents its configuration, and a second server on the same data
//! directory is refused.

use std::process::Command;

fn pacta() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
}

#[test]
fn serve_help_documents_flags_environment_and_config_file() {
    let output = pacta().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--data",
        "--listen",
        "--config",
        "--init",
        "PACTA_LISTEN",
        "PACTA_CLOCK_SKEW_SECONDS",
        "clock_skew_seconds",
    ] {
        assert!(help.contains(needle), "`{needle}` missing from:\n{help}");
    }
}

#[test]
fn serve_refuses_a_data_directory_another_process_holds() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let agreement = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/scenarios/agreements/ceasefire");
    let dir_handle = pacta_server::DataDir::create(&data, &agreement).unwrap();
    let _held = dir_handle.lock().unwrap();
    let output = pacta()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("locked by another running server"));
}
