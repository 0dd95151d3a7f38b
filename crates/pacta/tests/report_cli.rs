//! `pacta report sign` and `pacta report verify`, end to end: keys made by `pacta keygen`,
//! listed in an agreement, used to sign reports that are then verified line by line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    /// Keys for monitors `patrol-1` and `patrol-2`, and an agreement `cli-test` listing them.
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("pacta-report-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("agreement")).expect("create scratch directory");
        let fixture = Fixture { dir };
        let key_1 = fixture.keygen("patrol-1");
        let key_2 = fixture.keygen("patrol-2");
        let agreement = format!(
            r#"format = 1
id = "cli-test"
title = "CLI test agreement"
effective = "2026-03-01T00:00:00+02:00"
objection_window = "72h"

[parties.a]
name = "Party A"

[monitors.patrol-1]
organisation = "mission"
keys = ["{key_1}"]
modes = ["patrol", "heard"]

[monitors.patrol-2]
organisation = "mission"
keys = ["{key_2}"]
modes = ["patrol", "heard"]
"#
        );
        std::fs::write(fixture.dir.join("agreement/agreement.toml"), agreement)
            .expect("write agreement");
        fixture
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn keygen(&self, monitor: &str) -> String {
        let out = self.path(&format!("{monitor}.key.json"));
        let output = pacta(&["keygen", "--out", path_str(&out)], None);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        String::from_utf8(output.stdout)
            .expect("UTF-8")
            .trim()
            .to_string()
    }

    fn sign(&self, monitor: &str, input: &str, ndjson: bool) -> Output {
        let key = self.path(&format!("{monitor}.key.json"));
        let mut args = vec!["report", "sign", "--key", path_str(&key)];
        if ndjson {
            args.push("--ndjson");
        }
        args.push("-");
        pacta(&args, Some(input))
    }

    fn signed(&self, monitor: &str, input: &str) -> String {
        let output = self.sign(monitor, input, false);
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let value: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("signed output is JSON");
        value.to_string()
    }

    fn verify(&self, file_name: &str, content: &str) -> Output {
        let file = self.path(file_name);
        std::fs::write(&file, content).expect("write entries");
        verify_file(&self.path("agreement"), &file)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn pacta(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pacta");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(pipe);
    child.wait_with_output().expect("wait for pacta")
}

/// `pacta report verify --agreement AGREEMENT FILE`.
fn verify_file(agreement: &Path, file: &Path) -> Output {
    pacta(
        &[
            "report",
            "verify",
            "--agreement",
            path_str(agreement),
            path_str(file),
        ],
        None,
    )
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn report(id: &str, monitor: &str) -> String {
    serde_json::json!({
        "schema": "pacta.report/1",
        "id": id,
        "agreement": "cli-test",
        "monitor": monitor,
        "submitted_at": "2026-03-16T18:05:00+02:00",
        "observed": {"start": "2026-03-16T17:42:00+02:00"},
        "location": {"observer": [37.7731, 48.0159], "bearing_deg": 135, "distance_km": [1.4, 1.6]},
        "event": {"kind": "explosion", "count": 3},
        "mode": "heard"
    })
    .to_string()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn signed_report_verifies() {
    let f = Fixture::new("round-trip");
    let signed = f.signed("patrol-1", &report("r1", "patrol-1"));
    let output = f.verify("r1.json", &signed);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout(&output).contains("ok: pacta.report/1 `r1` signed by monitor `patrol-1`"));
}

#[test]
fn pretty_printed_signed_report_verifies() {
    let f = Fixture::new("pretty");
    let output = f.sign("patrol-1", &report("r1", "patrol-1"), false);
    let output = f.verify("r1.json", &stdout(&output));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn report_signed_with_another_monitors_key_is_rejected() {
    let f = Fixture::new("other-key");
    let signed = f.signed("patrol-2", &report("r1", "patrol-1"));
    let output = f.verify("r1.json", &signed);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("not a key of monitor `patrol-1`"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn ndjson_verdicts_name_each_bad_line_and_exit_1() {
    let f = Fixture::new("ndjson");
    let good = f.signed("patrol-1", &report("r1", "patrol-1"));
    let tampered = f
        .signed("patrol-1", &report("r2", "patrol-1"))
        .replace("\"count\":3", "\"count\":30");
    let other_agreement = f.signed(
        "patrol-1",
        &report("r3", "patrol-1").replace("\"cli-test\"", "\"other\""),
    );
    let content = format!("{good}\n{{oops\n\n{tampered}\n{good}\n{other_agreement}\n");
    let output = f.verify("entries.ndjson", &content);
    assert_eq!(output.status.code(), Some(1));
    let verdicts: Vec<String> = stdout(&output).lines().map(str::to_string).collect();
    let name = path_str(&f.path("entries.ndjson")).to_string();
    assert_eq!(verdicts.len(), 5, "{verdicts:?}");
    assert!(verdicts[0].starts_with(&format!("{name}:1: ok:")));
    assert!(verdicts[1].starts_with(&format!("{name}:2: rejected: entry: not valid JSON")));
    assert!(verdicts[2].starts_with(&format!(
        "{name}:4: rejected: not signed by a key of monitor `patrol-1`"
    )));
    assert_eq!(
        verdicts[3],
        format!("{name}:5: duplicate: identical to line 1, kept once")
    );
    assert_eq!(
        verdicts[4],
        format!("{name}:6: rejected: entry is for agreement `other`, not `cli-test`")
    );
}

#[test]
fn sign_refuses_an_invalid_report_naming_the_pointer() {
    let f = Fixture::new("sign-invalid");
    let bad = report("r1", "patrol-1").replace("[37.7731,48.0159]", "[37.7731,98.0159]");
    let output = f.sign("patrol-1", &bad, false);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("/location/observer/1: latitude"),
        "{output:?}"
    );
}

#[test]
fn sign_ndjson_signs_every_valid_line_and_reports_the_rest() {
    let f = Fixture::new("sign-ndjson");
    let input = format!(
        "{}\nnot json\n{}\n",
        report("r1", "patrol-1"),
        report("r2", "patrol-1")
    );
    let output = f.sign("patrol-1", &input, true);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("<stdin>:2:"));
    let signed = stdout(&output);
    assert_eq!(signed.lines().count(), 2);
    let verified = f.verify("signed.ndjson", &signed);
    assert_eq!(verified.status.code(), Some(0), "{verified:?}");
}

#[test]
fn verify_with_missing_file_exits_2() {
    let f = Fixture::new("missing");
    let output = verify_file(&f.path("agreement"), &f.path("absent.ndjson"));
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn over_long_line_is_rejected_with_its_number_and_the_next_line_still_read() {
    let f = Fixture::new("long-line");
    let good = f.signed("patrol-1", &report("r1", "patrol-1"));
    let long = format!("{{\"text\":\"{}\"}}", "x".repeat(70_000));
    let output = f.verify("long.ndjson", &format!("{long}\n{good}\n"));
    assert_eq!(output.status.code(), Some(1));
    let verdicts = stdout(&output);
    assert!(
        verdicts.contains(
            ":1: rejected: entry: 70011 bytes, over the limit of 65536 bytes for one entry"
        ),
        "{verdicts}"
    );
    assert!(verdicts.contains(":2: ok:"), "{verdicts}");
}

/// The signed example in docs/report-format.md verifies against the demo agreement, so the
/// document cannot drift from the code.
#[test]
fn documented_example_verifies_against_the_demo_agreement() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/report-format.md")).expect("read doc");
    let start = doc
        .find("\n```json\n{\n  \"schema\"")
        .expect("example block")
        + 9;
    let length = doc[start..].find("\n```").expect("end of block");
    let f = Fixture::new("doc-example");
    let file = f.path("example.json");
    std::fs::write(&file, &doc[start..start + length]).expect("write example");
    let demo = root.join("examples/demo");
    let output = verify_file(&demo, &file);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

#[test]
fn single_entry_that_is_not_utf8_is_rejected_not_an_io_error() {
    let f = Fixture::new("not-utf8");
    let file = f.path("bad.json");
    std::fs::write(&file, [b'{', 0xff, b'}']).expect("write");
    let output = verify_file(&f.path("agreement"), &file);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stdout(&output).contains("rejected: entry: not UTF-8 text"));
}
