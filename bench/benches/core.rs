//! The core's hot path: corroboration of reports into incidents, then attribution and
//! adjudication against the agreement's commitments, at 10^5 and 10^6 reports; and the whole
//! assessment with its digest at 10^5.
//!
//! Run: `cargo bench -p pacta-bench --bench core`. The reports are generated once per size,
//! outside the measurement (deterministic seed). One iteration at 10^6 takes seconds, so the
//! group takes 10 samples with a short measurement time.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use pacta_bench::{agreement, reports_along_line};
use pacta_core::adjudicate::{rule, settle};
use pacta_core::assess::assess;
use pacta_core::attribute::attribute;
use pacta_core::corroborate::corroborate;
use pacta_core::entry::types::Entry;
use pacta_core::zone::ZoneIndex;

const SEED: u64 = 2026;
const SIZES: [usize; 2] = [100_000, 1_000_000];

fn core(c: &mut Criterion) {
    let agreement = agreement();
    let zones = ZoneIndex::compile(&agreement);
    // Long after the last report (250 days in at 10^6): every objection window has passed.
    let as_of = pacta_bench::START.plus(pacta_core::time::Duration::days(400));

    let mut group = c.benchmark_group("core");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20));
    for n in SIZES {
        let reports = reports_along_line(n, SEED);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::new("corroborate", n),
            &reports,
            |b, reports| {
                b.iter(|| {
                    corroborate(
                        &agreement.corroboration,
                        &agreement.monitors,
                        black_box(reports),
                    )
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("corroborate+adjudicate", n),
            &reports,
            |b, reports| {
                b.iter(|| {
                    let mut incidents = corroborate(
                        &agreement.corroboration,
                        &agreement.monitors,
                        black_box(reports),
                    );
                    for incident in &mut incidents {
                        incident.attribution = attribute(incident, &agreement.attribution, &zones);
                    }
                    let mut rulings = rule(&agreement, &zones, &incidents, as_of);
                    settle(&agreement, &mut rulings.findings, &[], &[], as_of);
                    black_box((incidents.len(), rulings.findings.len()))
                })
            },
        );
    }
    group.finish();

    // The whole assessment (responses, phases, indicators and the digest included) at 10^5.
    let mut whole = c.benchmark_group("assess");
    whole
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    let n = 100_000;
    let entries: Vec<Entry> = reports_along_line(n, SEED)
        .into_iter()
        .map(Entry::Report)
        .collect();
    whole.throughput(Throughput::Elements(n as u64));
    whole.bench_with_input(
        BenchmarkId::new("assess+digest", n),
        &entries,
        |b, entries| b.iter(|| assess(&agreement, black_box(entries), as_of).digest().ok()),
    );
    whole.finish();
}

criterion_group!(benches, core);
criterion_main!(benches);
