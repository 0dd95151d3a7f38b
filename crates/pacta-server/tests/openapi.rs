//! The OpenAPI document is served and lists only routes the server has: every path it
//! documents, with sample parameters, reaches a handler (never the router's fallback).

mod common;

use common::*;

fn sample(path: &str) -> String {
    path.replace("{id}", "x")
        .replace("{index}", "0")
        .replace("{path}", "0/000")
}

#[test]
fn every_documented_path_is_routed() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(create_data(dir.path()), at("2026-03-02T12:00:00Z"));
    let response = server.get("/openapi.json");
    assert_eq!(response.status, 200);
    let doc = response.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20);
    for (path, operations) in paths {
        let url = sample(path);
        let response = if operations.get("post").is_some() {
            server.post_json(&url, "{}")
        } else {
            server.get(&url)
        };
        assert!(
            !response.body.contains("no route for"),
            "{path} is documented but not routed"
        );
    }
}
