//! `pacta demo`: the one-command start.
//!
//! Creates a data directory with the demo agreement (embedded in the binary, with its
//! DEMO-ONLY keys, so the command works from any directory), starts a server on it, simulates
//! a month of monitoring with `pacta_sim`, and submits everything over HTTP to that server,
//! exactly as monitors, guarantors, parties and the panel would: the reports; guarantors'
//! actions on the obligations that opened (some in time, some late, some never); and
//! objections by a party with the panel's rulings. Then it prints what to look at and serves
//! the dashboard until interrupted (or exits, with `--no-serve`).
//!
//! The server's clock runs on "demo time": it reads the end of the simulated month (plus
//! half a day) when the command starts and advances with the wall clock, so the dashboard
//! shows provisional findings still inside their objection window and obligations still
//! open, as a mission would see them on that day.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use ed25519_dalek::SigningKey;
use pacta_core::adjudicate::{Finding, FindingStatus};
use pacta_core::agreement::model::Agreement;
use pacta_core::assess::Assessment;
use pacta_core::entry::sign_entry;
use pacta_core::entry::types::{
    GuarantorAction, Objection, Ruling, RulingDecision, ACTION_SCHEMA, OBJECTION_SCHEMA,
    RULING_SCHEMA,
};
use pacta_core::respond::Obligation;
use pacta_core::time::{Duration, Timestamp};
use pacta_server::{AppState, Clock, Config, DataDir, Server};
use pacta_sim::ScenarioConfig;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use tokio::sync::oneshot;

use crate::cmd::EXIT_OK;

/// The demo agreement's files, relative to its directory (`examples/demo`).
const AGREEMENT_FILES: &[(&str, &str)] = &[
    (
        "agreement.toml",
        include_str!("../../../../examples/demo/agreement.toml"),
    ),
    (
        "zones/contact-line.geojson",
        include_str!("../../../../examples/demo/zones/contact-line.geojson"),
    ),
    (
        "zones/party-a-controlled.geojson",
        include_str!("../../../../examples/demo/zones/party-a-controlled.geojson"),
    ),
    (
        "zones/party-b-controlled.geojson",
        include_str!("../../../../examples/demo/zones/party-b-controlled.geojson"),
    ),
    (
        "zones/sector-dnipro.geojson",
        include_str!("../../../../examples/demo/zones/sector-dnipro.geojson"),
    ),
    (
        "zones/sector-donetsk.geojson",
        include_str!("../../../../examples/demo/zones/sector-donetsk.geojson"),
    ),
    (
        "zones/sector-north.geojson",
        include_str!("../../../../examples/demo/zones/sector-north.geojson"),
    ),
    (
        "zones/sector-zaporizhzhia.geojson",
        include_str!("../../../../examples/demo/zones/sector-zaporizhzhia.geojson"),
    ),
];

/// The demo agreement's DEMO-ONLY secret keys (`examples/demo/keys`), by signer id. Anyone can
/// forge any signature with them; they exist so the demo can sign.
const DEMO_KEYS: &[(&str, &str)] = &[
    (
        "a",
        include_str!("../../../../examples/demo/keys/party-a.key.json"),
    ),
    (
        "b",
        include_str!("../../../../examples/demo/keys/party-b.key.json"),
    ),
    (
        "g1",
        include_str!("../../../../examples/demo/keys/g1.key.json"),
    ),
    (
        "g2",
        include_str!("../../../../examples/demo/keys/g2.key.json"),
    ),
    (
        "g3",
        include_str!("../../../../examples/demo/keys/g3.key.json"),
    ),
    (
        "g4",
        include_str!("../../../../examples/demo/keys/g4.key.json"),
    ),
    (
        "imm-camera-1",
        include_str!("../../../../examples/demo/keys/imm-camera-1.key.json"),
    ),
    (
        "imm-patrol-1",
        include_str!("../../../../examples/demo/keys/imm-patrol-1.key.json"),
    ),
    (
        "imm-patrol-2",
        include_str!("../../../../examples/demo/keys/imm-patrol-2.key.json"),
    ),
    (
        "imm-uav-1",
        include_str!("../../../../examples/demo/keys/imm-uav-1.key.json"),
    ),
    (
        "osint-sat-1",
        include_str!("../../../../examples/demo/keys/osint-sat-1.key.json"),
    ),
    (
        "panel-1",
        include_str!("../../../../examples/demo/keys/panel-1.key.json"),
    ),
    (
        "panel-2",
        include_str!("../../../../examples/demo/keys/panel-2.key.json"),
    ),
    (
        "panel-3",
        include_str!("../../../../examples/demo/keys/panel-3.key.json"),
    ),
    (
        "sensor-net-1",
        include_str!("../../../../examples/demo/keys/sensor-net-1.key.json"),
    ),
];

