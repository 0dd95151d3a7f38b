//! `verify_log` on damaged published logs: each error names the file and position.

use std::fs;
use std::path::{Path, PathBuf};

use pacta_log::{verify_log, DirStore, Error, LogWriter, NoteSigner, NoteVerifier};

const ORIGIN: &str = "log.pacta.example/verify";

fn signer() -> NoteSigner {
    NoteSigner::ed25519(ORIGIN, &[4; 32]).expect("signer")
}

/// A published log of 300 entries `entry N` (one full bundle, one of 44).
fn published() -> (tempfile::TempDir, PathBuf) {
    published_with(300)
}

/// A published log of `size` entries `entry N`.
fn published_with(size: u32) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let public = dir.path().join("public");
    let mut log = LogWriter::create(
        DirStore::new(&public).expect("store"),
        &dir.path().join("journal"),
        ORIGIN,
        signer(),
    )
    .expect("create");
    let entries: Vec<Vec<u8>> = (0..size)
        .map(|i| format!("entry {i}").into_bytes())
        .collect();
    log.append(&entries).expect("append");
    log.integrate().expect("integrate");
    (dir, public)
}

fn verify(public: &Path) -> Result<u64, Error> {
    verify_log(
        &DirStore::new(public).expect("store"),
        &[signer().verifier()],
        Some(ORIGIN),
    )
    .map(|log| log.tiles_checked())
}

#[test]
fn untouched_log_verifies_every_tile() {
    let (_dir, public) = published();
    // tile/0/000, tile/0/001.p/44, tile/1/000.p/1.
    assert_eq!(verify(&public).expect("verifies"), 3);
}

#[test]
fn altered_length_prefix_names_the_bundle() {
    let (_dir, public) = published();
    let path = public.join("tile/entries/001.p/44");
    let mut bytes = fs::read(&path).expect("bundle");
    bytes[1] = 0xff;
    fs::write(&path, bytes).expect("write");
    let error = verify(&public).expect_err("must fail").to_string();
    assert!(error.starts_with("tile/entries/001.p/44: "), "{error}");
}

#[test]
fn missing_tile_is_named() {
    let (_dir, public) = published();
    fs::remove_file(public.join("tile/1/000.p/1")).expect("remove");
    let error = verify(&public).expect_err("must fail").to_string();
    assert_eq!(error, "tile/1/000.p/1 is missing (tree size 300)");
}

#[test]
fn tile_of_the_wrong_length_is_named() {
    let (_dir, public) = published();
    let path = public.join("tile/0/001.p/44");
    let mut bytes = fs::read(&path).expect("tile");
    bytes.pop();
    fs::write(&path, bytes).expect("write");
    let error = verify(&public).expect_err("must fail").to_string();
    assert_eq!(
        error,
        "tile/0/001.p/44 is 1407 bytes, expected 1408 (44 hashes)"
    );
}

#[test]
fn checkpoint_for_another_origin_is_refused() {
    let (_dir, public) = published();
    let error = verify_log(
        &DirStore::new(&public).expect("store"),
        &[signer().verifier()],
        Some("log.pacta.example/elsewhere"),
    )
    .err()
    .expect("must fail")
    .to_string();
    assert!(
        error.contains("expected \"log.pacta.example/elsewhere\""),
        "{error}"
    );
}

#[test]
fn checkpoint_signed_only_by_an_unknown_key_is_refused() {
    let (_dir, public) = published();
    let stranger: NoteVerifier = NoteSigner::ed25519("someone.example", &[7; 32])
        .expect("signer")
        .verifier();
    let error = verify_log(&DirStore::new(&public).expect("store"), &[stranger], None)
        .err()
        .expect("must fail")
        .to_string();
    assert!(error.contains("no signature by a known key"), "{error}");
}

#[test]
fn every_single_bit_flip_in_any_published_file_fails_verification() {
    // Five entries keep the run short (each verification checks an Ed25519 signature) while
    // covering a bundle, a tile and the checkpoint.
    let (_dir, public) = published_with(5);
    verify(&public).expect("the untouched log verifies");
    for file in ["checkpoint", "tile/0/000.p/5", "tile/entries/000.p/5"] {
        let path = public.join(file);
        let original = fs::read(&path).expect("read");
        for offset in 0..original.len() {
            let mut altered = original.clone();
            altered[offset] ^= 0x01;
            fs::write(&path, &altered).expect("write");
            assert!(
                verify(&public).is_err(),
                "{file}: flipping byte {offset} went unnoticed"
            );
        }
        fs::write(&path, &original).expect("restore");
    }
}
