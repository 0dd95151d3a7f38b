//! The read API: incidents, findings, obligations, the assessment and the agreement. Public
//! and read-only.
//!
//! Lists are paged by an opaque keyset cursor: each answer is
//! `{"items": [...], "next_cursor": "..." | null}`, and the next page is asked for with
//! `cursor=` that value (and the same filters). Pages never skip or repeat a row that stays
//! put, however many rows are added meanwhile. `limit` defaults to [`LIMIT_DEFAULT`] and may
//! not exceed [`LIMIT_MAX`]. Times are RFC 3339 with an offset. Unknown parameters, malformed
//! values and cursors of another list are answered 400 with a problem document.
//!
//! Handlers validate their parameters into a store query, run it on the blocking pool (the
//! store is synchronous) and write the stored JSON bodies out as they are, without parsing
//! them again.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use pacta_core::agreement::model::{Agreement, CommitmentRule, Zone, ZoneShape};
use pacta_core::entry::format_public_key;
use pacta_core::time::Timestamp;
use pacta_store::{
    BBox, FindingQuery, IncidentQuery, ObligationQuery, Page, PageKey, Store, StoreError,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::problem::Problem;
use crate::state::AppState;

pub use pacta_store::LIMIT_MAX;

/// The page size when `limit` is not given.
pub const LIMIT_DEFAULT: u32 = 100;

/// The read routes, under `/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/incidents", get(list_incidents))
        .route("/v1/incidents/{id}", get(get_incident))
        .route("/v1/findings", get(list_findings))
        .route("/v1/findings/{id}", get(get_finding))
        .route("/v1/obligations", get(list_obligations))
        .route("/v1/obligations/{id}", get(get_obligation))
        .route("/v1/assessment", get(get_assessment))
        .route("/v1/agreements", get(list_agreements))
        .route("/v1/agreements/{id}", get(get_agreement))
}

/// Which list a cursor belongs to, so that a cursor of one list is refused by another.
#[derive(Clone, Copy)]
enum List {
    Incidents,
    Findings,
    Obligations,
}

impl List {
    fn tag(self) -> &'static str {
        match self {
            List::Incidents => "incidents",
            List::Findings => "findings",
            List::Obligations => "obligations",
        }
    }
}

/// The opaque cursor of a page position: `LIST|SECONDS|ID`, base64url.
fn encode_cursor(list: List, key: &PageKey) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}|{}", list.tag(), key.at.0, key.id))
}

fn decode_cursor(list: List, cursor: &str) -> Result<PageKey, Problem> {
    let bad = || {
        Problem::bad_request(format!(
            "`cursor`: `{cursor}` is not a cursor of /v1/{} (pass the `next_cursor` of the \
             previous page unchanged)",
            list.tag()
        ))
    };
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(tag), Some(at), Some(id)) if tag == list.tag() => Ok(PageKey {
            at: Timestamp(at.parse().map_err(|_| bad())?),
            id: id.to_owned(),
        }),
        _ => Err(bad()),
    }
}

fn bad_query(rejection: QueryRejection) -> Problem {
    Problem::bad_request(format!("query string: {}", rejection.body_text()))
}

fn parse_time(name: &str, value: &str) -> Result<Timestamp, Problem> {
    value.parse().map_err(|_| {
        Problem::bad_request(format!(
            "`{name}`: `{value}` is not an RFC 3339 time with an offset \
             (e.g. 2026-03-01T00:00:00Z)"
        ))
    })
}

fn parse_range(from: Option<&str>, to: Option<&str>) -> Result<Range, Problem> {
    let from = from.map(|v| parse_time("from", v)).transpose()?;
    let to = to.map(|v| parse_time("to", v)).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(Problem::bad_request(format!(
                "`from` ({f}) is later than `to` ({t})"
            )));
        }
    }
    Ok(Range { from, to })
}

/// A validated `from`/`to` pair: `from <= time < to`.
struct Range {
    from: Option<Timestamp>,
    to: Option<Timestamp>,
}

fn parse_limit(limit: Option<&str>) -> Result<u32, Problem> {
    let Some(text) = limit else {
        return Ok(LIMIT_DEFAULT);
    };
    match text.parse::<u32>() {
        Ok(n) if (1..=LIMIT_MAX).contains(&n) => Ok(n),
        _ => Err(Problem::bad_request(format!(
            "`limit`: `{text}` is not a whole number from 1 to {LIMIT_MAX}"
        ))),
    }
}

