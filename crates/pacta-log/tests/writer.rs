//! The log writer: durable append, batched integration, tiles, checkpoints, and refusal to
//! start on stored state that disagrees with the last checkpoint.

use std::fs;
use std::path::{Path, PathBuf};

use pacta_log::proof::InclusionProof;
use pacta_log::{verify_log, DirStore, Error, LogWriter, NoteSigner, MAX_ENTRY_BYTES};

const ORIGIN: &str = "log.pacta.example/test";

fn signer() -> NoteSigner {
    NoteSigner::ed25519(ORIGIN, &[9; 32]).expect("signer")
}

struct Fixture {
    _dir: tempfile::TempDir,
    public: PathBuf,
    journal: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    Fixture {
        public: dir.path().join("public"),
        journal: dir.path().join("journal"),
        _dir: dir,
    }
}

fn create(f: &Fixture) -> LogWriter<DirStore> {
    LogWriter::create(
        DirStore::new(&f.public).expect("store"),
        &f.journal,
        ORIGIN,
        signer(),
    )
    .expect("create")
}

fn open(f: &Fixture) -> Result<LogWriter<DirStore>, Error> {
    LogWriter::open(
        DirStore::new(&f.public).expect("store"),
        &f.journal,
        ORIGIN,
        signer(),
    )
}

fn entries(range: std::ops::Range<u32>) -> Vec<Vec<u8>> {
    range.map(|i| format!("entry {i}").into_bytes()).collect()
}

fn write_log(f: &Fixture, size: u32) {
    let mut log = create(f);
    log.append(&entries(0..size)).expect("append");
    log.integrate().expect("integrate");
}

fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = fs::read(path).expect("read");
    bytes[offset] ^= 0x01;
    fs::write(path, bytes).expect("write");
}

#[test]
fn append_returns_consecutive_indexes() {
    let f = fixture();
    let mut log = create(&f);
    assert_eq!(log.append(&entries(0..3)).expect("append"), 0..3);
    assert_eq!(log.append(&entries(3..5)).expect("append"), 3..5);
}

#[test]
fn integrate_publishes_a_checkpoint_covering_every_appended_entry() {
    let f = fixture();
    let mut log = create(&f);
    log.append(&entries(0..300)).expect("append");
    assert_eq!(log.checkpoint().size, 0);
    let checkpoint = log.integrate().expect("integrate").clone();
    assert_eq!(checkpoint.size, 300);
    let verified = verify_log(
        &DirStore::new(&f.public).expect("store"),
        &[signer().verifier()],
        Some(ORIGIN),
    )
    .expect("the published log verifies");
    assert_eq!(verified.checkpoint(), &checkpoint);
}

#[test]
fn tiles_and_bundles_use_c2sp_paths() {
    let f = fixture();
    write_log(&f, 300);
    for path in [
        "tile/0/000",
        "tile/0/001.p/44",
        "tile/1/000.p/1",
        "tile/entries/000",
        "tile/entries/001.p/44",
    ] {
        assert!(f.public.join(path).is_file(), "{path} is missing");
    }
}

#[test]
fn appended_but_unintegrated_entries_are_integrated_after_reopening() {
    let f = fixture();
    {
        let mut log = create(&f);
        log.append(&entries(0..10)).expect("append");
    }
    let mut log = open(&f).expect("open");
    assert_eq!(log.pending(), 10);
    assert_eq!(log.integrate().expect("integrate").size, 10);
}

#[test]
fn reopening_continues_the_partial_bundle() {
    let f = fixture();
    write_log(&f, 250);
    let mut log = open(&f).expect("open");
    log.append(&entries(250..260)).expect("append");
    log.integrate().expect("integrate");
    assert!(f.public.join("tile/entries/000").is_file());
    assert!(f.public.join("tile/entries/001.p/4").is_file());
    verify_log(
        &DirStore::new(&f.public).expect("store"),
        &[signer().verifier()],
        None,
    )
    .expect("verifies");
}

