//! `pacta lint` end to end on the shipped examples: the demo framework passes, the 1994
//! Budapest Memorandum fails with each assurance's gaps named.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

fn pacta(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(args)
        .output()
    {
        Ok(output) => output,
        Err(e) => panic!("cannot run pacta: {e}"),
    }
}

fn path_arg(path: &std::path::Path) -> String {
    path.to_string_lossy().into_owned()
}

fn lint_json(name: &str) -> (Option<i32>, Value) {
    let output = pacta(&["lint", "--json", &path_arg(&example(name))]);
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "lint --json printed no JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code(), json)
}

/// `(code, subject)` of every gap.
fn gaps(json: &Value) -> BTreeSet<(String, String)> {
    json["gaps"]
        .as_array()
        .map(|gaps| {
            gaps.iter()
                .map(|g| {
                    let field = |k: &str| g[k].as_str().unwrap_or_default().to_string();
                    (field("code"), field("subject"))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(code, subject)| (code.to_string(), subject.to_string()))
        .collect()
}

/// Runs `pacta COMMAND EXAMPLE`: the exit code and everything printed.
fn run_on(command: &str, name: &str) -> (Option<i32>, String) {
    let output = pacta(&[command, &path_arg(&example(name))]);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), printed)
}

#[test]
fn demo_passes_check() {
    let (code, printed) = run_on("check", "demo");
    assert_eq!(code, Some(0), "{printed}");
}

#[test]
fn demo_passes_the_lint_with_every_commitment_enforceable() {
    let (code, printed) = run_on("lint", "demo");
    assert_eq!(code, Some(0), "{printed}");
    let score = "score: 12 of 12 commitments have an enforcement path (100%)";
    assert!(printed.contains(score), "{printed}");
}

#[test]
fn demo_lint_reports_no_gap_at_all() {
    let (code, json) = lint_json("demo");
    assert_eq!(code, Some(0));
    assert_eq!(json["passes"], Value::Bool(true));
    assert_eq!(gaps(&json), BTreeSet::new());
}

#[test]
fn budapest_passes_check() {
    let (code, printed) = run_on("check", "budapest-1994");
    assert_eq!(code, Some(0), "{printed}");
}

#[test]
fn budapest_fails_the_lint_with_exit_1() {
    let (code, printed) = run_on("lint", "budapest-1994");
    assert_eq!(code, Some(1), "{printed}");
    let score = "score: 0 of 6 commitments have an enforcement path (0%)";
    assert!(printed.contains(score), "{printed}");
}

#[test]
fn budapest_lint_names_each_assurances_gaps() {
    let (code, json) = lint_json("budapest-1994");
    assert_eq!(code, Some(1));
    assert_eq!(json["passes"], Value::Bool(false));
    let expected = pairs(&[
        ("L013", "agreement"),
        ("L051", "agreement"),
        // 1. respect independence, sovereignty and borders: nothing observable, no zone.
        ("L001", "commitment:para1.respect-sovereignty-and-borders"),
        ("L010", "commitment:para1.respect-sovereignty-and-borders"),
        ("L020", "commitment:para1.respect-sovereignty-and-borders"),
        // 2. refrain from the threat or use of force: no kind, zone or period.
        ("L001", "commitment:para2.no-threat-or-use-of-force"),
        ("L010", "commitment:para2.no-threat-or-use-of-force"),
        ("L020", "commitment:para2.no-threat-or-use-of-force"),
        // 3. refrain from economic coercion: nothing a monitor can observe.
        ("L001", "commitment:para3.no-economic-coercion"),
        ("L010", "commitment:para3.no-economic-coercion"),
        ("L020", "commitment:para3.no-economic-coercion"),
        // 4. seek Security Council action: an act with no deadline.
        ("L002", "commitment:para4.seek-security-council-action"),
        ("L010", "commitment:para4.seek-security-council-action"),
        ("L020", "commitment:para4.seek-security-council-action"),
        // 5. no use of nuclear weapons: measurable, but unproven and unanswered.
        ("L010", "commitment:para5.no-nuclear-use"),
        ("L020", "commitment:para5.no-nuclear-use"),
        // 6. consult: no deadline, no trigger, no responder.
        ("L002", "commitment:para6.consult"),
        ("L010", "commitment:para6.consult"),
        ("L020", "commitment:para6.consult"),
    ]);
    assert_eq!(gaps(&json), expected);
}

#[test]
fn budapest_only_measurable_assurance_is_the_nuclear_one() {
    let (_, json) = lint_json("budapest-1994");
    let measurable: Vec<&str> = json["commitments"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter(|c| c["scope"] == Value::Bool(true))
                .filter_map(|c| c["id"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(measurable, vec!["para5.no-nuclear-use"]);
}

#[test]
fn budapest_gaps_point_at_the_commitment_in_the_file() {
    let (_, json) = lint_json("budapest-1994");
    let para6 = json["gaps"].as_array().and_then(|gaps| {
        gaps.iter()
            .find(|g| g["subject"] == "commitment:para6.consult" && g["code"] == "L002")
    });
    let location = para6.map(|g| &g["location"]);
    let file = location
        .and_then(|l| l["file"].as_str())
        .unwrap_or_default();
    assert!(file.ends_with("budapest-1994/agreement.toml"), "{file}");
    let line = location.and_then(|l| l["line"].as_u64()).unwrap_or(0);
    let text = std::fs::read_to_string(example("budapest-1994").join("agreement.toml"))
        .unwrap_or_default();
    let line_text = usize::try_from(line)
        .ok()
        .and_then(|n| text.lines().nth(n.saturating_sub(1)));
    let next_line = usize::try_from(line).ok().and_then(|n| text.lines().nth(n));
    assert_eq!(line_text, Some("[[commitment]]"));
    assert_eq!(next_line, Some("id = \"para6.consult\""));
}

#[test]
fn lint_text_output_shows_code_snippet_and_hint() {
    let (_, printed) = run_on("lint", "budapest-1994");
    assert!(printed.contains("L002"), "{printed}");
    assert!(printed.contains("obligation-without-deadline"), "{printed}");
    assert!(
        printed.contains("budapest-1994/agreement.toml:"),
        "{printed}"
    );
    assert!(
        printed.contains("help: set `by` in `requires`"),
        "{printed}"
    );
}

#[test]
fn lint_of_an_invalid_agreement_exits_1_with_its_diagnostics() {
    let dir = std::env::temp_dir().join(format!("pacta-lint-invalid-{}", std::process::id()));
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            dir.join("agreement.toml"),
            "format = 1\nid = \"x\"\ntitle = \"x\"\neffective = \"not a time\"\n",
        )
    });
    assert!(written.is_ok(), "{written:?}");
    let output = pacta(&["lint", &path_arg(&dir)]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("effective"));
}

#[test]
fn lint_of_a_missing_file_exits_2() {
    let output = pacta(&["lint", "/nonexistent/pacta/agreement.toml"]);
    assert_eq!(output.status.code(), Some(2));
}
