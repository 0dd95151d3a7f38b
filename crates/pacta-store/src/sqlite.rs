//! The embedded SQLite backend: one file in the data directory, WAL, versioned migrations.
//!
//! One writer connection (behind a mutex: SQLite has one writer at a time anyway) and a pool
//! of reader connections, which WAL lets run concurrently with the writer and each other.
//!
//! Durability: `synchronous=NORMAL` by default. In WAL mode that never corrupts the database,
//! but a power loss may drop the last committed transactions. That is acceptable because the
//! log, fsynced before any submission is acknowledged, is the source of truth: on start the
//! server re-indexes the entries from [`Store::next_log_index`] onwards. `FULL` is available
//! for operators who prefer to pay an fsync per commit.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, Row};

use crate::derived::{body_fingerprint, DerivedDelta, DerivedFingerprints};
use crate::model::{
    clamp_limit, AssessmentRecord, BBox, CheckpointRecord, EntryRecord, FindingQuery, FindingRow,
    IncidentQuery, IncidentRow, ObligationQuery, ObligationRow, Page, PageKey, ReportFacts, Signer,
};
use crate::{Result, Store, StoreError, Timestamp, Transaction};

/// How hard SQLite syncs at commit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Synchronous {
    /// Sync the WAL at checkpoints only: the last commits may be lost on power failure,
    /// never corrupted (the log lets the server re-index them).
    #[default]
    Normal,
    /// Sync the WAL at every commit.
    Full,
}

/// Tuning of a [`SqliteStore`].
#[derive(Clone, Debug)]
pub struct SqliteOptions {
    pub synchronous: Synchronous,
    /// Reader connections kept open between queries (more may be opened under load; the
    /// surplus is closed when returned).
    pub readers_max: usize,
    /// How long a statement waits for a lock before failing.
    pub busy_timeout: Duration,
    /// Page cache per connection, in KiB.
    pub cache_kib: u32,
    /// How much of the database file connections map into memory, in MiB (0: none). Reads
    /// of mapped pages need no system call and no copy into each connection's cache.
    pub mmap_mib: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Normal,
            readers_max: 16,
            busy_timeout: Duration::from_secs(10),
            cache_kib: 32 * 1024,
            mmap_mib: 1024,
        }
    }
}

