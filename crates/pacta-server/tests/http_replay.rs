//! Incremental = replay: after a seeded random sequence of 10,000 submissions over HTTP,
//! `replay` recomputes from the log the digest the live server recorded.

mod common;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn replay_of_the_log_matches_the_live_server_after_10000_random_submissions() {
    let dir = tempfile::tempdir().unwrap();
    let data = create_data(dir.path());
    let server = TestServer::start(data.clone(), at("2026-03-10T00:00:00Z"));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let monitors = ["m1", "m3"];
    let mut sent: Vec<String> = Vec::new();
    let start = at("2026-03-02T00:00:00Z").0;
    for batch in 0..10 {
        let mut lines = Vec::with_capacity(1000);
        for n in 0..1000 {
            // One in twenty resubmits an earlier line: idempotent, never a second entry.
            if !sent.is_empty() && rng.random_range(0..20) == 0 {
                let again = sent[rng.random_range(0..sent.len())].clone();
                lines.push(again);
                continue;
            }
            let monitor = monitors[rng.random_range(0..monitors.len())];
            let t = pacta_core::time::Timestamp(start + rng.random_range(0..7 * 86_400));
            let point = [
                37.3 + rng.random_range(0.0..0.4),
                47.9 + rng.random_range(0.0..0.2),
            ];
            let entry = report(&format!("rr-{batch}-{n}"), monitor, &t.to_rfc3339(), point);
            let line = signed(&entry, monitor);
            sent.push(line.clone());
            lines.push(line);
        }
        let response = server.post("/v1/reports", "application/x-ndjson", &lines.join("\n"));
        assert_eq!(response.status, 200, "{}", response.body);
        assert_eq!(response.json()["rejected"], 0);
    }
    let live = server.state.assessment().unwrap().digest().unwrap();
    // A graceful stop appends the digest of the assessment as of the clock.
    server.stop();
    let replay = pacta_server::replay::replay(&data).unwrap();
    assert_eq!(replay.recorded, live);
    assert_eq!(replay.replayed, replay.recorded);
}
