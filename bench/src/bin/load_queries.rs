//! Read-path load benchmark: latency of `GET /v1/incidents` (a bbox and a time window,
//! `limit=100`) with 10^6 reports stored, under concurrent clients over loopback.
//!
//! The store is loaded DIRECTLY, bypassing ingest and its signature checks: the reports of
//! `pacta_bench::reports_along_line` are assessed by `pacta_core::assess` on the benchmark
//! agreement, and their entries and the derived incidents, findings and obligations are
//! written to a fresh SQLite store (timed, as the store's bulk-write figure). A server is then
//! assembled on that store (the real router and read API, no checkpoint task, so nothing
//! rewrites the loaded rows) on 127.0.0.1, and closed-loop clients (each a thread with its
//! own keep-alive `ureq` agent) send requests whose bbox is centred on a random stored
//! incident.
//!
//! By default the clients are closed-loop: each sends its next request as soon as the last is
//! answered, so the latencies are those of a saturated server (queueing included). With
//! `--rate R` they are open-loop instead, as wrk2 or `oha -q` run: together they send R
//! requests per second on a fixed schedule, and each latency is counted from the moment its
//! request was due, so a server that falls behind is charged for the wait (no coordinated
//! omission).
//!
//! Usage: `load_queries [--reports N] [--clients N] [--requests N] [--rate R] [--dir DIR]
//! [--keep]` (defaults 1000000, 16, 2000 per client and shape, closed-loop,
//! `$PACTA_BENCH_DIR` or the system temporary directory).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use pacta_core::assess::assess;
use pacta_core::entry::canonical_bytes;
use pacta_core::entry::types::Report;
use pacta_core::time::Timestamp;
use pacta_server::config::SEQUENCER_QUEUE_DEPTH;
use pacta_server::metrics::Metrics;
use pacta_server::sequencer::{Ledger, Sequencer};
use pacta_server::state::{AppState, Parts};
use pacta_server::{Config, DataDir, FakeClock};
use pacta_store::{BBox, DerivedRows, EntryRecord, IncidentQuery, ReportFacts, SqliteStore, Store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

// The server's allocator and its setting, as `pacta serve` runs them.
#[global_allocator]
static ALLOCATOR: pacta_alloc::MiMalloc = pacta_alloc::MiMalloc;

/// Command-line options.
struct Options {
    reports: usize,
    clients: usize,
    requests: usize,
    /// Requests per second all clients send together, on a schedule; 0 for closed-loop.
    rate: usize,
    dir: PathBuf,
    /// Keep the data directory (its path is printed), to inspect the store afterwards.
    keep: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        reports: 1_000_000,
        clients: 16,
        requests: 2_000,
        rate: 0,
        dir: std::env::var_os("PACTA_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir),
        keep: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--keep" {
            o.keep = true;
            continue;
        }
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--reports" => o.reports = number()?,
            "--clients" => o.clients = number()?.max(1),
            "--requests" => o.requests = number()?.max(1),
            "--rate" => o.rate = number()?,
            "--dir" => o.dir = PathBuf::from(&value),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

fn entry_record(log_index: u64, report: &Report) -> Result<EntryRecord, String> {
    let Value::Object(object) = serde_json::to_value(report).map_err(|e| e.to_string())? else {
        return Err("a report is not a JSON object".into());
    };
    let canonical = canonical_bytes(&object).map_err(|e| e.to_string())?;
    Ok(EntryRecord {
        log_index,
        id: Some(report.id.clone()),
        schema: report.schema.clone(),
        signer: Some(pacta_store::Signer {
            role: "monitor".into(),
            id: report.monitor.clone(),
        }),
        submitted_at: Some(report.submitted_at),
        body_sha256: EntryRecord::hash_body(&canonical),
        canonical,
        report: Some(ReportFacts::from_report(report).map_err(|e| e.to_string())?),
    })
}

/// Generates, assesses and stores the reports; returns the store and the derived rows.
fn load(
    options: &Options,
    store_path: &std::path::Path,
) -> Result<(SqliteStore, DerivedRows), String> {
    let started = Instant::now();
    let reports = pacta_bench::reports_along_line(options.reports, 1);
    let as_of = reports
        .iter()
        .map(|r| r.submitted_at)
        .max()
        .unwrap_or(pacta_bench::START);
    println!(
        "generated {} reports in {:.1} s",
        reports.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let entries: Vec<_> = reports
        .into_iter()
        .map(pacta_core::entry::types::Entry::Report)
        .collect();
    let assessment = assess(&pacta_bench::agreement(), &entries, as_of);
    let rows = DerivedRows::from_assessment(&assessment).map_err(|e| e.to_string())?;
    println!(
        "assessed: {} incidents, {} findings, {} obligations in {:.1} s",
        rows.incidents.len(),
        rows.findings.len(),
        rows.obligations.len(),
        started.elapsed().as_secs_f64()
    );

    let records = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            pacta_core::entry::types::Entry::Report(r) => Some(entry_record(i as u64 + 1, r)),
            _ => None,
        })
        .collect::<Result<Vec<_>, _>>()?;
    drop(entries);

    let store = SqliteStore::open(store_path).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut tx = store.begin().map_err(|e| e.to_string())?;
    tx.append_entries(&records).map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "stored {} entries (with report facts) in one transaction: {:.1} s, {:.0} entries/s",
        records.len(),
        seconds,
        records.len() as f64 / seconds
    );
    drop(records);

    let started = Instant::now();
    let counts = store.replace_derived(&rows).map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "replace_derived on an empty store: {} rows in {:.1} s, {:.0} rows/s",
        counts.upserted,
        seconds,
        counts.upserted as f64 / seconds
    );
    let started = Instant::now();
    let counts = store.replace_derived(&rows).map_err(|e| e.to_string())?;
    println!(
        "replace_derived again, nothing changed: {} writes, {:.2} s (reads every fingerprint)",
        counts.upserted + counts.deleted,
        started.elapsed().as_secs_f64()
    );
    Ok((store, rows))
}

