//! The write guard over HTTP: role-scoped bearer tokens (401 without a known token, 403 for a
//! token without the endpoint's role) and per-client rate limits (429 with `Retry-After`);
//! a refused write is never stored, and reads stay public.

mod common;

use common::*;
use pacta_core::agreement::model::Role;
use pacta_server::auth::stanza;
use pacta_server::Config;

const MONITOR_SECRET: &str = "pacta_monitor-test-secret";
const GUARANTOR_SECRET: &str = "pacta_guarantor-test-secret";

/// A response with the headers these tests look at.
struct Answer {
    response: Response,
    www_authenticate: Option<String>,
    retry_after: Option<String>,
}

/// POSTs one JSON entry to `path`, with `Authorization: Bearer {token}` if given.
fn post(server: &TestServer, path: &str, token: Option<&str>, body: &str) -> Answer {
    let authorization = token.map(|token| format!("Bearer {token}"));
    let headers: Vec<(&str, &str)> = authorization
        .iter()
        .map(|value| ("Authorization", value.as_str()))
        .collect();
    post_with(server, path, &headers, body)
}

/// POSTs one JSON entry to `path` with extra request headers.
fn post_with(server: &TestServer, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let mut request = agent()
        .post(&server.url(path))
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send(body.as_bytes()).unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (www_authenticate, retry_after) = (header("www-authenticate"), header("retry-after"));
    Answer {
        response: Response::read(response),
        www_authenticate,
        retry_after,
    }
}

/// A server whose writes need tokens: one for monitors, one for guarantors.
fn server_with_tokens() -> (tempfile::TempDir, TestServer) {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    let text = [
        stanza("monitors", &[Role::Monitor], MONITOR_SECRET).unwrap(),
        stanza("guarantors", &[Role::Guarantor], GUARANTOR_SECRET).unwrap(),
    ]
    .join("\n");
    std::fs::write(&tokens, text).unwrap();
    let config = Config {
        tokens_file: Some(tokens),
        ..test_config(create_data(dir.path()))
    };
    let server = TestServer::start_with(config, at("2026-03-02T12:00:00Z"));
    (dir, server)
}

fn report_line(id: &str) -> String {
    signed(
        &report(id, "m1", "2026-03-02T11:00:00Z", [37.5, 48.0]),
        "m1",
    )
}

/// Asserts `answer` is a problem with `status` and that `id` was not stored.
fn assert_refused(server: &TestServer, answer: &Answer, status: u16, id: &str) {
    let response = &answer.response;
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.content_type, "application/problem+json");
    assert_eq!(response.json()["status"], status);
    assert_eq!(server.state.index_of(id).unwrap(), None);
}

#[test]
fn with_tokens_a_write_without_a_token_is_401_with_a_bearer_challenge() {
    let (_dir, server) = server_with_tokens();
    let answer = post(&server, "/v1/reports", None, &report_line("r-1"));
    assert_refused(&server, &answer, 401, "r-1");
    assert_eq!(
        answer.response.json()["type"],
        "urn:pacta:problem:unauthenticated"
    );
    assert!(answer
        .www_authenticate
        .as_deref()
        .is_some_and(|v| v.starts_with("Bearer")));
    assert_eq!(server.state.with_ledger(|l| l.log_size()).unwrap(), 1);
    assert_eq!(server.state.metrics().refusal_count("unauthenticated"), 1);
}

#[test]
fn with_tokens_an_unknown_token_is_401_and_never_echoed() {
    let (_dir, server) = server_with_tokens();
    let guess = "pacta_a-guess";
    let answer = post(&server, "/v1/reports", Some(guess), &report_line("r-1"));
    assert_refused(&server, &answer, 401, "r-1");
    assert!(!answer.response.body.contains(guess));
    assert!(answer
        .www_authenticate
        .as_deref()
        .is_some_and(|v| v.contains("invalid_token")));
}

#[test]
fn with_tokens_a_token_without_the_endpoints_role_is_403() {
    let (_dir, server) = server_with_tokens();
    let answer = post(
        &server,
        "/v1/reports",
        Some(GUARANTOR_SECRET),
        &report_line("r-1"),
    );
    assert_refused(&server, &answer, 403, "r-1");
    let problem = answer.response.json();
    assert_eq!(problem["type"], "urn:pacta:problem:token-role");
    assert!(!answer.response.body.contains(GUARANTOR_SECRET));
    assert_eq!(server.state.metrics().refusal_count("token-role"), 1);
}

#[test]
fn with_tokens_the_right_token_writes_and_reads_stay_public() {
    let (_dir, server) = server_with_tokens();
    let answer = post(
        &server,
        "/v1/reports",
        Some(MONITOR_SECRET),
        &report_line("r-1"),
    );
    assert_eq!(answer.response.status, 201, "{}", answer.response.body);
    assert_eq!(server.state.index_of("r-1").unwrap(), Some(1));
    assert_eq!(server.get("/healthz").status, 200);
    assert_eq!(server.get("/v1/incidents").status, 200);
    let metrics = server.get("/metrics").body;
    assert!(!metrics.contains(MONITOR_SECRET));
}

