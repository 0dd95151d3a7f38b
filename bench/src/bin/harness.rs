//! The benchmark harness's Rust side: Pacta's stages at one size, and the physical limits of
//! ingest. `bench/run` drives it (one child process per size, so each size's peak memory is
//! its own) together with the Python peers in `bench/peers/`.
//!
//! ```text
//! harness stages --size 1000000 --dir bench/target/data   # JSON on standard output
//! harness limits                                          # JSON on standard output
//! ```
//!
//! `stages` generates `size` signed reports over the demo agreement with `pacta_sim`
//! (streamed to `<dir>/reports-<size>.ndjson`), then replays them as a verifier would: parse
//! and strictly verify every line on every core, assess (corroborate, attribute, adjudicate,
//! respond, phases, indicators) and hash the assessment. It then runs the clustering kernel
//! (`pacta_core::cluster::dbscan`) and the zone checks on the reports' points, and writes the
//! inputs and answers the peers are compared on: `points-<size>.f64` (latitude, longitude in
//! radians, little-endian pairs), `labels-<size>.i32` (Pacta's DBSCAN labels, -1 for noise),
//! `line.json` (the line of contact, `[[lon, lat], ...]` per part) and
//! `within-<size>.u8` (1 where Pacta puts the point within the zone's distance of the line).
//!
//! Peak memory is the kernel's `VmHWM` of this process, reset before each stage by writing
//! `5` to `/proc/self/clear_refs`, so each figure is the peak resident size *during* that
//! stage (the data earlier stages left in memory included).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context};
use base64::Engine as _;
use clap::{Parser, Subcommand};
use ed25519_dalek::SigningKey;
use pacta_bench::limits::{bounds_beside, median_index, rate, strict_verify_rate, StrictVerifier};
use pacta_core::agreement::model::Agreement;
use pacta_core::agreement::{parse_agreement, SourceLoader};
use pacta_core::assess::{assess_intake, Intake, Stage};
use pacta_core::cluster::dbscan;
use pacta_core::corroborate::Witness;
use pacta_core::entry::{read_batches, LineBatch, LineChecker, LineOutcome};
use pacta_core::zone::ZoneIndex;
use pacta_sim::{simulate_to, MonitorKeys, RunOptions, ScenarioConfig};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

// The allocator `pacta` runs with, and its setting, so the figures are the CLI's.
#[global_allocator]
static ALLOCATOR: pacta_alloc::MiMalloc = pacta_alloc::MiMalloc;

/// Lines checked together by one task, as `pacta assess` checks them (the file itself is
/// never read whole).
const VERIFY_BATCH_LINES: usize = 4096;

/// Reports a simulated day holds: about the density of the OSCE SMM's heaviest days (a few
/// thousand explosions a day along the whole front). Days = size / this.
const REPORTS_PER_DAY: u64 = 4_000;

/// The zone whose check is timed against shapely: 15 km either side of the line of contact.
const ZONE: &str = "dmz";
/// The line it is measured from.
const LINE: &str = "contact_line";

#[derive(Parser)]
#[command(about = "Pacta's benchmark harness (driven by bench/run)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every Pacta stage at one size; JSON on standard output.
    Stages {
        /// Reports to generate.
        #[arg(long)]
        size: u64,
        /// Where the reports and the peers' inputs go.
        #[arg(long)]
        dir: PathBuf,
        /// The scenario seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// DBSCAN radius, km.
        #[arg(long, default_value_t = 0.5)]
        eps_km: f64,
        /// DBSCAN points (the point itself included) that make a core point.
        #[arg(long, default_value_t = 5)]
        min_samples: usize,
        /// Full replays of the generated file (at least one); the median one gives the stage
        /// figures, and every replay must give the same digest.
        #[arg(long, default_value_t = 3)]
        replays: usize,
        /// Seconds the verification bound is measured for after each replay (each replay
        /// is set against the bound measured just before and after it).
        #[arg(long, default_value_t = 3.0)]
        bound_seconds: f64,
    },
    /// Strict Ed25519 verification and SHA-256 of report-sized messages, on one core and on
    /// all; JSON on standard output.
    Limits {
        /// Bytes per message: the mean signed canonical form of a generated report.
        #[arg(long, default_value_t = 410)]
        message_bytes: usize,
        /// Seconds each measurement runs at least.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
}

