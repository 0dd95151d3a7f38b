//! Shared set-up for the HTTP tests: a data directory from the scenario agreement, a server
//! on an ephemeral loopback port with a fake clock, signing with the scenario test keys, and
//! a small HTTP client.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use pacta_core::time::Timestamp;
use pacta_server::{AppState, Config, DataDir, FakeClock, Server};
use serde_json::Value;

// The HTTP client is shared with `crates/pacta/tests` (which includes the same file).
mod http;
pub use http::{agent, Response};

/// `tests/scenarios` of the repository.
pub fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

/// The scenario agreement directory (`scenario-ceasefire`).
pub fn agreement_dir() -> PathBuf {
    scenarios_dir().join("agreements/ceasefire")
}

/// The test signing key of `signer` (m1, m3, g1, a, p1, ...).
pub fn key(signer: &str) -> SigningKey {
    let path = scenarios_dir()
        .join("keys")
        .join(format!("{signer}.key.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let seed = base64::engine::general_purpose::STANDARD
        .decode(file["secret"].as_str().unwrap())
        .unwrap();
    SigningKey::from_bytes(&seed.try_into().unwrap())
}

/// `entry` signed by `signer`'s test key, as one line of JSON.
pub fn signed(entry: &Value, signer: &str) -> String {
    let value = pacta_core::entry::sign_entry(entry, &key(signer)).unwrap();
    serde_json::to_string(&value).unwrap()
}

/// An instant from RFC 3339 text.
pub fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A report by `monitor` of an explosion at `point`, observed and submitted at `time`.
pub fn report(id: &str, monitor: &str, time: &str, point: [f64; 2]) -> Value {
    serde_json::json!({
        "schema": "pacta.report/1", "id": id, "agreement": "scenario-ceasefire",
        "monitor": monitor, "submitted_at": time, "observed": {"start": time},
        "location": {"point": point, "uncertainty_m": 500},
        "event": {"kind": "explosion", "count": 1, "weapon_class": "undetermined"},
        "mode": "saw",
        "attribution": {"party": "b", "basis": "fire observed from positions controlled by Party B"}
    })
}

/// A running test server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub clock: Arc<FakeClock>,
    pub data: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Creates a data directory in `dir` from the scenario agreement.
pub fn create_data(dir: &std::path::Path) -> PathBuf {
    let data = dir.join("data");
    DataDir::create(&data, &agreement_dir()).unwrap();
    data
}

/// The configuration tests start servers with: `data`, 127.0.0.1 on a port the OS chooses,
/// checkpoints every 50 ms, no digest entries or store refreshes during a test.
pub fn test_config(data: PathBuf) -> Config {
    Config {
        data,
        listen: "127.0.0.1:0".parse().unwrap(),
        checkpoint_interval_ms: 50,
        assessment_interval_seconds: 3_600,
        derived_interval_ms: 3_600_000,
        ..Config::default()
    }
}

impl TestServer {
    /// Starts a server on `data` with [`test_config`], clock at `now`.
    pub fn start(data: PathBuf, now: Timestamp) -> TestServer {
        TestServer::start_with(test_config(data), now)
    }

    /// Starts a server with `config` (which should listen on 127.0.0.1), clock at `now`.
    pub fn start_with(config: Config, now: Timestamp) -> TestServer {
        let clock = Arc::new(FakeClock::new(now));
        let data = config.data.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let server_clock = clock.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let server = Server::start(config, server_clock).await.unwrap();
                ready_tx
                    .send((server.local_addr().unwrap(), server.state().clone()))
                    .unwrap();
                server
                    .serve(async {
                        let _ = shutdown_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let (addr, state) = ready_rx.recv().unwrap();
        TestServer {
            addr,
            state,
            clock,
            data,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    /// `http://ADDR{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs `body` with `content_type`; returns the status, content type and body.
    pub fn post(&self, path: &str, content_type: &str, body: &str) -> Response {
        let agent = agent();
        let response = agent
            .post(&self.url(path))
            .header("Content-Type", content_type)
            .send(body.as_bytes())
            .unwrap();
        Response::read(response)
    }

    /// POSTs one JSON entry.
    pub fn post_json(&self, path: &str, body: &str) -> Response {
        self.post(path, "application/json", body)
    }

    /// GETs `path`.
    pub fn get(&self, path: &str) -> Response {
        Response::read(agent().get(&self.url(path)).call().unwrap())
    }

    /// Stops the server gracefully (integrates and logs a final assessment digest).
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_inner();
    }
}