/// Entries per NDJSON batch: well under the server's 10,000-line limit, and small enough that
/// one rejected batch is easy to read about.
const BATCH_ENTRIES_MAX: usize = 1_000;
/// The panel member who rules on the demo's objections (the presiding member).
const PANELIST: &str = "panel-3";
/// The party that objects to findings against it.
const OBJECTING_PARTY: &str = "b";
/// Share of obligations the guarantors fulfil in time; [`LATE_SHARE`] more are fulfilled
/// after their deadline, and the rest are never acted on.
const IN_TIME_SHARE: f64 = 0.55;
const LATE_SHARE: f64 = 0.2;
/// Demo time when the command starts: this long after the end of the simulated days, so the
/// last day's reports have all arrived.
const DEMO_TIME_AFTER_END: Duration = Duration::hours(12);

/// Create a data directory with the demo agreement, simulate a month of monitoring with
/// violations, ingest it through the server's HTTP API, and serve the dashboard.
///
/// Everything is submitted as signed entries, as monitors, guarantors, parties and the panel
/// would: reports from the simulator (`pacta_sim`), guarantors' actions on the obligations that
/// opened (some in time, some late, some never), and objections with the panel's rulings. The
/// server's clock runs on demo time: 12 hours after the end of the simulated days when the
/// command starts, advancing with the wall clock.
///
/// The demo's keys are DEMO-ONLY (published in examples/demo/keys): never use the demo
/// agreement for anything real.
///
/// Exit codes: 0 done (or interrupted while serving); 2 usage or I/O error: the data
/// directory already holds a log, the address is taken, or the server refused a submission.
#[derive(clap::Args)]
#[command(long_about)]
pub struct Args {
    /// Data directory to create (it must not hold a log yet). Default: a new directory under
    /// the system's temporary directory, printed.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Address to serve on (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed of the simulation and of the guarantors' choices: the same seed gives the same
    /// entries.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Days of monitoring to simulate, from the agreement's entry into force.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=366))]
    days: u32,
    /// Prepare the data directory, print the summary, and exit instead of serving (for tests
    /// and CI).
    #[arg(long, visible_alias = "exit-after")]
    no_serve: bool,
}

/// The server's clock in the demo: the wall clock shifted by a fixed offset.
struct DemoClock {
    offset_seconds: i64,
}

impl Clock for DemoClock {
    fn now(&self) -> Timestamp {
        Timestamp(wall_clock_seconds().saturating_add(self.offset_seconds))
    }
}

fn wall_clock_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let data_dir = match &args.data {
        Some(dir) => dir.clone(),
        None => fresh_temp_dir()?,
    };
    let agreement_dir = data_dir.join("agreement");
    write_agreement(&agreement_dir)?;
    DataDir::create(&data_dir, &agreement_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let agreement = pacta_server::datadir::AgreementFiles::read(&agreement_dir)
        .with_context(|| format!("cannot read the agreement in {}", agreement_dir.display()))?
        .agreement;
    let keys = demo_keys()?;

    let scenario = scenario(args.days);
    let start = agreement.effective;
    let end = Timestamp(start.0 + i64::from(args.days) * 86_400);
    let demo_now = Timestamp(end.0 + DEMO_TIME_AFTER_END.0);
    let clock = Arc::new(DemoClock {
        offset_seconds: demo_now.0 - wall_clock_seconds(),
    });

    println!("pacta demo: data directory {}", data_dir.display());
    println!(
        "simulating {} days of monitoring from {} (seed {})...",
        args.days, start, args.seed
    );
    let monitor_keys: pacta_sim::MonitorKeys = keys
        .iter()
        .filter(|(id, _)| agreement.monitors.contains_key(id.as_str()))
        .map(|(id, key)| (id.clone(), key.clone()))
        .collect();
    let simulation = pacta_sim::simulate(&agreement, &scenario, &monitor_keys, args.seed)
        .context("the simulation failed")?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let config = Config {
        data: data_dir.clone(),
        listen: args.listen,
        ..Config::default()
    };
    let server = runtime
        .block_on(Server::start(config, clock.clone()))
        .with_context(|| {
            format!(
                "cannot start the server on {} (another server on that port? \
                 `--listen 127.0.0.1:0` picks a free one)",
                args.listen
            )
        })?;
    let address = server
        .local_addr()
        .context("cannot read the server's address")?;
    let state = server.state().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = runtime.spawn(server.serve(async {
        let _ = stopped.await;
    }));

    let client = Client::new(address);
    let assessment = submit_everything(
        &client,
        &state,
        &agreement,
        &keys,
        &simulation,
        &args,
        clock.as_ref(),
    )?;
    print_summary(&assessment, address, &data_dir);
    // The server's sequencer stops only once every handle on its state is gone, and a
    // graceful shutdown waits for open connections.
    drop(state);
    drop(client);

    if !args.no_serve {
        println!("serving until interrupted (Ctrl-C)...");
        runtime
            .block_on(tokio::signal::ctrl_c())
            .context("cannot wait for Ctrl-C")?;
    }
    // The server logs a final assessment digest and integrates before it stops.
    let _ = stop.send(());
    runtime
        .block_on(serving)
        .context("the server task failed")?
        .context("the server stopped with an error")?;
    println!(
        "stopped; `pacta serve --data {}` serves it again",
        data_dir.display()
    );
    Ok(EXIT_OK)
}

