//! End-to-end scenarios: each directory under `tests/scenarios/` holds a `scenario.toml`
//! (which agreement, the as-of time, the expected findings, obligations and phases) and an
//! `entries.ndjson` of hand-written, unsigned entries.
//!
//! The harness signs every entry with the test key of its signer (`tests/scenarios/keys/`),
//! runs the real `pacta assess` binary on the signed file, and compares the assessment it
//! writes with the expectations. So each scenario exercises the whole path a mission's data
//! takes: agreement parsing, strict signature verification and role authorisation,
//! corroboration, attribution, adjudication, responses, phases, and the canonical output.
//!
//! Harness-only members of an entry line, removed before signing:
//! - `"_signer": "m2"` signs with another key than the entry's own signer's (a forgery);
//! - `"_after_signing": { ... }` overwrites members after signing (tampering).
//!
//! A line that is not a JSON object is written as it is (malformed input).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use ed25519_dalek::SigningKey;
use pacta_core::entry::signature::sign_entry;
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    description: String,
    /// The agreement directory, relative to the scenario's directory.
    agreement: String,
    as_of: String,
    /// The exact number of incidents, when the scenario is about corroboration.
    incidents: Option<usize>,
    /// 1-based lines of `entries.ndjson` that must be rejected (and only those).
    #[serde(default)]
    rejected_lines: Vec<usize>,
    #[serde(default)]
    findings: Expectations<ExpectedFinding>,
    #[serde(default)]
    obligations: Expectations<ExpectedObligation>,
    #[serde(default)]
    phases: Vec<ExpectedPhase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectations<T> {
    /// When true, the assessment holds these and no others.
    exact: bool,
    #[serde(default = "Vec::new")]
    expect: Vec<T>,
}

