//! `pacta log init|append|checkpoint|prove`: usage and the key file format.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const ORIGIN: &str = "log.pacta.example/cli-test";

fn pacta(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(args)
        .output()
        .expect("pacta runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

struct Fixture {
    dir: tempfile::TempDir,
    key: String,
    log: String,
}

fn initialised() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("log.key").display().to_string();
    let log = dir.path().join("log").display().to_string();
    assert!(pacta(&["keygen", "--out", &key, "--name", ORIGIN])
        .status
        .success());
    let init = pacta(&["log", "init", &log, "--key", &key]);
    assert!(init.status.success(), "{}", stderr(&init));
    Fixture { dir, key, log }
}

#[test]
fn init_prints_a_verifier_key_named_after_the_origin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("log.key").display().to_string();
    let log = dir.path().join("log").display().to_string();
    assert!(pacta(&["keygen", "--out", &key, "--name", ORIGIN])
        .status
        .success());
    let init = pacta(&["log", "init", &log, "--key", &key]);
    let stdout = String::from_utf8_lossy(&init.stdout);
    assert!(
        stdout.contains(&format!("verifier key: {ORIGIN}+")),
        "{stdout}"
    );
}

#[test]
fn new_log_verifies_with_size_0() {
    let f = initialised();
    let output = pacta(&["log", "verify", &f.log, "--key", &f.key]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("size 0"));
}

#[test]
fn init_refuses_an_existing_log() {
    let f = initialised();
    let output = pacta(&["log", "init", &f.log, "--key", &f.key]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("already holds a log"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn append_lines_acknowledges_each_batch_then_checkpoint_publishes_them() {
    let f = initialised();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args([
            "log", "append", &f.log, "--key", &f.key, "--lines", "--batch", "2",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a\nb\nc\n")
        .expect("write entries");
    let output = child.wait_with_output().expect("append finishes");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "appended 0..2\nappended 2..3\n"
    );
    let checkpoint = pacta(&["log", "checkpoint", &f.log, "--key", &f.key]);
    assert!(checkpoint.status.success(), "{}", stderr(&checkpoint));
    let text = String::from_utf8_lossy(&checkpoint.stdout);
    assert!(text.starts_with(&format!("{ORIGIN}\n3\n")), "{text}");
}

#[test]
fn append_refuses_files_and_lines_together() {
    let f = initialised();
    let output = pacta(&[
        "log",
        "append",
        &f.log,
        "--key",
        &f.key,
        "--lines",
        "Cargo.toml",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("either entry files or --lines"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn append_refuses_an_entry_over_65535_bytes() {
    let f = initialised();
    let big = f.dir.path().join("big");
    std::fs::write(&big, vec![b'x'; 65_536]).expect("write");
    let output = pacta(&[
        "log",
        "append",
        &f.log,
        "--key",
        &f.key,
        &big.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("exceeds the maximum entry size of 65535 bytes"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn prove_of_an_index_beyond_the_checkpoint_fails() {
    let f = initialised();
    let output = pacta(&["log", "prove", &f.log, "--key", &f.key, "--index", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("index 0 is not in a tree of size 0"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn append_with_a_key_for_another_log_is_refused() {
    let f = initialised();
    let other = f.dir.path().join("other.key").display().to_string();
    assert!(pacta(&["keygen", "--out", &other, "--name", ORIGIN])
        .status
        .success());
    let output = pacta(&["log", "checkpoint", &f.log, "--key", &other]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no signature by a known key"),
        "{}",
        stderr(&output)
    );
}
