//! Crash safety of `pacta log append`: a real child process appending and integrating is
//! killed with SIGKILL at several points; after each kill the log reopens consistently,
//! holds every acknowledged entry in order, and its new checkpoint extends the old one.

mod log_common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use pacta_log::tiles::{decode_bundle, tile_path, tiles_for_size, TileKind};
use pacta_log::{verify_log, Checkpoint, DirStore, NoteVerifier};

const ORIGIN: &str = "log.pacta.example/crash-test";

fn entry(index: u64) -> String {
    format!("entry-{index:08}")
}

/// Runs `pacta log append --lines --checkpoint` fed with entries from `first` on, kills it
/// with SIGKILL `delay` after its first acknowledgement (so the kill lands while batches are
/// being appended and integrated), and returns the end of the last acknowledged batch.
fn append_until_killed(log: &str, key: &str, first: u64, delay: Duration) -> u64 {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .args([
            "log",
            "append",
            log,
            "--key",
            key,
            "--lines",
            "--batch",
            "64",
            "--checkpoint",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn pacta log append");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        // Bounded: at most a million entries, stopping at the first write error (the pipe
        // breaks when the child dies).
        for index in first..first + 1_000_000 {
            if writeln!(stdin, "{}", entry(index)).is_err() {
                return;
            }
        }
    });
    let stdout = child.stdout.take().expect("stdout");
    let (acks, received) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(range) = line.strip_prefix("appended ") {
                let end = range.split("..").nth(1).and_then(|e| e.parse::<u64>().ok());
                if let Some(end) = end {
                    let _ = acks.send(end);
                }
            }
        }
    });
    let first_ack = received
        .recv_timeout(Duration::from_secs(30))
        .expect("the child acknowledges a batch within 30 s");
    std::thread::sleep(delay);
    child.kill().expect("SIGKILL the child");
    child.wait().expect("reap the child");
    feeder.join().expect("feeder thread");
    reader.join().expect("reader thread");
    received
        .try_iter()
        .max()
        .unwrap_or(first_ack)
        .max(first_ack)
}

fn read_checkpoint(public: &Path) -> String {
    std::fs::read_to_string(public.join("checkpoint")).expect("checkpoint")
}

fn entries_in_order(public: &Path, size: u64) {
    let store = DirStore::new(public).expect("store");
    let mut index = 0;
    for (bundle, width) in tiles_for_size(0, size) {
        let path = tile_path(TileKind::Entries, bundle, width);
        let bytes = pacta_log::TileSource::fetch(&store, &path)
            .expect("read bundle")
            .expect("bundle present");
        for found in decode_bundle(&bytes).expect("bundle decodes") {
            assert_eq!(found, entry(index).as_bytes(), "entry {index} in {path}");
            index += 1;
        }
    }
    assert_eq!(index, size);
}

#[test]
fn sigkill_during_append_and_integration_loses_no_acknowledged_entry_and_never_forks() {
    let f = log_common::initialised_log(ORIGIN);
    let (log, key, public) = (&f.log, &f.key, f.public());
    let vkey = f
        .init_stdout
        .lines()
        .find_map(|l| l.strip_prefix("verifier key: "))
        .expect("init prints the verifier key");
    let trusted = [NoteVerifier::parse(vkey).expect("verifier key")];

    let mut size = 0;
    let mut previous = Checkpoint::parse(
        &pacta_log::note::Note::parse(read_checkpoint(&public).as_bytes())
            .expect("note")
            .text,
    )
    .expect("checkpoint");
    for (round, delay_ms) in [0u64, 3, 17, 45, 120, 1, 9, 30].into_iter().enumerate() {
        let acknowledged = append_until_killed(log, key, size, Duration::from_millis(delay_ms));

        // Restart: opening must succeed (stored state consistent) and integrate the rest.
        let restart = f.run("checkpoint", &[]);
        assert!(
            restart.status.success(),
            "round {round}: restart refused: {}",
            String::from_utf8_lossy(&restart.stderr)
        );
        let verified = verify_log(
            &DirStore::new(&public).expect("store"),
            &trusted,
            Some(ORIGIN),
        )
        .unwrap_or_else(|e| panic!("round {round}: log does not verify: {e}"));
        let checkpoint = verified.checkpoint().clone();
        assert!(
            checkpoint.size >= acknowledged,
            "round {round}: {acknowledged} entries acknowledged but only {} in the log",
            checkpoint.size
        );
        assert!(checkpoint.size >= size, "round {round}: the log shrank");
        entries_in_order(&public, checkpoint.size);

        // No fork: the new tree at the old size has the old signed root.
        let proof = verified
            .consistency_proof(previous.size)
            .expect("consistency proof");
        assert_eq!(
            proof.old_root, previous.root,
            "round {round}: fork at size {}",
            previous.size
        );
        proof
            .verify(&trusted, Some(ORIGIN))
            .unwrap_or_else(|e| panic!("round {round}: {e}"));

        eprintln!(
            "round {round}: acknowledged {acknowledged}, log size {}",
            checkpoint.size
        );
        size = checkpoint.size;
        previous = checkpoint;
    }
    assert!(size > 0, "the child never got to append anything");
}