impl<T> Default for Expectations<T> {
    fn default() -> Self {
        // An absent table checks nothing.
        Expectations {
            exact: false,
            expect: Vec::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFinding {
    id: String,
    party: Option<String>,
    severity: String,
    status: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedObligation {
    id: String,
    status: String,
    escalated_from: Option<String>,
    due_at: Option<String>,
    /// The findings that fired it (and joined it), in the assessment's sorted order.
    findings: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedPhase {
    id: String,
    status: String,
    entered_at: Option<String>,
    snapped_back_at: Option<String>,
}

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

fn signing_key(signer: &str) -> SigningKey {
    let path = scenarios_dir()
        .join("keys")
        .join(format!("{signer}.key.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no test key for signer `{signer}` at {path:?}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("key file is JSON");
    let secret = file["secret"].as_str().expect("key file has a secret");
    let seed = base64::engine::general_purpose::STANDARD
        .decode(secret)
        .expect("secret is base64");
    let seed: [u8; 32] = seed.try_into().expect("secret is 32 bytes");
    SigningKey::from_bytes(&seed)
}

/// The member naming an entry's signer, by schema.
fn signer_of(entry: &Map<String, Value>) -> String {
    let member = match entry.get("schema").and_then(Value::as_str) {
        Some("pacta.action/1") => "guarantor",
        Some("pacta.objection/1") => "party",
        Some("pacta.ruling/1") => "panelist",
        _ => "monitor",
    };
    entry
        .get(member)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("entry has no `{member}`: {entry:?}"))
        .to_string()
}

fn sign_line(line: &str) -> String {
    let Ok(Value::Object(mut entry)) = serde_json::from_str::<Value>(line) else {
        return line.to_string();
    };
    let signer = match entry.remove("_signer") {
        Some(Value::String(s)) => s,
        _ => signer_of(&entry),
    };
    let after = entry.remove("_after_signing");
    let signed = sign_entry(&Value::Object(entry), &signing_key(&signer)).expect("entry signs");
    let mut signed = match signed {
        Value::Object(map) => map,
        other => panic!("signed entry is not an object: {other}"),
    };
    if let Some(Value::Object(changes)) = after {
        signed.extend(changes);
    }
    Value::Object(signed).to_string()
}

struct Outcome {
    assessment: Value,
    stderr: String,
}

fn run_scenario(dir: &Path, scenario: &Scenario) -> Outcome {
    let unsigned = std::fs::read_to_string(dir.join("entries.ndjson")).expect("entries.ndjson");
    let signed: Vec<String> = unsigned.lines().map(sign_line).collect();
    let work = tempfile::tempdir().expect("temp dir");
    let entries = work.path().join("entries.ndjson");
    std::fs::write(&entries, signed.join("\n") + "\n").expect("write signed entries");
    let out = work.path().join("assessment.json");

    let result = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .arg("assess")
        .arg("--agreement")
        .arg(dir.join(&scenario.agreement))
        .arg("--reports")
        .arg(&entries)
        .arg("--as-of")
        .arg(&scenario.as_of)
        .arg("--json")
        .arg(&out)
        .output()
        .expect("run pacta assess");
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    let expected_code = if scenario.rejected_lines.is_empty() {
        0
    } else {
        1
    };
    assert_eq!(
        result.status.code(),
        Some(expected_code),
        "pacta assess exit code; stderr:\n{stderr}"
    );
    let text = std::fs::read_to_string(&out).expect("assessment written");
    Outcome {
        assessment: serde_json::from_str(&text).expect("assessment is JSON"),
        stderr,
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Checks one scenario; returns every mismatch (empty when it passes).
fn check(name: &str, scenario: &Scenario, outcome: &Outcome) -> Vec<String> {
    let mut problems = Vec::new();
    let a = &outcome.assessment;

    let mut rejected = Vec::new();
    for line in outcome.stderr.lines() {
        if let Some(rest) = line.split(".ndjson:line ").nth(1) {
            if let Some(n) = rest.split(':').next().and_then(|n| n.parse::<usize>().ok()) {
                rejected.push(n);
            }
        }
    }
    if rejected != scenario.rejected_lines {
        problems.push(format!(
            "rejected lines {rejected:?}, expected {:?}; stderr:\n{}",
            scenario.rejected_lines, outcome.stderr
        ));
    }

    if let Some(n) = scenario.incidents {
        let got = a["incidents"].as_array().map_or(0, Vec::len);
        if got != n {
            problems.push(format!("{got} incidents, expected {n}"));
        }
    }

    let findings: BTreeMap<&str, &Value> = a["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| str_field(f, "id").map(|id| (id, f)))
        .collect();
    for e in &scenario.findings.expect {
        let Some(f) = findings.get(e.id.as_str()) else {
            problems.push(format!(
                "missing finding `{}`; findings: {:?}",
                e.id,
                findings.keys().collect::<Vec<_>>()
            ));
            continue;
        };
        let got = (
            str_field(f, "party"),
            str_field(f, "severity"),
            str_field(f, "status"),
        );
        let want = (
            e.party.as_deref(),
            Some(e.severity.as_str()),
            Some(e.status.as_str()),
        );
        if got != want {
            problems.push(format!(
                "finding `{}`: (party, severity, status) {got:?}, expected {want:?}",
                e.id
            ));
        }
    }
    if scenario.findings.exact {
        for id in findings.keys() {
            if !scenario.findings.expect.iter().any(|e| e.id == *id) {
                problems.push(format!("unexpected finding `{id}`"));
            }
        }
    }

    let obligations: BTreeMap<&str, &Value> = a["obligations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| str_field(o, "id").map(|id| (id, o)))
        .collect();
    for e in &scenario.obligations.expect {
        let Some(o) = obligations.get(e.id.as_str()) else {
            problems.push(format!(
                "missing obligation `{}`; obligations: {:?}",
                e.id,
                obligations.keys().collect::<Vec<_>>()
            ));
            continue;
        };
        if str_field(o, "status") != Some(e.status.as_str()) {
            problems.push(format!(
                "obligation `{}`: status {:?}, expected {}",
                e.id,
                str_field(o, "status"),
                e.status
            ));
        }
        if let Some(from) = &e.escalated_from {
            if str_field(o, "escalated_from") != Some(from.as_str()) {
                problems.push(format!(
                    "obligation `{}`: escalated from {:?}, expected {from}",
                    e.id,
                    str_field(o, "escalated_from")
                ));
            }
        }
        if let Some(due) = &e.due_at {
            if str_field(o, "due_at") != Some(due.as_str()) {
                problems.push(format!(
                    "obligation `{}`: due {:?}, expected {due}",
                    e.id,
                    str_field(o, "due_at")
                ));
            }
        }
        if let Some(want) = &e.findings {
            let got: Vec<&str> = o["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if got != *want {
                problems.push(format!(
                    "obligation `{}`: findings {got:?}, expected {want:?}",
                    e.id
                ));
            }
        }
    }
    if scenario.obligations.exact {
        for id in obligations.keys() {
            if !scenario.obligations.expect.iter().any(|e| e.id == *id) {
                problems.push(format!("unexpected obligation `{id}`"));
            }
        }
    }

    let phases: BTreeMap<&str, &Value> = a["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| str_field(p, "id").map(|id| (id, p)))
        .collect();
    for e in &scenario.phases {
        let Some(p) = phases.get(e.id.as_str()) else {
            problems.push(format!("missing phase `{}`", e.id));
            continue;
        };
        if str_field(p, "status") != Some(e.status.as_str()) {
            problems.push(format!(
                "phase `{}`: status {:?}, expected {} (waiting for {})",
                e.id,
                str_field(p, "status"),
                e.status,
                p["waiting_for"]
            ));
        }
        for (key, want) in [
            ("entered_at", &e.entered_at),
            ("snapped_back_at", &e.snapped_back_at),
        ] {
            if let Some(want) = want {
                if str_field(p, key) != Some(want.as_str()) {
                    problems.push(format!(
                        "phase `{}`: {key} {:?}, expected {want}",
                        e.id,
                        str_field(p, key)
                    ));
                }
            }
        }
    }

    problems
        .into_iter()
        .map(|p| format!("{name}: {p}"))
        .collect()
}

fn scenario_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .expect("tests/scenarios exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("scenario.toml").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_scenario_gives_its_expected_findings_obligations_and_phases() {
    let dirs = scenario_dirs();
    assert!(
        dirs.len() >= 12,
        "expected at least 12 scenarios, found {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let text = std::fs::read_to_string(dir.join("scenario.toml")).expect("scenario.toml");
        let scenario: Scenario =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{name}/scenario.toml: {e}"));
        assert!(!scenario.description.is_empty(), "{name}: describe it");
        let outcome = run_scenario(dir, &scenario);
        failures.extend(check(&name, &scenario, &outcome));
    }
    assert!(
        failures.is_empty(),
        "{} scenario expectations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_assessment_does_not_depend_on_the_order_of_the_lines() {
    // Reverse every scenario's entries: the digest must not move.
    for dir in scenario_dirs() {
        let text = std::fs::read_to_string(dir.join("scenario.toml")).expect("scenario.toml");
        let scenario: Scenario = toml::from_str(&text).expect("scenario.toml parses");
        if !scenario.rejected_lines.is_empty() {
            continue; // rejected line numbers move when lines move
        }
        let unsigned = std::fs::read_to_string(dir.join("entries.ndjson")).expect("entries");
        let signed: Vec<String> = unsigned.lines().map(sign_line).collect();
        let digests: Vec<String> = [signed.clone(), signed.into_iter().rev().collect()]
            .iter()
            .map(|lines| {
                let work = tempfile::tempdir().expect("temp dir");
                let entries = work.path().join("entries.ndjson");
                std::fs::write(&entries, lines.join("\n")).expect("write");
                let out = Command::new(env!("CARGO_BIN_EXE_pacta"))
                    .args(["assess", "--agreement"])
                    .arg(dir.join(&scenario.agreement))
                    .arg("--reports")
                    .arg(&entries)
                    .args(["--as-of", &scenario.as_of])
                    .output()
                    .expect("run pacta assess");
                let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
                stdout
                    .lines()
                    .find_map(|l| l.strip_prefix("digest: "))
                    .unwrap_or_else(|| panic!("no digest in output:\n{stdout}"))
                    .to_string()
            })
            .collect();
        assert_eq!(digests[0], digests[1], "{dir:?}: digest moved with order");
    }
}