/// The schema, one migration per version; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    "CREATE TABLE entries (
        log_index    INTEGER PRIMARY KEY,
        id           TEXT UNIQUE,
        schema       TEXT NOT NULL,
        signer_role  TEXT,
        signer_id    TEXT,
        submitted_at INTEGER,
        canonical    BLOB NOT NULL,
        body_sha256  BLOB NOT NULL
    );
    CREATE INDEX entries_by_schema ON entries (schema, log_index);
    CREATE TABLE reports (
        id             TEXT PRIMARY KEY,
        log_index      INTEGER NOT NULL,
        monitor        TEXT NOT NULL,
        kind           TEXT NOT NULL,
        observed_start INTEGER NOT NULL,
        observed_end   INTEGER NOT NULL,
        lon            REAL NOT NULL,
        lat            REAL NOT NULL
    );
    CREATE INDEX reports_by_time ON reports (observed_start, id);
    CREATE INDEX reports_by_monitor ON reports (monitor, observed_start, id);
    CREATE TABLE incidents (
        id          TEXT PRIMARY KEY,
        start_at    INTEGER NOT NULL,
        end_at      INTEGER NOT NULL,
        lon         REAL NOT NULL,
        lat         REAL NOT NULL,
        kinds       TEXT NOT NULL,
        party       TEXT,
        body        TEXT NOT NULL,
        body_sha256 BLOB NOT NULL
    );
    CREATE INDEX incidents_by_time ON incidents (start_at, id, lon, lat);
    CREATE INDEX incidents_by_party ON incidents (party, start_at, id);
    CREATE TABLE findings (
        id             TEXT PRIMARY KEY,
        commitment     TEXT NOT NULL,
        party          TEXT,
        status         TEXT NOT NULL,
        severity       TEXT NOT NULL,
        established_at INTEGER NOT NULL,
        incident       TEXT,
        body           TEXT NOT NULL,
        body_sha256    BLOB NOT NULL
    );
    CREATE INDEX findings_by_time ON findings (established_at, id);
    CREATE INDEX findings_by_party ON findings (party, established_at, id);
    CREATE INDEX findings_by_commitment ON findings (commitment, established_at, id);
    CREATE INDEX findings_by_status ON findings (status, established_at, id);
    CREATE TABLE obligations (
        id          TEXT PRIMARY KEY,
        guarantor   TEXT NOT NULL,
        status      TEXT NOT NULL,
        opened_at   INTEGER NOT NULL,
        due_at      INTEGER NOT NULL,
        body        TEXT NOT NULL,
        body_sha256 BLOB NOT NULL
    );
    CREATE INDEX obligations_by_time ON obligations (opened_at, id);
    CREATE INDEX obligations_by_guarantor ON obligations (guarantor, opened_at, id);
    CREATE INDEX obligations_by_status ON obligations (status, opened_at, id);
    CREATE TABLE checkpoints (
        size      INTEGER PRIMARY KEY,
        root_hash BLOB NOT NULL,
        note      TEXT NOT NULL
    );
    CREATE TABLE assessments (
        log_index INTEGER PRIMARY KEY,
        agreement TEXT NOT NULL,
        version   INTEGER NOT NULL,
        as_of     INTEGER NOT NULL,
        entries   INTEGER NOT NULL,
        digest    TEXT NOT NULL
    );",
    // Version 2: an R*Tree over incidents' (lon, lat, start) for selective bbox queries. The
    // table is rebuilt with an explicit integer key, the only row id VACUUM keeps stable.
    "CREATE TABLE incidents_v2 (
        rid         INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        start_at    INTEGER NOT NULL,
        end_at      INTEGER NOT NULL,
        lon         REAL NOT NULL,
        lat         REAL NOT NULL,
        kinds       TEXT NOT NULL,
        party       TEXT,
        body        TEXT NOT NULL,
        body_sha256 BLOB NOT NULL
    );
    INSERT INTO incidents_v2 (id, start_at, end_at, lon, lat, kinds, party, body, body_sha256)
        SELECT id, start_at, end_at, lon, lat, kinds, party, body, body_sha256 FROM incidents;
    DROP TABLE incidents;
    ALTER TABLE incidents_v2 RENAME TO incidents;
    CREATE INDEX incidents_by_time ON incidents (start_at, id, lon, lat);
    CREATE INDEX incidents_by_party ON incidents (party, start_at, id);
    CREATE VIRTUAL TABLE incidents_rtree USING rtree (
        rid, min_lon, max_lon, min_lat, max_lat, min_start, max_start
    );
    INSERT INTO incidents_rtree SELECT rid, lon, lon, lat, lat, start_at, start_at FROM incidents;
    CREATE TRIGGER incidents_rtree_insert AFTER INSERT ON incidents BEGIN
        INSERT INTO incidents_rtree
            VALUES (new.rid, new.lon, new.lon, new.lat, new.lat, new.start_at, new.start_at);
    END;
    CREATE TRIGGER incidents_rtree_update AFTER UPDATE OF lon, lat, start_at ON incidents BEGIN
        UPDATE incidents_rtree SET min_lon = new.lon, max_lon = new.lon, min_lat = new.lat,
            max_lat = new.lat, min_start = new.start_at, max_start = new.start_at
            WHERE rid = new.rid;
    END;
    CREATE TRIGGER incidents_rtree_delete AFTER DELETE ON incidents BEGIN
        DELETE FROM incidents_rtree WHERE rid = old.rid;
    END;",
    // Version 3: the R*Tree keeps time in days, not seconds. Its split heuristics compare
    // extents across axes: in seconds the time axis dwarfed the degrees, nodes were cut by
    // time only, and a small box over a month visited most of the tree (3 ms instead of 0.2).
    "DROP TRIGGER incidents_rtree_insert;
    DROP TRIGGER incidents_rtree_update;
    DROP TRIGGER incidents_rtree_delete;
    DROP TABLE incidents_rtree;
    CREATE VIRTUAL TABLE incidents_rtree USING rtree (
        rid, min_lon, max_lon, min_lat, max_lat, min_day, max_day
    );
    INSERT INTO incidents_rtree
        SELECT rid, lon, lon, lat, lat, start_at / 86400.0, start_at / 86400.0 FROM incidents;
    CREATE TRIGGER incidents_rtree_insert AFTER INSERT ON incidents BEGIN
        INSERT INTO incidents_rtree VALUES (new.rid, new.lon, new.lon, new.lat, new.lat,
            new.start_at / 86400.0, new.start_at / 86400.0);
    END;
    CREATE TRIGGER incidents_rtree_update AFTER UPDATE OF lon, lat, start_at ON incidents BEGIN
        UPDATE incidents_rtree SET min_lon = new.lon, max_lon = new.lon, min_lat = new.lat,
            max_lat = new.lat, min_day = new.start_at / 86400.0,
            max_day = new.start_at / 86400.0
            WHERE rid = new.rid;
    END;
    CREATE TRIGGER incidents_rtree_delete AFTER DELETE ON incidents BEGIN
        DELETE FROM incidents_rtree WHERE rid = old.rid;
    END;",
    // Version 4: the time index also covers kinds and party, so a walk filtered by kind or
    // party (e.g. a rare kind over the whole log) reads no table row until it matches.
    "DROP INDEX incidents_by_time;
    CREATE INDEX incidents_by_time ON incidents (start_at, id, lon, lat, kinds, party);",
    // Version 5: report facts are read by id only. The two time and monitor indexes served
    // no query, and the id key lived in a separate index beside the row-id table: every
    // ingested report paid for four B-tree inserts where one does (a third of the store's
    // share of ingest, measured with perf).
    "CREATE TABLE reports_v5 (
        id             TEXT PRIMARY KEY,
        log_index      INTEGER NOT NULL,
        monitor        TEXT NOT NULL,
        kind           TEXT NOT NULL,
        observed_start INTEGER NOT NULL,
        observed_end   INTEGER NOT NULL,
        lon            REAL NOT NULL,
        lat            REAL NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO reports_v5 SELECT id, log_index, monitor, kind, observed_start, observed_end,
        lon, lat FROM reports;
    DROP TABLE reports;
    ALTER TABLE reports_v5 RENAME TO reports;",
];

