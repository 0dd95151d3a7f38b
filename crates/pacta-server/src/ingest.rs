//! The write endpoints: `POST /v1/reports`, `/v1/actions`, `/v1/objections`, `/v1/rulings`,
//! `/v1/retractions`.
//!
//! A body is one JSON entry, or with `Content-Type: application/x-ndjson` a batch of one
//! entry a line (per-line results). Each entry is parsed, checked against its endpoint's
//! schema, authorised (strict Ed25519 under a key the agreement lists for the signer's role)
//! and checked for clock skew; batches are verified in parallel. Verified entries go to the
//! sequencer, which answers only once they are durable in the log. A rejected entry is
//! never stored.

use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use axum::{Json, Router};
use pacta_core::entry::strict::VERIFIED_TOGETHER;
use pacta_core::entry::types::{
    ACTION_SCHEMA, OBJECTION_SCHEMA, REPORT_SCHEMA, RETRACTION_SCHEMA, RULING_SCHEMA,
};
use pacta_core::entry::{Unverified, VerifiedEntry};
use pacta_core::time::Timestamp;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use crate::config::{BATCH_LINES_MAX, BODY_BYTES_MAX, ENTRY_BYTES_MAX};
use crate::problem::{Problem, ProblemKind};
use crate::sequencer::{Candidate, Job, Sequenced};
use crate::state::AppState;

/// The media type of a batch.
pub const NDJSON: &str = "application/x-ndjson";

/// The write routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/reports", endpoint(REPORT_SCHEMA))
        .route("/v1/actions", endpoint(ACTION_SCHEMA))
        .route("/v1/objections", endpoint(OBJECTION_SCHEMA))
        .route("/v1/rulings", endpoint(RULING_SCHEMA))
        .route("/v1/retractions", endpoint(RETRACTION_SCHEMA))
}

/// The `POST` handler of the endpoint that accepts entries of `schema`; the endpoints differ
/// only in that.
fn endpoint(schema: &'static str) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>,
              headers: HeaderMap,
              body: Result<axum::body::Bytes, BytesRejection>| async move {
            submit(state, &headers, body, schema).await
        },
    )
}

/// The short name of a schema, for metrics: `pacta.report/1` → `report`.
fn kind_label(schema: &str) -> &str {
    schema
        .strip_prefix("pacta.")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(schema)
}

/// The answer for one accepted or duplicate entry.
#[derive(Serialize)]
struct Receipt<'a> {
    id: &'a str,
    /// Its index in the log.
    index: u64,
    /// `accepted` (new) or `duplicate` (already accepted with the same body).
    status: &'static str,
}

/// One line's result in a batch answer.
#[derive(Serialize)]
struct LineResult {
    line: usize,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<Problem>,
}

/// The answer to a batch.
#[derive(Serialize)]
struct BatchReceipt {
    accepted: usize,
    duplicate: usize,
    rejected: usize,
    /// One per non-blank line, in order.
    results: Vec<LineResult>,
}

async fn submit(
    state: AppState,
    headers: &HeaderMap,
    body: Result<axum::body::Bytes, BytesRejection>,
    schema: &'static str,
) -> Result<Response, Problem> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                ProblemKind::TooLarge,
                format!("the body is over the limit of {BODY_BYTES_MAX} bytes"),
            )
        } else {
            Problem::bad_request(rejection.body_text())
        }
    });
    let body = match body {
        Ok(body) => body,
        Err(problem) => {
            state
                .metrics()
                .count_entry(kind_label(schema), problem.kind().slug());
            return Err(problem);
        }
    };
    let batch = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim() == NDJSON));
    if batch {
        submit_batch(state, body, schema).await
    } else {
        submit_one(state, body, schema).await
    }
}

async fn submit_one(
    state: AppState,
    body: axum::body::Bytes,
    schema: &'static str,
) -> Result<Response, Problem> {
    let kind = kind_label(schema);
    let now = state.now();
    let candidate = match verify(&state, &body, schema, now) {
        Ok(candidate) => candidate,
        Err(problem) => {
            state.metrics().count_entry(kind, problem.kind().slug());
            return Err(problem);
        }
    };
    let id = candidate.entry.id().to_owned();
    let outcome = sequence(&state, vec![candidate])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| Problem::internal("the sequencer gave no answer"))?;
    let result = answer(&id, outcome);
    let label = match &result {
        Ok((StatusCode::CREATED, _)) => "accepted",
        Ok(_) => "duplicate",
        Err(problem) => problem.kind().slug(),
    };
    state.metrics().count_entry(kind, label);
    let (status, receipt) = result?;
    Ok((status, Json(receipt)).into_response())
}

