//! The read API over real HTTP: a server on an ephemeral port of 127.0.0.1, on a data
//! directory made from `examples/demo`, fed signed reports through `POST /v1/reports`, then
//! read back through `/v1/incidents`, `/v1/findings`, `/v1/obligations`, `/v1/assessment`
//! and `/v1/agreements`.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use pacta_core::entry::sign_entry;
use pacta_core::time::Timestamp;
use pacta_server::{Config, DataDir};
use serde_json::{json, Value};

/// 2026-03-02T00:00:00Z: the first incident.
const FIRST: i64 = 1_772_409_600;
const HOUR: i64 = 3_600;
/// The server's (fake) time: 2026-03-20T00:00:00Z, after every report.
const NOW: i64 = 1_773_964_800;
/// How many incidents the fixture creates.
const INCIDENTS: usize = 12;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo_key(name: &str) -> SigningKey {
    let path = repo_root().join(format!("examples/demo/keys/{name}.key.json"));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let secret = STANDARD.decode(file["secret"].as_str().unwrap()).unwrap();
    SigningKey::from_bytes(&secret.try_into().unwrap())
}

fn rfc3339(seconds: i64) -> String {
    Timestamp(seconds).to_rfc3339()
}

/// Incident `i`: 3 hours and about 5.5 km from the previous one, `burst` for every third
/// and `explosion` otherwise, attributed by both monitors to party `a` (even) or `b` (odd).
fn incident_facts(i: usize) -> (i64, f64, f64, &'static str, &'static str) {
    let start = FIRST + i as i64 * 3 * HOUR;
    let lat = 48.0 + 0.05 * i as f64;
    let kind = if i.is_multiple_of(3) {
        "burst"
    } else {
        "explosion"
    };
    let party = if i.is_multiple_of(2) { "a" } else { "b" };
    (start, 37.5, lat, kind, party)
}

/// Two patrols' signed reports of each incident, as one NDJSON batch.
fn reports_batch() -> String {
    let patrols = [("imm-patrol-1", "saw"), ("imm-patrol-2", "heard")];
    let keys = patrols.map(|(name, _)| demo_key(name));
    let mut lines = Vec::new();
    for i in 0..INCIDENTS {
        let (start, lon, lat, kind, party) = incident_facts(i);
        for (n, ((monitor, mode), key)) in patrols.iter().zip(&keys).enumerate() {
            let report = json!({
                "schema": "pacta.report/1",
                "id": format!("q{i:02}-{n}"),
                "agreement": "demo-ceasefire",
                "monitor": monitor,
                "submitted_at": rfc3339(start + 600),
                "observed": {"start": rfc3339(start)},
                "location": {"point": [lon, lat], "uncertainty_m": 300},
                "event": {"kind": kind, "count": 2, "weapon_class": "undetermined"},
                "mode": mode,
                "attribution": {"party": party, "basis": "fire seen leaving their positions"},
            });
            lines.push(sign_entry(&report, key).unwrap().to_string());
        }
    }
    lines.join("\n") + "\n"
}

/// A server on the demo agreement on an ephemeral port, stopped when dropped (before its
/// directory is removed).
struct DemoServer {
    server: common::TestServer,
    _dir: tempfile::TempDir,
}

/// A response: status, content type and body (JSON, or the text when it is not JSON).
struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

impl DemoServer {
    /// Starts a server on the demo agreement and feeds it the fixture's reports; returns
    /// once every incident is readable.
    fn with_incidents() -> DemoServer {
        let demo = DemoServer::start();
        let answer = demo
            .server
            .post("/v1/reports", "application/x-ndjson", &reports_batch());
        assert!(
            (200..300).contains(&answer.status),
            "batch refused: {}",
            answer.status
        );
        demo.wait_for_incidents(INCIDENTS);
        demo
    }

    fn start() -> DemoServer {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        DataDir::create(&data, &repo_root().join("examples/demo")).unwrap();
        let config = Config {
            data,
            listen: "127.0.0.1:0".parse().unwrap(),
            checkpoint_interval_ms: 20,
            ..Config::default()
        };
        DemoServer {
            server: common::TestServer::start_with(config, Timestamp(NOW)),
            _dir: dir,
        }
    }

    fn get(&self, path_and_query: &str) -> Answer {
        let response = self.server.get(path_and_query);
        Answer {
            status: response.status,
            content_type: response.content_type,
            body: serde_json::from_str(&response.body).unwrap_or(Value::String(response.body)),
        }
    }

    fn ok(&self, path_and_query: &str) -> Value {
        let answer = self.get(path_and_query);
        assert_eq!(answer.status, 200, "{path_and_query}: {}", answer.body);
        assert_eq!(answer.content_type, "application/json", "{path_and_query}");
        answer.body
    }

