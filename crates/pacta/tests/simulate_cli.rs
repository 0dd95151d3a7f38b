//! `pacta simulate` end to end on the demo agreement and its DEMO-ONLY keys.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo")
}

fn simulate(dir: &Path, extra: &[&str]) -> Output {
    simulate_signed_by(dir, &demo().join("keys"), extra)
}

/// `pacta simulate` of the demo with the key files in `keys`, writing into `dir`.
fn simulate_signed_by(dir: &Path, keys: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
        .arg("simulate")
        .arg("--agreement")
        .arg(demo())
        .arg("--keys")
        .arg(keys)
        .arg("--out")
        .arg(dir.join("reports.ndjson"))
        .arg("--truth")
        .arg(dir.join("truth.json"))
        .args(extra)
        .output()
        .unwrap()
}

fn files(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    (
        std::fs::read(dir.join("reports.ndjson")).unwrap(),
        std::fs::read(dir.join("truth.json")).unwrap(),
    )
}

#[test]
fn same_seed_writes_byte_identical_reports_and_truth() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        let out = simulate(dir.path(), &["--seed", "5", "--days", "3"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(files(a.path()), files(b.path()));
}

#[test]
fn reports_flag_produces_exactly_that_many_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(dir.path(), &["--reports", "1000", "--days", "5"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (reports, truth) = files(dir.path());
    assert_eq!(reports.iter().filter(|b| **b == b'\n').count(), 1000);
    let truth: serde_json::Value = serde_json::from_slice(&truth).unwrap();
    assert_eq!(truth["counts"]["reports"], 1000);
}

#[test]
fn an_unknown_scenario_key_is_refused_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scenario.toml");
    std::fs::write(&config, "dayz = 3\n").unwrap();
    let out = simulate(dir.path(), &["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("dayz"));
}

#[test]
fn the_simulated_reports_are_accepted_by_assess() {
    let dir = tempfile::tempdir().unwrap();
    let out = simulate(dir.path(), &["--days", "2"]);
    assert!(out.status.success());
    let assess = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .arg("assess")
        .arg("--agreement")
        .arg(demo())
        .arg("--reports")
        .arg(dir.path().join("reports.ndjson"))
        .args(["--as-of", "2026-04-01T00:00:00Z"])
        .output()
        .unwrap();
    assert!(
        assess.status.success(),
        "{}",
        String::from_utf8_lossy(&assess.stderr)
    );
}

#[test]
fn a_failed_run_leaves_earlier_outputs_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    for name in ["reports.ndjson", "truth.json"] {
        std::fs::write(dir.path().join(name), "an earlier run's\n").unwrap();
    }
    // No monitor has a key: nothing can be signed, and the run fails after its outputs were
    // opened.
    let out = simulate_signed_by(dir.path(), keys.path(), &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (reports, truth) = files(dir.path());
    assert_eq!(reports, b"an earlier run's\n");
    assert_eq!(truth, b"an earlier run's\n");
    // Nothing staged is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn a_scenario_with_two_bad_settings_is_refused_naming_both_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["reports.ndjson", "truth.json"] {
        std::fs::write(dir.path().join(name), "an earlier run's\n").unwrap();
    }
    let config = dir.path().join("scenario.toml");
    std::fs::write(
        &config,
        "[noise]\nfalse_share = 0.7\n\n[parties.zz]\nfire_per_day = 1.0\n",
    )
    .unwrap();
    let out = simulate(dir.path(), &["--config", config.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let file = config.display();
    assert!(
        stderr.contains(&format!(
            "{file}:2:15: `noise.false_share` = 0.7: above 0.5"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{file}:4:10: `parties.zz`: the agreement has no party `zz`"
        )) && stderr.contains("its parties: `a`, `b`"),
        "{stderr}"
    );
    assert!(stderr.contains("2 settings refused"), "{stderr}");
    let (reports, truth) = files(dir.path());
    assert_eq!(reports, b"an earlier run's\n");
    assert_eq!(truth, b"an earlier run's\n");
}

#[test]
fn no_days_and_no_reports_on_the_command_line_are_refused_as_flags() {
    let dir = tempfile::tempdir().unwrap();
    for (days, reports) in [("0", "0"), ("3661", "100000001")] {
        let out = simulate(dir.path(), &["--days", days, "--reports", reports]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(&format!("error: --days {days}: "))
                && stderr.contains(&format!("error: --reports {reports}: ")),
            "{stderr}"
        );
    }
    assert!(!dir.path().join("reports.ndjson").exists());
}
