//! Helpers shared by the `pacta log` CLI tests: running the binary and setting up a log.

// Each test binary that includes this module uses only some of the helpers.
#![allow(dead_code)]

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `pacta` binary with `args` and waits for it.
pub fn pacta(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(args)
        .output()
        .expect("pacta runs")
}

/// Standard error of a finished command, as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Standard output of a finished command, as text.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts that a command exited with `code` and said `part` on standard error.
pub fn assert_fails_with(output: &Output, code: i32, part: &str) {
    let message = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{message}");
    assert!(
        message.contains(part),
        "{message:?} does not contain {part:?}"
    );
}

/// A temporary directory holding a signing key `log.key` and a log `log` created with it.
pub struct LogFixture {
    pub dir: tempfile::TempDir,
    pub key: String,
    pub log: String,
    /// What `pacta log init` printed.
    pub init_stdout: String,
}

impl LogFixture {
    /// A path under the fixture's directory.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// The directory of the published files (`checkpoint`, `tile/...`).
    pub fn public(&self) -> PathBuf {
        self.path("log/public")
    }

    /// Runs `pacta log SUBCOMMAND LOG --key KEY EXTRA...`.
    pub fn run(&self, subcommand: &str, extra: &[&str]) -> Output {
        let mut args = vec!["log", subcommand, &self.log, "--key", &self.key];
        args.extend_from_slice(extra);
        pacta(&args)
    }

    /// Writes entries `entry I` for each I of `indexes` to files `eI` and appends them with
    /// `pacta log append ... EXTRA... FILES...`, asserting success.
    pub fn append_entries(&self, indexes: Range<u32>, extra: &[&str]) {
        let files: Vec<String> = indexes
            .map(|i| {
                let file = self.path(&format!("e{i}"));
                std::fs::write(&file, format!("entry {i}")).expect("write entry");
                file.display().to_string()
            })
            .collect();
        let mut args = extra.to_vec();
        args.extend(files.iter().map(String::as_str));
        let append = self.run("append", &args);
        assert!(append.status.success(), "append: {}", stderr(&append));
    }

    /// Runs `pacta log prove` with `args` and saves the proof under `file`; returns its path.
    pub fn prove(&self, args: &[&str], file: &str) -> String {
        let output = self.run("prove", args);
        assert!(output.status.success(), "prove: {}", stderr(&output));
        let path = self.path(file);
        std::fs::write(&path, &output.stdout).expect("write proof");
        path.display().to_string()
    }
}

/// Generates a key named `origin` and creates an empty log signed with it.
pub fn initialised_log(origin: &str) -> LogFixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("log.key").display().to_string();
    let log = dir.path().join("log").display().to_string();
    let keygen = pacta(&["keygen", "--out", &key, "--name", origin]);
    assert!(keygen.status.success(), "keygen: {}", stderr(&keygen));
    let init = pacta(&["log", "init", &log, "--key", &key]);
    assert!(init.status.success(), "init: {}", stderr(&init));
    LogFixture {
        dir,
        key,
        log,
        init_stdout: stdout(&init),
    }
}

/// Flips the lowest bit of the byte at `offset` of a file.
pub fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = std::fs::read(path).expect("read");
    bytes[offset] ^= 0x01;
    std::fs::write(path, bytes).expect("write");
}