    /// The ids of a list's items, following `next_cursor` to the end.
    fn all_ids(&self, path: &str, filters: &str, limit: u32) -> (Vec<String>, usize) {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut query = format!("{path}?limit={limit}{filters}");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            let page = self.ok(&query);
            pages += 1;
            ids.extend(item_ids(&page));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return (ids, pages),
            }
        }
    }

    fn wait_for_incidents(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let page = self.ok("/v1/incidents?limit=1000");
            let have = page["items"].as_array().map_or(0, Vec::len);
            if have >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "only {have} of {n} incidents after 30 s"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

fn item_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The fixture's incident ids (`inc:` and the first report's id) for which `keep` holds.
fn expected_incidents(keep: impl Fn(usize) -> bool) -> Vec<String> {
    (0..INCIDENTS)
        .filter(|&i| keep(i))
        .map(|i| format!("inc:q{i:02}-0"))
        .collect()
}

#[test]
fn incident_pages_cover_every_incident_once_in_time_order() {
    let server = DemoServer::with_incidents();
    let (ids, pages) = server.all_ids("/v1/incidents", "", 5);
    assert_eq!(pages, 3);
    assert_eq!(ids, expected_incidents(|_| true));
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "no duplicates"
    );
}

#[test]
fn filtered_incident_pages_have_no_gaps_or_duplicates() {
    let server = DemoServer::with_incidents();
    let (ids, _) = server.all_ids("/v1/incidents", "&party=b", 2);
    assert_eq!(ids, expected_incidents(|i| !i.is_multiple_of(2)));
}

#[test]
fn incidents_filter_by_bbox() {
    let server = DemoServer::with_incidents();
    let page = server.ok("/v1/incidents?bbox=37.4,47.99,37.6,48.12");
    assert_eq!(item_ids(&page), expected_incidents(|i| i <= 2));
}

#[test]
fn incidents_filter_by_time_range_from_inclusive_to_exclusive() {
    let server = DemoServer::with_incidents();
    let from = rfc3339(FIRST + 3 * 3 * HOUR);
    let to = rfc3339(FIRST + 6 * 3 * HOUR);
    let page = server.ok(&format!("/v1/incidents?from={from}&to={to}"));
    assert_eq!(item_ids(&page), expected_incidents(|i| (3..6).contains(&i)));
}

#[test]
fn incidents_filter_by_kind() {
    let server = DemoServer::with_incidents();
    let page = server.ok("/v1/incidents?kind=burst");
    assert_eq!(item_ids(&page), expected_incidents(|i| i.is_multiple_of(3)));
}

#[test]
fn incidents_filter_by_party() {
    let server = DemoServer::with_incidents();
    let page = server.ok("/v1/incidents?party=a");
    assert_eq!(item_ids(&page), expected_incidents(|i| i.is_multiple_of(2)));
}

#[test]
fn an_incident_is_read_by_id_and_an_unknown_one_is_404() {
    let server = DemoServer::with_incidents();
    let incident = server.ok("/v1/incidents/inc:q04-0");
    assert_eq!(incident["reports"], json!(["q04-0", "q04-1"]));
    let missing = server.get("/v1/incidents/inc:nothing");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.content_type, "application/problem+json");
}

#[test]
fn findings_are_listed_filtered_and_read_by_id() {
    let server = DemoServer::with_incidents();
    let all = server.ok("/v1/findings?limit=1000");
    let items = all["items"].as_array().unwrap();
    assert!(
        !items.is_empty(),
        "attributed fire seen by two patrols is a finding"
    );
    let against_b = server.ok("/v1/findings?party=b&limit=1000");
    let parties: BTreeSet<&str> = against_b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["party"].as_str().unwrap())
        .collect();
    assert_eq!(parties, BTreeSet::from(["b"]));
    let id = items[0]["id"].as_str().unwrap();
    assert_eq!(server.ok(&format!("/v1/findings/{id}"))["id"], json!(id));
}

