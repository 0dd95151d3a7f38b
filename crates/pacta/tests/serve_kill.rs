//! Nothing acknowledged is lost (DESIGN §5.4): `pacta serve` is killed with SIGKILL while
//! clients submit concurrently; after a restart every submission that got a 2xx is in the
//! log (a resubmission answers 200 with its original index), and the log verifies.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

fn scenarios() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

fn key(signer: &str) -> SigningKey {
    let text =
        std::fs::read_to_string(scenarios().join(format!("keys/{signer}.key.json"))).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let seed = base64::engine::general_purpose::STANDARD
        .decode(file["secret"].as_str().unwrap())
        .unwrap();
    SigningKey::from_bytes(&seed.try_into().unwrap())
}

/// A signed report, submitted a day before the server's (real) clock.
fn signed_report(id: &str, monitor: &str, key: &SigningKey) -> String {
    let entry = json!({
        "schema": "pacta.report/1", "id": id, "agreement": "scenario-ceasefire",
        "monitor": monitor, "submitted_at": "2026-03-02T10:30:00Z",
        "observed": {"start": "2026-03-02T10:00:00Z"},
        "location": {"point": [37.5, 48.0], "uncertainty_m": 500},
        "event": {"kind": "explosion", "count": 1, "weapon_class": "undetermined"},
        "mode": "saw"
    });
    serde_json::to_string(&pacta_core::entry::sign_entry(&entry, key).unwrap()).unwrap()
}

/// Starts `pacta serve` and returns it with the address it printed.
fn serve(data: &Path, init: bool) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pacta"));
    command
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", "127.0.0.1:0", "--checkpoint-interval-ms", "100"])
        // Four clients from one address write as fast as the server acknowledges.
        .args(["--write-rate-per-second", "0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null());
    if init {
        command
            .arg("--init")
            .arg("--agreement")
            .arg(scenarios().join("agreements/ceasefire"));
    }
    let mut child = command.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("pacta serve exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, address)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// POSTs a report; the status, or None if the connection failed.
fn post(address: &str, body: &str) -> Option<(u16, Value)> {
    let mut response = agent()
        .post(&format!("http://{address}/v1/reports"))
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .ok()?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().ok()?;
    let json = serde_json::from_str(&text).ok()?;
    Some((status, json))
}

#[test]
fn every_acknowledged_submission_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, address) = serve(&data, true);
    let acknowledged: Arc<Mutex<Vec<(String, u64)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = ["m1", "m3", "m1", "m3"]
        .into_iter()
        .enumerate()
        .map(|(client, monitor)| {
            let (address, acknowledged, stop) =
                (address.clone(), acknowledged.clone(), stop.clone());
            std::thread::spawn(move || {
                let key = key(monitor);
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let body = signed_report(&format!("k-{client}-{n}"), monitor, &key);
                    match post(&address, &body) {
                        Some((201, json)) => {
                            let index = json["index"].as_u64().unwrap();
                            acknowledged.lock().unwrap().push((body, index));
                        }
                        Some((status, json)) => panic!("unexpected {status}: {json}"),
                        None => break,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2_000));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 4,
        "too few submissions to test: {}",
        acknowledged.len()
    );

    let (mut child, address) = serve(&data, false);
    for (body, index) in &acknowledged {
        let (status, json) = post(&address, body).unwrap();
        assert_eq!(status, 200, "an acknowledged entry was lost: {json}");
        assert_eq!(json["index"].as_u64(), Some(*index));
    }
    // SIGTERM: a graceful stop integrates and logs the assessment digest.
    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    child.wait().unwrap();
    let replay = Command::new(env!("CARGO_BIN_EXE_pacta"))
        .arg("replay")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replay.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(stdout.contains("match"));
}
