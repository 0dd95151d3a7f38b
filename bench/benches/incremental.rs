//! The incremental engine against a batch assessment of the same reports.
//!
//! For each size n: the batch `assess` + digest of all n reports; the engine fed the same
//! reports in submission order (as a live server receives them), in batches of 1,000 with an
//! assessment as of the latest submission after each batch, then the last 1,000 one by one
//! with an assessment after every report; and the engine fed all n before its first
//! assessment. The final digests must be equal, or the run stops.
//!
//! Run: `cargo bench -p pacta-bench --bench incremental` (a plain harness: it prints a
//! Markdown table). `PACTA_BENCH_SIZES` picks the sizes (default `100000,1000000`).

use std::time::{Duration, Instant};

use pacta_bench::{agreement, reports_along_line};
use pacta_core::assess::assess;
use pacta_core::engine::Engine;
use pacta_core::entry::types::Entry;
use pacta_core::time::Timestamp;

const SEED: u64 = 2026;
const BATCH: usize = 1_000;
/// Reports inserted one by one, each followed by an assessment, at the end of a run.
const SINGLES: usize = 1_000;

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn seconds(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn digest(engine: &mut Engine, as_of: Timestamp) -> String {
    engine
        .assessment(as_of)
        .digest()
        .unwrap_or_else(|e| panic!("engine assessment does not serialise: {e}"))
}

fn run(n: usize) {
    let agreement = agreement();
    let mut entries: Vec<Entry> = reports_along_line(n, SEED)
        .into_iter()
        .map(Entry::Report)
        .collect();
    entries.sort_by(|a, b| (a.submitted_at(), a.id()).cmp(&(b.submitted_at(), b.id())));
    let last = entries.last().map_or(Timestamp(0), |e| e.submitted_at());

    let started = Instant::now();
    let batch = assess(&agreement, &entries, last);
    let expected = batch
        .digest()
        .unwrap_or_else(|e| panic!("batch assessment does not serialise: {e}"));
    let batch_time = started.elapsed();
    let (incidents, findings, obligations) = (
        batch.incidents.len(),
        batch.findings.len(),
        batch.obligations.len(),
    );
    drop(batch);

    // Batches of 1,000, then the last 1,000 one by one.
    let mut engine = Engine::new(agreement.clone());
    let split = entries.len().saturating_sub(SINGLES);
    let (bulk, singles) = entries.split_at(split);
    let mut batch_times = Vec::new();
    let started = Instant::now();
    for chunk in bulk.chunks(BATCH) {
        let t = Instant::now();
        for entry in chunk {
            engine.insert(entry.clone());
        }
        let as_of = chunk.last().map_or(last, |e| e.submitted_at());
        engine.assessment(as_of);
        batch_times.push(t.elapsed());
    }
    let batches_time = started.elapsed();
    let mut single_times = Vec::new();
    for entry in singles {
        let t = Instant::now();
        let as_of = entry.submitted_at();
        engine.insert(entry.clone());
        engine.assessment(as_of);
        single_times.push(t.elapsed());
    }
    let got = digest(&mut engine, last);
    assert_eq!(got, expected, "engine and batch digests differ at n = {n}");
    let last_batches: Vec<Duration> = batch_times.iter().rev().take(10).copied().collect();
    let last_batch_mean = last_batches.iter().sum::<Duration>() / last_batches.len().max(1) as u32;
    single_times.sort();
    let single_mean = single_times.iter().sum::<Duration>() / single_times.len().max(1) as u32;
    drop(engine);

    // Everything inserted before the first assessment: the engine as a replay.
    let started = Instant::now();
    let mut cold = Engine::new(agreement);
    cold.insert_batch(entries.iter().cloned());
    let got = digest(&mut cold, last);
    let cold_time = started.elapsed();
    assert_eq!(
        got, expected,
        "cold engine and batch digests differ at n = {n}"
    );

    println!(
        "| {n} | {incidents} | {findings} | {obligations} | {} | {} | {} | {} | {} | {} | {} | {} |",
        seconds(batch_time),
        seconds(batches_time),
        ms(batches_time / batch_times.len().max(1) as u32),
        ms(last_batch_mean),
        ms(single_mean),
        ms(percentile(&single_times, 0.5)),
        ms(percentile(&single_times, 0.99)),
        seconds(cold_time),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments of its own.
    let sizes: Vec<usize> = std::env::var("PACTA_BENCH_SIZES")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "| reports | incidents | findings | obligations | batch assess + digest (s) \
         | engine, batches of 1,000 (s) | per batch (ms) | per batch, last 10 (ms) \
         | one by one, mean (ms) | p50 (ms) | p99 (ms) | engine, all then one assessment (s) |"
    );
    println!(
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for n in sizes {
        run(n);
    }
}