#[test]
fn obligations_filter_by_guarantor() {
    let server = DemoServer::with_incidents();
    let all = server.ok("/v1/obligations?limit=1000");
    let guarantors: BTreeSet<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["guarantor"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        guarantors.len() >= 2,
        "findings against both parties open obligations: {all}"
    );
    for guarantor in &guarantors {
        let only = server.ok(&format!("/v1/obligations?guarantor={guarantor}&limit=1000"));
        assert!(only["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["guarantor"] == json!(guarantor)));
    }
    let none = server.ok("/v1/obligations?guarantor=nobody");
    assert_eq!(none, json!({"items": [], "next_cursor": null}));
}

#[test]
fn bad_parameters_are_answered_400_with_a_problem() {
    let server = DemoServer::start();
    let findings_cursor = "ZmluZGluZ3N8MXx4"; // base64url of `findings|1|x`
    for query in [
        "/v1/incidents?bbox=1,2,3",
        "/v1/incidents?bbox=a,b,c,d",
        "/v1/incidents?bbox=10,10,5,5",
        "/v1/incidents?bbox=0,0,200,10",
        "/v1/incidents?from=yesterday",
        "/v1/incidents?from=2026-03-05T00:00:00Z&to=2026-03-01T00:00:00Z",
        "/v1/incidents?limit=0",
        "/v1/incidents?limit=1001",
        "/v1/incidents?limit=ten",
        "/v1/incidents?cursor=%%%",
        &format!("/v1/incidents?cursor={findings_cursor}"),
        "/v1/incidents?colour=red",
        "/v1/findings?status=pending",
        "/v1/findings?severity=huge",
        "/v1/obligations?status=late",
        "/v1/assessment?as_of=later",
    ] {
        let answer = server.get(query);
        assert_eq!(answer.status, 400, "{query}: {}", answer.body);
        assert_eq!(answer.content_type, "application/problem+json", "{query}");
        assert_eq!(answer.body["status"], json!(400), "{query}");
        assert!(
            answer.body["detail"]
                .as_str()
                .is_some_and(|d| !d.is_empty()),
            "{query}"
        );
    }
}

#[test]
fn the_assessment_summary_has_the_digest_and_counts_as_of_now() {
    let server = DemoServer::with_incidents();
    let summary = server.ok("/v1/assessment");
    assert_eq!(summary["as_of"], json!(rfc3339(NOW)));
    assert_eq!(summary["counts"]["incidents"], json!(INCIDENTS));
    let digest = summary["digest"].as_str().unwrap();
    assert!(digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn an_assessment_as_of_a_past_time_counts_only_what_was_known_then() {
    let server = DemoServer::with_incidents();
    // Incident i's reports are submitted 10 minutes after its start: by the start of
    // incident 4, incidents 0 to 3 are known.
    let as_of = rfc3339(FIRST + 4 * 3 * HOUR);
    let now = server.ok("/v1/assessment");
    let engine = server.server.state.with_ledger(|l| l.engine()).unwrap();
    let generation = engine.with_engine(|e| e.generation()).unwrap();
    let past = server.ok(&format!("/v1/assessment?as_of={as_of}"));
    assert_eq!(past["counts"]["incidents"], json!(4));
    assert_ne!(past["digest"], now["digest"]);
    // The past is assessed beside the engine: moving it back and forth would make the next
    // store refresh rewrite every row the later entries touch.
    assert_eq!(engine.with_engine(|e| e.generation()).unwrap(), generation);
}

#[test]
fn an_assessment_of_the_future_is_refused() {
    let server = DemoServer::start();
    let answer = server.get(&format!("/v1/assessment?as_of={}", rfc3339(NOW + 3_600)));
    assert_eq!(answer.status, 400);
    assert_eq!(answer.content_type, "application/problem+json");
}

#[test]
fn the_agreement_lists_commitments_keys_and_zones() {
    let server = DemoServer::start();
    let list = server.ok("/v1/agreements");
    assert_eq!(item_ids(&list), vec!["demo-ceasefire"]);
    let agreement = server.ok("/v1/agreements/demo-ceasefire");
    let commitments = agreement["commitments"].as_array().unwrap();
    assert!(commitments
        .iter()
        .all(|c| c["text"].as_str().is_some_and(|t| !t.is_empty())));
    let patrol = agreement["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == json!("imm-patrol-1"))
        .unwrap();
    assert_eq!(
        patrol["keys"],
        json!(["ed25519:ZIWL5dcd/hrjJ+Yf2ROEOjh7ZpNOSq1ltk+9HLHzQnI="])
    );
    let line = agreement["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["id"] == json!("contact_line"))
        .unwrap();
    assert_eq!(line["geometry"]["type"], json!("MultiLineString"));
    let dmz = agreement["zones"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["id"] == json!("dmz"))
        .unwrap();
    assert_eq!(
        dmz["definition"],
        json!({"of": "contact_line", "km": 15.0, "inside": null})
    );
    assert_eq!(server.get("/v1/agreements/other").status, 404);
}

#[test]
fn a_later_change_reaches_the_store_an_incident_whose_reports_are_retracted_disappears() {
    // The first refresh writes every derived row; later ones write only what changed
    // against the rows written before. Retracting both reports of one incident must delete
    // it from the store.
    let demo = DemoServer::with_incidents();
    let gone = "inc:q00-0";
    assert_eq!(demo.get(&format!("/v1/incidents/{gone}")).status, 200);
    let patrols = ["imm-patrol-1", "imm-patrol-2"];
    let lines: Vec<String> = patrols
        .iter()
        .enumerate()
        .map(|(n, monitor)| {
            let retraction = json!({
                "schema": "pacta.retraction/1",
                "id": format!("x00-{n}"),
                "agreement": "demo-ceasefire",
                "monitor": monitor,
                "report": format!("q00-{n}"),
                "submitted_at": rfc3339(NOW - 60),
                "reason": "the patrol's log puts this on another day",
            });
            sign_entry(&retraction, &demo_key(monitor))
                .unwrap()
                .to_string()
        })
        .collect();
    let answer = demo.server.post(
        "/v1/retractions",
        "application/x-ndjson",
        &(lines.join("\n") + "\n"),
    );
    assert!((200..300).contains(&answer.status), "{}", answer.status);

    let deadline = Instant::now() + Duration::from_secs(30);
    while demo.get(&format!("/v1/incidents/{gone}")).status != 404 {
        assert!(
            Instant::now() < deadline,
            "{gone} still in the store after 30 s"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    let (ids, _) = demo.all_ids("/v1/incidents", "", 1000);
    assert_eq!(ids.len(), INCIDENTS - 1);
    assert!(!ids.iter().any(|id| id == gone));
}