/// How a bbox query finds its page. Two plans:
///
/// - the R*Tree: every candidate in the box and time range is read and sorted, a cost
///   proportional to the candidates `c`;
/// - the time index, walked in page order until the page is full: with `w` incidents in the
///   time range, about `w * page / c` entries.
///
/// The R*Tree is probed for `c` (up to [`RTREE_PROBE_MAX`]; beyond it the walk is short
/// anyway), `w` is estimated from the index's first and last start and the incident count,
/// and the cheaper plan runs. [`RTREE_COST_PER_WALKED`] is the cost of one R*Tree candidate
/// in walked index entries, measured on the benchmark machine (6 µs against 0.27 µs).
const RTREE_PROBE_MAX: i64 = 4_096;
const RTREE_COST_PER_WALKED: f64 = 22.0;

/// Maps a SQLite error to a [`StoreError`] that says what was being done.
trait Context<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Context<T> for rusqlite::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| StoreError::Backend {
            context: context(),
            source: Box::new(e),
        })
    }
}

fn to_i64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| StoreError::Conflict(format!("{what} {value} exceeds 2^63-1")))
}

fn to_u64(value: i64, what: &str) -> rusqlite::Result<u64> {
    u64::try_from(value).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            format!("negative {what} {value}").into(),
        )
    })
}

fn to_hash(bytes: Vec<u8>, what: &str) -> rusqlite::Result<[u8; 32]> {
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            format!("{what} is {} bytes, not 32", bytes.len()).into(),
        )
    })
}

/// The `kinds` column: `|a|b|`, so that `instr(kinds, '|a|')` matches whole kinds only.
fn kinds_column(kinds: &[String]) -> String {
    let mut s = String::from("|");
    for kind in kinds {
        s.push_str(kind);
        s.push('|');
    }
    s
}

fn kinds_from_column(column: &str) -> Vec<String> {
    column
        .split('|')
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// The embedded SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    options: SqliteOptions,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A reader connection borrowed from the pool, returned to it on drop.
struct Reader<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
}

