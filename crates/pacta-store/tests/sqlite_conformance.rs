//! The conformance suite on the SQLite backend, and what is specific to SQLite: the file,
//! its schema version and reopening.

#[macro_use]
mod conformance;

use pacta_store::{SqliteStore, Store, StoreError};
use tempfile::TempDir;

fn open() -> (TempDir, Box<dyn Store>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path().join("pacta.sqlite3")).expect("open store");
    (dir, Box::new(store))
}

conformance_tests!(open();
    empty_store_starts_at_log_index_zero,
    entries_read_back_by_index_and_by_id,
    next_log_index_follows_the_last_entry,
    entries_list_in_log_order_from_an_index,
    entries_with_schema_skip_other_schemas,
    storing_the_same_entry_again_is_a_no_op,
    another_entry_at_a_used_log_index_is_a_conflict,
    a_used_id_at_another_log_index_is_a_conflict,
    a_dropped_transaction_writes_nothing,
    uncommitted_writes_are_invisible_to_readers,
    reports_are_indexed_with_their_entry,
    replace_derived_writes_then_changes_nothing_the_second_time,
    replace_derived_rewrites_changed_rows_and_deletes_vanished_ones,
    applying_a_delta_between_rows_equals_replacing_them,
    incidents_filter_by_bbox,
    incidents_filter_by_start_from_inclusive_to_exclusive,
    incidents_filter_by_whole_kind,
    incidents_filter_by_party,
    incident_pages_have_no_duplicates_and_no_gaps,
    the_last_full_page_has_no_next_cursor,
    page_size_is_clamped_to_one_and_the_maximum,
    findings_filter_by_party_commitment_status_severity_and_time,
    findings_page_after_a_key,
    obligations_filter_by_guarantor_and_status,
    latest_checkpoint_is_the_largest_tree,
    latest_assessment_is_the_last_in_the_log,
    a_box_holding_thousands_of_incidents_pages_like_a_small_one,
    a_moved_incident_is_found_at_its_new_place_only,
);

#[test]
fn data_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pacta.sqlite3");
    {
        let store = SqliteStore::open(&path).unwrap();
        let mut tx = store.begin().unwrap();
        tx.put_checkpoint(&pacta_store::CheckpointRecord {
            size: 3,
            root_hash: [7; 32],
            note: "n\n".into(),
        })
        .unwrap();
        tx.commit().unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.latest_checkpoint().unwrap().map(|c| c.size), Some(3));
}

#[test]
fn a_store_from_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pacta.sqlite3");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite_version_bump(&path, SqliteStore::schema_version() + 1);
    drop(conn);
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err}");
}

/// Sets `PRAGMA user_version` directly, as a newer build would have.
fn rusqlite_version_bump(path: &std::path::Path, version: i64) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "user_version", version).unwrap();
    conn
}

#[test]
fn the_database_is_in_wal_mode() {
    let (dir, _store) = open();
    let conn = rusqlite::Connection::open(dir.path().join("pacta.sqlite3")).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}
