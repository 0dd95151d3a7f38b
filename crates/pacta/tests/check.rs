//! `pacta check` end to end: exit codes, the summary of a valid agreement, and snapshots of
//! the rendered diagnostics for each broken agreement in `tests/agreements/broken/`.

use std::path::PathBuf;
use std::process::Command;

/// The workspace root, so paths in diagnostics are the stable relative paths of the fixtures.
fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `pacta check PATH` from the workspace root: (exit code, stdout, stderr).
fn check(path: &str) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .arg("check")
        .arg(path)
        .current_dir(workspace())
        .env("NO_COLOR", "1")
        .output()
        .expect("the pacta binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_valid_agreement_exits_zero_with_a_summary() {
    let (code, stdout, stderr) = check("tests/agreements/valid-minimal");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "");
    insta::assert_snapshot!("valid_minimal_summary", stdout);
}

#[test]
fn the_toml_file_itself_may_be_given() {
    let (code, _, stderr) = check("tests/agreements/valid-minimal/agreement.toml");
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_missing_path_is_an_io_error() {
    let (code, stdout, stderr) = check("tests/agreements/no-such-agreement");
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("cannot read agreement file"), "{stderr}");
}

#[test]
fn a_missing_argument_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .arg("check")
        .output()
        .expect("the pacta binary runs");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn help_documents_the_exit_codes() {
    let output = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(["check", "--help"])
        .output()
        .expect("the pacta binary runs");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("Exit codes: 0 the agreement is valid"),
        "{help}"
    );
}

#[test]
fn the_shipped_examples_pass_when_present() {
    for example in ["examples/demo", "examples/budapest-1994"] {
        if !workspace().join(example).join("agreement.toml").exists() {
            continue;
        }
        let (code, _, stderr) = check(example);
        assert_eq!(code, 0, "{example}:\n{stderr}");
    }
}

/// One test per broken agreement: `pacta check` exits 1, prints nothing on stdout, and its
/// diagnostics match the reviewed snapshot.
macro_rules! broken {
    ($($name:ident),* $(,)?) => {
        mod broken {
            use super::check;
            $(
                #[test]
                fn $name() {
                    let path = concat!("tests/agreements/broken/", stringify!($name));
                    let (code, stdout, stderr) = check(path);
                    assert_eq!(code, 1, "{stderr}");
                    assert_eq!(stdout, "");
                    insta::assert_snapshot!(stringify!($name), stderr);
                }
            )*
        }
    };
}

broken!(
    bad_durations,
    bad_keys,
    bad_times,
    coalesce_without_finding,
    coordinates_out_of_range,
    deadline_before_effective,
    derived_zone_bases,
    duplicate_ids,
    duplicate_tables,
    empty_periods,
    escalation_cycle,
    geojson_not_a_zone,
    geojson_syntax,
    inside_without_controls,
    missing_required_keys,
    missing_zone_file,
    phase_conditions,
    phase_cycle,
    self_intersecting_polygon,
    toml_syntax,
    undefined_references,
    unknown_keys,
    unknown_values,
    unmeetable_evidence,
    unsupported_format,
    warnings_alongside_errors,
    wrong_types,
    zone_shapes,
);