/// One kind of query: a bbox of `half_deg` around a stored incident and a window of
/// `window` after a time half a window before it.
struct Shape {
    name: &'static str,
    half_deg: f64,
    window_seconds: i64,
}

/// The queries of one client for one shape.
fn queries(rows: &DerivedRows, shape: &Shape, n: usize, seed: u64) -> Vec<IncidentQuery> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .filter_map(|_| {
            let i = rng.random_range(0..rows.incidents.len().max(1));
            let centre = rows.incidents.get(i)?;
            let from = Timestamp(centre.start.0 - shape.window_seconds / 2);
            Some(IncidentQuery {
                bbox: Some(BBox {
                    min_lon: centre.lon - shape.half_deg,
                    min_lat: centre.lat - shape.half_deg,
                    max_lon: centre.lon + shape.half_deg,
                    max_lat: centre.lat + shape.half_deg,
                }),
                from: Some(from),
                to: Some(Timestamp(from.0 + shape.window_seconds)),
                limit: 100,
                ..IncidentQuery::default()
            })
        })
        .collect()
}

/// The request path of a query.
fn path(q: &IncidentQuery) -> String {
    let (b, from, to) = match (q.bbox, q.from, q.to) {
        (Some(b), Some(from), Some(to)) => (b, from, to),
        _ => return format!("/v1/incidents?limit={}", q.limit),
    };
    format!(
        "/v1/incidents?bbox={:.6},{:.6},{:.6},{:.6}&from={from}&to={to}&limit={}",
        b.min_lon, b.min_lat, b.max_lon, b.max_lat, q.limit
    )
}

/// What one client measured.
struct Measured {
    latencies: Vec<Duration>,
    items: usize,
    parsed: usize,
    bytes: usize,
    failures: usize,
}

/// Every this many answers a client parses the JSON to count items; parsing every 100 KB
/// answer would spend the two cores on the client rather than the server.
const PARSE_EVERY: usize = 16;

/// When an open-loop client's requests are due: the first at `first`, then one every
/// `every`.
#[derive(Clone, Copy)]
struct Schedule {
    first: Instant,
    every: Duration,
}

fn client(base: &str, queries: &[IncidentQuery], schedule: Option<Schedule>) -> Measured {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let mut m = Measured {
        latencies: Vec::with_capacity(queries.len()),
        items: 0,
        parsed: 0,
        bytes: 0,
        failures: 0,
    };
    for (n, query) in queries.iter().enumerate() {
        let url = format!("{base}{}", path(query));
        let started = match schedule {
            Some(Schedule { first, every }) => {
                let due = first + every * n as u32;
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                due
            }
            None => Instant::now(),
        };
        let body = agent
            .get(url)
            .call()
            .ok()
            .filter(|r| r.status().is_success())
            .and_then(|mut r| r.body_mut().read_to_vec().ok());
        m.latencies.push(started.elapsed());
        m.bytes += body.as_ref().map_or(0, Vec::len);
        match body {
            Some(bytes) if n % PARSE_EVERY == 0 => match serde_json::from_slice::<Value>(&bytes) {
                Ok(page) => {
                    m.parsed += 1;
                    m.items += page["items"].as_array().map_or(0, Vec::len);
                }
                Err(_) => m.failures += 1,
            },
            Some(_) => {}
            None => m.failures += 1,
        }
    }
    m
}