#[test]
fn entry_larger_than_the_bundle_limit_is_refused_with_the_limit() {
    let f = fixture();
    let mut log = create(&f);
    let error = log
        .append(&[vec![0u8; MAX_ENTRY_BYTES + 1]])
        .expect_err("too large");
    assert!(
        error
            .to_string()
            .contains("65536 bytes exceeds the maximum entry size of 65535 bytes"),
        "{error}"
    );
}

#[test]
fn entry_of_exactly_the_bundle_limit_is_accepted() {
    let f = fixture();
    let mut log = create(&f);
    log.append(&[vec![7u8; MAX_ENTRY_BYTES]]).expect("append");
    log.integrate().expect("integrate");
    verify_log(
        &DirStore::new(&f.public).expect("store"),
        &[signer().verifier()],
        None,
    )
    .expect("verifies");
}

#[test]
fn open_refuses_when_an_entry_disagrees_with_the_checkpoint() {
    let f = fixture();
    write_log(&f, 20);
    flip_byte(&f.public.join("tile/entries/000.p/20"), 5);
    let error = open(&f).err().expect("must refuse");
    assert!(
        error.to_string().contains("but the last checkpoint signs"),
        "{error}"
    );
}

#[test]
fn open_refuses_when_a_tile_disagrees_with_the_entries() {
    let f = fixture();
    write_log(&f, 20);
    flip_byte(&f.public.join("tile/0/000.p/20"), 40);
    let error = open(&f).err().expect("must refuse");
    assert!(
        error.to_string().starts_with("tile/0/000.p/20: hash 1"),
        "{error}"
    );
}

#[test]
fn open_refuses_when_the_journal_disagrees_with_integrated_entries() {
    let f = fixture();
    write_log(&f, 20);
    let journal = fs::read(&f.journal).expect("journal");
    // Header (16) + first record: length (4) + hash (32) + "entry 0" (7); alter the entry
    // and its hash together so the record stays intact but differs from the log.
    let mut altered = journal.clone();
    let entry = b"entry X";
    altered[16 + 36..16 + 36 + 7].copy_from_slice(entry);
    altered[16 + 4..16 + 36].copy_from_slice(&pacta_log::leaf_hash(entry).0);
    fs::write(&f.journal, altered).expect("write");
    let error = open(&f).err().expect("must refuse");
    assert!(
        error.to_string().contains("entry 0 has leaf hash"),
        "{error}"
    );
}

#[test]
fn open_refuses_a_checkpoint_signed_by_another_key() {
    let f = fixture();
    write_log(&f, 3);
    let other = NoteSigner::ed25519(ORIGIN, &[8; 32]).expect("signer");
    let error = LogWriter::open(
        DirStore::new(&f.public).expect("store"),
        &f.journal,
        ORIGIN,
        other,
    )
    .err()
    .expect("must refuse");
    assert!(
        error.to_string().contains("no signature by a known key"),
        "{error}"
    );
}

#[test]
fn torn_journal_tail_is_cut_off_and_earlier_entries_kept() {
    let f = fixture();
    {
        let mut log = create(&f);
        log.append(&entries(0..5)).expect("append");
    }
    let mut journal = fs::read(&f.journal).expect("journal");
    journal.extend_from_slice(&[0, 0, 0, 9, 1, 2, 3]);
    fs::write(&f.journal, journal).expect("write");
    let mut log = open(&f).expect("open");
    assert_eq!(log.discarded_journal_bytes(), 7);
    assert_eq!(log.pending(), 5);
    assert_eq!(log.next_index(), 5);
    assert_eq!(log.integrate().expect("integrate").size, 5);
}

#[test]
fn a_full_tile_is_never_rewritten_with_different_bytes() {
    let f = fixture();
    write_log(&f, 256);
    // Pretend the journal held other entries: remove the checkpoint's coverage by creating a
    // fresh log over the same tiles with different content.
    fs::remove_file(f.public.join("checkpoint")).expect("remove checkpoint");
    let mut log = LogWriter::create(
        DirStore::new(&f.public).expect("store"),
        &f.journal.with_extension("other"),
        ORIGIN,
        signer(),
    )
    .expect("create");
    log.append(&entries(1000..1256)).expect("append");
    let error = log.integrate().expect_err("must refuse");
    assert!(
        error
            .to_string()
            .contains("refusing to rewrite tile/entries/000"),
        "{error}"
    );
}