/// Maps a sequencer outcome to a status and receipt, or a problem.
fn answer(id: &str, outcome: Sequenced) -> Result<(StatusCode, Receipt<'_>), Problem> {
    match outcome {
        Sequenced::Accepted(index) => Ok((
            StatusCode::CREATED,
            Receipt {
                id,
                index,
                status: "accepted",
            },
        )),
        Sequenced::Duplicate(index) => Ok((
            StatusCode::OK,
            Receipt {
                id,
                index,
                status: "duplicate",
            },
        )),
        Sequenced::Conflict(index) => Err(Problem::new(
            ProblemKind::IdConflict,
            format!(
                "id `{id}` was accepted at log index {index} for a different entry; \
                 choose a new id"
            ),
        )
        .at_pointer("/id")),
        Sequenced::RetractsOthers { report, author } => Err(Problem::new(
            ProblemKind::Unauthorised,
            format!("report `{report}` is monitor `{author}`'s; only it may retract it"),
        )
        .at_pointer("/report")),
        Sequenced::Failed(reason) => Err(Problem::new(
            ProblemKind::Unavailable,
            format!("the log could not be written, nothing was stored: {reason}"),
        )),
    }
}

async fn submit_batch(
    state: AppState,
    body: axum::body::Bytes,
    schema: &'static str,
) -> Result<Response, Problem> {
    let kind = kind_label(schema);
    let text = std::str::from_utf8(&body).map_err(|e| {
        Problem::new(
            ProblemKind::InvalidEntry,
            format!("the batch is not UTF-8 text: {e}"),
        )
    })?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| (i + 1, line))
        .collect();
    if lines.len() > BATCH_LINES_MAX {
        state
            .metrics()
            .count_entry(kind, ProblemKind::TooLarge.slug());
        return Err(Problem::new(
            ProblemKind::TooLarge,
            format!(
                "the batch has {} entries, over the limit of {BATCH_LINES_MAX}",
                lines.len()
            ),
        ));
    }
    let now = state.now();
    // Verification is the CPU cost of ingest: run it on the blocking pool, in parallel.
    let verified = {
        let state = state.clone();
        let owned: Vec<(usize, String)> = lines
            .iter()
            .map(|(n, line)| (*n, (*line).to_owned()))
            .collect();
        tokio::task::spawn_blocking(move || verify_lines(&state, &owned, schema, now))
            .await
            .map_err(|e| Problem::internal(format!("verification task failed: {e}")))?
    };
    let mut results: Vec<LineResult> = Vec::with_capacity(verified.len());
    let mut candidates = Vec::new();
    let mut slots = Vec::new();
    for (line, outcome) in verified {
        match outcome {
            Ok(candidate) => {
                slots.push(results.len());
                results.push(LineResult {
                    line,
                    status: 0,
                    id: Some(candidate.entry.id().to_owned()),
                    index: None,
                    problem: None,
                });
                candidates.push(candidate);
            }
            Err(problem) => results.push(LineResult {
                line,
                status: problem.status().as_u16(),
                id: None,
                index: None,
                problem: Some(problem.at_line(line)),
            }),
        }
    }
    let outcomes = if candidates.is_empty() {
        Vec::new()
    } else {
        sequence(&state, candidates).await?
    };
    for (slot, outcome) in slots.into_iter().zip(outcomes) {
        if let Some(result) = results.get_mut(slot) {
            let id = result.id.clone().unwrap_or_default();
            match answer(&id, outcome) {
                Ok((status, receipt)) => {
                    result.status = status.as_u16();
                    result.index = Some(receipt.index);
                }
                Err(problem) => {
                    result.status = problem.status().as_u16();
                    result.problem = Some(problem.at_line(result.line));
                }
            }
        }
    }
    let mut receipt = BatchReceipt {
        accepted: 0,
        duplicate: 0,
        rejected: 0,
        results,
    };
    for result in &receipt.results {
        let label = match (result.status, &result.problem) {
            (201, _) => {
                receipt.accepted += 1;
                "accepted"
            }
            (200, _) => {
                receipt.duplicate += 1;
                "duplicate"
            }
            (_, Some(problem)) => {
                receipt.rejected += 1;
                problem.kind().slug()
            }
            (_, None) => {
                receipt.rejected += 1;
                ProblemKind::Internal.slug()
            }
        };
        state.metrics().count_entry(kind, label);
    }
    Ok((StatusCode::OK, Json(receipt)).into_response())
}