fn main() -> anyhow::Result<()> {
    pacta_alloc::configure_memory();
    let output = match Cli::parse().command {
        Command::Stages {
            size,
            dir,
            seed,
            eps_km,
            min_samples,
            replays,
            bound_seconds,
        } => stages(
            size,
            &dir,
            seed,
            Clustering {
                eps_km,
                min_samples,
            },
            replays,
            bound_seconds,
        )?,
        Command::Limits {
            message_bytes,
            seconds,
        } => limits(message_bytes, seconds)?,
    };
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

/// The repository's `examples/demo`, found from this crate's manifest directory.
fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/demo")
}

struct Dir(PathBuf);

impl SourceLoader for Dir {
    fn load(&self, relative_path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(relative_path)).map_err(|e| e.to_string())
    }
}

fn demo_agreement() -> anyhow::Result<Agreement> {
    let dir = demo_dir();
    let path = dir.join("agreement.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    parse_agreement("agreement.toml", &text, &Dir(dir))
        .map(|parsed| parsed.agreement)
        .map_err(|_| {
            anyhow!(
                "{} does not parse (run `pacta check` on it)",
                path.display()
            )
        })
}

/// The demo monitors' DEMO-ONLY signing keys from `examples/demo/keys/<monitor>.key.json`.
fn demo_keys(agreement: &Agreement) -> anyhow::Result<MonitorKeys> {
    let mut keys = MonitorKeys::new();
    for monitor in agreement.monitors.keys() {
        let path = demo_dir().join("keys").join(format!("{monitor}.key.json"));
        let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
        let json: Value =
            serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        let secret = json
            .get("secret")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("{}: no `secret`", path.display()))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(secret)
            .with_context(|| format!("{}: `secret`", path.display()))?;
        let seed: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow!("{}: `secret` is not 32 bytes", path.display()))?;
        keys.insert(monitor.clone(), SigningKey::from_bytes(&seed));
    }
    Ok(keys)
}

/// Peak resident set of this process since the last [`reset_peak`], in MiB (`None` where
/// `/proc` is not there).
fn peak_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// Resident set of this process now, in MiB.
fn resident_mib() -> Option<f64> {
    status_mib("VmRSS:")
}

fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU seconds this process has used so far, user and system, on all its threads (from
/// `/proc/self/stat`, in clock ticks; `None` where `/proc` is not there).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it are numbers.
    let after_name = stat.rsplit_once(')')?.1;
    let mut fields = after_name.split_whitespace();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let user: f64 = fields.nth(11)?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    // SAFETY: sysconf only reads a constant of the system's configuration.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| (user + system) / ticks as f64)
}

