//! The behaviour every [`Store`] backend must have, written once over `&dyn Store`.
//!
//! A backend's test file calls [`conformance_tests!`] with an expression that opens a fresh,
//! empty store; each check below becomes one test.

use pacta_store::{
    AssessmentRecord, BBox, CheckpointRecord, DerivedDelta, DerivedRows, EntryRecord, FindingQuery,
    FindingRow, IncidentQuery, IncidentRow, ObligationQuery, ObligationRow, PageKey, ReportFacts,
    Signer, Store, StoreError, Timestamp, LIMIT_MAX,
};

/// Declares one `#[test]` per conformance check, each on a store made by `$open`.
#[macro_export]
macro_rules! conformance_tests {
    ($open:expr; $($check:ident),* $(,)?) => {$(
        #[test]
        fn $check() {
            let (_guard, store) = $open;
            $crate::conformance::$check(&*store);
        }
    )*};
}

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn entry(log_index: u64, id: &str) -> EntryRecord {
    let canonical = format!(r#"{{"id":"{id}","schema":"pacta.report/1"}}"#).into_bytes();
    EntryRecord {
        log_index,
        id: Some(id.to_string()),
        schema: "pacta.report/1".into(),
        signer: Some(Signer {
            role: "monitor".into(),
            id: "m1".into(),
        }),
        submitted_at: Some(Timestamp(T0 + log_index as i64)),
        body_sha256: EntryRecord::hash_body(&canonical),
        canonical,
        report: Some(ReportFacts {
            id: id.to_string(),
            monitor: "m1".into(),
            kind: "artillery".into(),
            observed_start: Timestamp(T0),
            observed_end: Timestamp(T0 + 60),
            lon: 37.5,
            lat: 48.0,
        }),
    }
}

fn agreement_entry(log_index: u64) -> EntryRecord {
    let canonical = br#"{"schema":"pacta.agreement/1"}"#.to_vec();
    EntryRecord {
        log_index,
        id: None,
        schema: "pacta.agreement/1".into(),
        signer: None,
        submitted_at: None,
        body_sha256: EntryRecord::hash_body(&canonical),
        canonical,
        report: None,
    }
}

fn append(store: &dyn Store, entries: &[EntryRecord]) {
    let mut tx = store.begin().expect("begin");
    tx.append_entries(entries).expect("append");
    tx.commit().expect("commit");
}

fn incident(
    id: &str,
    start: i64,
    lon: f64,
    lat: f64,
    kinds: &[&str],
    party: Option<&str>,
) -> IncidentRow {
    IncidentRow {
        id: id.into(),
        start: Timestamp(start),
        end: Timestamp(start + 60),
        lon,
        lat,
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        party: party.map(str::to_string),
        body: format!(r#"{{"id":"{id}","start":{start}}}"#),
    }
}

fn finding(
    id: &str,
    at: i64,
    party: &str,
    commitment: &str,
    status: &str,
    severity: &str,
) -> FindingRow {
    FindingRow {
        id: id.into(),
        commitment: commitment.into(),
        party: Some(party.into()),
        status: status.into(),
        severity: severity.into(),
        established_at: Timestamp(at),
        incident: None,
        body: format!(r#"{{"id":"{id}","status":"{status}"}}"#),
    }
}

fn obligation(id: &str, at: i64, guarantor: &str, status: &str) -> ObligationRow {
    ObligationRow {
        id: id.into(),
        guarantor: guarantor.into(),
        status: status.into(),
        opened_at: Timestamp(at),
        due_at: Timestamp(at + 86_400),
        body: format!(r#"{{"id":"{id}","status":"{status}"}}"#),
    }
}

fn rows(incidents: Vec<IncidentRow>) -> DerivedRows {
    DerivedRows {
        incidents,
        ..DerivedRows::default()
    }
}

fn ids<T>(items: &[T], id: fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|r| id(r).to_string()).collect()
}

fn incident_ids(store: &dyn Store, query: IncidentQuery) -> Vec<String> {
    let page = store.incidents(&query).expect("incidents");
    ids(&page.items, |r| &r.id)
}

/// A grid of incidents: 10 x 10 positions, one every hour, several sharing a start time.
fn incident_grid() -> Vec<IncidentRow> {
    let mut out = Vec::new();
    for i in 0..100i64 {
        let lon = 30.0 + (i % 10) as f64;
        let lat = 45.0 + (i / 10) as f64;
        // Starts repeat every 7 incidents, so pages must break ties by id.
        let start = T0 + (i % 7) * 3_600;
        let kinds: &[&str] = if i % 2 == 0 {
            &["artillery"]
        } else {
            &["small_arms", "mortar"]
        };
        let party = if i % 3 == 0 {
            Some("east")
        } else {
            Some("west")
        };
        out.push(incident(
            &format!("inc:r{i:03}"),
            start,
            lon,
            lat,
            kinds,
            party,
        ));
    }
    out
}

pub fn empty_store_starts_at_log_index_zero(store: &dyn Store) {
    assert_eq!(store.next_log_index().unwrap(), 0);
    assert_eq!(store.entry(0).unwrap(), None);
    assert!(store.entries(0, 10).unwrap().is_empty());
    assert_eq!(store.latest_checkpoint().unwrap(), None);
    assert_eq!(store.latest_assessment().unwrap(), None);
}

pub fn entries_read_back_by_index_and_by_id(store: &dyn Store) {
    let written = vec![agreement_entry(0), entry(1, "r1"), entry(2, "r2")];
    append(store, &written);
    let mut by_index = store.entry(1).unwrap().expect("entry 1");
    by_index.report = written[1].report.clone();
    assert_eq!(by_index, written[1]);
    assert_eq!(
        store.entry_by_id("r2").unwrap().map(|e| e.log_index),
        Some(2)
    );
    assert_eq!(store.entry_by_id("r9").unwrap(), None);
    assert_eq!(store.entry(0).unwrap().and_then(|e| e.signer), None);
}

pub fn next_log_index_follows_the_last_entry(store: &dyn Store) {
    append(store, &[agreement_entry(0), entry(1, "r1")]);
    assert_eq!(store.next_log_index().unwrap(), 2);
    append(store, &[entry(2, "r2")]);
    assert_eq!(store.next_log_index().unwrap(), 3);
}

pub fn entries_list_in_log_order_from_an_index(store: &dyn Store) {
    append(
        store,
        &[
            entry(3, "r3"),
            agreement_entry(0),
            entry(1, "r1"),
            entry(2, "r2"),
        ],
    );
    let listed: Vec<u64> = store
        .entries(1, 2)
        .unwrap()
        .iter()
        .map(|e| e.log_index)
        .collect();
    assert_eq!(listed, vec![1, 2]);
}

pub fn entries_with_schema_skip_other_schemas(store: &dyn Store) {
    append(
        store,
        &[agreement_entry(0), entry(1, "r1"), agreement_entry(2)],
    );
    let listed: Vec<u64> = store
        .entries_with_schema("pacta.agreement/1", 0, 10)
        .unwrap()
        .iter()
        .map(|e| e.log_index)
        .collect();
    assert_eq!(listed, vec![0, 2]);
}

pub fn storing_the_same_entry_again_is_a_no_op(store: &dyn Store) {
    append(store, &[entry(1, "r1")]);
    append(store, &[entry(1, "r1")]);
    assert_eq!(store.entries(0, 10).unwrap().len(), 1);
}

pub fn another_entry_at_a_used_log_index_is_a_conflict(store: &dyn Store) {
    append(store, &[entry(1, "r1")]);
    let mut tx = store.begin().unwrap();
    let err = tx.append_entries(&[entry(1, "r2")]).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
}

pub fn a_used_id_at_another_log_index_is_a_conflict(store: &dyn Store) {
    append(store, &[entry(1, "r1")]);
    let mut tx = store.begin().unwrap();
    let err = tx.append_entries(&[entry(2, "r1")]).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
}

pub fn a_dropped_transaction_writes_nothing(store: &dyn Store) {
    {
        let mut tx = store.begin().unwrap();
        tx.append_entries(&[entry(1, "r1")]).unwrap();
        tx.apply(&DerivedDelta::between(
            &DerivedRows::default(),
            &rows(incident_grid()),
        ))
        .unwrap();
    }
    assert_eq!(store.next_log_index().unwrap(), 0);
    assert_eq!(store.incident("inc:r000").unwrap(), None);
    // The writer is free again.
    append(store, &[entry(1, "r1")]);
}

pub fn uncommitted_writes_are_invisible_to_readers(store: &dyn Store) {
    let mut tx = store.begin().unwrap();
    tx.append_entries(&[entry(1, "r1")]).unwrap();
    assert_eq!(store.entry_by_id("r1").unwrap(), None);
    tx.commit().unwrap();
    assert!(store.entry_by_id("r1").unwrap().is_some());
}

pub fn reports_are_indexed_with_their_entry(store: &dyn Store) {
    append(store, &[entry(1, "r1")]);
    assert_eq!(store.report("r1").unwrap(), entry(1, "r1").report);
    assert_eq!(store.report("r2").unwrap(), None);
}

pub fn replace_derived_writes_then_changes_nothing_the_second_time(store: &dyn Store) {
    let first = store.replace_derived(&rows(incident_grid())).unwrap();
    assert_eq!((first.upserted, first.deleted), (100, 0));
    let again = store.replace_derived(&rows(incident_grid())).unwrap();
    assert_eq!((again.upserted, again.deleted), (0, 0));
    assert_eq!(
        store.incident("inc:r042").unwrap(),
        Some(incident_grid()[42].clone())
    );
}

pub fn replace_derived_rewrites_changed_rows_and_deletes_vanished_ones(store: &dyn Store) {
    store.replace_derived(&rows(incident_grid())).unwrap();
    let mut next = incident_grid();
    next.retain(|r| r.id != "inc:r000");
    next[0].party = Some("north".into());
    next[0].body.push(' ');
    let counts = store.replace_derived(&rows(next.clone())).unwrap();
    assert_eq!((counts.upserted, counts.deleted), (1, 1));
    assert_eq!(store.incident("inc:r000").unwrap(), None);
    assert_eq!(store.incident(&next[0].id).unwrap(), Some(next[0].clone()));
}

pub fn applying_a_delta_between_rows_equals_replacing_them(store: &dyn Store) {
    let old = rows(incident_grid());
    store.replace_derived(&old).unwrap();
    let mut new = old.clone();
    new.incidents.truncate(50);
    new.findings.push(finding(
        "c1@inc:r001",
        T0,
        "east",
        "c1",
        "provisional",
        "grave",
    ));
    let delta = DerivedDelta::between(&old, &new);
    let mut tx = store.begin().unwrap();
    tx.apply(&delta).unwrap();
    tx.commit().unwrap();
    let fingerprints = store.derived_fingerprints().unwrap();
    assert_eq!(fingerprints.incidents.len(), 50);
    assert!(DerivedDelta::from_fingerprints(&fingerprints, &new).is_empty());
}

pub fn incidents_filter_by_bbox(store: &dyn Store) {
    store.replace_derived(&rows(incident_grid())).unwrap();
    let found = incident_ids(
        store,
        IncidentQuery {
            bbox: Some(BBox {
                min_lon: 30.5,
                min_lat: 45.0,
                max_lon: 32.0,
                max_lat: 46.0,
            }),
            limit: 100,
            ..IncidentQuery::default()
        },
    );
    let mut found_sorted = found.clone();
    found_sorted.sort();
    // lon 31 and 32 (columns 1, 2) on rows lat 45 and 46 (rows 0, 1).
    assert_eq!(
        found_sorted,
        vec!["inc:r001", "inc:r002", "inc:r011", "inc:r012"]
    );
}

pub fn incidents_filter_by_start_from_inclusive_to_exclusive(store: &dyn Store) {
    store.replace_derived(&rows(incident_grid())).unwrap();
    let page = store
        .incidents(&IncidentQuery {
            from: Some(Timestamp(T0 + 3_600)),
            to: Some(Timestamp(T0 + 3 * 3_600)),
            limit: 100,
            ..IncidentQuery::default()
        })
        .unwrap();
    let expected = incident_grid()
        .iter()
        .filter(|r| r.start.0 == T0 + 3_600 || r.start.0 == T0 + 2 * 3_600)
        .count();
    assert_eq!(page.items.len(), expected);
    assert!(page
        .items
        .iter()
        .all(|r| r.start.0 >= T0 + 3_600 && r.start.0 < T0 + 3 * 3_600));
}

pub fn incidents_filter_by_whole_kind(store: &dyn Store) {
    let mut grid = incident_grid();
    grid.push(incident(
        "inc:x",
        T0,
        30.0,
        45.0,
        &["artillery_heavy"],
        None,
    ));
    store.replace_derived(&rows(grid)).unwrap();
    let mortar = incident_ids(
        store,
        IncidentQuery {
            kind: Some("mortar".into()),
            limit: 1000,
            ..IncidentQuery::default()
        },
    );
    assert_eq!(mortar.len(), 50);
    let artillery = incident_ids(
        store,
        IncidentQuery {
            kind: Some("artillery".into()),
            limit: 1000,
            ..IncidentQuery::default()
        },
    );
    assert_eq!(artillery.len(), 50, "artillery_heavy is another kind");
}

pub fn incidents_filter_by_party(store: &dyn Store) {
    store.replace_derived(&rows(incident_grid())).unwrap();
    let east = store
        .incidents(&IncidentQuery {
            party: Some("east".into()),
            limit: 1000,
            ..IncidentQuery::default()
        })
        .unwrap();
    assert_eq!(east.items.len(), 34);
    assert!(east
        .items
        .iter()
        .all(|r| r.party.as_deref() == Some("east")));
}

pub fn incident_pages_have_no_duplicates_and_no_gaps(store: &dyn Store) {
    store.replace_derived(&rows(incident_grid())).unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = store
            .incidents(&IncidentQuery {
                after: after.clone(),
                limit: 7,
                party: Some("west".into()),
                ..IncidentQuery::default()
            })
            .unwrap();
        pages += 1;
        seen.extend(page.items.iter().map(|r| (r.start, r.id.clone())));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<_> = incident_grid()
        .into_iter()
        .filter(|r| r.party.as_deref() == Some("west"))
        .map(|r| (r.start, r.id))
        .collect();
    expected.sort();
    assert_eq!(seen, expected, "pages in (start, id) order, each row once");
    assert_eq!(pages, expected.len().div_ceil(7));
}

pub fn the_last_full_page_has_no_next_cursor(store: &dyn Store) {
    store.replace_derived(&rows(incident_grid())).unwrap();
    let page = store
        .incidents(&IncidentQuery {
            limit: 100,
            ..IncidentQuery::default()
        })
        .unwrap();
    assert_eq!(page.items.len(), 100);
    assert_eq!(page.next, None);
}

pub fn page_size_is_clamped_to_one_and_the_maximum(store: &dyn Store) {
    let many: Vec<IncidentRow> = (0..LIMIT_MAX as i64 + 5)
        .map(|i| {
            incident(
                &format!("inc:{i:05}"),
                T0 + i,
                30.0,
                45.0,
                &["artillery"],
                None,
            )
        })
        .collect();
    store.replace_derived(&rows(many)).unwrap();
    let zero = store.incidents(&IncidentQuery::default()).unwrap();
    assert_eq!(zero.items.len(), 1);
    let huge = store
        .incidents(&IncidentQuery {
            limit: u32::MAX,
            ..IncidentQuery::default()
        })
        .unwrap();
    assert_eq!(huge.items.len(), LIMIT_MAX as usize);
    assert!(huge.next.is_some());
}

fn finding_set() -> DerivedRows {
    DerivedRows {
        findings: vec![
            finding("c1@inc:a", T0, "east", "c1", "provisional", "grave"),
            finding("c1@inc:b", T0 + 10, "west", "c1", "confirmed", "grave"),
            finding("c2@inc:c", T0 + 20, "east", "c2", "confirmed", "minor"),
            finding("c2@inc:d", T0 + 30, "east", "c2", "dismissed", "minor"),
        ],
        ..DerivedRows::default()
    }
}

fn finding_ids(store: &dyn Store, query: FindingQuery) -> Vec<String> {
    let page = store
        .findings(&FindingQuery {
            limit: 100,
            ..query
        })
        .unwrap();
    ids(&page.items, |r| &r.id)
}

pub fn findings_filter_by_party_commitment_status_severity_and_time(store: &dyn Store) {
    store.replace_derived(&finding_set()).unwrap();
    let q = FindingQuery::default;
    assert_eq!(
        finding_ids(
            store,
            FindingQuery {
                party: Some("east".into()),
                ..q()
            }
        ),
        vec!["c1@inc:a", "c2@inc:c", "c2@inc:d"]
    );
    assert_eq!(
        finding_ids(
            store,
            FindingQuery {
                commitment: Some("c1".into()),
                ..q()
            }
        ),
        vec!["c1@inc:a", "c1@inc:b"]
    );
    assert_eq!(
        finding_ids(
            store,
            FindingQuery {
                status: Some("confirmed".into()),
                ..q()
            }
        ),
        vec!["c1@inc:b", "c2@inc:c"]
    );
    assert_eq!(
        finding_ids(
            store,
            FindingQuery {
                severity: Some("minor".into()),
                ..q()
            }
        ),
        vec!["c2@inc:c", "c2@inc:d"]
    );
    assert_eq!(
        finding_ids(
            store,
            FindingQuery {
                from: Some(Timestamp(T0 + 10)),
                to: Some(Timestamp(T0 + 30)),
                ..q()
            }
        ),
        vec!["c1@inc:b", "c2@inc:c"]
    );
}

pub fn findings_page_after_a_key(store: &dyn Store) {
    store.replace_derived(&finding_set()).unwrap();
    let first = store
        .findings(&FindingQuery {
            limit: 3,
            ..FindingQuery::default()
        })
        .unwrap();
    assert_eq!(
        first.next,
        Some(PageKey {
            at: Timestamp(T0 + 20),
            id: "c2@inc:c".into()
        })
    );
    let rest = finding_ids(
        store,
        FindingQuery {
            after: first.next,
            ..FindingQuery::default()
        },
    );
    assert_eq!(rest, vec!["c2@inc:d"]);
    assert_eq!(
        store.finding("c1@inc:b").unwrap().map(|f| f.status),
        Some("confirmed".into())
    );
}

pub fn obligations_filter_by_guarantor_and_status(store: &dyn Store) {
    store
        .replace_derived(&DerivedRows {
            obligations: vec![
                obligation("o1", T0, "g1", "open"),
                obligation("o2", T0 + 1, "g2", "overdue"),
                obligation("o3", T0 + 2, "g1", "fulfilled"),
            ],
            ..DerivedRows::default()
        })
        .unwrap();
    let list = |query: ObligationQuery| {
        let page = store
            .obligations(&ObligationQuery { limit: 10, ..query })
            .unwrap();
        ids(&page.items, |r| &r.id)
    };
    assert_eq!(
        list(ObligationQuery {
            guarantor: Some("g1".into()),
            ..Default::default()
        }),
        vec!["o1", "o3"]
    );
    assert_eq!(
        list(ObligationQuery {
            status: Some("overdue".into()),
            ..Default::default()
        }),
        vec!["o2"]
    );
    assert_eq!(
        store.obligation("o3").unwrap().map(|o| o.guarantor),
        Some("g1".into())
    );
}

pub fn latest_checkpoint_is_the_largest_tree(store: &dyn Store) {
    let mut tx = store.begin().unwrap();
    for size in [5u64, 12, 9] {
        tx.put_checkpoint(&CheckpointRecord {
            size,
            root_hash: [size as u8; 32],
            note: format!("checkpoint {size}\n"),
        })
        .unwrap();
    }
    tx.commit().unwrap();
    assert_eq!(store.latest_checkpoint().unwrap().map(|c| c.size), Some(12));
    assert_eq!(
        store.checkpoint(9).unwrap().map(|c| c.root_hash),
        Some([9; 32])
    );
    assert_eq!(store.checkpoint(10).unwrap(), None);
}

pub fn latest_assessment_is_the_last_in_the_log(store: &dyn Store) {
    let mut tx = store.begin().unwrap();
    for log_index in [10u64, 30, 20] {
        tx.put_assessment(&AssessmentRecord {
            log_index,
            agreement: "demo".into(),
            version: 1,
            as_of: Timestamp(T0 + log_index as i64),
            entries: log_index,
            digest: format!("{log_index:064}"),
        })
        .unwrap();
    }
    tx.commit().unwrap();
    let latest = store.latest_assessment().unwrap().expect("an assessment");
    assert_eq!((latest.log_index, latest.entries), (30, 30));
}

pub fn a_box_holding_thousands_of_incidents_pages_like_a_small_one(store: &dyn Store) {
    // 2,500 incidents in one small box, plus as many outside it: enough that a backend may
    // choose another plan than for a handful.
    let inside: Vec<IncidentRow> = (0..2_500i64)
        .map(|i| {
            incident(
                &format!("inc:in{i:04}"),
                T0 + i % 50,
                30.0 + (i % 50) as f64 * 1e-4,
                45.0,
                &["burst"],
                None,
            )
        })
        .collect();
    let outside = (0..2_500i64).map(|i| {
        incident(
            &format!("inc:out{i:04}"),
            T0 + i % 50,
            31.0,
            45.0,
            &["burst"],
            None,
        )
    });
    store
        .replace_derived(&rows(inside.iter().cloned().chain(outside).collect()))
        .unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .incidents(&IncidentQuery {
                bbox: Some(BBox {
                    min_lon: 29.9,
                    min_lat: 44.9,
                    max_lon: 30.1,
                    max_lat: 45.1,
                }),
                from: Some(Timestamp(T0 + 10)),
                after,
                limit: 300,
                ..IncidentQuery::default()
            })
            .unwrap();
        seen.extend(page.items.into_iter().map(|r| (r.start, r.id)));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected: Vec<_> = inside
        .into_iter()
        .filter(|r| r.start.0 >= T0 + 10)
        .map(|r| (r.start, r.id))
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
}

pub fn a_moved_incident_is_found_at_its_new_place_only(store: &dyn Store) {
    let mut grid = incident_grid();
    store.replace_derived(&rows(grid.clone())).unwrap();
    let in_box = |store: &dyn Store, lon: f64, lat: f64| {
        incident_ids(
            store,
            IncidentQuery {
                bbox: Some(BBox {
                    min_lon: lon - 0.01,
                    min_lat: lat - 0.01,
                    max_lon: lon + 0.01,
                    max_lat: lat + 0.01,
                }),
                limit: 10,
                ..IncidentQuery::default()
            },
        )
    };
    grid[0].lon = 50.0;
    grid[0].body.push(' ');
    store.replace_derived(&rows(grid)).unwrap();
    assert_eq!(in_box(store, 30.0, 45.0), Vec::<String>::new());
    assert_eq!(in_box(store, 50.0, 45.0), vec!["inc:r000"]);
    store.replace_derived(&DerivedRows::default()).unwrap();
    assert_eq!(in_box(store, 50.0, 45.0), Vec::<String>::new());
}
