//! `pacta keygen`: the key file it writes and its refusal to overwrite.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A fresh directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(test: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("pacta-keygen-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    Scratch(dir)
}

fn pacta(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args(args)
        .output()
        .expect("run pacta")
}

/// `pacta keygen --out OUT`.
fn keygen(out: &std::path::Path) -> Output {
    pacta(&["keygen", "--out", path_str(out)])
}

#[cfg(unix)]
fn permission_bits(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

fn path_str(path: &std::path::Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

#[test]
fn keygen_writes_a_key_file_and_prints_its_public_key() {
    let dir = scratch("writes");
    let out = dir.join("patrol-1.key.json");
    let output = pacta(&["keygen", "--out", path_str(&out), "--name", "patrol-1"]);
    assert_eq!(output.status.code(), Some(0));
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("read key file"))
            .expect("key file is JSON");
    assert_eq!(file["algorithm"], "ed25519");
    assert_eq!(file["name"], "patrol-1");
    assert_eq!(printed.trim(), file["public"].as_str().expect("public"));
    assert!(printed.starts_with("ed25519:"));
    let secret = file["secret"].as_str().expect("secret");
    assert_eq!(secret.len(), 44, "32 bytes in padded base64");
}

#[cfg(unix)]
#[test]
fn keygen_key_file_is_readable_by_its_owner_only() {
    let dir = scratch("mode");
    let out = dir.join("k.json");
    assert_eq!(keygen(&out).status.code(), Some(0));
    assert_eq!(permission_bits(&out), 0o600);
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = scratch("overwrite");
    let out = dir.join("k.json");
    assert_eq!(keygen(&out).status.code(), Some(0));
    let before = std::fs::read_to_string(&out).expect("read");
    let again = keygen(&out);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(std::fs::read_to_string(&out).expect("read"), before);
}

#[cfg(unix)]
#[test]
fn keygen_with_force_replaces_the_key_and_restricts_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("force");
    let out = dir.join("k.json");
    std::fs::write(&out, "old").expect("write");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let output = pacta(&["keygen", "--out", path_str(&out), "--force"]);
    assert_eq!(output.status.code(), Some(0));
    let text = std::fs::read_to_string(&out).expect("read");
    assert!(text.contains("\"algorithm\": \"ed25519\""));
    assert_eq!(permission_bits(&out), 0o600);
}