fn parse_bbox(text: &str) -> Result<BBox, Problem> {
    let bad = |why: &str| {
        Problem::bad_request(format!(
            "`bbox`: `{text}` {why}; write minlon,minlat,maxlon,maxlat in degrees"
        ))
    };
    let numbers = text
        .split(',')
        .map(|n| n.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect::<Option<Vec<f64>>>()
        .ok_or_else(|| bad("has a value that is not a number"))?;
    let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
        return Err(bad("does not have four values"));
    };
    let lon_ok = |v: f64| (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| (-90.0..=90.0).contains(&v);
    if !(lon_ok(min_lon) && lon_ok(max_lon) && lat_ok(min_lat) && lat_ok(max_lat)) {
        return Err(bad("is outside -180..180 (lon) or -90..90 (lat)"));
    }
    if min_lon > max_lon || min_lat > max_lat {
        return Err(bad("has a minimum above its maximum"));
    }
    Ok(BBox {
        min_lon,
        min_lat,
        max_lon,
        max_lat,
    })
}

/// Accepts `value` only if it is one of `allowed`.
fn one_of(name: &str, value: Option<String>, allowed: &[&str]) -> Result<Option<String>, Problem> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(Problem::bad_request(format!(
            "`{name}`: `{v}` is not one of {}",
            allowed.join(", ")
        ))),
        other => Ok(other),
    }
}

fn cursor(list: List, cursor: Option<&str>) -> Result<Option<PageKey>, Problem> {
    cursor.map(|c| decode_cursor(list, c)).transpose()
}

/// Runs a store read on the blocking pool, once admitted by [`AppState::reads`].
async fn read<T: Send + 'static>(
    state: &AppState,
    run: impl FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Problem> {
    let store: Arc<dyn Store> = state.store().clone();
    let permit = state
        .reads()
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Problem::internal("the store's read gate is closed"))?;
    tokio::task::spawn_blocking(move || {
        let rows = run(store.as_ref());
        drop(permit);
        rows
    })
    .await
    .map_err(|e| Problem::internal(format!("the store query did not finish: {e}")))?
    .map_err(Problem::internal)
}

fn json_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `{"items":[BODY,...],"next_cursor":...}` from stored JSON bodies, written as they are.
fn page_response<T>(list: List, page: &Page<T>, body: fn(&T) -> &str) -> Response {
    let bytes: usize = page.items.iter().map(|r| body(r).len() + 1).sum();
    let mut out = String::with_capacity(bytes + 64);
    out.push_str("{\"items\":[");
    for (i, row) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(body(row));
    }
    out.push_str("],\"next_cursor\":");
    match &page.next {
        Some(key) => {
            // Base64url needs no JSON escaping.
            out.push('"');
            out.push_str(&encode_cursor(list, key));
            out.push('"');
        }
        None => out.push_str("null"),
    }
    out.push('}');
    json_response(out)
}

fn found(what: &str, id: &str, body: Option<String>) -> Result<Response, Problem> {
    body.map(json_response)
        .ok_or_else(|| Problem::not_found(format!("no {what} with id `{id}`")))
}

/// Parameters of `GET /v1/incidents`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentParams {
    bbox: Option<String>,
    from: Option<String>,
    to: Option<String>,
    kind: Option<String>,
    party: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl IncidentParams {
    fn into_query(self) -> Result<IncidentQuery, Problem> {
        let range = parse_range(self.from.as_deref(), self.to.as_deref())?;
        Ok(IncidentQuery {
            bbox: self.bbox.as_deref().map(parse_bbox).transpose()?,
            from: range.from,
            to: range.to,
            kind: self.kind,
            party: self.party,
            after: cursor(List::Incidents, self.cursor.as_deref())?,
            limit: parse_limit(self.limit.as_deref())?,
        })
    }
}

async fn list_incidents(
    State(state): State<AppState>,
    params: Result<Query<IncidentParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let query = params.map_err(bad_query)?.0.into_query()?;
    let page = read(&state, move |store| store.incidents(&query)).await?;
    Ok(page_response(List::Incidents, &page, |r| &r.body))
}

