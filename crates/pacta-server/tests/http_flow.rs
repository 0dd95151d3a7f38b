//! End to end over real HTTP: two monitors report, the incident and finding appear, the
//! guarantors' actions close their obligations, and the finding's proof bundle verifies
//! with pacta-log.

mod common;

use common::*;
use pacta_core::assess::Assessment;
use pacta_log::proof::InclusionProof;
use pacta_log::Checkpoint;
use pacta_server::DataDir;
use pacta_store::Store;
use serde_json::json;

const FINDING: &str = "ceasefire@inc:s08-r1";

fn action(id: &str, guarantor: &str, taken: &str, submitted: &str) -> serde_json::Value {
    json!({
        "schema": "pacta.action/1", "id": id, "agreement": "scenario-ceasefire",
        "guarantor": guarantor, "obligation": format!("consult/{guarantor}/{FINDING}"),
        "action": "consultations", "taken_at": taken, "submitted_at": submitted,
        "text": "Recorded by the guarantor's crisis cell."
    })
}

/// Starts a server and submits the two reports of scenario 08.
fn two_reports() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let data = create_data(dir.path());
    let server = TestServer::start(data, at("2026-03-02T10:30:00Z"));
    let r1 = report("s08-r1", "m1", "2026-03-02T10:30:00Z", [37.51, 48.0]);
    assert_eq!(
        server.post_json("/v1/reports", &signed(&r1, "m1")).status,
        201
    );
    server.clock.set(at("2026-03-02T10:40:00Z"));
    let r2 = report("s08-r2", "m3", "2026-03-02T10:40:00Z", [37.5105, 48.0]);
    assert_eq!(
        server.post_json("/v1/reports", &signed(&r2, "m3")).status,
        201
    );
    (dir, server)
}

fn assessment(server: &TestServer) -> std::sync::Arc<Assessment> {
    server.state.assessment().unwrap()
}

#[test]
fn two_monitors_reports_make_an_incident_and_a_finding() {
    let (_dir, server) = two_reports();
    let assessment = assessment(&server);
    assert_eq!(assessment.incidents.len(), 1);
    let finding = assessment
        .findings
        .iter()
        .find(|f| f.id == FINDING)
        .unwrap();
    assert_eq!(finding.reports, vec!["s08-r1", "s08-r2"]);
    assert!(assessment
        .obligations
        .iter()
        .any(|o| o.id == format!("consult/g1/{FINDING}")));
}

#[test]
fn guarantor_actions_close_their_obligations() {
    let (_dir, server) = two_reports();
    for (id, guarantor, taken, submitted) in [
        (
            "s08-a1",
            "g1",
            "2026-03-02T18:00:00Z",
            "2026-03-02T18:05:00Z",
        ),
        (
            "s08-a2",
            "g2",
            "2026-03-03T09:00:00Z",
            "2026-03-03T09:10:00Z",
        ),
    ] {
        server.clock.set(at(submitted));
        let entry = signed(&action(id, guarantor, taken, submitted), guarantor);
        assert_eq!(server.post_json("/v1/actions", &entry).status, 201, "{id}");
    }
    let assessment = assessment(&server);
    for guarantor in ["g1", "g2"] {
        let obligation = assessment
            .obligations
            .iter()
            .find(|o| o.id == format!("consult/{guarantor}/{FINDING}"))
            .unwrap();
        let status = serde_json::to_value(obligation.status).unwrap();
        assert_eq!(status, "fulfilled", "obligation of {guarantor}");
    }
}