#[test]
fn each_new_checkpoint_is_consistent_with_the_previous_one() {
    let f = fixture();
    let mut log = create(&f);
    let mut previous = log.checkpoint().clone();
    for batch in 0..5u32 {
        log.append(&entries(batch * 100..batch * 100 + 100))
            .expect("append");
        let next = log.integrate().expect("integrate").clone();
        let proof = log.consistency_proof(previous.size).expect("proof");
        assert_eq!(proof.old_root, previous.root);
        proof
            .verify(&[signer().verifier()], Some(ORIGIN))
            .expect("consistent");
        previous = next;
    }
}

#[test]
fn inclusion_proof_file_round_trips_and_verifies() {
    let f = fixture();
    write_log(&f, 1000);
    let log = open(&f).expect("open");
    let proof = log.inclusion_proof(777).expect("proof");
    let parsed = InclusionProof::parse(&proof.to_text()).expect("parses");
    assert_eq!(parsed, proof);
    parsed
        .verify(b"entry 777", &[signer().verifier()], Some(ORIGIN))
        .expect("verifies");
}

#[test]
fn inclusion_proof_for_another_entry_fails() {
    let f = fixture();
    write_log(&f, 100);
    let log = open(&f).expect("open");
    let proof = log.inclusion_proof(7).expect("proof");
    let error = proof
        .verify(b"entry 8", &[signer().verifier()], None)
        .expect_err("must fail");
    assert!(
        error
            .to_string()
            .contains("does not verify against its checkpoint"),
        "{error}"
    );
}

#[test]
fn compacted_journal_keeps_indexes_and_reopens() {
    let f = fixture();
    let mut log = create(&f).with_journal_compaction(0);
    log.append(&entries(0..300)).expect("append");
    log.integrate().expect("integrate");
    assert_eq!(
        fs::metadata(&f.journal).expect("journal").len(),
        16,
        "journal restarted"
    );
    drop(log);
    let mut log = open(&f).expect("open after compaction");
    assert_eq!(log.append(&entries(300..310)).expect("append"), 300..310);
    assert_eq!(log.integrate().expect("integrate").size, 310);
    verify_log(
        &DirStore::new(&f.public).expect("store"),
        &[signer().verifier()],
        Some(ORIGIN),
    )
    .expect("verifies");
}

#[test]
fn files_staged_by_a_crashed_writer_are_removed_on_open() {
    let f = fixture();
    write_log(&f, 10);
    let leftover = f.public.join("tile/0/001.tmp-999999");
    fs::write(&leftover, b"half written").expect("write");
    open(&f).expect("open");
    assert!(!leftover.exists());
}

#[test]
fn open_refuses_when_a_bundle_is_missing_and_names_it() {
    let f = fixture();
    write_log(&f, 300);
    fs::remove_file(f.public.join("tile/entries/000")).expect("remove");
    let error = open(&f).err().expect("must refuse");
    assert_eq!(
        error.to_string(),
        "tile/entries/000 is missing: the checkpoint covers 300 entries"
    );
}

#[test]
fn open_refuses_a_checkpoint_for_another_origin() {
    let f = fixture();
    write_log(&f, 3);
    let error = LogWriter::open(
        DirStore::new(&f.public).expect("store"),
        &f.journal,
        "log.pacta.example/other",
        NoteSigner::ed25519("log.pacta.example/test", &[9; 32]).expect("signer"),
    )
    .err()
    .expect("must refuse");
    assert!(
        error
            .to_string()
            .contains("checkpoint origin is \"log.pacta.example/test\""),
        "{error}"
    );
}

#[test]
fn create_refuses_to_replace_an_existing_journal() {
    let f = fixture();
    write_log(&f, 3);
    fs::remove_file(f.public.join("checkpoint")).expect("remove checkpoint");
    let error = LogWriter::create(
        DirStore::new(&f.public).expect("store"),
        &f.journal,
        ORIGIN,
        signer(),
    )
    .err()
    .expect("must refuse");
    assert!(
        error
            .to_string()
            .contains("already exists; refusing to create a log over it"),
        "{error}"
    );
}