/// Submits the month to the demo's server in the order it happened to the mission: the
/// monitors' reports that have arrived by demo time, then the guarantors' actions on the
/// obligations those opened, then objections and rulings. Returns the final assessment.
fn submit_everything(
    client: &Client,
    state: &AppState,
    agreement: &Agreement,
    keys: &BTreeMap<String, SigningKey>,
    simulation: &pacta_sim::Simulation,
    args: &Args,
    clock: &DemoClock,
) -> anyhow::Result<Arc<Assessment>> {
    let assess = || {
        state
            .assessment()
            .map_err(|problem| anyhow::anyhow!("cannot assess: {}", problem.detail()))
    };
    let (arrived, in_transit): (Vec<&String>, Vec<&String>) = simulation
        .reports
        .iter()
        .partition(|line| submitted_at(line).is_some_and(|t| t <= clock.now()));
    let reports = client.submit("/v1/reports", &arrived)?;
    println!(
        "submitted {reports} signed reports from the monitors ({} more still in transit at demo time)",
        in_transit.len()
    );

    let assessment = assess()?;
    let mut rng = ChaCha8Rng::seed_from_u64(args.seed);
    let actions = guarantor_actions(agreement, &assessment, keys, &mut rng, clock.now())?;
    let acted = client.submit("/v1/actions", &actions)?;
    println!("submitted {acted} guarantors' actions (some in time, some late; others never came)");

    let (objections, rulings) = objections_and_rulings(agreement, &assessment, keys, clock.now())?;
    let objected = client.submit("/v1/objections", &objections)?;
    let ruled = client.submit("/v1/rulings", &rulings)?;
    let objector = agreement
        .parties
        .get(OBJECTING_PARTY)
        .map_or(OBJECTING_PARTY, |p| p.name.as_str());
    println!("submitted {objected} objections by {objector} and {ruled} rulings of the panel");
    assess()
}

/// A new, empty directory under the system's temporary directory.
fn fresh_temp_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "pacta-demo-{}-{}-{attempt}",
            std::process::id(),
            wall_clock_seconds()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot create {}", dir.display())),
        }
    }
    bail!("cannot find a free directory name under {}", base.display())
}

