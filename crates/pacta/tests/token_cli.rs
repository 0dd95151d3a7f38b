//! `pacta token new` prints a fresh secret once and a tokens-file stanza that holds only its
//! hash; `pacta serve` documents the write guard and refuses a bad tokens file before it
//! starts.

use std::process::Command;

use pacta_server::auth::{secret_sha256, Tokens};

fn pacta() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
}

/// The secret and the stanza of one `pacta token new`.
fn new_token(roles: &str) -> (String, String) {
    let output = pacta()
        .args(["token", "new", "--name", "gateway-north", "--roles", roles])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (secret, stanza) = stdout.split_once("\n\n").unwrap();
    (secret.to_owned(), stanza.to_owned())
}

#[test]
fn token_new_prints_a_secret_and_a_stanza_with_only_its_hash() {
    let (secret, stanza) = new_token("monitor,guarantor");
    assert!(
        secret.starts_with("pacta_") && secret.len() > 40,
        "{secret}"
    );
    assert!(!stanza.contains(&secret), "{stanza}");
    assert!(stanza.contains(&secret_sha256(&secret)), "{stanza}");
    assert!(stanza.contains("gateway-north"));
    assert!(stanza.contains("\"monitor\"") && stanza.contains("\"guarantor\""));
    assert_eq!(Tokens::from_toml(&stanza).unwrap().len(), 1);
    let (other, _) = new_token("panel");
    assert_ne!(secret, other);
}

#[test]
fn token_new_refuses_an_unknown_role() {
    let output = pacta()
        .args(["token", "new", "--name", "x", "--roles", "monitor,admin"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn serve_help_documents_the_write_guard() {
    let output = pacta().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--tokens-file",
        "PACTA_TOKENS_FILE",
        "tokens_file",
        "--write-rate-per-second",
        "PACTA_WRITE_RATE_PER_SECOND",
        "--write-burst",
        "write_burst",
        "--trusted-proxy",
        "PACTA_TRUSTED_PROXIES",
        "pacta token new",
    ] {
        assert!(help.contains(needle), "`{needle}` missing from:\n{help}");
    }
}

#[test]
fn serve_refuses_a_bad_tokens_file_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(
        &tokens,
        "[[token]]\nname = \"x\"\nsha256 = \"a-plain-secret\"\nroles = [\"monitor\"]\n",
    )
    .unwrap();
    let output = pacta()
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .arg("--tokens-file")
        .arg(&tokens)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tokens file"), "{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");
}