fn percentile(sorted: &[Duration], p: usize) -> f64 {
    let i = (sorted.len() * p / 100).min(sorted.len().saturating_sub(1));
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn summary(latencies: &mut [Duration]) -> String {
    latencies.sort();
    format!(
        "p50 {:.2} p90 {:.2} p99 {:.2} max {:.2}",
        percentile(latencies, 50),
        percentile(latencies, 90),
        percentile(latencies, 99),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    )
}

/// The same queries straight on the store, one thread: the store's share of the latency.
fn run_store(store: &dyn Store, rows: &DerivedRows, shape: &Shape, options: &Options) {
    let qs = queries(rows, shape, options.requests, 7);
    let mut latencies = Vec::with_capacity(qs.len());
    let mut items = 0;
    for q in &qs {
        let started = Instant::now();
        if let Ok(page) = store.incidents(q) {
            items += page.items.len();
        }
        latencies.push(started.elapsed());
    }
    println!(
        "{} (store, in process, 1 thread): {} queries; latency ms {}; {:.1} items per answer",
        shape.name,
        qs.len(),
        summary(&mut latencies),
        items as f64 / qs.len().max(1) as f64
    );
}

fn run_shape(base: &str, rows: &DerivedRows, shape: &Shape, options: &Options) {
    // Warm-up: a quarter of a client's requests from every client, not measured.
    let warm = queries(rows, shape, options.requests / 4, 99);
    std::thread::scope(|s| {
        for _ in 0..options.clients {
            s.spawn(|| client(base, &warm, None));
        }
    });
    let started = Instant::now();
    // Open-loop: each client sends rate/clients requests a second, the clients staggered
    // evenly so that the requests are due at an even pace overall.
    let every = (options.rate > 0)
        .then(|| Duration::from_secs_f64(options.clients as f64 / options.rate as f64));
    let results: Vec<Measured> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..options.clients)
            .map(|c| {
                let p = queries(rows, shape, options.requests, 1_000 + c as u64);
                let schedule = every.map(|every| Schedule {
                    first: started + every.mul_f64(c as f64 / options.clients as f64),
                    every,
                });
                s.spawn(move || client(base, &p, schedule))
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = results.iter().flat_map(|m| m.latencies.clone()).collect();
    let items: usize = results.iter().map(|m| m.items).sum();
    let failures: usize = results.iter().map(|m| m.failures).sum();
    let parsed: usize = results.iter().map(|m| m.parsed).sum();
    let bytes: usize = results.iter().map(|m| m.bytes).sum();
    let mode = match options.rate {
        0 => "closed-loop".to_owned(),
        rate => format!("open-loop at {rate} req/s offered"),
    };
    println!(
        "{} (HTTP): {} requests, {} clients {mode}, {:.0} req/s; latency ms {}; {:.1} items \
         per parsed answer; {:.0} bytes per answer; {} failures",
        shape.name,
        latencies.len(),
        options.clients,
        latencies.len() as f64 / seconds,
        summary(&mut latencies),
        items as f64 / parsed.max(1) as f64,
        bytes as f64 / latencies.len().max(1) as f64,
        failures
    );
}

fn main() -> Result<(), String> {
    pacta_alloc::configure_memory();
    let options = options()?;
    let dir = tempfile::Builder::new()
        .prefix("pacta-load-queries")
        .tempdir_in(&options.dir)
        .map_err(|e| format!("temporary directory in {}: {e}", options.dir.display()))?;
    let data = DataDir::create(
        &dir.path().join("data"),
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/demo"),
    )
    .map_err(|e| e.to_string())?;
    let (store, rows) = load(&options, &data.store_path())?;
    let store: Arc<dyn Store> = Arc::new(store);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let log = Arc::new(Mutex::new(data.open_log().map_err(|e| e.to_string())?));
    let ledger = Arc::new(RwLock::new(Ledger::new(pacta_bench::agreement(), 1)));
    let base = runtime.block_on(async {
        let (sequencer, _thread) = Sequencer::start(
            log.clone(),
            ledger.clone(),
            SEQUENCER_QUEUE_DEPTH,
            Box::new(|_| {}),
        );
        let state = AppState::new(Parts {
            agreement: Arc::new(pacta_bench::agreement()),
            clock: Arc::new(FakeClock::new(pacta_bench::START)),
            config: Config::default(),
            public_dir: data.public_dir(),
            log,
            ledger,
            sequencer,
            metrics: Metrics::default(),
            store: store.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let app = pacta_server::router(state).map_err(|e| e.to_string())?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok::<_, String>(format!("http://{addr}"))
    })?;

    for shape in [
        Shape {
            name: "bbox 0.5 x 0.5 deg, 1 day",
            half_deg: 0.25,
            window_seconds: 86_400,
        },
        Shape {
            name: "bbox 0.1 x 0.1 deg, 7 days",
            half_deg: 0.05,
            window_seconds: 7 * 86_400,
        },
        Shape {
            name: "bbox 2 x 2 deg, 30 days",
            half_deg: 1.0,
            window_seconds: 30 * 86_400,
        },
    ] {
        run_store(store.as_ref(), &rows, &shape, &options);
        run_shape(&base, &rows, &shape, &options);
    }
    runtime.shutdown_timeout(Duration::from_secs(1));
    if options.keep {
        println!("kept {}", dir.keep().display());
    }
    Ok(())
}
