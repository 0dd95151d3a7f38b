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

fn store(f: &Fixture) -> DirStore {
    DirStore::new(&f.public).expect("store")
}

fn create(f: &Fixture) -> LogWriter<DirStore> {
    LogWriter::create(store(f), &f.journal, ORIGIN, signer()).expect("create")
}

fn open(f: &Fixture) -> Result<LogWriter<DirStore>, Error> {
    LogWriter::open(store(f), &f.journal, ORIGIN, signer())
}

/// The message with which opening the log is refused.
fn open_error(f: &Fixture) -> String {
    open(f).err().expect("must refuse").to_string()
}

fn assert_contains(message: &str, part: &str) {
    assert!(
        message.contains(part),
        "{message:?} does not contain {part:?}"
    );
}

/// Verifies the published log as a third party would.
fn verify_published(f: &Fixture) -> pacta_log::VerifiedLog {
    verify_log(&store(f), &[signer().verifier()], Some(ORIGIN)).expect("the published log verifies")
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
    let verified = verify_published(&f);
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
    verify_published(&f);
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
    verify_published(&f);
}

#[test]
fn open_refuses_when_an_entry_disagrees_with_the_checkpoint() {
    let f = fixture();
    write_log(&f, 20);
    flip_byte(&f.public.join("tile/entries/000.p/20"), 5);
    assert_contains(&open_error(&f), "but the last checkpoint signs");
}

#[test]
fn open_refuses_when_a_tile_disagrees_with_the_entries() {
    let f = fixture();
    write_log(&f, 20);
    flip_byte(&f.public.join("tile/0/000.p/20"), 40);
    let error = open_error(&f);
    assert!(error.starts_with("tile/0/000.p/20: hash 1"), "{error}");
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
    assert_contains(&open_error(&f), "entry 0 has leaf hash");
}

