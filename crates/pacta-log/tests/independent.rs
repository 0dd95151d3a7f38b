//! A 70,000-entry log checked by implementations we did not write: the `signed_note` and
//! `tlog_tiles` crates (Cloudflare's ports of Go's `golang.org/x/mod/sumdb/note` and
//! `tlog`). They read our files directly: the signed checkpoint, the tiles and the bundles.

use std::path::{Path, PathBuf};

use pacta_log::{DirStore, LogWriter, NoteSigner};
use signed_note::{Note, StandardVerifier, VerifierList};
use tlog_tiles::{
    check_record, check_tree, prove_record, prove_tree, record_hash, tree_hash, Checkpoint, Hash,
    Tile, TileHashReader, TileReader,
};

const ORIGIN: &str = "log.pacta.example/independent";
const SIZE: u64 = 70_000;
const OLD_SIZE: u64 = 40_000;
const BATCH: u64 = 10_000;

/// Reads our tiles for `tlog_tiles`, whose paths carry the height (`tile/8/L/N`) where
/// C2SP tlog-tiles paths leave it out (`tile/L/N`).
struct OurTiles {
    root: PathBuf,
}

impl TileReader for OurTiles {
    fn height(&self) -> u8 {
        8
    }

    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|tile| {
                let path = tile.path();
                let relative = path
                    .strip_prefix("tile/8/")
                    .ok_or(tlog_tiles::Error::InvalidTile)?;
                std::fs::read(self.root.join("tile").join(relative))
                    .map_err(|_| tlog_tiles::Error::InvalidTile)
            })
            .collect()
    }

    fn save_tiles(&self, _tiles: &[Tile], _data: &[Vec<u8>]) {}
}

struct Log {
    _dir: tempfile::TempDir,
    public: PathBuf,
    vkey: String,
    old_checkpoint: Vec<u8>,
}

fn entry(index: u64) -> Vec<u8> {
    format!("pacta entry {index}: {}", "x".repeat((index % 97) as usize)).into_bytes()
}

/// Builds the log in batches of 10,000 (one fsync and one checkpoint each), keeping the
/// signed checkpoint at 40,000 entries.
fn build_log() -> Log {
    let dir = tempfile::tempdir().expect("temp dir");
    let public = dir.path().join("public");
    let signer = NoteSigner::ed25519(ORIGIN, &[42; 32]).expect("signer");
    let vkey = signer.verifier().to_string();
    let mut log = LogWriter::create(
        DirStore::new(&public).expect("store"),
        &dir.path().join("journal"),
        ORIGIN,
        signer,
    )
    .expect("create");
    let mut old_checkpoint = Vec::new();
    for start in (0..SIZE).step_by(BATCH as usize) {
        let batch: Vec<Vec<u8>> = (start..start + BATCH).map(entry).collect();
        log.append(&batch).expect("append");
        log.integrate().expect("integrate");
        if log.checkpoint().size == OLD_SIZE {
            old_checkpoint = log.signed_checkpoint().as_bytes().to_vec();
        }
    }
    Log {
        _dir: dir,
        public,
        vkey,
        old_checkpoint,
    }
}

/// Opens a signed checkpoint with `signed_note` and parses it with `tlog_tiles`.
fn open_checkpoint(note: &[u8], vkey: &str) -> Checkpoint {
    let verifier = StandardVerifier::new(vkey).expect("signed_note accepts our verifier key");
    let note = Note::from_bytes(note).expect("signed_note parses our checkpoint");
    let (verified, _) = note
        .verify(&VerifierList::new(vec![Box::new(verifier)]))
        .expect("signed_note verifies our signature");
    assert_eq!(verified.len(), 1);
    Checkpoint::from_bytes(note.text()).expect("tlog_tiles parses our checkpoint")
}

/// Entries of one of our bundles, decoded here independently of pacta-log.
fn bundle_entries(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).expect("bundle");
    let mut entries = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        let length = usize::from(u16::from_be_bytes([bytes[offset], bytes[offset + 1]]));
        entries.push(bytes[offset + 2..offset + 2 + length].to_vec());
        offset += 2 + length;
    }
    entries
}

