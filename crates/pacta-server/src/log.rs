//! The log's read side: `GET /checkpoint` and `GET /tile/...` (C2SP tlog-tiles, served from
//! the log's public directory), `GET /v1/proofs/entries/{index}` (a C2SP tlog-proof), and
//! `GET /v1/findings/{id}/proof` (a finding's proof bundle).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pacta_log::DirStore;
use serde::Serialize;
use tokio::sync::oneshot;

use crate::datadir::read_log_entry;
use crate::problem::{Problem, ProblemKind};
use crate::sequencer::Job;
use crate::state::AppState;

/// The log routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .route("/v1/proofs/entries/{index}", get(entry_proof))
        .route("/v1/findings/{id}/proof", get(finding_proof))
}

const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

async fn checkpoint(State(state): State<AppState>) -> Result<Response, Problem> {
    let signed = state.lock_log()?.signed_checkpoint().to_owned();
    Ok((
        [
            (header::CONTENT_TYPE, TEXT_PLAIN),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        signed,
    )
        .into_response())
}

/// Whether `path` (below `tile/`) has the shape of a tlog-tiles path: `L/N[.p/W]` or
/// `entries/N[.p/W]`, N in `x`-prefixed groups of three digits.
fn is_tile_path(path: &str) -> bool {
    let (path, width) = match path.split_once(".p/") {
        Some((path, width)) => (path, Some(width)),
        None => (path, None),
    };
    if let Some(width) = width {
        let valid = !width.is_empty()
            && width.len() <= 3
            && width.bytes().all(|b| b.is_ascii_digit())
            && width.parse::<u16>().is_ok_and(|w| (1..=255).contains(&w));
        if !valid {
            return false;
        }
    }
    let mut parts = path.split('/');
    let level_ok = parts.next().is_some_and(|level| {
        level == "entries"
            || (!level.is_empty() && level.len() <= 2 && level.bytes().all(|b| b.is_ascii_digit()))
    });
    let groups: Vec<&str> = parts.collect();
    let digits3 = |s: &str| s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit());
    let groups_ok = match groups.split_last() {
        Some((last, leading)) => {
            digits3(last)
                && leading
                    .iter()
                    .all(|g| g.strip_prefix('x').is_some_and(digits3))
        }
        None => false,
    };
    level_ok && groups_ok
}

async fn tile(
    State(state): State<AppState>,
    Path(path): Path<String>,
) -> Result<Response, Problem> {
    if !is_tile_path(&path) {
        return Err(Problem::not_found(format!(
            "tile/{path} is not a tile path"
        )));
    }
    let file = state.public_dir().join("tile").join(&path);
    match tokio::fs::read(&file).await {
        Ok(bytes) => {
            // Full tiles never change; a partial one is replaced by a wider one later.
            let cache = if path.contains(".p/") {
                "no-cache"
            } else {
                "public, max-age=31536000, immutable"
            };
            Ok((
                [
                    (header::CONTENT_TYPE, "application/octet-stream"),
                    (header::CACHE_CONTROL, cache),
                ],
                bytes,
            )
                .into_response())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Problem::not_found(format!(
            "tile/{path} does not exist (yet)"
        ))),
        Err(e) => Err(Problem::internal(format!("reading tile/{path}: {e}"))),
    }
}

/// Makes sure everything sequenced so far is in a checkpoint (asks the sequencer to
/// integrate when `index` is beyond the last one).
async fn ensure_integrated(state: &AppState, index: u64) -> Result<(), Problem> {
    if index < state.checkpoint_size()? {
        return Ok(());
    }
    let (reply, answer) = oneshot::channel();
    state
        .sequencer()
        .send(Job::Integrate { reply: Some(reply) })
        .await
        .map_err(|reason| Problem::new(ProblemKind::Unavailable, reason))?;
    answer
        .await
        .map_err(|_| Problem::new(ProblemKind::Unavailable, "the sequencer stopped"))?
        .map_err(|reason| Problem::internal(format!("integrating the log: {reason}")))?;
    state.note_checkpoint();
    Ok(())
}