#[test]
fn open_refuses_a_checkpoint_signed_by_another_key() {
    let f = fixture();
    write_log(&f, 3);
    let other = NoteSigner::ed25519(ORIGIN, &[8; 32]).expect("signer");
    let error = LogWriter::open(store(&f), &f.journal, ORIGIN, other)
        .err()
        .expect("must refuse");
    assert_contains(&error.to_string(), "no signature by a known key");
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

/// Byte offset of journal record `index` when every entry is `entry N` with N < 10:
/// a 16-byte header, then 4 + 32 + 7 bytes per record.
fn journal_record_offset(index: usize) -> usize {
    16 + index * (4 + 32 + 7)
}

/// A log with five appended, unintegrated entries whose journal got `alter`ed.
fn appended_journal_altered(f: &Fixture, alter: impl FnOnce(&mut Vec<u8>)) {
    create(f).append(&entries(0..5)).expect("append");
    let mut journal = fs::read(&f.journal).expect("journal");
    alter(&mut journal);
    fs::write(&f.journal, journal).expect("write");
}

#[test]
fn a_last_record_cut_short_by_a_crash_is_cut_off() {
    let f = fixture();
    appended_journal_altered(&f, |journal| {
        journal.truncate(journal_record_offset(4) + 20)
    });
    let log = open(&f).expect("open");
    assert_eq!(log.discarded_journal_bytes(), 20);
    assert_eq!(log.pending(), 4);
}

#[test]
fn a_last_record_with_a_wrong_hash_is_cut_off() {
    let f = fixture();
    appended_journal_altered(&f, |journal| {
        let last = journal.len() - 1;
        journal[last] ^= 1;
    });
    let log = open(&f).expect("open");
    assert_eq!(log.discarded_journal_bytes(), 43);
    assert_eq!(log.pending(), 4);
}

#[test]
fn a_zero_filled_tail_is_cut_off() {
    let f = fixture();
    appended_journal_altered(&f, |journal| journal.extend_from_slice(&[0; 500]));
    let log = open(&f).expect("open");
    assert_eq!(log.discarded_journal_bytes(), 500);
    assert_eq!(log.pending(), 5);
}

#[test]
fn a_bad_record_followed_by_more_records_is_refused_with_its_offset() {
    let f = fixture();
    let offset = journal_record_offset(2);
    appended_journal_altered(&f, |journal| journal[offset + 40] ^= 1);
    let error = open_error(&f);
    assert_contains(&error, &f.journal.display().to_string());
    assert_contains(&error, &format!("at byte offset {offset}"));
    assert_contains(&error, "record 2");
}

#[test]
fn a_corrupt_record_is_left_in_the_journal_for_inspection() {
    let f = fixture();
    appended_journal_altered(&f, |journal| journal[journal_record_offset(1) + 40] ^= 1);
    let before = fs::read(&f.journal).expect("journal");
    open_error(&f);
    assert_eq!(fs::read(&f.journal).expect("journal"), before);
}

#[test]
fn a_record_length_above_the_entry_limit_is_refused_even_at_the_end() {
    let f = fixture();
    appended_journal_altered(&f, |journal| {
        journal.extend_from_slice(&[0, 1, 0, 0]);
        journal.extend_from_slice(&[0; 100]);
    });
    assert_contains(
        &open_error(&f),
        "record length 65536 exceeds the maximum entry size 65535",
    );
}

#[test]
fn a_second_writer_on_the_same_log_is_refused_naming_the_lock_file() {
    let f = fixture();
    let _first = create(&f);
    let error = open_error(&f);
    assert_contains(&error, &format!("{}.lock", f.journal.display()));
    assert_contains(&error, "locked by another writer");
}

#[test]
fn the_lock_is_released_when_the_writer_is_dropped() {
    let f = fixture();
    drop(create(&f));
    open(&f).expect("a later writer opens the log");
}

#[test]
fn a_second_create_on_a_locked_log_is_refused() {
    let f = fixture();
    let _first = create(&f);
    let error = LogWriter::create(store(&f), &f.journal, ORIGIN, signer())
        .err()
        .expect("must refuse");
    assert!(matches!(error, Error::Locked { .. }), "{error}");
}

#[test]
fn a_writer_whose_integration_failed_refuses_to_go_on() {
    let f = fixture();
    let mut log = create(&f);
    log.append(&entries(0..3)).expect("append");
    // A file where the bundle directory must go makes the integration fail.
    fs::write(f.public.join("tile"), b"in the way").expect("write");
    log.integrate().expect_err("the bundle cannot be written");
    let error = log.append(&entries(3..4)).expect_err("must refuse");
    assert_contains(
        &error.to_string(),
        "this writer stopped because an integration failed",
    );
}

#[test]
fn a_reopened_writer_recovers_what_a_failed_integration_left() {
    let f = fixture();
    let mut log = create(&f);
    log.append(&entries(0..3)).expect("append");
    fs::write(f.public.join("tile"), b"in the way").expect("write");
    log.integrate().expect_err("the bundle cannot be written");
    drop(log);
    fs::remove_file(f.public.join("tile")).expect("remove");
    assert_eq!(
        open(&f)
            .expect("reopen")
            .integrate()
            .expect("integrate")
            .size,
        3
    );
    verify_published(&f);
}

#[test]
fn open_refuses_a_journal_that_ends_before_the_checkpoint() {
    let f = fixture();
    write_log(&f, 8);
    let journal = fs::read(&f.journal).expect("journal");
    fs::write(&f.journal, &journal[..journal_record_offset(5)]).expect("write");
    assert_contains(
        &open_error(&f),
        "ends at entry 5, but the checkpoint covers 8 entries",
    );
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
fn a_consistency_proof_from_beyond_the_log_names_both_sizes() {
    let f = fixture();
    write_log(&f, 20);
    let error = open(&f)
        .expect("open")
        .consistency_proof(30)
        .expect_err("30 > 20");
    assert_eq!(
        error.to_string(),
        "tree size 30 is beyond the 20 entries held"
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
    verify_published(&f);
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
    assert_eq!(
        open_error(&f),
        "tile/entries/000 is missing: the checkpoint covers 300 entries"
    );
}

#[test]
fn open_refuses_a_checkpoint_for_another_origin() {
    let f = fixture();
    write_log(&f, 3);
    let error = LogWriter::open(
        store(&f),
        &f.journal,
        "log.pacta.example/other",
        NoteSigner::ed25519("log.pacta.example/test", &[9; 32]).expect("signer"),
    )
    .err()
    .expect("must refuse");
    assert_contains(
        &error.to_string(),
        "checkpoint origin is \"log.pacta.example/test\"",
    );
}

#[test]
fn create_refuses_to_replace_an_existing_journal() {
    let f = fixture();
    write_log(&f, 3);
    fs::remove_file(f.public.join("checkpoint")).expect("remove checkpoint");
    let error = LogWriter::create(store(&f), &f.journal, ORIGIN, signer())
        .err()
        .expect("must refuse");
    assert_contains(
        &error.to_string(),
        "already exists; refusing to create a log over it",
    );
}
