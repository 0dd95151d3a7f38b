//! Pacta's HTTP service: ingest, read API, log tiles and proofs, dashboard.
//!
//! [`Server::start`] opens a data directory ([`DataDir`]), rebuilds the ledger of accepted
//! entries from the log (the source of truth), starts the sequencer (the log's one writer)
//! and the checkpoint task, and binds the listener; [`Server::serve`] answers until shutdown.
//! [`run`] does both. The routes are assembled in [`router`].

pub mod auth;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod datadir;
pub mod index;
pub mod ingest;
pub mod log;
pub mod metrics;
pub mod problem;
pub mod query;
pub mod rate_limit;
pub mod replay;
pub mod sequencer;
pub mod state;

mod server;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

pub use clock::{Clock, FakeClock, SystemClock};
pub use config::Config;
pub use datadir::{DataDir, DataDirError};
pub use problem::{Problem, ProblemKind};
pub use server::{log_assessment, run, Server, ServerError};
pub use state::AppState;

use crate::config::BODY_BYTES_MAX;
use crate::metrics::Gauges;

/// The OpenAPI 3.1 document of every route, maintained by hand beside the router (a test
/// checks that every path it lists is routed).
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Every route of the server, with `state`; the write routes behind the rate limit and, when
/// `tokens_file` is configured, the bearer tokens (refused before their body is read).
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that the limit
/// is per client.
pub fn router(state: AppState) -> Result<Router, auth::TokensError> {
    let mut writes = ingest::routes();
    if let Some(path) = &state.config().tokens_file {
        let tokens = Arc::new(auth::WatchedTokens::load(path, auth::TOKENS_LOOK_EVERY)?);
        if tokens.current().is_empty() {
            tracing::warn!(
                "the tokens file {} lists no token: every write will be refused",
                path.display()
            );
        }
        writes = writes.route_layer(middleware::from_fn_with_state(
            (state.clone(), tokens),
            auth::require_token,
        ));
    }
    // Added last, so it runs first: a client over its rate is not even hashed a token.
    if let Some(limiter) = rate_limit::WriteLimiter::from_config(state.config()) {
        writes = writes.route_layer(middleware::from_fn_with_state(
            (state.clone(), Arc::new(limiter)),
            rate_limit::limit_writes,
        ));
    }
    Ok(Router::new()
        .merge(writes)
        .merge(log::routes())
        .merge(query::routes())
        .merge(dashboard::routes())
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state))
}

/// Records each request's latency under its route pattern (not its path, which would make
/// one series per tile).
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics().observe_latency(&route, started.elapsed());
    response
}

async fn not_found(request: Request) -> Problem {
    Problem::not_found(format!(
        "no route for {} {}",
        request.method(),
        request.uri().path()
    ))
}

async fn healthz(State(state): State<AppState>) -> Result<Response, Problem> {
    let log_size = state.with_ledger(|ledger| ledger.log_size())?;
    let checkpoint_size = state.checkpoint_size()?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "agreement": state.agreement().id,
        "log_entries": log_size,
        "checkpoint_size": checkpoint_size,
    }))
    .into_response())
}

async fn metrics(State(state): State<AppState>) -> Result<Response, Problem> {
    let gauges = Gauges {
        log_entries: state.with_ledger(|ledger| ledger.log_size())?,
        checkpoint_size: state.checkpoint_size()?,
        checkpoint_age_seconds: state.checkpoint_age().as_secs_f64(),
    };
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics().render(gauges),
    )
        .into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}