async fn get_incident(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let key = id.clone();
    let row = read(&state, move |store| store.incident(&key)).await?;
    found("incident", &id, row.map(|r| r.body))
}

/// Parameters of `GET /v1/findings`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FindingParams {
    party: Option<String>,
    commitment: Option<String>,
    status: Option<String>,
    severity: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl FindingParams {
    fn into_query(self) -> Result<FindingQuery, Problem> {
        let range = parse_range(self.from.as_deref(), self.to.as_deref())?;
        Ok(FindingQuery {
            party: self.party,
            commitment: self.commitment,
            status: one_of(
                "status",
                self.status,
                &["provisional", "contested", "confirmed", "dismissed"],
            )?,
            severity: one_of("severity", self.severity, &["minor", "serious", "grave"])?,
            from: range.from,
            to: range.to,
            after: cursor(List::Findings, self.cursor.as_deref())?,
            limit: parse_limit(self.limit.as_deref())?,
        })
    }
}

async fn list_findings(
    State(state): State<AppState>,
    params: Result<Query<FindingParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let query = params.map_err(bad_query)?.0.into_query()?;
    let page = read(&state, move |store| store.findings(&query)).await?;
    Ok(page_response(List::Findings, &page, |r| &r.body))
}

async fn get_finding(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let key = id.clone();
    let row = read(&state, move |store| store.finding(&key)).await?;
    found("finding", &id, row.map(|r| r.body))
}

/// Parameters of `GET /v1/obligations`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObligationParams {
    guarantor: Option<String>,
    status: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl ObligationParams {
    fn into_query(self) -> Result<ObligationQuery, Problem> {
        Ok(ObligationQuery {
            guarantor: self.guarantor,
            status: one_of(
                "status",
                self.status,
                &["open", "fulfilled", "fulfilled_late", "overdue"],
            )?,
            after: cursor(List::Obligations, self.cursor.as_deref())?,
            limit: parse_limit(self.limit.as_deref())?,
        })
    }
}

async fn list_obligations(
    State(state): State<AppState>,
    params: Result<Query<ObligationParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let query = params.map_err(bad_query)?.0.into_query()?;
    let page = read(&state, move |store| store.obligations(&query)).await?;
    Ok(page_response(List::Obligations, &page, |r| &r.body))
}

async fn get_obligation(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let key = id.clone();
    let row = read(&state, move |store| store.obligation(&key)).await?;
    found("obligation", &id, row.map(|r| r.body))
}

/// Parameters of `GET /v1/assessment`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessmentParams {
    as_of: Option<String>,
}

/// The assessment as of now, or as of a past `as_of` (recomputed from the entries submitted
/// by then): totals, phases, indicators and the digest, with the last digest entry logged.
/// The lists themselves are paged by the routes above.
async fn get_assessment(
    State(state): State<AppState>,
    params: Result<Query<AssessmentParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let params = params.map_err(bad_query)?.0;
    let now = state.now();
    let as_of = match params.as_of.as_deref() {
        None => now,
        Some(text) => parse_time("as_of", text)?,
    };
    if as_of > now {
        // Deadlines would pass that have not: an assessment of the future is not one.
        return Err(Problem::bad_request(format!(
            "`as_of` ({as_of}) is later than the server's time ({now})"
        )));
    }
    let computing = state.clone();
    let summary = tokio::task::spawn_blocking(move || -> Result<Value, Problem> {
        let assessment = computing.assessment_as_of(as_of)?;
        let digest = assessment.digest().map_err(Problem::internal)?;
        let logged = computing
            .store()
            .latest_assessment()
            .map_err(Problem::internal)?;
        Ok(json!({
            "agreement": assessment.agreement,
            "agreement_version": assessment.agreement_version,
            "as_of": assessment.as_of,
            "digest": digest,
            "counts": assessment.counts,
            "phases": assessment.phases,
            "indicators": assessment.indicators,
            "last_logged": logged.map(|a| json!({
                "log_index": a.log_index,
                "entries": a.entries,
                "as_of": a.as_of,
                "digest": a.digest,
            })),
        }))
    })
    .await
    .map_err(|e| Problem::internal(format!("the assessment did not finish: {e}")))??;
    Ok(Json(summary).into_response())
}