/// Hands verified entries to the sequencer and waits until they are durable.
async fn sequence(state: &AppState, candidates: Vec<Candidate>) -> Result<Vec<Sequenced>, Problem> {
    let (reply, answer) = oneshot::channel();
    state
        .sequencer()
        .send(Job::Submit { candidates, reply })
        .await
        .map_err(|reason| Problem::new(ProblemKind::Unavailable, reason))?;
    answer.await.map_err(|_| {
        Problem::new(
            ProblemKind::Unavailable,
            "the sequencer stopped before answering; the entry may or may not be stored: \
             resubmit it (resubmission is idempotent)",
        )
    })
}

/// Everything checked before an entry is sequenced: size, JSON, schema and endpoint,
/// signer and role, strict signature, clock skew.
fn verify(
    state: &AppState,
    bytes: &[u8],
    schema: &'static str,
    now: Timestamp,
) -> Result<Candidate, Problem> {
    let text = entry_text(bytes)?;
    admit_verified(state, state.keys().verify_text(text), schema, now)
}

/// [`verify`] for each line of a batch, in order, shares of the lines on every core, each
/// share's signatures verified at once (`KeyRing::verify_texts`: one field inversion for
/// all of them).
fn verify_lines(
    state: &AppState,
    lines: &[(usize, String)],
    schema: &'static str,
    now: Timestamp,
) -> Vec<(usize, Result<Candidate, Problem>)> {
    lines
        .par_chunks(VERIFIED_TOGETHER)
        .flat_map_iter(|share| {
            let texts: Vec<Result<&str, Problem>> = share
                .iter()
                .map(|(_, line)| entry_text(line.as_bytes()))
                .collect();
            let mut verified = state
                .keys()
                .verify_texts(texts.iter().filter_map(|text| text.as_ref().ok().copied()))
                .into_iter();
            // One verification for each line that is text, in the same order.
            share
                .iter()
                .zip(texts)
                .map(|((n, _), text)| {
                    let outcome = text.and_then(|_| match verified.next() {
                        Some(read) => admit_verified(state, read, schema, now),
                        None => Err(Problem::internal("a line's verification went missing")),
                    });
                    (*n, outcome)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The entry's text, if it is within the size limit and UTF-8.
fn entry_text(bytes: &[u8]) -> Result<&str, Problem> {
    if bytes.len() > ENTRY_BYTES_MAX {
        return Err(Problem::new(
            ProblemKind::TooLarge,
            format!(
                "the entry is {} bytes, over the limit of {ENTRY_BYTES_MAX} bytes",
                bytes.len()
            ),
        ));
    }
    std::str::from_utf8(bytes)
        .map_err(|e| Problem::new(ProblemKind::InvalidEntry, format!("not UTF-8 text: {e}")))
}

/// The checks after the signature's: the endpoint's schema, the clock skew, the size of the
/// canonical form.
fn admit_verified(
    state: &AppState,
    verified: Result<VerifiedEntry, Unverified>,
    schema: &'static str,
    now: Timestamp,
) -> Result<Candidate, Problem> {
    let verified = verified.map_err(|unverified| match unverified {
        Unverified::Invalid(e) => Problem::from(e),
        Unverified::Unauthorised(e) => Problem::from(e),
    })?;
    if verified.entry.schema() != schema {
        return Err(Problem::new(
            ProblemKind::WrongEndpoint,
            format!(
                "this endpoint takes `{schema}` entries, not `{}`",
                verified.entry.schema()
            ),
        )
        .at_pointer("/schema"));
    }
    let submitted = verified.entry.submitted_at();
    let skew = state.config().clock_skew_seconds;
    if submitted.0 > now.0.saturating_add(skew) {
        return Err(Problem::new(
            ProblemKind::ClockSkew,
            format!(
                "submitted_at {} is more than {skew} s after the server's time {}",
                submitted.to_rfc3339(),
                now.to_rfc3339()
            ),
        )
        .at_pointer("/submitted_at"));
    }
    if verified.canonical.full.len() > pacta_log::MAX_ENTRY_BYTES {
        return Err(Problem::new(
            ProblemKind::TooLarge,
            format!(
                "the entry's canonical form is {} bytes, over the log's limit of {} bytes",
                verified.canonical.full.len(),
                pacta_log::MAX_ENTRY_BYTES
            ),
        ));
    }
    Ok(Candidate {
        body: Sha256::digest(&verified.canonical.signed).into(),
        canonical: verified.canonical.full,
        entry: verified.entry,
    })
}