#[test]
fn finding_proof_bundle_verifies_with_pacta_log() {
    let (_dir, server) = two_reports();
    let response = server.get(&format!("/v1/findings/{FINDING}/proof"));
    assert_eq!(response.status, 200, "{}", response.body);
    let bundle = response.json();
    let verifier = DataDir::at(&server.data).log_verifier().unwrap();
    let origin = bundle["origin"].as_str().unwrap();
    let checkpoint = Checkpoint::open(
        bundle["checkpoint"].as_str().unwrap().as_bytes(),
        std::slice::from_ref(&verifier),
        Some(origin),
    )
    .unwrap();
    let reports = bundle["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 2);
    for proven in reports.iter().chain([&bundle["agreement"]]) {
        let entry = proven["entry"].as_str().unwrap();
        let proof = InclusionProof::parse(proven["proof"].as_str().unwrap()).unwrap();
        assert_eq!(proof.index, proven["index"].as_u64().unwrap());
        let proved = proof
            .verify(
                entry.as_bytes(),
                std::slice::from_ref(&verifier),
                Some(origin),
            )
            .unwrap();
        assert_eq!(proved.root, checkpoint.root);
    }
    // Each report's bytes carry its monitor's signature: check them against the agreement.
    let agreement = server.state.agreement().clone();
    for proven in reports {
        let parsed = pacta_core::entry::parse_entry(proven["entry"].as_str().unwrap()).unwrap();
        pacta_core::entry::KeyRing::new(&agreement)
            .authorise(&parsed)
            .unwrap();
    }
}

#[test]
fn entry_proof_is_a_tlog_proof_against_the_checkpoint() {
    let (_dir, server) = two_reports();
    let response = server.get("/v1/proofs/entries/1");
    assert_eq!(response.status, 200, "{}", response.body);
    let proof = InclusionProof::parse(&response.body).unwrap();
    assert_eq!(proof.index, 1);
    let checkpoint = server.get("/checkpoint");
    assert_eq!(checkpoint.status, 200);
    assert!(checkpoint.body.starts_with("pacta/scenario-ceasefire\n"));
}

#[test]
fn resubmitting_the_same_entry_returns_its_original_index() {
    let (_dir, server) = two_reports();
    let r1 = report("s08-r1", "m1", "2026-03-02T10:30:00Z", [37.51, 48.0]);
    let again = server.post_json("/v1/reports", &signed(&r1, "m1"));
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["index"], 1);
    assert_eq!(again.json()["status"], "duplicate");
}

#[test]
fn a_different_body_under_a_used_id_is_a_conflict() {
    let (_dir, server) = two_reports();
    let changed = report("s08-r1", "m1", "2026-03-02T10:31:00Z", [37.51, 48.0]);
    let response = server.post_json("/v1/reports", &signed(&changed, "m1"));
    assert_eq!(response.status, 409);
    assert_eq!(response.content_type, "application/problem+json");
    assert_eq!(server.state.with_ledger(|l| l.log_size()).unwrap(), 3);
}

#[test]
fn a_batch_answers_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(create_data(dir.path()), at("2026-03-02T12:00:00Z"));
    let good = signed(
        &report("b-1", "m1", "2026-03-02T11:00:00Z", [37.5, 48.0]),
        "m1",
    );
    let forged = signed(
        &report("b-2", "m1", "2026-03-02T11:00:00Z", [37.5, 48.0]),
        "m2",
    );
    let body = format!("{good}\n\n{forged}\n{good}\n");
    let response = server.post("/v1/reports", "application/x-ndjson", &body);
    assert_eq!(response.status, 200);
    let json = response.json();
    assert_eq!(json["accepted"], 1);
    assert_eq!(json["duplicate"], 1);
    assert_eq!(json["rejected"], 1);
    assert_eq!(json["results"][1]["line"], 3);
    assert_eq!(json["results"][1]["status"], 403);
    assert_eq!(json["results"][1]["problem"]["line"], 3);
}

#[test]
fn metrics_count_entries_by_kind_and_outcome() {
    let (_dir, server) = two_reports();
    let forged = report("s08-r9", "m1", "2026-03-02T10:40:00Z", [37.51, 48.0]);
    assert_eq!(
        server
            .post_json("/v1/reports", &signed(&forged, "m3"))
            .status,
        403
    );
    let metrics = server.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics
        .content_type
        .starts_with("text/plain; version=0.0.4"));
    assert!(metrics
        .body
        .contains("pacta_entries_total{kind=\"report\",outcome=\"accepted\"} 2\n"));
    assert!(metrics
        .body
        .contains("pacta_entries_total{kind=\"report\",outcome=\"unauthorised-signer\"} 1\n"));
    assert!(metrics.body.contains("pacta_log_entries 3\n"));
    assert!(metrics
        .body
        .contains("pacta_http_request_duration_seconds_count{route=\"/v1/reports\"} 3\n"));
}