/// `GET /v1/agreements`: the agreement this server enforces, in brief.
async fn list_agreements(State(state): State<AppState>) -> Response {
    let a = state.agreement();
    Json(json!({
        "items": [{
            "id": a.id,
            "title": a.title,
            "version": a.version,
            "effective": a.effective,
            "until": a.until,
        }],
        "next_cursor": null,
    }))
    .into_response()
}

/// `GET /v1/agreements/{id}`: the agreement in full, for readers who check a finding
/// against the words it applies.
async fn get_agreement(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let agreement = state.agreement();
    if agreement.id != id {
        return Err(Problem::not_found(format!("no agreement with id `{id}`")));
    }
    Ok(Json(agreement_view(agreement)).into_response())
}

fn keys(keys: &[pacta_core::agreement::model::PublicKey]) -> Vec<String> {
    keys.iter().map(format_public_key).collect()
}

/// The public view of an agreement: who is bound, who guarantees, who monitors with which
/// keys, what each commitment says, and the zones as GeoJSON where they are drawn.
fn agreement_view(a: &Agreement) -> Value {
    let parties: Vec<Value> = a
        .parties
        .iter()
        .map(|(id, p)| json!({"id": id, "name": p.name, "controls": p.controls, "keys": keys(&p.keys)}))
        .collect();
    let guarantors: Vec<Value> = a
        .guarantors
        .iter()
        .map(|(id, g)| json!({"id": id, "name": g.name, "keys": keys(&g.keys)}))
        .collect();
    let monitors: Vec<Value> = a
        .monitors
        .iter()
        .map(|(id, m)| {
            json!({"id": id, "organisation": m.organisation, "modes": m.modes, "keys": keys(&m.keys)})
        })
        .collect();
    let panel: Vec<Value> = a
        .panel
        .iter()
        .map(|(id, p)| json!({"id": id, "name": p.name, "keys": keys(&p.keys)}))
        .collect();
    let commitments: Vec<Value> = a
        .commitments
        .iter()
        .map(|c| {
            let (kind, act, deadline) = match &c.rule {
                CommitmentRule::Prohibition(_) => ("prohibition", None, None),
                CommitmentRule::Obligation { act, deadline } => {
                    ("obligation", Some(act.as_str()), *deadline)
                }
            };
            json!({
                "id": c.id,
                "article": c.article,
                "text": c.text,
                "binds": c.binds,
                "rule": kind,
                "act": act,
                "deadline": deadline,
                "zone": c.zone,
                "from": c.from,
                "until": c.until,
                "evidence": c.evidence,
                "severity": c.severity.base,
            })
        })
        .collect();
    let zones: Vec<Value> = a.zones.values().map(zone_view).collect();
    json!({
        "id": a.id,
        "title": a.title,
        "version": a.version,
        "effective": a.effective,
        "until": a.until,
        "objection_window_seconds": a.objection_window.0,
        "parties": parties,
        "guarantors": guarantors,
        "monitors": monitors,
        "panel": panel,
        "commitments": commitments,
        "zones": zones,
    })
}

/// A zone: drawn zones carry their GeoJSON geometry; derived zones say how they are derived.
fn zone_view(zone: &Zone) -> Value {
    let (kind, geometry, definition) = match &zone.shape {
        ZoneShape::Area(shape) => (
            "area",
            Some(geojson::Geometry::new(geojson::Value::from(shape))),
            Value::Null,
        ),
        ZoneShape::Line(shape) => (
            "line",
            Some(geojson::Geometry::new(geojson::Value::from(shape))),
            Value::Null,
        ),
        ZoneShape::Within { of, km, inside } => (
            "within",
            None,
            json!({"of": of, "km": km, "inside": inside}),
        ),
        ZoneShape::Union(of) => ("union", None, json!({"of": of})),
        ZoneShape::Intersection(of) => ("intersection", None, json!({"of": of})),
        ZoneShape::Difference(a, b) => ("difference", None, json!({"of": a, "minus": b})),
    };
    json!({
        "id": zone.id,
        "label": zone.label,
        "kind": kind,
        "geometry": geometry,
        "definition": definition,
    })
}