impl Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // `conn` is `Some` from checkout until drop.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("reader used after drop"))
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut pool = self
                .store
                .readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if pool.len() < self.store.options.readers_max {
                pool.push(conn);
            }
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` with default options, and migrates its
    /// schema to the current version.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        SqliteStore::open_with(path, SqliteOptions::default())
    }

    /// Opens (creating if needed) the store at `path`, and migrates its schema.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        let where_ = || format!("opening {}", path.display());
        let writer = Connection::open(&path).ctx(where_)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .ctx(|| format!("enabling WAL on {}", path.display()))?;
        let store = SqliteStore {
            path,
            options,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        };
        {
            let mut writer = store.lock_writer();
            store.configure(&writer)?;
            store.migrate(&mut writer)?;
        }
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version this build writes.
    pub fn schema_version() -> i64 {
        MIGRATIONS.len() as i64
    }

    fn configure(&self, conn: &Connection) -> Result<()> {
        let sync = match self.options.synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        let at = || format!("configuring {}", self.path.display());
        conn.pragma_update(None, "synchronous", sync).ctx(at)?;
        conn.busy_timeout(self.options.busy_timeout).ctx(at)?;
        conn.pragma_update(None, "cache_size", -i64::from(self.options.cache_kib))
            .ctx(at)?;
        conn.pragma_update(None, "temp_store", "MEMORY").ctx(at)?;
        conn.pragma_update(None, "mmap_size", i64::from(self.options.mmap_mib) << 20)
            .ctx(at)?;
        Ok(())
    }

    fn migrate(&self, conn: &mut Connection) -> Result<()> {
        let at = || format!("migrating {}", self.path.display());
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .ctx(at)?;
        let supported = SqliteStore::schema_version();
        if found > supported {
            return Err(StoreError::SchemaTooNew { found, supported });
        }
        for (version, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
            let tx = conn.transaction().ctx(at)?;
            tx.execute_batch(sql).ctx(|| {
                format!(
                    "migrating {} to version {}",
                    self.path.display(),
                    version + 1
                )
            })?;
            tx.pragma_update(None, "user_version", version as i64 + 1)
                .ctx(at)?;
            tx.commit().ctx(at)?;
        }
        Ok(())
    }

    fn lock_writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the writer leaves at most an open transaction, which the
        // transaction's drop has rolled back: the connection itself is still sound.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A keyset page of the `T` rows of its own table matching `filter`.
    fn list<T: Listed>(
        &self,
        filter: Filter,
        after: &Option<PageKey>,
        limit: u32,
    ) -> Result<Page<T>> {
        page(&*self.reader()?, T::TABLE, filter, after, limit)
    }

    fn reader(&self) -> Result<Reader<'_>> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .ctx(|| format!("opening a reader on {}", self.path.display()))?;
                self.configure(&conn)?;
                conn
            }
        };
        Ok(Reader {
            store: self,
            conn: Some(conn),
        })
    }
}

const ENTRY_COLUMNS: &str =
    "log_index, id, schema, signer_role, signer_id, submitted_at, canonical, body_sha256";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<EntryRecord> {
    let role: Option<String> = row.get(3)?;
    let signer_id: Option<String> = row.get(4)?;
    Ok(EntryRecord {
        log_index: to_u64(row.get(0)?, "log index")?,
        id: row.get(1)?,
        schema: row.get(2)?,
        signer: match (role, signer_id) {
            (Some(role), Some(id)) => Some(Signer { role, id }),
            _ => None,
        },
        submitted_at: row.get::<_, Option<i64>>(5)?.map(Timestamp),
        canonical: row.get(6)?,
        body_sha256: to_hash(row.get(7)?, "entry body hash")?,
        report: None,
    })
}

const INCIDENT_COLUMNS: &str = "id, start_at, end_at, lon, lat, kinds, party, body";

fn incident_from_row(row: &Row<'_>) -> rusqlite::Result<IncidentRow> {
    Ok(IncidentRow {
        id: row.get(0)?,
        start: Timestamp(row.get(1)?),
        end: Timestamp(row.get(2)?),
        lon: row.get(3)?,
        lat: row.get(4)?,
        kinds: kinds_from_column(&row.get::<_, String>(5)?),
        party: row.get(6)?,
        body: row.get(7)?,
    })
}

const FINDING_COLUMNS: &str =
    "id, commitment, party, status, severity, established_at, incident, body";

fn finding_from_row(row: &Row<'_>) -> rusqlite::Result<FindingRow> {
    Ok(FindingRow {
        id: row.get(0)?,
        commitment: row.get(1)?,
        party: row.get(2)?,
        status: row.get(3)?,
        severity: row.get(4)?,
        established_at: Timestamp(row.get(5)?),
        incident: row.get(6)?,
        body: row.get(7)?,
    })
}

const OBLIGATION_COLUMNS: &str = "id, guarantor, status, opened_at, due_at, body";

fn obligation_from_row(row: &Row<'_>) -> rusqlite::Result<ObligationRow> {
    Ok(ObligationRow {
        id: row.get(0)?,
        guarantor: row.get(1)?,
        status: row.get(2)?,
        opened_at: Timestamp(row.get(3)?),
        due_at: Timestamp(row.get(4)?),
        body: row.get(5)?,
    })
}

/// A `WHERE` clause under construction, with its positional parameters.
#[derive(Default)]
struct Filter {
    clauses: Vec<String>,
    values: Vec<Value>,
}

impl Filter {
    fn push(&mut self, clause: &str, values: impl IntoIterator<Item = Value>) {
        self.clauses.push(clause.to_string());
        self.values.extend(values);
    }

    fn eq(&mut self, column: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.push(&format!("{column} = ?"), [Value::Text(v.clone())]);
        }
    }

    fn time_range(&mut self, column: &str, from: Option<Timestamp>, to: Option<Timestamp>) {
        if let Some(from) = from {
            self.push(&format!("{column} >= ?"), [Value::Integer(from.0)]);
        }
        if let Some(to) = to {
            self.push(&format!("{column} < ?"), [Value::Integer(to.0)]);
        }
    }

    fn after(&mut self, column: &str, after: &Option<PageKey>) {
        if let Some(key) = after {
            self.push(
                &format!("({column}, id) > (?, ?)"),
                [Value::Integer(key.at.0), Value::Text(key.id.clone())],
            );
        }
    }

    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }
}

/// A row type listed by keyset pages ordered by `(time column, id)`.
trait Listed: Sized {
    const TABLE: &'static str;
    const COLUMNS: &'static str;
    const TIME_COLUMN: &'static str;
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Self>;
    fn key(&self) -> PageKey;
}

/// Implements [`Listed`] for a row type: its table, columns, time column, row decoder and
/// the field holding its time.
macro_rules! listed {
    ($row:ty, $table:literal, $columns:expr, $time_column:literal, $from_row:path, $time:ident) => {
        impl Listed for $row {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static str = $columns;
            const TIME_COLUMN: &'static str = $time_column;
            fn from_row(row: &Row<'_>) -> rusqlite::Result<Self> {
                $from_row(row)
            }
            fn key(&self) -> PageKey {
                PageKey {
                    at: self.$time,
                    id: self.id.clone(),
                }
            }
        }
    };
}

listed!(
    IncidentRow,
    "incidents",
    INCIDENT_COLUMNS,
    "start_at",
    incident_from_row,
    start
);
listed!(
    FindingRow,
    "findings",
    FINDING_COLUMNS,
    "established_at",
    finding_from_row,
    established_at
);
listed!(
    ObligationRow,
    "obligations",
    OBLIGATION_COLUMNS,
    "opened_at",
    obligation_from_row,
    opened_at
);

/// Runs a keyset-paged list query: one row more than the page, to know whether a next page
/// exists.
fn page<T: Listed>(
    conn: &Connection,
    source: &str,
    mut filter: Filter,
    after: &Option<PageKey>,
    limit: u32,
) -> Result<Page<T>> {
    filter.after(T::TIME_COLUMN, after);
    let limit = clamp_limit(limit);
    filter.values.push(Value::Integer(i64::from(limit) + 1));
    let sql = format!(
        "SELECT {} FROM {source} {} ORDER BY {}, id LIMIT ?",
        T::COLUMNS,
        filter.sql(),
        T::TIME_COLUMN
    );
    let at = || format!("listing {}", T::TABLE);
    let mut stmt = conn.prepare_cached(&sql).ctx(at)?;
    let mut items = stmt
        .query_map(params_from_iter(filter.values.iter()), T::from_row)
        .ctx(at)?
        .collect::<rusqlite::Result<Vec<T>>>()
        .ctx(at)?;
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(T::key)
    } else {
        None
    };
    Ok(Page { items, next })
}

/// A time range as R*Tree bounds, in days (an open end is unbounded).
fn rtree_time_bounds(from: Option<Timestamp>, to: Option<Timestamp>) -> (f64, f64) {
    (
        from.map_or(f64::NEG_INFINITY, |t| t.0 as f64 / 86_400.0),
        to.map_or(f64::INFINITY, |t| t.0 as f64 / 86_400.0),
    )
}

/// About how many incidents start in the time range: the store-wide density (highest row
/// key over the span of starts, both read from indexes) times the part of the range inside
/// that span. Deleted rows leave key gaps, so this errs high, towards the R*Tree.
fn incidents_in_range(
    conn: &Connection,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<f64> {
    let (rows, first, last): (Option<i64>, Option<i64>, Option<i64>) = conn
        // One aggregate per subquery: SQLite answers a lone min() or max() from an index
        // in O(log n), but scans the table for several in one SELECT.
        .prepare_cached(
            "SELECT (SELECT max(rid) FROM incidents), (SELECT min(start_at) FROM incidents), \
             (SELECT max(start_at) FROM incidents)",
        )
        .and_then(|mut stmt| stmt.query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
        .ctx(|| "reading the extent of incidents".into())?;
    let (Some(rows), Some(first), Some(last)) = (rows, first, last) else {
        return Ok(0.0);
    };
    let span = (last - first).max(1) as f64;
    let from = from.map_or(first, |t| t.0.max(first));
    let to = to.map_or(last, |t| t.0.min(last));
    Ok(rows as f64 * ((to - from).max(0) as f64 / span).min(1.0))
}

/// Whether the R*Tree plan is cheaper than the walk for this bbox query (see
/// [`RTREE_COST_PER_WALKED`]).
fn rtree_is_cheaper(conn: &Connection, b: BBox, query: &IncidentQuery) -> Result<bool> {
    let candidates = rtree_candidates(conn, b, query.from, query.to)?;
    if candidates >= RTREE_PROBE_MAX {
        return Ok(false);
    }
    if candidates == 0 {
        return Ok(true);
    }
    let c = candidates as f64;
    let page = f64::from(clamp_limit(query.limit)) + 1.0;
    let walked = incidents_in_range(conn, query.from, query.to)? * (page / c).min(1.0);
    Ok(c * RTREE_COST_PER_WALKED <= walked)
}

/// How many R*Tree entries fall in the box and time range, counting no further than
/// [`RTREE_PROBE_MAX`]. The tree stores 32-bit floats rounded outwards, so it
/// over-counts by at most the rows on the edges; exact filters run on the rows.
fn rtree_candidates(
    conn: &Connection,
    b: BBox,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> Result<i64> {
    let (from, to) = rtree_time_bounds(from, to);
    conn.prepare_cached(
        "SELECT count(*) FROM (SELECT 1 FROM incidents_rtree WHERE min_lon <= ? AND max_lon >= ? \
         AND min_lat <= ? AND max_lat >= ? AND max_day >= ? AND min_day <= ? LIMIT ?)",
    )
    .and_then(|mut stmt| {
        stmt.query_row(
            params![
                b.max_lon,
                b.min_lon,
                b.max_lat,
                b.min_lat,
                from,
                to,
                RTREE_PROBE_MAX
            ],
            |r| r.get(0),
        )
    })
    .ctx(|| "counting incidents in a bbox".into())
}

fn one<T>(
    conn: &Connection,
    sql: &str,
    param: impl rusqlite::ToSql,
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
    what: impl FnOnce() -> String,
) -> Result<Option<T>> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row([param], map).optional())
        .ctx(what)
}

/// Reads the row of type `T` with primary key `id`, if any; `noun` names it in errors.
fn by_id<T: Listed>(conn: &Connection, id: &str, noun: &str) -> Result<Option<T>> {
    one(
        conn,
        &format!("SELECT {} FROM {} WHERE id = ?", T::COLUMNS, T::TABLE),
        id,
        T::from_row,
        || format!("reading {noun} {id:?}"),
    )
}

fn many<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: fn(&Row<'_>) -> rusqlite::Result<T>,
    what: impl FnOnce() -> String,
) -> Result<Vec<T>> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_map(params, map)?.collect())
        .ctx(what)
}

fn fingerprints(
    conn: &Connection,
    table: &str,
) -> Result<std::collections::BTreeMap<String, [u8; 32]>> {
    many(
        conn,
        &format!("SELECT id, body_sha256 FROM {table}"),
        [],
        |row| {
            Ok((
                row.get::<_, String>(0)?,
                to_hash(row.get(1)?, "row body hash")?,
            ))
        },
        || format!("reading the fingerprints of {table}"),
    )
    .map(|rows| rows.into_iter().collect())
}

impl Store for SqliteStore {
    fn begin(&self) -> Result<Box<dyn Transaction + '_>> {
        let conn = self.lock_writer();
        conn.execute_batch("BEGIN IMMEDIATE")
            .ctx(|| format!("beginning a transaction on {}", self.path.display()))?;
        Ok(Box::new(SqliteTransaction { conn, open: true }))
    }

    fn next_log_index(&self) -> Result<u64> {
        let conn = self.reader()?;
        let max: Option<i64> = conn
            .query_row("SELECT max(log_index) FROM entries", [], |r| r.get(0))
            .ctx(|| "reading the last log index".into())?;
        match max {
            None => Ok(0),
            Some(max) => u64::try_from(max)
                .map(|m| m + 1)
                .map_err(|_| StoreError::Corrupt(format!("negative log index {max}"))),
        }
    }

    fn entry(&self, log_index: u64) -> Result<Option<EntryRecord>> {
        let conn = self.reader()?;
        one(
            &conn,
            &format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE log_index = ?"),
            to_i64(log_index, "log index")?,
            entry_from_row,
            || format!("reading entry {log_index}"),
        )
    }

    fn entry_by_id(&self, id: &str) -> Result<Option<EntryRecord>> {
        let conn = self.reader()?;
        one(
            &conn,
            &format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE id = ?"),
            id,
            entry_from_row,
            || format!("reading entry {id:?}"),
        )
    }

    fn entries(&self, from: u64, limit: u32) -> Result<Vec<EntryRecord>> {
        let conn = self.reader()?;
        many(
            &conn,
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM entries WHERE log_index >= ? ORDER BY log_index LIMIT ?"
            ),
            params![to_i64(from, "log index")?, limit],
            entry_from_row,
            || format!("reading entries from {from}"),
        )
    }

    fn entries_with_schema(&self, schema: &str, from: u64, limit: u32) -> Result<Vec<EntryRecord>> {
        let conn = self.reader()?;
        many(
            &conn,
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM entries WHERE schema = ? AND log_index >= ? \
                 ORDER BY log_index LIMIT ?"
            ),
            params![schema, to_i64(from, "log index")?, limit],
            entry_from_row,
            || format!("reading {schema} entries from {from}"),
        )
    }

    fn report(&self, id: &str) -> Result<Option<ReportFacts>> {
        let conn = self.reader()?;
        one(
            &conn,
            "SELECT id, monitor, kind, observed_start, observed_end, lon, lat FROM reports \
             WHERE id = ?",
            id,
            |row| {
                Ok(ReportFacts {
                    id: row.get(0)?,
                    monitor: row.get(1)?,
                    kind: row.get(2)?,
                    observed_start: Timestamp(row.get(3)?),
                    observed_end: Timestamp(row.get(4)?),
                    lon: row.get(5)?,
                    lat: row.get(6)?,
                })
            },
            || format!("reading report {id:?}"),
        )
    }

    fn incidents(&self, query: &IncidentQuery) -> Result<Page<IncidentRow>> {
        let mut filter = Filter::default();
        filter.time_range("start_at", query.from, query.to);
        if let Some(b) = query.bbox {
            filter.push(
                "lon BETWEEN ? AND ? AND lat BETWEEN ? AND ?",
                [b.min_lon, b.max_lon, b.min_lat, b.max_lat].map(Value::Real),
            );
        }
        if let Some(kind) = &query.kind {
            filter.push("instr(kinds, ?) > 0", [Value::Text(format!("|{kind}|"))]);
        }
        filter.eq("party", &query.party);
        let conn = self.reader()?;
        let source = match query.bbox {
            Some(b) if rtree_is_cheaper(&conn, b, query)? => {
                let (from, to) = rtree_time_bounds(query.from, query.to);
                filter.push(
                    "r.min_lon <= ? AND r.max_lon >= ? AND r.min_lat <= ? AND r.max_lat >= ? \
                     AND r.max_day >= ? AND r.min_day <= ?",
                    [b.max_lon, b.min_lon, b.max_lat, b.min_lat, from, to].map(Value::Real),
                );
                // CROSS JOIN: SQLite keeps the R*Tree as the outer loop.
                "incidents_rtree AS r CROSS JOIN incidents ON incidents.rid = r.rid"
            }
            _ => "incidents",
        };
        page(&conn, source, filter, &query.after, query.limit)
    }

    fn incident(&self, id: &str) -> Result<Option<IncidentRow>> {
        by_id::<IncidentRow>(&*self.reader()?, id, "incident")
    }

    fn findings(&self, query: &FindingQuery) -> Result<Page<FindingRow>> {
        let mut filter = Filter::default();
        filter.eq("party", &query.party);
        filter.eq("commitment", &query.commitment);
        filter.eq("status", &query.status);
        filter.eq("severity", &query.severity);
        filter.time_range("established_at", query.from, query.to);
        self.list(filter, &query.after, query.limit)
    }

    fn finding(&self, id: &str) -> Result<Option<FindingRow>> {
        by_id::<FindingRow>(&*self.reader()?, id, "finding")
    }

    fn obligations(&self, query: &ObligationQuery) -> Result<Page<ObligationRow>> {
        let mut filter = Filter::default();
        filter.eq("guarantor", &query.guarantor);
        filter.eq("status", &query.status);
        self.list(filter, &query.after, query.limit)
    }

    fn obligation(&self, id: &str) -> Result<Option<ObligationRow>> {
        by_id::<ObligationRow>(&*self.reader()?, id, "obligation")
    }

    fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>> {
        let conn = self.reader()?;
        one(
            &conn,
            "SELECT size, root_hash, note FROM checkpoints WHERE size = \
             (SELECT max(size) FROM checkpoints) AND ?",
            1,
            checkpoint_from_row,
            || "reading the latest checkpoint".into(),
        )
    }

    fn checkpoint(&self, size: u64) -> Result<Option<CheckpointRecord>> {
        let conn = self.reader()?;
        one(
            &conn,
            "SELECT size, root_hash, note FROM checkpoints WHERE size = ?",
            to_i64(size, "tree size")?,
            checkpoint_from_row,
            || format!("reading the checkpoint of size {size}"),
        )
    }

    fn latest_assessment(&self) -> Result<Option<AssessmentRecord>> {
        let conn = self.reader()?;
        one(
            &conn,
            "SELECT log_index, agreement, version, as_of, entries, digest FROM assessments \
             WHERE log_index = (SELECT max(log_index) FROM assessments) AND ?",
            1,
            |row| {
                Ok(AssessmentRecord {
                    log_index: to_u64(row.get(0)?, "log index")?,
                    agreement: row.get(1)?,
                    version: row.get(2)?,
                    as_of: Timestamp(row.get(3)?),
                    entries: to_u64(row.get(4)?, "entry count")?,
                    digest: row.get(5)?,
                })
            },
            || "reading the latest assessment".into(),
        )
    }

    fn derived_fingerprints(&self) -> Result<DerivedFingerprints> {
        let conn = self.reader()?;
        // One read transaction, so the three tables are seen at the same commit.
        conn.execute_batch("BEGIN")
            .ctx(|| "beginning a read transaction".into())?;
        let result = (|| {
            Ok(DerivedFingerprints {
                incidents: fingerprints(&conn, "incidents")?,
                findings: fingerprints(&conn, "findings")?,
                obligations: fingerprints(&conn, "obligations")?,
            })
        })();
        conn.execute_batch("COMMIT")
            .ctx(|| "ending a read transaction".into())?;
        result
    }
}

fn checkpoint_from_row(row: &Row<'_>) -> rusqlite::Result<CheckpointRecord> {
    Ok(CheckpointRecord {
        size: to_u64(row.get(0)?, "tree size")?,
        root_hash: to_hash(row.get(1)?, "root hash")?,
        note: row.get(2)?,
    })
}

/// The open write transaction: holds the writer for its lifetime.
struct SqliteTransaction<'a> {
    conn: MutexGuard<'a, Connection>,
    open: bool,
}

impl Drop for SqliteTransaction<'_> {
    fn drop(&mut self) {
        if self.open {
            // Nothing to report to: the caller abandoned the transaction. If the rollback
            // fails the connection is unusable anyway and the next `begin` will say so.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl SqliteTransaction<'_> {
    fn insert_entry(&self, entry: &EntryRecord) -> Result<()> {
        let index = to_i64(entry.log_index, "log index")?;
        let at = || format!("storing entry {}", entry.log_index);
        let inserted = self
            .conn
            .prepare_cached(
                "INSERT INTO entries (log_index, id, schema, signer_role, signer_id, \
                 submitted_at, canonical, body_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT DO NOTHING",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    index,
                    entry.id,
                    entry.schema,
                    entry.signer.as_ref().map(|s| &s.role),
                    entry.signer.as_ref().map(|s| &s.id),
                    entry.submitted_at.map(|t| t.0),
                    entry.canonical,
                    entry.body_sha256.as_slice(),
                ])
            })
            .ctx(at)?;
        if inserted == 0 {
            return self.check_same_entry(entry, index);
        }
        if let Some(report) = &entry.report {
            self.conn
                .prepare_cached(
                    "INSERT INTO reports (id, log_index, monitor, kind, observed_start, \
                     observed_end, lon, lat) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        report.id,
                        index,
                        report.monitor,
                        report.kind,
                        report.observed_start.0,
                        report.observed_end.0,
                        report.lon,
                        report.lat,
                    ])
                })
                .ctx(|| format!("indexing report {:?}", report.id))?;
        }
        Ok(())
    }

    /// An insert that changed nothing is fine only if the very same entry is stored.
    fn check_same_entry(&self, entry: &EntryRecord, index: i64) -> Result<()> {
        let stored = one(
            &self.conn,
            &format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE log_index = ?"),
            index,
            entry_from_row,
            || format!("reading entry {index}"),
        )?;
        match stored {
            Some(s) if s.id == entry.id && s.body_sha256 == entry.body_sha256 => Ok(()),
            Some(_) => Err(StoreError::Conflict(format!(
                "log index {} already holds a different entry",
                entry.log_index
            ))),
            None => Err(StoreError::Conflict(format!(
                "entry id {:?} is already stored at another log index than {}",
                entry.id.as_deref().unwrap_or(""),
                entry.log_index
            ))),
        }
    }

    /// Writes `rows` into `table` through the one upsert statement `sql`, each by `write`.
    fn upsert<T>(
        &self,
        sql: &str,
        rows: &[T],
        table: &str,
        write: impl Fn(&mut rusqlite::CachedStatement<'_>, &T) -> Result<usize>,
    ) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .ctx(|| format!("writing {table}"))?;
        for row in rows {
            write(&mut stmt, row)?;
        }
        Ok(())
    }

    fn delete(&self, table: &str, ids: &[String]) -> Result<()> {
        let at = || format!("deleting from {table}");
        let mut stmt = self
            .conn
            .prepare_cached(&format!("DELETE FROM {table} WHERE id = ?"))
            .ctx(at)?;
        for id in ids {
            stmt.execute([id]).ctx(at)?;
        }
        Ok(())
    }
}

impl Transaction for SqliteTransaction<'_> {
    fn append_entries(&mut self, entries: &[EntryRecord]) -> Result<()> {
        entries.iter().try_for_each(|e| self.insert_entry(e))
    }

    fn apply(&mut self, delta: &DerivedDelta) -> Result<()> {
        self.delete("incidents", &delta.delete_incidents)?;
        self.delete("findings", &delta.delete_findings)?;
        self.delete("obligations", &delta.delete_obligations)?;
        self.upsert(
            "INSERT INTO incidents (id, start_at, end_at, lon, lat, kinds, party, body, \
             body_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE \
             SET start_at = excluded.start_at, end_at = excluded.end_at, \
             lon = excluded.lon, lat = excluded.lat, kinds = excluded.kinds, \
             party = excluded.party, body = excluded.body, \
             body_sha256 = excluded.body_sha256",
            &delta.upsert_incidents,
            "incidents",
            |stmt, r| {
                stmt.execute(params![
                    r.id,
                    r.start.0,
                    r.end.0,
                    r.lon,
                    r.lat,
                    kinds_column(&r.kinds),
                    r.party,
                    r.body,
                    body_fingerprint(&r.body).as_slice(),
                ])
                .ctx(|| format!("writing incident {:?}", r.id))
            },
        )?;
        self.upsert(
            "INSERT INTO findings (id, commitment, party, status, severity, \
             established_at, incident, body, body_sha256) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE \
             SET commitment = excluded.commitment, party = excluded.party, \
             status = excluded.status, severity = excluded.severity, \
             established_at = excluded.established_at, incident = excluded.incident, \
             body = excluded.body, body_sha256 = excluded.body_sha256",
            &delta.upsert_findings,
            "findings",
            |stmt, r| {
                stmt.execute(params![
                    r.id,
                    r.commitment,
                    r.party,
                    r.status,
                    r.severity,
                    r.established_at.0,
                    r.incident,
                    r.body,
                    body_fingerprint(&r.body).as_slice(),
                ])
                .ctx(|| format!("writing finding {:?}", r.id))
            },
        )?;
        self.upsert(
            "INSERT INTO obligations (id, guarantor, status, opened_at, due_at, body, \
             body_sha256) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE \
             SET guarantor = excluded.guarantor, status = excluded.status, \
             opened_at = excluded.opened_at, due_at = excluded.due_at, \
             body = excluded.body, body_sha256 = excluded.body_sha256",
            &delta.upsert_obligations,
            "obligations",
            |stmt, r| {
                stmt.execute(params![
                    r.id,
                    r.guarantor,
                    r.status,
                    r.opened_at.0,
                    r.due_at.0,
                    r.body,
                    body_fingerprint(&r.body).as_slice(),
                ])
                .ctx(|| format!("writing obligation {:?}", r.id))
            },
        )
    }

    fn put_checkpoint(&mut self, checkpoint: &CheckpointRecord) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO checkpoints (size, root_hash, note) VALUES (?, ?, ?) \
                 ON CONFLICT (size) DO UPDATE SET root_hash = excluded.root_hash, \
                 note = excluded.note",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    to_i64(checkpoint.size, "tree size")
                        .map_err(|e| { rusqlite::Error::ToSqlConversionFailure(Box::new(e)) })?,
                    checkpoint.root_hash.as_slice(),
                    checkpoint.note,
                ])
            })
            .ctx(|| format!("storing the checkpoint of size {}", checkpoint.size))?;
        Ok(())
    }

    fn put_assessment(&mut self, a: &AssessmentRecord) -> Result<()> {
        let index = to_i64(a.log_index, "log index")?;
        let entries = to_i64(a.entries, "entry count")?;
        self.conn
            .prepare_cached(
                "INSERT INTO assessments (log_index, agreement, version, as_of, entries, digest) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (log_index) DO UPDATE \
                 SET agreement = excluded.agreement, version = excluded.version, \
                 as_of = excluded.as_of, entries = excluded.entries, digest = excluded.digest",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    index,
                    a.agreement,
                    a.version,
                    a.as_of.0,
                    entries,
                    a.digest
                ])
            })
            .ctx(|| format!("storing the assessment at log index {}", a.log_index))?;
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        self.conn
            .execute_batch("COMMIT")
            .ctx(|| "committing".to_string())?;
        self.open = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IncidentQuery;

    #[test]
    fn a_version_1_store_migrates_its_incidents_into_the_rtree_and_keeps_its_reports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pacta.sqlite3");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute(
                "INSERT INTO incidents VALUES ('inc:a', 10, 20, 30.5, 45.5, '|burst|', NULL, \
                 '{}', x'00')",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO reports VALUES ('r1', 7, 'm1', 'burst', 10, 20, 30.5, 45.5)",
                [],
            )
            .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let page = store
            .incidents(&IncidentQuery {
                bbox: Some(BBox {
                    min_lon: 30.0,
                    min_lat: 45.0,
                    max_lon: 31.0,
                    max_lat: 46.0,
                }),
                limit: 10,
                ..IncidentQuery::default()
            })
            .unwrap();
        assert_eq!(page.items.len(), 1);
        let report = store.report("r1").unwrap().unwrap();
        assert_eq!((report.monitor.as_str(), report.lon), ("m1", 30.5));
        let version: i64 = store
            .lock_writer()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SqliteStore::schema_version());
    }
}