/// Writes the embedded demo agreement into `dir`.
fn write_agreement(dir: &Path) -> anyhow::Result<()> {
    for (relative, text) in AGREEMENT_FILES {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The embedded DEMO-ONLY signing keys, by signer id.
fn demo_keys() -> anyhow::Result<BTreeMap<String, SigningKey>> {
    DEMO_KEYS
        .iter()
        .map(|(id, text)| {
            let key = pacta_server::datadir::parse_key_file(text).map_err(|e| {
                anyhow::anyhow!("the embedded demo key of `{id}` is malformed: {e}")
            })?;
            Ok(((*id).to_owned(), key))
        })
        .collect()
}

/// The demo's scenario: the simulator's defaults with fewer, lopsided violations (Party B
/// breaks the ceasefire about three times as often as Party A), so a month gives a readable
/// dashboard rather than thousands of obligations.
fn scenario(days: u32) -> ScenarioConfig {
    let mut scenario = ScenarioConfig {
        days,
        ..ScenarioConfig::default()
    };
    scenario.default_party.fire_per_day = 0.5;
    scenario.default_party.heavy_weapons_per_day = 0.05;
    scenario.default_party.restrictions_per_day = 0.03;
    let mut b = scenario.default_party.clone();
    b.fire_per_day = 1.5;
    b.heavy_weapons_per_day = 0.15;
    b.restrictions_per_day = 0.1;
    scenario.parties.insert(OBJECTING_PARTY.to_owned(), b);
    scenario
}

/// The `submitted_at` of a signed entry's JSON text.
fn submitted_at(line: &str) -> Option<Timestamp> {
    #[derive(Deserialize)]
    struct Submitted {
        submitted_at: Timestamp,
    }
    serde_json::from_str::<Submitted>(line)
        .ok()
        .map(|s| s.submitted_at)
}

/// Guarantors' actions on the obligations open in `assessment`: a seeded share in time, a
/// share late (only when the late date has come by `now`), the rest never.
fn guarantor_actions(
    agreement: &Agreement,
    assessment: &Assessment,
    keys: &BTreeMap<String, SigningKey>,
    rng: &mut ChaCha8Rng,
    now: Timestamp,
) -> anyhow::Result<Vec<String>> {
    let mut actions = Vec::new();
    for obligation in &assessment.obligations {
        let Some(key) = keys.get(&*obligation.guarantor) else {
            continue;
        };
        let draw: f64 = rng.random();
        let taken_at = if draw < IN_TIME_SHARE {
            in_time(obligation, rng.random())
        } else if draw < IN_TIME_SHARE + LATE_SHARE {
            Timestamp(obligation.due_at.0 + rng.random_range(6..=48) * 3_600)
        } else {
            continue;
        };
        let submitted_at = Timestamp(taken_at.0 + 15 * 60);
        if submitted_at > now {
            continue;
        }
        let action = GuarantorAction {
            schema: ACTION_SCHEMA.to_owned(),
            id: format!("demo-action-{}", actions.len() + 1),
            agreement: agreement.id.clone(),
            guarantor: obligation.guarantor.to_string(),
            obligation: obligation.id.clone(),
            action: obligation.action.to_string(),
            taken_at,
            submitted_at,
            text: Some(format!(
                "{} recorded by {} (demo).",
                obligation.action.replace('_', " "),
                obligation.guarantor
            )),
            signature: None,
        };
        actions.push(signed(&action, key, &action.id)?);
    }
    Ok(actions)
}

/// A moment between an obligation's opening and its deadline, `fraction` of the way.
fn in_time(obligation: &Obligation, fraction: f64) -> Timestamp {
    let span = (obligation.due_at.0 - obligation.opened_at.0).max(0);
    // Rounded down to the second, so it never reaches the deadline.
    Timestamp(obligation.opened_at.0 + (span as f64 * fraction.clamp(0.1, 0.9)) as i64)
}

/// Objections by the objecting party to three findings against it, and the panel's rulings
/// on two of them (one upheld, one rejected); the third is still before the panel.
fn objections_and_rulings(
    agreement: &Agreement,
    assessment: &Assessment,
    keys: &BTreeMap<String, SigningKey>,
    now: Timestamp,
) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let party_key = keys
        .get(OBJECTING_PARTY)
        .context("no demo key for the objecting party")?;
    let panel_key = keys.get(PANELIST).context("no demo key for the panel")?;
    // The latest findings against the party whose objection and ruling both fit before now.
    let mut candidates: Vec<&Finding> = assessment
        .findings
        .iter()
        .filter(|f| f.party.as_deref() == Some(OBJECTING_PARTY))
        .filter(|f| {
            matches!(
                f.status,
                FindingStatus::Provisional | FindingStatus::Confirmed
            )
        })
        .filter(|f| f.established_at.0 + 2 * 86_400 <= now.0)
        .collect();
    candidates.sort_by_key(|f| std::cmp::Reverse((f.established_at, f.id.clone())));
    let decisions = [
        Some(RulingDecision::Upheld),
        Some(RulingDecision::Rejected),
        None,
    ];
    let mut objections = Vec::new();
    let mut rulings = Vec::new();
    for (n, (finding, decision)) in candidates.iter().zip(decisions).enumerate() {
        let objected_at = Timestamp(finding.established_at.0 + 6 * 3_600);
        let objection = Objection {
            schema: OBJECTION_SCHEMA.to_owned(),
            id: format!("demo-objection-{}", n + 1),
            agreement: agreement.id.clone(),
            party: OBJECTING_PARTY.to_owned(),
            finding: finding.id.clone(),
            submitted_at: objected_at,
            grounds: "The position named in the reports was not ours at that time (demo)."
                .to_owned(),
            signature: None,
        };
        objections.push(signed(&objection, party_key, &objection.id)?);
        if let Some(decision) = decision {
            let ruling = Ruling {
                schema: RULING_SCHEMA.to_owned(),
                id: format!("demo-ruling-{}", n + 1),
                agreement: agreement.id.clone(),
                panelist: PANELIST.to_owned(),
                objection: objection.id.clone(),
                decision,
                submitted_at: Timestamp(objected_at.0 + 36 * 3_600),
                reasons: match decision {
                    RulingDecision::Upheld => "The reports place the fire on the other side of the line; the finding is dismissed (demo).",
                    RulingDecision::Rejected => "Two independent monitors place the fire in the Party's area; the finding stands (demo).",
                }
                .to_owned(),
                signature: None,
            };
            rulings.push(signed(&ruling, panel_key, &ruling.id)?);
        }
    }
    Ok((objections, rulings))
}

/// The signed entry's JSON text.
fn signed<T: serde::Serialize>(entry: &T, key: &SigningKey, id: &str) -> anyhow::Result<String> {
    let value = sign_entry(entry, key).map_err(|e| anyhow::anyhow!("cannot sign `{id}`: {e}"))?;
    Ok(value.to_string())
}

/// Submits entries to the demo's own server, in NDJSON batches.
struct Client {
    base: String,
    agent: ureq::Agent,
}

/// The server's answer to a batch.
#[derive(Deserialize)]
struct BatchReceipt {
    accepted: usize,
    duplicate: usize,
    rejected: usize,
    results: Vec<serde_json::Value>,
}

impl Client {
    fn new(address: SocketAddr) -> Client {
        // No proxy: the demo only ever talks to the server it started on loopback.
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        Client {
            base: format!("http://{address}"),
            agent,
        }
    }

    /// Posts `entries` to `path`; the number accepted. Any rejected entry is an error that
    /// quotes the server's problem detail.
    fn submit<S: AsRef<str>>(&self, path: &str, entries: &[S]) -> anyhow::Result<usize> {
        let mut accepted = 0;
        for batch in entries.chunks(BATCH_ENTRIES_MAX) {
            let mut body = String::new();
            for entry in batch {
                body.push_str(entry.as_ref());
                body.push('\n');
            }
            let url = format!("{}{path}", self.base);
            let mut response = self
                .agent
                .post(&url)
                .header("Content-Type", pacta_server::ingest::NDJSON)
                .send(body.as_bytes())
                .with_context(|| format!("cannot POST to {url}"))?;
            let status = response.status();
            let text = response
                .body_mut()
                .read_to_string()
                .with_context(|| format!("cannot read the answer of {url}"))?;
            if !status.is_success() {
                bail!("{url} answered {status}: {text}");
            }
            let receipt: BatchReceipt = serde_json::from_str(&text).with_context(|| {
                format!("{url} answered something other than a batch receipt: {text}")
            })?;
            if receipt.rejected > 0 {
                let first = receipt
                    .results
                    .iter()
                    .find(|r| r.get("problem").is_some())
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                bail!(
                    "{url} rejected {} of {} entries; first: {first}",
                    receipt.rejected,
                    batch.len()
                );
            }
            accepted += receipt.accepted + receipt.duplicate;
        }
        Ok(accepted)
    }
}

/// What the demo produced and where to look.
fn print_summary(assessment: &Assessment, address: SocketAddr, data_dir: &Path) {
    let c = &assessment.counts;
    println!();
    println!("assessment as of {} (demo time)", assessment.as_of);
    println!(
        "  {} reports -> {} incidents -> {} findings ({} confirmed, {} provisional, {} contested, {} dismissed)",
        c.reports,
        c.incidents,
        c.findings,
        c.findings_confirmed,
        c.findings_provisional,
        c.findings_contested,
        c.findings_dismissed
    );
    println!(
        "  {} obligations of the guarantors: {} fulfilled in time, {} late, {} overdue, {} open",
        c.obligations,
        c.obligations_fulfilled,
        c.obligations_fulfilled_late,
        c.obligations_overdue,
        c.obligations_open
    );
    println!();
    println!("dashboard: http://{address}/");
    println!("  - the map: the line of contact, the demilitarised and exclusion zones, findings by status or party");
    println!("  - violations per day, and the renewed offensive late in the month");
    println!("  - the guarantors' obligations: who acted in time, who is late, who is overdue, escalations");
    println!(
        "  - a finding's \"Verify\" button: its reports' inclusion proofs checked in your browser"
    );
    println!("API: http://{address}/v1/assessment  log: http://{address}/checkpoint");
    println!(
        "check it: pacta replay {}   (after stopping the demo)",
        data_dir.display()
    );
}
