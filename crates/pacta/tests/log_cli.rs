//! `pacta log init|append|checkpoint|prove`: usage and the key file format.

mod log_common;

use std::io::Write;
use std::process::{Command, Stdio};

use log_common::{assert_fails_with, initialised_log, pacta, stderr, stdout, LogFixture};

const ORIGIN: &str = "log.pacta.example/cli-test";

fn initialised() -> LogFixture {
    initialised_log(ORIGIN)
}

#[test]
fn init_prints_a_verifier_key_named_after_the_origin() {
    let f = initialised();
    assert!(
        f.init_stdout.contains(&format!("verifier key: {ORIGIN}+")),
        "{}",
        f.init_stdout
    );
}

#[test]
fn new_log_verifies_with_size_0() {
    let f = initialised();
    let output = f.run("verify", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("size 0"));
}

#[test]
fn init_refuses_an_existing_log() {
    let f = initialised();
    assert_fails_with(&f.run("init", &[]), 2, "already holds a log");
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
    assert_eq!(stdout(&output), "appended 0..2\nappended 2..3\n");
    let checkpoint = f.run("checkpoint", &[]);
    assert!(checkpoint.status.success(), "{}", stderr(&checkpoint));
    let text = stdout(&checkpoint);
    assert!(text.starts_with(&format!("{ORIGIN}\n3\n")), "{text}");
}

#[test]
fn append_refuses_files_and_lines_together() {
    let f = initialised();
    assert_fails_with(
        &f.run("append", &["--lines", "Cargo.toml"]),
        2,
        "either entry files or --lines",
    );
}

#[test]
fn append_refuses_an_entry_over_65535_bytes_naming_its_file() {
    let f = initialised();
    let big = f.path("big");
    std::fs::write(&big, vec![b'x'; 65_536]).expect("write");
    assert_fails_with(
        &f.run("append", &[&big.display().to_string()]),
        2,
        &format!(
            "{}: the entry exceeds the maximum entry size of 65535 bytes",
            big.display()
        ),
    );
}

#[test]
fn append_names_the_standard_input_line_of_an_oversized_entry() {
    let f = initialised();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(["log", "append", &f.log, "--key", &f.key, "--lines"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut input = b"small\n".to_vec();
    input.extend(vec![b'x'; 70_000]);
    input.push(b'\n');
    // The child stops reading at the oversized line, so the rest of the write may fail.
    let _ = child.stdin.take().expect("stdin").write_all(&input);
    let output = child.wait_with_output().expect("append finishes");
    assert_fails_with(
        &output,
        2,
        "standard input line 2: the entry exceeds the maximum entry size",
    );
}

#[test]
fn prove_of_an_index_beyond_the_checkpoint_fails() {
    let f = initialised();
    assert_fails_with(
        &f.run("prove", &["--index", "0"]),
        2,
        "index 0 is not in a tree of size 0",
    );
}

#[test]
fn append_with_a_key_for_another_log_is_refused() {
    let f = initialised();
    let other = f.path("other.key").display().to_string();
    assert!(pacta(&["keygen", "--out", &other, "--name", ORIGIN])
        .status
        .success());
    assert_fails_with(
        &pacta(&["log", "checkpoint", &f.log, "--key", &other]),
        2,
        "no signature by a known key",
    );
}

#[test]
fn a_corrupt_journal_record_is_refused_naming_the_journal_and_offset() {
    let f = initialised();
    f.append_entries(0..3, &[]);
    // Header (16 bytes), then records of 4 + 32 + 7 bytes: alter the first record's entry.
    let journal = f.path("log/journal");
    log_common::flip_byte(&journal, 16 + 36 + 2);
    assert_fails_with(
        &f.run("checkpoint", &[]),
        2,
        &format!("{}: at byte offset 16", journal.display()),
    );
}
