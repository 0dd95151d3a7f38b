//! `pacta evaluate` end to end: simulate, assess, evaluate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo")
}

fn pacta(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(args)
        .output()
        .unwrap()
}

/// Simulates 3 days and assesses them; returns (truth, assessment) paths.
fn simulated(dir: &Path) -> (PathBuf, PathBuf) {
    let demo = demo();
    let (reports, truth, assessment) = (
        dir.join("reports.ndjson"),
        dir.join("truth.json"),
        dir.join("assessment.json"),
    );
    let out = pacta(&[
        "simulate".as_ref(),
        "--agreement".as_ref(),
        demo.as_os_str(),
        "--keys".as_ref(),
        demo.join("keys").as_os_str(),
        "--days".as_ref(),
        "3".as_ref(),
        "--out".as_ref(),
        reports.as_os_str(),
        "--truth".as_ref(),
        truth.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&truth).unwrap();
    let as_of = serde_json::from_str::<serde_json::Value>(&text).unwrap()["as_of"]
        .as_str()
        .unwrap()
        .to_string();
    let out = pacta(&[
        "assess".as_ref(),
        "--agreement".as_ref(),
        demo.as_os_str(),
        "--reports".as_ref(),
        reports.as_os_str(),
        "--as-of".as_ref(),
        as_of.as_ref(),
        "--json".as_ref(),
        assessment.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (truth, assessment)
}

/// `pacta evaluate --truth T --assessment A` plus `extra`.
fn evaluate(truth: &Path, assessment: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "evaluate".as_ref(),
        "--truth".as_ref(),
        truth.as_os_str(),
        "--assessment".as_ref(),
        assessment.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    pacta(&args)
}

#[test]
fn json_output_has_incident_and_finding_scores() {
    let dir = tempfile::tempdir().unwrap();
    let (truth, assessment) = simulated(dir.path());
    let out = evaluate(&truth, &assessment, &["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(e["incidents"]["produced"].as_u64().unwrap() > 0);
    assert!(e["incidents"]["matched"].as_u64().unwrap() > 0);
    assert!(e["findings_by_commitment"].is_object());
    // The F1 the table prints, and the offensive alarms.
    let (p, r) = (
        e["incidents"]["precision"].as_f64().unwrap(),
        e["incidents"]["recall"].as_f64().unwrap(),
    );
    let f1 = e["incidents"]["f1"].as_f64().unwrap();
    assert!(
        (f1 - 2.0 * p * r / (p + r)).abs() < 1e-12,
        "{f1} from {p}, {r}"
    );
    assert!(e["obligations"]["offensive_false_alarms"].is_u64());
}

#[test]
fn the_table_names_the_tolerance() {
    let dir = tempfile::tempdir().unwrap();
    let (truth, assessment) = simulated(dir.path());
    let out = evaluate(&truth, &assessment, &["--distance-km", "2"]);
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("match within 2 km and 60 min"));
    assert!(table.contains("offensive alarms: "), "{table}");
}

#[test]
fn a_file_that_is_not_a_truth_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("bogus.json");
    std::fs::write(&bogus, "{}").unwrap();
    let out = evaluate(&bogus, &bogus, &[]);
    assert_eq!(out.status.code(), Some(1));
}

/// A copy of the JSON file `from`, changed by `edit`, written on one line (as `pacta assess
/// --json` writes) to `name` in `dir`.
fn altered(
    from: &Path,
    dir: &Path,
    name: &str,
    edit: impl FnOnce(&mut serde_json::Value),
) -> PathBuf {
    let text = std::fs::read_to_string(from).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut value);
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path
}

/// The standard error of a run that must have exited 1.
fn stderr_of_exit_1(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    stderr
}

#[test]
fn an_assessment_of_another_agreement_exits_1_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (truth, assessment) = simulated(dir.path());
    let other_path = altered(&assessment, dir.path(), "other.json", |v| {
        v["agreement"] = "another-agreement".into();
    });
    let out = evaluate(&truth, &other_path, &[]);
    let stderr = stderr_of_exit_1(&out);
    assert!(
        stderr.contains("not of the same run") && stderr.contains("`another-agreement`"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

/// Asserts that `pacta evaluate` with `flag value` is refused (exit 2) before either file is
/// read (they do not exist), naming the flag, its value and `allowed`.
fn refused_before_anything_is_read(flag: &str, value: &str, allowed: &str) {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let out = evaluate(&missing, &missing, &[flag, value]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{flag} {value}"))
            && stderr.contains(allowed)
            && !stderr.contains("cannot read"),
        "{stderr}"
    );
}

#[test]
fn a_time_tolerance_above_the_limit_is_refused_before_anything_is_read() {
    refused_before_anything_is_read("--time-minutes", "100000000", "allowed 0 to 1440 minutes");
}

#[test]
fn a_distance_tolerance_above_the_limit_is_refused_before_anything_is_read() {
    refused_before_anything_is_read("--distance-km", "100.5", "allowed 0 to 100 km");
    refused_before_anything_is_read("--distance-km", "inf", "allowed 0 to 100 km");
    // The limit itself is allowed: the run goes on to read the files.
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let out = evaluate(&missing, &missing, &["--distance-km", "100"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read"),
        "{out:?}"
    );
}

#[test]
fn an_assessment_with_a_member_of_the_wrong_type_is_refused_naming_its_pointer_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let (truth, assessment) = simulated(dir.path());
    let broken = altered(&assessment, dir.path(), "broken.json", |v| {
        assert!(v["incidents"].as_array().unwrap().len() > 3);
        v["incidents"][3]["start"] = 5.into();
    });
    let stderr = stderr_of_exit_1(&evaluate(&truth, &broken, &[]));
    assert!(
        stderr.contains(&format!("{}: not an assessment", broken.display()))
            && stderr.contains("at `/incidents/3/start`: invalid type: integer `5`")
            && stderr.contains("line 1 column"),
        "{stderr}"
    );
    // The truth likewise.
    let broken = altered(&truth, dir.path(), "broken-truth.json", |v| {
        v["events"][1]["kind"] = "meteor".into();
    });
    let stderr = stderr_of_exit_1(&evaluate(&broken, &assessment, &[]));
    assert!(
        stderr.contains(&format!("{}: not a ground-truth file", broken.display()))
            && stderr.contains("at `/events/1/kind`: unknown variant `meteor`"),
        "{stderr}"
    );
}