#[test]
fn healthz_reports_the_log_size() {
    let (_dir, server) = two_reports();
    let health = server.get("/healthz");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["log_entries"], 3);
}

/// Holds the engine on another thread (as a long assessment does), runs `meanwhile`, then
/// submits a third report and checks that it is answered before the engine is released.
fn third_report_is_answered_while_the_engine_is_held<T>(
    server: &TestServer,
    meanwhile: impl FnOnce() -> T,
) -> T {
    let engine = server.state.with_ledger(|l| l.engine()).unwrap();
    let (holding, held) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        engine.with_engine(|_| {
            holding.send(()).unwrap();
            released.recv().unwrap();
        })
    });
    held.recv().unwrap();
    let result = meanwhile();
    server.clock.set(at("2026-03-02T10:50:00Z"));
    let r3 = report("s08-r3", "m1", "2026-03-02T10:50:00Z", [37.52, 48.0]);
    let (answered, answer) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let status = server.post_json("/v1/reports", &signed(&r3, "m1")).status;
            answered.send(status).unwrap();
        });
        let status = answer.recv_timeout(std::time::Duration::from_secs(20));
        release.send(()).unwrap();
        assert_eq!(status, Ok(201), "the submission waited for the engine");
    });
    holder.join().unwrap().unwrap();
    result
}

/// Ingest does not wait for the engine: while an assessment holds it (seconds at 10^6
/// reports), a submission is still sequenced, made durable and answered, and the next
/// assessment includes it.
#[test]
fn a_submission_is_answered_while_an_assessment_holds_the_engine() {
    let (_dir, server) = two_reports();
    third_report_is_answered_while_the_engine_is_held(&server, || ());
    assert_eq!(assessment(&server).counts.reports, 3);
}

/// Nor does ingest wait for a digest, which is computed beside the sequencer; the digest
/// names the log prefix it covers, which is what the replay recomputes.
#[test]
fn a_submission_is_answered_while_a_digest_is_computed_and_the_digest_names_its_prefix() {
    let (_dir, server) = two_reports();
    let data = server.data.clone();
    let key = DataDir::at(&data).log_key().unwrap();
    let digesting = third_report_is_answered_while_the_engine_is_held(&server, || {
        let state = server.state.clone();
        let digesting = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(pacta_server::log_assessment(&state, &key))
        });
        // Time for the digest to reach the engine's lock; when digests were computed by
        // the sequencer, it would now hold the sequencer too.
        std::thread::sleep(std::time::Duration::from_millis(200));
        digesting
    });
    let index = digesting
        .join()
        .unwrap()
        .unwrap()
        .expect("a digest was logged");
    server.stop();
    // Nothing arrived after the digest's prefix, so no digest follows it on shutdown, and
    // the replay recomputes exactly the prefix it names.
    let replayed = pacta_server::replay::replay(&data).unwrap();
    assert_eq!(replayed.assessment_index, index);
    assert_eq!(
        replayed.prefix, index,
        "the digest covers every entry before it"
    );
    assert_eq!(replayed.recorded, replayed.replayed);
    // The indexer wrote everything sequenced, in log order, before the server stopped.
    let store = pacta_store::SqliteStore::open(DataDir::at(&data).store_path()).unwrap();
    assert_eq!(store.next_log_index().unwrap(), replayed.log_entries);
    let digest = store.latest_assessment().unwrap().unwrap();
    assert_eq!((digest.log_index, digest.entries), (index, index));
    assert_eq!(digest.digest, replayed.recorded);
}