/// Resets the peak resident set to the current one (Linux 4.0 and later).
fn reset_peak() {
    // Where this fails (no /proc, older kernel) the peaks are since the process started,
    // which only overstates them; the figures say which stage they belong to either way.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Times `f` and records under `name` its seconds, the resident size before it and the peak
/// during it (the difference is what the stage itself added at most).
fn stage<T>(record: &mut Map<String, Value>, name: &str, f: impl FnOnce() -> T) -> T {
    let before = resident_mib();
    reset_peak();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let out = f();
    let seconds = started.elapsed().as_secs_f64();
    record.insert(
        name.to_string(),
        json!({
            "seconds": seconds,
            "cpu_seconds": cpu_since(cpu_before),
            "resident_before_mib": before,
            "peak_mib": peak_mib(),
        }),
    );
    out
}

/// CPU seconds used since `before` was read.
fn cpu_since(before: Option<f64>) -> Option<f64> {
    Some(cpu_seconds()? - before?)
}

/// What a replay's verification produced.
struct Verified {
    entries: Intake,
    rejected: u64,
    duplicates: u64,
    /// Total bytes of the signed messages (canonical forms without `signature`).
    signed_bytes: u64,
}

/// Reads NDJSON from `path` in batches, as `pacta assess` does (`read_batches`): the
/// batches are checked (parsed, strictly verified) on every core, several at once, while
/// this thread admits the lines before them in input order and reduces each accepted report
/// to what the assessment reads (`Intake`).
fn verify_file(path: &Path, agreement: &Agreement) -> anyhow::Result<Verified> {
    let mut reader = BufReader::new(File::open(path).with_context(|| path.display().to_string())?);
    let checker = LineChecker::new(agreement);
    let mut verified = Verified {
        entries: Intake::new(),
        rejected: 0,
        duplicates: 0,
        signed_bytes: 0,
    };
    let mut line = Vec::new();
    let fill = |batch: &mut LineBatch| read_batch(&mut reader, &mut line, batch, path);
    read_batches(&checker, fill, |outcome| match outcome {
        Ok(LineOutcome::Accepted(accepted)) => {
            verified.signed_bytes += accepted.signed_len as u64;
            verified.entries.push(accepted.entry);
        }
        Ok(LineOutcome::Duplicate { .. }) => verified.duplicates += 1,
        Ok(LineOutcome::Blank) => {}
        Err(_) => verified.rejected += 1,
    })?;
    Ok(verified)
}

/// Up to [`VERIFY_BATCH_LINES`] raw lines into `batch`, each read into `line` first; none
/// at the end of the file.
fn read_batch(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    batch: &mut LineBatch,
    path: &Path,
) -> anyhow::Result<()> {
    while batch.len() < VERIFY_BATCH_LINES {
        line.clear();
        let read = reader
            .read_until(b'\n', line)
            .with_context(|| path.display().to_string())?;
        if read == 0 {
            break;
        }
        batch.push(line);
    }
    Ok(())
}

/// One full replay of a reports file, and what it found.
struct Replayed {
    /// `verify`, `assess`, `digest` and `replay`: seconds, CPU seconds, peak memory.
    record: Map<String, Value>,
    /// The full replay's wall seconds.
    seconds: f64,
    digest: String,
    counts: Value,
    entries: usize,
    rejected: u64,
    duplicates: u64,
    signed_bytes: u64,
}

/// A verification bound measured after each replay, and each replay set against it.
struct Bound {
    /// Verifications a second on every core, measured after each replay.
    rates: Vec<f64>,
    /// The bound beside each replay, in seconds (`bounds_beside`).
    seconds_beside: Vec<f64>,
    /// Each replay's seconds over its bound.
    ratios: Vec<f64>,
}

impl Bound {
    fn beside(runs: &[Replayed], rates: Vec<f64>) -> Self {
        let entries = runs.first().map_or(0, |run| run.entries) as f64;
        let seconds_beside = bounds_beside(entries, &rates);
        let ratios = runs
            .iter()
            .zip(&seconds_beside)
            .map(|(run, bound)| run.seconds / bound)
            .collect();
        Bound {
            rates,
            seconds_beside,
            ratios,
        }
    }

    /// The JSON record, with the figures beside the replay `median` (of median ratio), for
    /// messages of `message_bytes` verified by `verifier` (the rates keep the field names
    /// `verify_strict_*` whichever verifier made them, so that every run reads alike).
    fn record(&self, verifier: &str, entries: usize, median: usize, message_bytes: f64) -> Value {
        json!({
            "verifier": verifier,
            // Which replay (from 0) the figures beside the median are for: each bound has
            // its own median ratio, and the stage figures come from the median replay time.
            "replay_of_median_ratio": median,
            "threads": rayon::current_num_threads(),
            "message_bytes": message_bytes,
            "verify_strict_per_s": entries as f64 / self.seconds_beside[median],
            "verify_strict_per_s_measured": self.rates,
            "seconds": self.seconds_beside[median],
            "seconds_beside_each_replay": self.seconds_beside,
            "replay_over_bound": self.ratios[median],
            "replay_over_bound_each": self.ratios,
        })
    }
}

/// Replays `path` as a verifier would (verify every line on every core, assess, digest),
/// timing each stage and the assessment's stages. With `points`, also collects each report's
/// point (outside the replay's time).
fn replay(
    path: &Path,
    agreement: &Agreement,
    points: Option<&mut Vec<(f64, f64)>>,
) -> anyhow::Result<Replayed> {
    let mut record = Map::new();
    reset_peak();
    let replay_cpu = cpu_seconds();
    let replay_started = Instant::now();
    let verified = stage(&mut record, "verify", || verify_file(path, agreement))?;
    let as_of = verified
        .entries
        .latest_submission()
        .unwrap_or(agreement.effective);
    let points_started = Instant::now();
    let points_cpu_before = cpu_seconds();
    if let Some(points) = points {
        points.extend(verified.entries.observations().map(|o| {
            let at = o.place();
            (at.lon, at.lat)
        }));
    }
    let entries = verified.entries.len();
    let points_time = points_started.elapsed();
    let points_cpu = cpu_since(points_cpu_before).unwrap_or(0.0);
    // Each stage's peak resident size: read and reset at every stage announcement, so the
    // replay's peak is the largest of them.
    let mut marks: Vec<(Stage, Instant, Option<f64>)> = Vec::new();
    let mut peaks: Vec<Option<f64>> = vec![peak_mib()];
    reset_peak();
    let assess_cpu = cpu_seconds();
    let assess_started = Instant::now();
    let assessment = assess_intake(agreement, verified.entries, as_of, &mut |s| {
        peaks.push(peak_mib());
        reset_peak();
        marks.push((s, Instant::now(), cpu_seconds()))
    });
    let assessed = Instant::now();
    let assessed_cpu = cpu_seconds();
    peaks.push(peak_mib());
    reset_peak();
    let digest = assessment.digest()?;
    let replay_seconds = (replay_started.elapsed() - points_time).as_secs_f64();
    let replay_cpu = cpu_since(replay_cpu).map(|cpu| cpu - points_cpu);
    let digest_seconds = assessed.elapsed().as_secs_f64();
    peaks.push(peak_mib());
    let replay_peak = peaks.iter().flatten().copied().reduce(f64::max);
    // peaks: verify, known entries, each stage in order, digest.
    let stage_peak = |i: usize| peaks.get(i).copied().flatten();
    let mut stage_seconds = Map::new();
    let mut stage_cpu = Map::new();
    let mut stage_peaks = Map::new();
    // Each stage ends where the next begins; the last where the assessment returned.
    let mut bounds: Vec<(Instant, Option<f64>)> = vec![(assess_started, assess_cpu)];
    bounds.extend(marks.iter().map(|(_, at, cpu)| (*at, *cpu)));
    bounds.push((assessed, assessed_cpu));
    let names = std::iter::once("known_entries".to_string()).chain(
        marks
            .iter()
            .map(|(s, _, _)| format!("{s:?}").to_lowercase()),
    );
    for (i, name) in names.enumerate() {
        let (Some((start, start_cpu)), Some((end, end_cpu))) = (bounds.get(i), bounds.get(i + 1))
        else {
            continue;
        };
        let cpu = end_cpu.zip(*start_cpu).map(|(end, start)| end - start);
        stage_seconds.insert(name.clone(), json!((*end - *start).as_secs_f64()));
        stage_cpu.insert(name.clone(), json!(cpu));
        stage_peaks.insert(name, json!(stage_peak(i + 1)));
    }
    record.insert(
        "assess".into(),
        json!({
            "seconds": (assessed - assess_started).as_secs_f64(),
            "cpu_seconds": assessed_cpu.zip(assess_cpu).map(|(end, start)| end - start),
            "stages": stage_seconds,
            "stage_cpu_seconds": stage_cpu,
            "stage_peak_mib": stage_peaks,
        }),
    );
    record.insert(
        "digest".into(),
        json!({
            "seconds": digest_seconds,
            "cpu_seconds": cpu_since(assessed_cpu),
            "peak_mib": peaks.last().copied().flatten(),
        }),
    );
    record.insert(
        "replay".into(),
        json!({ "seconds": replay_seconds, "cpu_seconds": replay_cpu, "peak_mib": replay_peak }),
    );
    let counts = json!({
        "reports": assessment.counts.reports,
        "incidents": assessment.counts.incidents,
        "findings": assessment.counts.findings,
        "obligations": assessment.counts.obligations,
    });
    Ok(Replayed {
        record,
        seconds: replay_seconds,
        digest,
        counts,
        entries,
        rejected: verified.rejected,
        duplicates: verified.duplicates,
        signed_bytes: verified.signed_bytes,
    })
}

/// The DBSCAN parameters of the clustering kernel and its peer.
struct Clustering {
    eps_km: f64,
    min_samples: usize,
}

fn stages(
    size: u64,
    dir: &Path,
    seed: u64,
    Clustering {
        eps_km,
        min_samples,
    }: Clustering,
    replays: usize,
    bound_seconds: f64,
) -> anyhow::Result<Value> {
    if !(bound_seconds.is_finite() && bound_seconds > 0.0) {
        bail!("--bound-seconds must be a positive number of seconds, not {bound_seconds}");
    }
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    let agreement = demo_agreement()?;
    let keys = demo_keys(&agreement)?;
    let reports_path = dir.join(format!("reports-{size}.ndjson"));
    let mut record = Map::new();

    // Generation: simulate and sign on every core, streamed to disk.
    let config = ScenarioConfig {
        days: u32::try_from(size.div_ceil(REPORTS_PER_DAY).max(1))
            .context("too many days for the scenario")?,
        ..ScenarioConfig::default()
    };
    let summary = stage(&mut record, "generate", || -> anyhow::Result<_> {
        let mut reports = BufWriter::new(File::create(&reports_path)?);
        let mut truth = BufWriter::new(File::create(dir.join(format!("truth-{size}.json")))?);
        let options = RunOptions {
            target_reports: Some(size),
        };
        let summary = simulate_to(
            &agreement,
            &config,
            &keys,
            seed,
            &options,
            &mut reports,
            &mut truth,
            &mut |_| {},
        )?;
        reports.flush()?;
        truth.flush()?;
        Ok(summary)
    })?;
    let file_bytes = std::fs::metadata(&reports_path)?.len();

    // Full replays: verify on every core, assess, digest. The first also keeps the reports'
    // points for the clustering kernel and the zone checks below (outside its timing). The
    // verification bound is measured in this process after each replay, on messages of the
    // replay's mean signed size, and each replay is set against the bound measured next to
    // it (the mean of the bound's seconds just before and just after it; after it alone for
    // the first): a shared machine's speed drifts from minute to minute (two 3 s
    // measurements a replay apart differed by 13%; two 1 s ones by 30%), so a bound
    // measured far from a replay says little about it. The ratio is the median of those.
    let mut points = Vec::new();
    let first = replay(&reports_path, &agreement, Some(&mut points))?;
    let signed_bytes_mean = first.signed_bytes as f64 / first.entries.max(1) as f64;
    let cores = rayon::current_num_threads();
    // Both strict verifications are measured after each replay: `verify_strict`, the bound
    // the target is set against, and Pacta's own (`StrictKey`, what the replay runs), the
    // tighter limit; which goes first alternates, so neither always gets the machine as the
    // replay left it.
    let measure_bounds = |replay: usize| -> anyhow::Result<[f64; 2]> {
        let measure = |verifier| {
            strict_verify_rate(
                verifier,
                cores,
                bound_seconds,
                signed_bytes_mean.round() as usize,
            )
            .ok_or_else(|| anyhow!("a fresh signature does not verify"))
        };
        if replay.is_multiple_of(2) {
            let dalek = measure(StrictVerifier::Dalek)?;
            Ok([dalek, measure(StrictVerifier::Pacta)?])
        } else {
            let pacta = measure(StrictVerifier::Pacta)?;
            Ok([measure(StrictVerifier::Dalek)?, pacta])
        }
    };
    let mut bound_rates = vec![measure_bounds(0)?];
    let mut runs = vec![first];
    for replay_number in 1..replays.max(1) {
        runs.push(replay(&reports_path, &agreement, None)?);
        bound_rates.push(measure_bounds(replay_number)?);
    }
    let [dalek, pacta] = [0, 1].map(|which| {
        Bound::beside(
            &runs,
            bound_rates.iter().map(|rates| rates[which]).collect(),
        )
    });
    let median_ratio = median_index(&dalek.ratios).context("no replay")?;
    if let Some(other) = runs.iter().find(|r| r.digest != runs[0].digest) {
        bail!(
            "two replays of the same file gave different digests: {} and {}",
            runs[0].digest,
            other.digest
        );
    }
    // The run whose replay time is the median (the lower middle one for an even count)
    // gives the stage figures.
    let replay_seconds: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
    let median = median_index(&replay_seconds).context("no replay")?;
    let median_seconds = replay_seconds[median];
    let mut seconds = replay_seconds;
    seconds.sort_by(f64::total_cmp);
    let runs_record: Vec<Value> = runs
        .iter()
        .map(|r| Value::Object(r.record.clone()))
        .collect();
    let verified = runs.swap_remove(median);
    record.extend(verified.record.clone());
    record.insert(
        "replays".into(),
        json!({
            "count": seconds.len(),
            "seconds": seconds,
            "median_seconds": median_seconds,
            // The replay (from 0, in `runs`) that gives the stage figures.
            "median_replay": median,
            "peak_mib_max": runs_record
                .iter()
                .filter_map(|r| r["replay"]["peak_mib"].as_f64())
                .reduce(f64::max),
            "runs": runs_record,
        }),
    );
    record.insert(
        "bound".into(),
        dalek.record(
            "ed25519_dalek::VerifyingKey::verify_strict",
            verified.entries,
            median_ratio,
            signed_bytes_mean.round(),
        ),
    );
    let pacta_median = median_index(&pacta.ratios).context("no replay")?;
    record.insert(
        "bound_pacta_verifier".into(),
        pacta.record(
            "pacta_core::entry::StrictKey::verify_each (batches of 64)",
            verified.entries,
            pacta_median,
            signed_bytes_mean.round(),
        ),
    );
    let entries = verified.entries;
    let counts = verified.counts.clone();
    let digest = verified.digest.clone();

    // The clustering kernel on the reports' points, alone (single-threaded, as
    // scikit-learn's DBSCAN with its default n_jobs).
    let clustering = stage(&mut record, "cluster", || {
        dbscan(&points, eps_km, min_samples)
    });
    let noise = clustering.labels.iter().filter(|l| l.is_none()).count();
    let core = clustering.core.iter().filter(|c| **c).count();
    write_points(&dir.join(format!("points-{size}.f64")), &points)?;
    write_labels(&dir.join(format!("labels-{size}.i32")), &clustering.labels)?;

    // Zone checks: is each point within 15 km of the line of contact (the DMZ), and its
    // distance from the line.
    let zones = ZoneIndex::compile(&agreement);
    let within: Vec<bool> = stage(&mut record, "zone_contains", || {
        points
            .iter()
            .map(|p| zones.contains(ZONE, p.0, p.1))
            .collect()
    });
    let distance_sum: f64 = stage(&mut record, "zone_distance", || {
        points
            .iter()
            .filter_map(|p| zones.position_along(LINE, p.0, p.1))
            .map(|at| at.distance_km)
            .sum()
    });
    write_line(&dir.join("line.json"), &agreement)?;
    std::fs::write(
        dir.join(format!("within-{size}.u8")),
        within.iter().map(|w| u8::from(*w)).collect::<Vec<u8>>(),
    )?;
    let zone_km = match agreement.zones.get(ZONE).map(|z| &z.shape) {
        Some(pacta_core::agreement::model::ZoneShape::Within { km, .. }) => *km,
        _ => bail!("the demo agreement's `{ZONE}` zone is not a `within` zone"),
    };

    Ok(json!({
        "size": size,
        "seed": seed,
        "file_bytes": file_bytes,
        "generated": summary,
        "entries": entries,
        "rejected": verified.rejected,
        "duplicates": verified.duplicates,
        "signed_bytes_mean": verified.signed_bytes as f64 / entries.max(1) as f64,
        "counts": counts,
        "digest": digest,
        "threads": rayon::current_num_threads(),
        "cluster": {
            "eps_km": eps_km,
            "min_samples": min_samples,
            "points": points.len(),
            "clusters": clustering.clusters,
            "core": core,
            "noise": noise,
        },
        "zone": {
            "zone": ZONE,
            "km": zone_km,
            "within": within.iter().filter(|w| **w).count(),
            "mean_distance_km": distance_sum / points.len().max(1) as f64,
        },
        "measures": record,
    }))
}

fn write_points(path: &Path, points: &[(f64, f64)]) -> anyhow::Result<()> {
    let mut out = BufWriter::new(File::create(path).with_context(|| path.display().to_string())?);
    for (lon, lat) in points {
        // The same conversion the kernel makes, so both sides see the same bits.
        out.write_all(&lat.to_radians().to_le_bytes())?;
        out.write_all(&lon.to_radians().to_le_bytes())?;
    }
    out.flush()?;
    Ok(())
}

fn write_labels(path: &Path, labels: &[Option<u32>]) -> anyhow::Result<()> {
    let mut out = BufWriter::new(File::create(path).with_context(|| path.display().to_string())?);
    for label in labels {
        let value = match label {
            Some(l) => i32::try_from(*l).context("more than 2^31 clusters")?,
            None => -1,
        };
        out.write_all(&value.to_le_bytes())?;
    }
    out.flush()?;
    Ok(())
}

fn write_line(path: &Path, agreement: &Agreement) -> anyhow::Result<()> {
    let parts: Vec<Vec<[f64; 2]>> = match agreement.zones.get(LINE).map(|z| &z.shape) {
        Some(pacta_core::agreement::model::ZoneShape::Line(lines)) => lines
            .iter()
            .map(|l| l.coords().map(|c| [c.x, c.y]).collect())
            .collect(),
        _ => bail!("the demo agreement's `{LINE}` zone is not a line"),
    };
    std::fs::write(path, serde_json::to_vec(&parts)?).with_context(|| path.display().to_string())
}

fn limits(message_bytes: usize, seconds: f64) -> anyhow::Result<Value> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let message: Vec<u8> = (0..message_bytes).map(|i| (i % 251) as u8).collect();
    const PER_CALL: u64 = 64;
    let hash = || {
        let mut acc = 0u8;
        for _ in 0..PER_CALL {
            acc ^= Sha256::digest(&message)[0];
        }
        std::hint::black_box(acc);
        PER_CALL
    };
    let verify = |verifier, threads| {
        strict_verify_rate(verifier, threads, seconds, message_bytes)
            .ok_or_else(|| anyhow!("a fresh signature does not verify"))
    };
    let verify_one = verify(StrictVerifier::Dalek, 1)?;
    let verify_all = verify(StrictVerifier::Dalek, cores)?;
    let pacta_one = verify(StrictVerifier::Pacta, 1)?;
    let pacta_all = verify(StrictVerifier::Pacta, cores)?;
    let sha_one = rate(1, seconds, &hash);
    let sha_all = rate(cores, seconds, &hash);
    Ok(json!({
        "cores": cores,
        "message_bytes": message_bytes,
        "ed25519_verify_strict_per_s": { "one_core": verify_one, "all_cores": verify_all },
        "pacta_strict_verify_per_s": { "one_core": pacta_one, "all_cores": pacta_all },
        "sha256_messages_per_s": { "one_core": sha_one, "all_cores": sha_all },
        "sha256_mb_per_s": {
            "one_core": sha_one * message_bytes as f64 / 1e6,
            "all_cores": sha_all * message_bytes as f64 / 1e6,
        },
    }))
}
