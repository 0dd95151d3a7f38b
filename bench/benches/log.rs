//! Transparency-log benchmark: durable appends per second at batch sizes 1, 64 and 1024,
//! proof generation, and the SHA-256 bound measured in the same run.
//!
//! Run: `cargo bench -p pacta-bench --bench log` (a plain harness: it prints a Markdown
//! table). Set `PACTA_BENCH_DIR` to put the log on a particular disk (default: the system
//! temporary directory).

use std::hint::black_box;
use std::time::{Duration, Instant};

use pacta_log::{DirStore, LogWriter, NoteSigner, Tree};
use sha2::{Digest, Sha256};

/// Bytes per entry: about the size of a small signed report.
const ENTRY_BYTES: usize = 256;
/// Each measurement runs at least this long, so that one slow fsync does not dominate.
const MIN_RUN: Duration = Duration::from_secs(3);
/// Entries in the tree the proof benchmark draws from.
const PROOF_TREE_SIZE: u64 = 1_000_000;

fn entries(first: u64, count: usize) -> Vec<Vec<u8>> {
    (first..first + count as u64)
        .map(|i| {
            let mut entry = format!("entry {i} ").into_bytes();
            entry.resize(ENTRY_BYTES, b'.');
            entry
        })
        .collect()
}

/// Runs `step` (which reports how many items it did) until `MIN_RUN` has passed; returns
/// items per second.
fn rate(mut step: impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    let mut items = 0;
    while start.elapsed() < MIN_RUN {
        items += step();
    }
    items as f64 / start.elapsed().as_secs_f64()
}

fn sha256_per_second(bytes: usize) -> f64 {
    let input = vec![0x5au8; bytes];
    rate(|| {
        for _ in 0..1_000 {
            black_box(Sha256::digest(black_box(&input)));
        }
        1_000
    })
}

fn new_log(dir: &std::path::Path) -> LogWriter<DirStore> {
    let signer = NoteSigner::ed25519("bench.pacta.example/log", &[1; 32]).expect("signer");
    LogWriter::create(
        DirStore::new(dir.join("public")).expect("store"),
        &dir.join("journal"),
        "bench.pacta.example/log",
        signer,
    )
    .expect("create log")
}

/// Durable appends per second: each batch is written to the journal and synced; with
/// `integrate_every = Some(k)`, every k-th batch is also integrated into the tree, its
/// tiles and bundles written and synced, and a checkpoint signed and published.
fn appends_per_second(base: &std::path::Path, batch: usize, integrate_every: Option<u64>) -> f64 {
    let dir = tempfile::tempdir_in(base).expect("temp dir");
    let mut log = new_log(dir.path());
    let mut next = 0;
    let mut batches = 0;
    rate(|| {
        let batch_entries = entries(next, batch);
        log.append(&batch_entries).expect("append");
        batches += 1;
        if integrate_every.is_some_and(|k| batches % k == 0) {
            log.integrate().expect("integrate");
        }
        next += batch as u64;
        batch as u64
    })
}

fn main() {
    let base = std::env::var_os("PACTA_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    println!(
        "pacta-log benchmark, entries of {ENTRY_BYTES} bytes, log under {}",
        base.display()
    );

    // SHA-256 bound: per entry, one leaf hash over the entry and on average one interior
    // node hash (a tree of n leaves has n - 1 interior nodes) over 65 bytes.
    let leaf = sha256_per_second(ENTRY_BYTES + 1);
    let node = sha256_per_second(65);
    let bound = 1.0 / (1.0 / leaf + 1.0 / node);
    let megabytes = sha256_per_second(1 << 20) * (1u64 << 20) as f64 / 1e6;
    println!();
    println!("| measurement | per second |");
    println!("| --- | ---: |");
    println!("| SHA-256, 1 MiB buffers (MB/s) | {megabytes:.0} |");
    println!(
        "| SHA-256 of a {}-byte leaf input | {leaf:.0} |",
        ENTRY_BYTES + 1
    );
    println!("| SHA-256 of a 65-byte node input | {node:.0} |");
    println!("| bound: entries hashed into the tree (leaf + node) | {bound:.0} |");

    for batch in [1usize, 64, 1024] {
        let journal = appends_per_second(&base, batch, None);
        println!("| durable appends, batch {batch} (journal fsync per batch) | {journal:.0} |");
        let full = appends_per_second(&base, batch, Some(1));
        println!(
            "| durable appends + integration + signed checkpoint per batch, batch {batch} | {full:.0} |"
        );
    }
    let staged = appends_per_second(&base, 1024, Some(16));
    println!(
        "| durable appends, batch 1024, integration + checkpoint every 16 batches | {staged:.0} |"
    );

    let mut tree = Tree::new();
    for i in 0..PROOF_TREE_SIZE {
        tree.push_entry(&i.to_be_bytes());
    }
    let mut index = 0u64;
    let inclusion = rate(|| {
        for _ in 0..1_000 {
            index = (index + 7_919) % PROOF_TREE_SIZE;
            black_box(tree.inclusion_proof(index, PROOF_TREE_SIZE).expect("proof"));
        }
        1_000
    });
    println!("| inclusion proofs, tree of {PROOF_TREE_SIZE} | {inclusion:.0} |");
    let mut old = 1u64;
    let consistency = rate(|| {
        for _ in 0..1_000 {
            old = (old + 7_919) % PROOF_TREE_SIZE + 1;
            black_box(tree.consistency_proof(old, PROOF_TREE_SIZE).expect("proof"));
        }
        1_000
    });
    println!("| consistency proofs, tree of {PROOF_TREE_SIZE} | {consistency:.0} |");
}
