//! C2SP signed-note and tlog-cosignature.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pacta_log::note::{add_cosignature, key_id, sign_note, Note, NoteError};
use pacta_log::{NoteSigner, NoteVerifier};

/// The example of c2sp.org/signed-note (C2SP repository, `signed-note.md`).
const C2SP_EXAMPLE: &str = "Ognuno sta solo sul cuor della terra\n\
trafitto da un raggio di sole:\n\
\n\
ed è subito sera.\n\
\n\
— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";

/// The example of Go's golang.org/x/mod/sumdb/note package documentation.
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
then you don't know what your problem is.\n";
const GO_NOTE_SIGNATURE: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const GO_VERIFIER_KEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SIGNER_KEY_MATERIAL: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";

fn go_note() -> String {
    format!("{GO_TEXT}\n{GO_NOTE_SIGNATURE}")
}

fn go_seed() -> [u8; 32] {
    let raw = STANDARD.decode(GO_SIGNER_KEY_MATERIAL).expect("base64");
    raw[1..]
        .try_into()
        .expect("32-byte seed after the type byte")
}

#[test]
fn c2sp_example_parses_into_its_text_and_one_signature() {
    let note = Note::parse(C2SP_EXAMPLE.as_bytes()).expect("the spec example parses");
    assert_eq!(
        note.text,
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n"
    );
    assert_eq!(note.signatures.len(), 1);
    assert_eq!(note.signatures[0].name, "quasimodo.example/salvatore");
    assert_eq!(note.signatures[0].id, 0x367ba04b);
    assert_eq!(note.signatures[0].bytes.len(), 64);
    assert_eq!(note.to_text(), C2SP_EXAMPLE);
}

#[test]
fn c2sp_example_is_rejected_when_no_trusted_key_signed_it() {
    let note = Note::parse(C2SP_EXAMPLE.as_bytes()).expect("parses");
    // Same name, another key: the key ID differs, so the signature is ignored as unknown.
    let other = NoteSigner::ed25519("quasimodo.example/salvatore", &[7; 32]).expect("signer");
    let error = note
        .verify(&[other.verifier()])
        .expect_err("no trusted signature");
    assert!(
        matches!(error, NoteError::NoKnownSignature { .. }),
        "{error}"
    );
    assert!(error
        .to_string()
        .contains("quasimodo.example/salvatore+367ba04b"));
}

#[test]
fn go_note_example_verifies_with_its_verifier_key() {
    let verifier = NoteVerifier::parse(GO_VERIFIER_KEY).expect("key parses");
    let verified = Note::parse(go_note().as_bytes())
        .expect("parses")
        .verify(&[verifier])
        .expect("verifies");
    assert_eq!(verified.text, GO_TEXT);
}

#[test]
fn signing_reproduces_the_go_note_example_byte_for_byte() {
    let signer = NoteSigner::ed25519("PeterNeumann", &go_seed()).expect("signer");
    assert_eq!(signer.verifier().to_string(), GO_VERIFIER_KEY);
    assert_eq!(sign_note(GO_TEXT, &[&signer], 0).expect("signs"), go_note());
}

#[test]
fn altered_text_fails_the_trusted_signature() {
    let verifier = NoteVerifier::parse(GO_VERIFIER_KEY).expect("key parses");
    let altered = go_note().replace("cryptography", "cryptographY");
    let error = Note::parse(altered.as_bytes())
        .expect("parses")
        .verify(&[verifier])
        .expect_err("must fail");
    assert_eq!(
        error.to_string(),
        "signature by PeterNeumann+c74f20a3 does not verify"
    );
}

#[test]
fn key_id_is_the_first_four_bytes_of_the_hash_of_name_newline_type_and_key() {
    let verifier = NoteVerifier::parse(GO_VERIFIER_KEY).expect("key parses");
    let raw = STANDARD
        .decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        .expect("b64");
    assert_eq!(key_id("PeterNeumann", raw[0], &raw[1..]), 0xc74f20a3);
    assert_eq!(verifier.id(), 0xc74f20a3);
}

#[test]
fn verifier_key_with_wrong_id_is_refused() {
    let error = NoteVerifier::parse(&GO_VERIFIER_KEY.replace("c74f20a3", "c74f20a4"))
        .expect_err("must refuse");
    assert!(
        error.to_string().contains("key ID does not match"),
        "{error}"
    );
}

#[test]
fn note_with_several_signatures_verifies_with_any_one_trusted_key() {
    let log = NoteSigner::ed25519("log.example", &[1; 32]).expect("signer");
    let other = NoteSigner::ed25519("other.example", &[2; 32]).expect("signer");
    let note = sign_note("hello\n", &[&other, &log], 0).expect("signs");
    let verified = Note::parse(note.as_bytes())
        .expect("parses")
        .verify(&[log.verifier()])
        .expect("verifies");
    assert_eq!(verified.signatures.len(), 1);
    assert_eq!(verified.signatures[0].verifier, log.verifier().to_string());
}

#[test]
fn cosignature_verifies_with_its_timestamp_next_to_the_log_signature() {
    let log = NoteSigner::ed25519("log.example", &[1; 32]).expect("signer");
    let witness = NoteSigner::cosigner("witness.example/w1", &[3; 32]).expect("cosigner");
    let checkpoint = sign_note(
        "log.example\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
        &[&log],
        0,
    )
    .expect("signs");
    let cosigned =
        add_cosignature(checkpoint.as_bytes(), &witness, 1_679_315_147).expect("cosigns");
    let witness_key = NoteVerifier::parse(&witness.verifier().to_string()).expect("vkey parses");
    assert!(witness_key.is_cosigner());
    let verified = Note::parse(cosigned.as_bytes())
        .expect("parses")
        .verify(&[log.verifier(), witness_key])
        .expect("verifies");
    assert_eq!(verified.signatures.len(), 2);
    assert_eq!(verified.signatures[1].timestamp, Some(1_679_315_147));
}

#[test]
fn cosignature_with_altered_timestamp_fails() {
    let log = NoteSigner::ed25519("log.example", &[1; 32]).expect("signer");
    let witness = NoteSigner::cosigner("witness.example/w1", &[3; 32]).expect("cosigner");
    let checkpoint = sign_note(
        "log.example\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        &[&log],
        0,
    )
    .expect("signs");
    let cosigned = add_cosignature(checkpoint.as_bytes(), &witness, 100).expect("cosigns");
    let mut note = Note::parse(cosigned.as_bytes()).expect("parses");
    note.signatures[1].bytes[7] ^= 1;
    let error = note.verify(&[witness.verifier()]).expect_err("must fail");
    assert!(matches!(error, NoteError::BadSignature { .. }), "{error}");
}

#[test]
fn note_without_blank_line_is_malformed() {
    let error = Note::parse(b"text\n\xe2\x80\x94 a AAAAAAA=\n").expect_err("malformed");
    assert!(error.to_string().contains("blank line"), "{error}");
}
