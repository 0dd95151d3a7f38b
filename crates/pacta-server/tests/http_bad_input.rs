//! Bad input over HTTP gets the right status and an RFC 9457 problem, and nothing is stored.

mod common;

use common::*;
use serde_json::json;

/// A server with nothing but the agreement in its log, clock at 2026-03-02T12:00:00Z.
fn server() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(create_data(dir.path()), at("2026-03-02T12:00:00Z"));
    (dir, server)
}

fn good_report() -> serde_json::Value {
    report("r-1", "m1", "2026-03-02T11:00:00Z", [37.5, 48.0])
}

/// Asserts the response is a problem with `status`, and that the log and store are unchanged.
fn assert_refused(server: &TestServer, response: &Response, status: u16) -> serde_json::Value {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.content_type, "application/problem+json");
    let problem = response.json();
    assert_eq!(problem["status"], status);
    assert!(problem["type"]
        .as_str()
        .unwrap()
        .starts_with("urn:pacta:problem:"));
    assert!(!problem["detail"].as_str().unwrap().is_empty());
    assert_eq!(server.state.with_ledger(|l| l.log_size()).unwrap(), 1);
    assert_eq!(server.state.store().next_log_index().unwrap(), 1);
    problem
}

#[test]
fn malformed_json_is_400_with_a_pointer() {
    let (_dir, server) = server();
    let response = server.post_json("/v1/reports", r#"{"schema": "pacta.report/1", "id": }"#);
    let problem = assert_refused(&server, &response, 400);
    assert!(problem.get("pointer").is_some());
}

#[test]
fn a_report_missing_a_member_is_400() {
    let (_dir, server) = server();
    let mut entry = good_report();
    entry.as_object_mut().unwrap().remove("location");
    let response = server.post_json("/v1/reports", &signed(&entry, "m1"));
    assert_refused(&server, &response, 400);
}

#[test]
fn an_entry_at_the_wrong_endpoint_is_422() {
    let (_dir, server) = server();
    let response = server.post_json("/v1/actions", &signed(&good_report(), "m1"));
    let problem = assert_refused(&server, &response, 422);
    assert_eq!(problem["pointer"], "/schema");
}

#[test]
fn a_bad_signature_is_403() {
    let (_dir, server) = server();
    let mut entry: serde_json::Value = serde_json::from_str(&signed(&good_report(), "m1")).unwrap();
    entry["event"]["count"] = json!(2);
    let response = server.post_json("/v1/reports", &entry.to_string());
    let problem = assert_refused(&server, &response, 403);
    assert_eq!(problem["pointer"], "/signature");
}

#[test]
fn an_unknown_signer_is_403() {
    let (_dir, server) = server();
    let entry = report("r-1", "m9", "2026-03-02T11:00:00Z", [37.5, 48.0]);
    let response = server.post_json("/v1/reports", &signed(&entry, "m1"));
    assert_refused(&server, &response, 403);
}

#[test]
fn a_report_signed_by_a_guarantor_key_is_403() {
    let (_dir, server) = server();
    let response = server.post_json("/v1/reports", &signed(&good_report(), "g1"));
    assert_refused(&server, &response, 403);
}

#[test]
fn an_oversize_entry_is_413() {
    let (_dir, server) = server();
    let mut entry = good_report();
    entry["text"] = json!("x".repeat(70_000));
    let response = server.post_json("/v1/reports", &entry.to_string());
    assert_refused(&server, &response, 413);
}

#[test]
fn an_oversize_body_is_413() {
    let (_dir, server) = server();
    let body = "x".repeat(pacta_server::config::BODY_BYTES_MAX + 1);
    let response = server.post("/v1/reports", "application/x-ndjson", &body);
    assert_refused(&server, &response, 413);
}

#[test]
fn a_submission_time_beyond_the_clock_skew_is_422() {
    let (_dir, server) = server();
    let entry = report("r-1", "m1", "2026-03-02T12:06:00Z", [37.5, 48.0]);
    let response = server.post_json("/v1/reports", &signed(&entry, "m1"));
    let problem = assert_refused(&server, &response, 422);
    assert_eq!(problem["pointer"], "/submitted_at");
}

#[test]
fn unknown_routes_are_problems_too() {
    let (_dir, server) = server();
    let response = server.get("/v1/nothing-here");
    assert_eq!(response.status, 404);
    assert_eq!(response.content_type, "application/problem+json");
}
