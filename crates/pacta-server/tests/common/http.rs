//! A small HTTP client for tests against a server on a loopback port, shared by the
//! pacta-server HTTP tests and the `pacta` CLI tests that start a server.

#![allow(dead_code)]

use serde_json::Value;

/// The largest body a test reads, in bytes (the zones and assessment documents are a few
/// megabytes at most).
const BODY_BYTES_MAX: u64 = 64 << 20;

/// An HTTP agent that returns 4xx and 5xx responses instead of errors and never goes through
/// a proxy from the environment (test traffic stays on 127.0.0.1).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into()
}

/// A response read whole.
pub struct Response {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Response {
    /// Reads `response` whole.
    pub fn read(mut response: ureq::http::Response<ureq::Body>) -> Response {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_BYTES_MAX)
            .read_to_string()
            .unwrap();
        Response {
            status,
            content_type,
            body,
        }
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}