#[test]
fn a_70000_entry_log_verifies_with_signed_note_and_tlog_tiles() {
    let log = build_log();
    let checkpoint_note = std::fs::read(log.public.join("checkpoint")).expect("checkpoint");
    let checkpoint = open_checkpoint(&checkpoint_note, &log.vkey);
    assert_eq!(checkpoint.origin(), ORIGIN);
    assert_eq!(checkpoint.size(), SIZE);
    let old = open_checkpoint(&log.old_checkpoint, &log.vkey);
    assert_eq!(old.size(), OLD_SIZE);

    // tlog_tiles authenticates the tiles it reads against the checkpoint root.
    let tiles = OurTiles {
        root: log.public.clone(),
    };
    let reader = TileHashReader::new(SIZE, *checkpoint.hash(), &tiles);
    assert_eq!(
        tree_hash(SIZE, &reader).expect("tree hash"),
        *checkpoint.hash()
    );

    // Tile contents: every tile we stored equals the tile tlog_tiles derives.
    let mut compared = 0;
    for level in 0u8..3 {
        let count = SIZE >> (8 * u32::from(level));
        for index in 0..count.div_ceil(256) {
            let width = (count - index * 256).min(256) as u32;
            let tile = Tile::new(8, level, index, width, false);
            let theirs = tile.read_data(&reader).expect("tlog_tiles reads the tile");
            let ours = tiles.read_tiles(&[tile]).expect("our tile")[0].clone();
            assert_eq!(theirs, ours, "{}", tile.path());
            compared += 1;
        }
    }
    assert_eq!(compared, 274 + 2 + 1);

    // Every entry in our bundles hashes (per tlog_tiles) to the leaf in our level-0 tiles.
    for index in 0..SIZE.div_ceil(256) {
        let width = (SIZE - index * 256).min(256);
        let name = if width == 256 {
            format!("{index:03}")
        } else {
            format!("{index:03}.p/{width}")
        };
        let entries = bundle_entries(&log.public.join("tile/entries").join(&name));
        let leaves = std::fs::read(log.public.join("tile/0").join(&name)).expect("tile");
        assert_eq!(entries.len() as u64, width, "tile/entries/{name}");
        for (offset, entry) in entries.iter().enumerate() {
            assert_eq!(entry, &crate::entry(index * 256 + offset as u64));
            assert_eq!(
                record_hash(entry).0,
                leaves[offset * 32..offset * 32 + 32],
                "entry {offset} of {name}"
            );
        }
    }

    // Inclusion proofs made by tlog_tiles from our tiles check against our checkpoint.
    for index in [0, 1, 255, 256, 4_097, 39_999, 65_535, 65_536, 69_999] {
        let proof = prove_record(SIZE, index, &reader).expect("prove_record");
        check_record(
            &proof,
            SIZE,
            *checkpoint.hash(),
            index,
            record_hash(&entry(index)),
        )
        .unwrap_or_else(|e| panic!("inclusion of {index}: {e}"));
    }

    // Consistency between the signed checkpoints at 40,000 and 70,000 entries.
    let proof = prove_tree(SIZE, OLD_SIZE, &reader).expect("prove_tree");
    check_tree(&proof, SIZE, *checkpoint.hash(), OLD_SIZE, *old.hash()).expect("consistent");
}

#[test]
fn our_proofs_verify_with_tlog_tiles() {
    let dir = tempfile::tempdir().expect("temp dir");
    let signer = NoteSigner::ed25519(ORIGIN, &[42; 32]).expect("signer");
    let vkey = signer.verifier().to_string();
    let mut log = LogWriter::create(
        DirStore::new(dir.path().join("public")).expect("store"),
        &dir.path().join("journal"),
        ORIGIN,
        signer,
    )
    .expect("create");
    log.append(&(0..3_000).map(entry).collect::<Vec<_>>())
        .expect("append");
    log.integrate().expect("integrate");
    let old_root = log.checkpoint().root;
    log.append(&(3_000..5_001).map(entry).collect::<Vec<_>>())
        .expect("append");
    log.integrate().expect("integrate");
    let checkpoint = open_checkpoint(log.signed_checkpoint().as_bytes(), &vkey);

    for index in [0, 2_999, 5_000] {
        let ours = log.inclusion_proof(index).expect("proof");
        let hashes: Vec<Hash> = ours.hashes.iter().map(|h| Hash(h.0)).collect();
        check_record(
            &hashes,
            5_001,
            *checkpoint.hash(),
            index,
            record_hash(&entry(index)),
        )
        .unwrap_or_else(|e| panic!("our inclusion proof of {index}: {e}"));
    }
    let ours = log.consistency_proof(3_000).expect("proof");
    let hashes: Vec<Hash> = ours.hashes.iter().map(|h| Hash(h.0)).collect();
    check_tree(&hashes, 5_001, *checkpoint.hash(), 3_000, Hash(old_root.0)).expect("consistent");
}