async fn entry_proof(
    State(state): State<AppState>,
    Path(index): Path<String>,
) -> Result<Response, Problem> {
    let index: u64 = index
        .parse()
        .map_err(|_| Problem::bad_request(format!("`{index}` is not an entry index")))?;
    let sequenced = state.with_ledger(|ledger| ledger.log_size())?;
    if index >= sequenced {
        return Err(Problem::not_found(format!(
            "the log has {sequenced} entries; there is no entry {index}"
        )));
    }
    ensure_integrated(&state, index).await?;
    let proof = state
        .lock_log()?
        .inclusion_proof(index)
        .map_err(|e| Problem::internal(format!("proof of entry {index}: {e}")))?;
    Ok(([(header::CONTENT_TYPE, TEXT_PLAIN)], proof.to_text()).into_response())
}

/// One log entry with its inclusion proof.
#[derive(Serialize)]
pub struct ProvenEntry {
    /// Its index in the log.
    pub index: u64,
    /// The entry's exact bytes (RFC 8785 JSON, UTF-8): hash them as a leaf to check.
    pub entry: String,
    /// A C2SP tlog-proof of the entry against `checkpoint`.
    pub proof: String,
}

/// Everything needed to check a finding without trusting the server: the agreement entry and
/// every report it rests on, each with its inclusion proof against one signed checkpoint.
#[derive(Serialize)]
pub struct FindingProof {
    /// The finding, as the current assessment states it.
    pub finding: serde_json::Value,
    /// The log's origin (the checkpoints' first line and signer name).
    pub origin: String,
    /// The signed checkpoint every proof is against.
    pub checkpoint: String,
    /// The `pacta.agreement/1` entry: the agreement text the finding applied.
    pub agreement: ProvenEntry,
    /// Each report the finding rests on, by id order.
    pub reports: Vec<ProvenEntry>,
}

async fn finding_proof(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let assessment = state.assessment()?;
    let finding = assessment
        .findings
        .iter()
        .find(|f| f.id == id)
        .ok_or_else(|| Problem::not_found(format!("no finding `{id}`")))?;
    let mut indexes = Vec::with_capacity(finding.reports.len());
    for report in &finding.reports {
        let index = state.index_of(report)?.ok_or_else(|| {
            Problem::internal(format!(
                "report `{report}` of finding `{id}` is not in the log"
            ))
        })?;
        indexes.push(index);
    }
    let highest = indexes.iter().copied().max().unwrap_or(0);
    ensure_integrated(&state, highest).await?;
    let finding_json = serde_json::to_value(finding)
        .map_err(|e| Problem::internal(format!("serializing finding `{id}`: {e}")))?;
    let public_dir = state.public_dir().clone();
    let log = state.clone();
    let bundle = tokio::task::spawn_blocking(move || -> Result<FindingProof, Problem> {
        let source = DirStore::new(&public_dir)
            .map_err(|e| Problem::internal(format!("opening the log: {e}")))?;
        let writer = log.lock_log()?;
        let size = writer.checkpoint().size;
        let prove = |index: u64| -> Result<ProvenEntry, Problem> {
            let bytes = read_log_entry(&source, index, size).map_err(Problem::internal)?;
            let proof = writer
                .inclusion_proof(index)
                .map_err(|e| Problem::internal(format!("proof of entry {index}: {e}")))?;
            Ok(ProvenEntry {
                index,
                entry: String::from_utf8(bytes).map_err(|_| {
                    Problem::internal(format!("log entry {index} is not UTF-8 JSON"))
                })?,
                proof: proof.to_text(),
            })
        };
        let agreement = prove(0)?;
        let reports = indexes
            .into_iter()
            .map(prove)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FindingProof {
            finding: finding_json,
            origin: writer.checkpoint().origin.clone(),
            checkpoint: writer.signed_checkpoint().to_owned(),
            agreement,
            reports,
        })
    })
    .await
    .map_err(|e| Problem::internal(format!("proof task failed: {e}")))??;
    Ok(Json(bundle).into_response())
}

#[cfg(test)]
mod tests {
    use super::is_tile_path;

    #[test]
    fn tile_paths_follow_tlog_tiles() {
        assert!(is_tile_path("0/000"));
        assert!(is_tile_path("1/x001/234.p/17"));
        assert!(is_tile_path("entries/000.p/3"));
        assert!(!is_tile_path("0/../checkpoint"));
        assert!(!is_tile_path("0/0"));
        assert!(!is_tile_path("entries/000.p/256"));
        assert!(!is_tile_path("entries/001/002"));
    }
}