/// Revoking a token is an edit of the file: the running server refuses it within about a
/// second (it looks at the file at most once a second), without a restart.
#[test]
fn a_token_deleted_from_the_file_is_refused_without_a_restart() {
    let (dir, server) = server_with_tokens();
    let write = |id: &str| {
        post(
            &server,
            "/v1/reports",
            Some(MONITOR_SECRET),
            &report_line(id),
        )
    };
    assert_eq!(write("r-1").response.status, 201);
    let replacement = dir.path().join("tokens.toml.new");
    let only_guarantors = stanza("guarantors", &[Role::Guarantor], GUARANTOR_SECRET).unwrap();
    std::fs::write(&replacement, only_guarantors).unwrap();
    std::fs::rename(&replacement, dir.path().join("tokens.toml")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut n = 2;
    let refused = loop {
        let id = format!("r-{n}");
        let answer = write(&id);
        if answer.response.status == 401 {
            break (id, answer);
        }
        assert_eq!(answer.response.status, 201, "{}", answer.response.body);
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked token still writes"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
        n += 1;
    };
    assert_refused(&server, &refused.1, 401, &refused.0);
}

#[test]
fn without_tokens_a_write_needs_no_header() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(create_data(dir.path()), at("2026-03-02T12:00:00Z"));
    let answer = post(&server, "/v1/reports", None, &report_line("r-1"));
    assert_eq!(answer.response.status, 201, "{}", answer.response.body);
}

#[test]
fn a_bad_tokens_file_stops_the_server_before_it_serves() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.toml");
    std::fs::write(
        &tokens,
        "[[token]]\nname = \"x\"\nsha256 = \"the-secret\"\nroles = [\"monitor\"]\n",
    )
    .unwrap();
    let config = Config {
        tokens_file: Some(tokens),
        ..test_config(create_data(dir.path()))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let error = runtime.block_on(async {
        let server = pacta_server::Server::start(
            config,
            std::sync::Arc::new(pacta_server::FakeClock::new(at("2026-03-02T12:00:00Z"))),
        )
        .await
        .unwrap();
        server.serve(std::future::pending()).await.unwrap_err()
    });
    assert!(error.to_string().contains("sha256"), "{error}");
}

#[test]
fn over_the_rate_limit_a_write_is_429_with_retry_after_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        write_rate_per_second: 1,
        write_burst: 2,
        ..test_config(create_data(dir.path()))
    };
    let server = TestServer::start_with(config, at("2026-03-02T12:00:00Z"));
    // One write a second refills the bucket; a slow machine may get a third or fourth
    // through, never twenty in a row.
    let mut refused = None;
    for n in 0..20 {
        let id = format!("r-{n}");
        let answer = post(&server, "/v1/reports", None, &report_line(&id));
        match answer.response.status {
            201 => {}
            429 => {
                refused = Some((id, answer));
                break;
            }
            status => panic!("unexpected {status}: {}", answer.response.body),
        }
    }
    let (id, answer) = refused.expect("twenty writes in a row were all accepted");
    assert_refused(&server, &answer, 429, &id);
    assert_eq!(
        answer.response.json()["type"],
        "urn:pacta:problem:rate-limited"
    );
    let seconds: u64 = answer.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=2).contains(&seconds), "Retry-After: {seconds}");
    // Reads are not limited, and the refusal is counted.
    assert_eq!(server.get("/healthz").status, 200);
    let metrics = server.get("/metrics").body;
    assert!(
        metrics.contains("pacta_write_refusals_total{reason=\"rate-limited\"} 1\n"),
        "{metrics}"
    );
}

/// Behind a trusted proxy each client the proxy names has its own bucket; without the proxy
/// trusted, the header would be ignored and they would all share the proxy's.
#[test]
fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        write_rate_per_second: 1,
        write_burst: 1,
        trusted_proxies: vec!["127.0.0.0/8".parse().unwrap()],
        ..test_config(create_data(dir.path()))
    };
    let server = TestServer::start_with(config, at("2026-03-02T12:00:00Z"));
    let from = |client: &str, id: &str| {
        post_with(
            &server,
            "/v1/reports",
            &[("X-Forwarded-For", client)],
            &report_line(id),
        )
        .response
        .status
    };
    assert_eq!(from("203.0.113.1", "r-a1"), 201);
    assert_eq!(from("203.0.113.2", "r-b1"), 201);
    // The same client again within the second is over its burst of one; a client that
    // writes a forged hop in front is still itself.
    let again = from("203.0.113.1", "r-a2");
    let forged = from("198.51.100.7, 203.0.113.2", "r-b2");
    assert_eq!((again, forged), (429, 429));
}

#[test]
fn the_openapi_document_describes_the_guard_on_every_write() {
    let doc: serde_json::Value = serde_json::from_str(pacta_server::OPENAPI_JSON).unwrap();
    let scheme = &doc["components"]["securitySchemes"]["writeToken"];
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    for (path, _) in pacta_server::auth::WRITE_ENDPOINTS {
        let operation = &doc["paths"][path]["post"];
        let security = operation["security"].as_array().unwrap();
        assert!(
            security.iter().any(|s| s.get("writeToken").is_some()),
            "{path}"
        );
        for status in ["401", "403", "429"] {
            assert!(
                operation["responses"].get(status).is_some(),
                "{path} {status}"
            );
        }
    }
    let retry = &doc["components"]["responses"]["RateLimited"]["headers"]["Retry-After"];
    assert!(retry.is_object());
}
