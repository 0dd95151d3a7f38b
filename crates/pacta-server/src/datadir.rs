//! The data directory of a server:
//!
//! ```text
//! DIR/agreement/      a copy of the agreement directory (agreement.toml + GeoJSON files)
//! DIR/log/            the pacta-log directory: log.json (origin), journal, public/ (served)
//! DIR/log.key.json    the log signing key (`pacta keygen` format, mode 0600)
//! DIR/pacta.sqlite3   the store (an index, rebuilt from the log when behind)
//! DIR/lock            held exclusively by the one server that has the directory open
//! ```
//!
//! The log is the source of truth. Its first entry is `pacta.agreement/1`, holding the text
//! of every agreement file, so a replay needs nothing but the log.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use pacta_core::agreement::model::Agreement;
use pacta_core::agreement::{parse_agreement, SourceLoader};
use pacta_core::entry::{canonical_bytes, format_public_key, parse_public_key, public_key_of};
use pacta_log::tiles::{decode_bundle, tile_path, TileKind, TILE_WIDTH};
use pacta_log::{DirStore, LogWriter, NoteSigner, NoteVerifier, TileSource};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// `schema` of the log's agreement entry.
pub const AGREEMENT_SCHEMA: &str = "pacta.agreement/1";
/// `schema` of the log's periodic assessment digest entry.
pub const ASSESSMENT_SCHEMA: &str = "pacta.assessment/1";
/// Name of the agreement file inside an agreement directory.
pub const AGREEMENT_FILE: &str = "agreement.toml";

/// Why a data directory could not be created, opened or read.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The agreement does not parse or validate.
    #[error("agreement {path}: {diagnostics}")]
    Agreement {
        /// Where it was read from (a file, or the log).
        path: String,
        /// The rendered diagnostics.
        diagnostics: String,
    },
    /// Another process holds the directory.
    #[error("{path} is locked by another running server (only one may open a data directory)")]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The log refused to open, or is not what this directory should hold.
    #[error("log in {path}: {reason}")]
    Log {
        /// The log directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file of the directory holds something unexpected.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The paths of a data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

/// The log's configuration, as `pacta log` writes it (`log.json`).
#[derive(Serialize, Deserialize)]
struct LogConfig {
    origin: String,
}

/// The algorithm name in key files.
const KEY_ALGORITHM: &str = "ed25519";

/// A key file in the `pacta keygen` format: `{"algorithm":"ed25519","name":...,
/// "secret":"BASE64(32-byte seed)","public":"ed25519:BASE64"}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    algorithm: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// The 32-byte seed, standard base64.
    secret: String,
    /// `ed25519:BASE64`, as agreements list keys.
    public: String,
}

/// Loads agreement files from a directory, remembering each text it read, so the log's
/// agreement entry holds exactly the files the agreement uses.
struct RecordingLoader {
    dir: PathBuf,
    read: Mutex<BTreeMap<String, String>>,
}

impl SourceLoader for RecordingLoader {
    fn load(&self, relative_path: &str) -> Result<String, String> {
        let text = fs::read_to_string(self.dir.join(relative_path)).map_err(|e| e.to_string())?;
        if let Ok(mut read) = self.read.lock() {
            read.insert(relative_path.to_owned(), text.clone());
        }
        Ok(text)
    }
}

/// Serves agreement files from the log's agreement entry.
struct MapLoader<'a>(&'a BTreeMap<String, String>);

impl SourceLoader for MapLoader<'_> {
    fn load(&self, relative_path: &str) -> Result<String, String> {
        self.0
            .get(relative_path)
            .cloned()
            .ok_or_else(|| format!("{relative_path} is not in the log's agreement entry"))
    }
}

/// An agreement and the text of the files it was parsed from.
#[derive(Debug)]
pub struct AgreementFiles {
    /// The validated agreement.
    pub agreement: Agreement,
    /// Relative path → text, `agreement.toml` included.
    pub files: BTreeMap<String, String>,
}

impl AgreementFiles {
    /// Reads and validates the agreement in `dir` (a directory holding `agreement.toml`).
    pub fn read(dir: &Path) -> Result<AgreementFiles, DataDirError> {
        let path = dir.join(AGREEMENT_FILE);
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        let loader = RecordingLoader {
            dir: dir.to_path_buf(),
            read: Mutex::new(BTreeMap::new()),
        };
        let parsed = parse_agreement(AGREEMENT_FILE, &text, &loader).map_err(|diagnostics| {
            DataDirError::Agreement {
                path: path.display().to_string(),
                diagnostics: diagnostics.render(100, false),
            }
        })?;
        let mut files = loader.read.into_inner().unwrap_or_default();
        files.insert(AGREEMENT_FILE.to_owned(), text);
        Ok(AgreementFiles {
            agreement: parsed.agreement,
            files,
        })
    }

    /// The `pacta.agreement/1` log entry: RFC 8785 JSON of the agreement id, version, every
    /// file's text and its SHA-256.
    pub fn log_entry(&self) -> Result<Vec<u8>, DataDirError> {
        let mut object = Map::new();
        object.insert("schema".into(), Value::from(AGREEMENT_SCHEMA));
        object.insert("agreement".into(), Value::from(self.agreement.id.clone()));
        object.insert("version".into(), Value::from(self.agreement.version));
        let files: Map<String, Value> = self
            .files
            .iter()
            .map(|(path, text)| (path.clone(), Value::from(text.clone())))
            .collect();
        let sha256: Map<String, Value> = self
            .files
            .iter()
            .map(|(path, text)| (path.clone(), Value::from(hex::encode(Sha256::digest(text)))))
            .collect();
        object.insert("files".into(), Value::Object(files));
        object.insert("sha256".into(), Value::Object(sha256));
        canonical_bytes(&object).map_err(|e| DataDirError::Malformed {
            path: PathBuf::from(AGREEMENT_FILE),
            reason: format!("no canonical JSON form: {e}"),
        })
    }

    /// Reads the agreement back from a `pacta.agreement/1` log entry, checking each file
    /// against its recorded SHA-256.
    pub fn from_log_entry(bytes: &[u8]) -> Result<AgreementFiles, String> {
        #[derive(Deserialize)]
        struct Entry {
            schema: String,
            files: BTreeMap<String, String>,
            sha256: BTreeMap<String, String>,
        }
        let entry: Entry = serde_json::from_slice(bytes)
            .map_err(|e| format!("the agreement entry is malformed: {e}"))?;
        if entry.schema != AGREEMENT_SCHEMA {
            return Err(format!(
                "the first entry has schema `{}`, not `{AGREEMENT_SCHEMA}`",
                entry.schema
            ));
        }
        for (path, text) in &entry.files {
            let actual = hex::encode(Sha256::digest(text));
            if entry.sha256.get(path) != Some(&actual) {
                return Err(format!(
                    "{path}: its text does not match its recorded sha256"
                ));
            }
        }
        let text = entry
            .files
            .get(AGREEMENT_FILE)
            .ok_or_else(|| format!("the agreement entry has no {AGREEMENT_FILE}"))?;
        let parsed = parse_agreement(AGREEMENT_FILE, text, &MapLoader(&entry.files))
            .map_err(|d| format!("the logged agreement is invalid: {}", d.render(100, false)))?;
        Ok(AgreementFiles {
            agreement: parsed.agreement,
            files: entry.files,
        })
    }
}

/// The origin line of a server's log: names the agreement, so logs of two agreements are
/// never confused.
pub fn log_origin(agreement_id: &str) -> String {
    format!("pacta/{agreement_id}")
}

/// An exclusive lock on a data directory, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DataDir {
    /// The data directory at `root` (nothing is read until asked).
    pub fn at(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// Creates a data directory at `dir` from the agreement directory `agreement_dir`: copies
    /// the agreement, makes a log signing key unless `DIR/log.key.json` exists, creates the
    /// log and appends the `pacta.agreement/1` entry. Fails if `dir` already holds a log.
    pub fn create(dir: &Path, agreement_dir: &Path) -> Result<DataDir, DataDirError> {
        let data = DataDir::at(dir);
        let agreement = AgreementFiles::read(agreement_dir)?;
        fs::create_dir_all(dir).map_err(io(dir))?;
        if data.log_dir().join("log.json").exists() {
            return Err(DataDirError::Log {
                path: data.log_dir(),
                reason: "a log already exists here; refusing to create another".into(),
            });
        }
        for (relative, text) in &agreement.files {
            let path = data.agreement_dir().join(relative);
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            fs::write(&path, text).map_err(io(&path))?;
        }
        let origin = log_origin(&agreement.agreement.id);
        if !data.key_path().exists() {
            let key = SigningKey::generate(&mut rand_core::OsRng);
            write_key_file(&data.key_path(), &key, Some(&origin), false)?;
        }
        let signer = data.log_signer(&origin)?;
        let log_dir = data.log_dir();
        fs::create_dir_all(&log_dir).map_err(io(&log_dir))?;
        let config = serde_json::to_string(&LogConfig {
            origin: origin.clone(),
        })
        .map_err(|e| DataDirError::Malformed {
            path: log_dir.join("log.json"),
            reason: e.to_string(),
        })?;
        let log_err = |e: pacta_log::Error| DataDirError::Log {
            path: log_dir.clone(),
            reason: e.to_string(),
        };
        let store = DirStore::new(data.public_dir()).map_err(|e| DataDirError::Log {
            path: log_dir.clone(),
            reason: e.to_string(),
        })?;
        let mut writer =
            LogWriter::create(store, &data.journal_path(), &origin, signer).map_err(log_err)?;
        writer.append(&[agreement.log_entry()?]).map_err(log_err)?;
        writer.integrate().map_err(log_err)?;
        // log.json last: its presence marks a complete directory.
        let config_path = log_dir.join("log.json");
        fs::write(&config_path, config).map_err(io(&config_path))?;
        Ok(data)
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `DIR/agreement`.
    pub fn agreement_dir(&self) -> PathBuf {
        self.root.join("agreement")
    }

    /// `DIR/log`.
    pub fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }

    /// `DIR/log/public`: the checkpoint, tiles and entry bundles, served as they are.
    pub fn public_dir(&self) -> PathBuf {
        self.log_dir().join("public")
    }

    /// `DIR/log/journal`.
    pub fn journal_path(&self) -> PathBuf {
        self.log_dir().join("journal")
    }

    /// `DIR/log.key.json`.
    pub fn key_path(&self) -> PathBuf {
        self.root.join("log.key.json")
    }

    /// `DIR/pacta.sqlite3`.
    pub fn store_path(&self) -> PathBuf {
        self.root.join("pacta.sqlite3")
    }

    /// `DIR/lock`.
    pub fn lock_path(&self) -> PathBuf {
        self.root.join("lock")
    }

    /// Takes the directory's exclusive lock, failing at once if another process holds it.
    pub fn lock(&self) -> Result<DirLock, DataDirError> {
        let path = self.lock_path();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(rustix::io::Errno::WOULDBLOCK) => Err(DataDirError::Locked { path }),
            Err(errno) => Err(DataDirError::Io {
                path,
                source: errno.into(),
            }),
        }
    }

    /// The log's origin, from `DIR/log/log.json`.
    pub fn origin(&self) -> Result<String, DataDirError> {
        let path = self.log_dir().join("log.json");
        let text = fs::read_to_string(&path).map_err(io(&path))?;
        let config: LogConfig =
            serde_json::from_str(&text).map_err(|e| DataDirError::Malformed {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        Ok(config.origin)
    }

    /// The log's signing key as a note signer named `origin`.
    pub fn log_signer(&self, origin: &str) -> Result<NoteSigner, DataDirError> {
        let key = read_key_file(&self.key_path())?;
        NoteSigner::ed25519(origin, &key.to_bytes()).map_err(|e| DataDirError::Malformed {
            path: self.key_path(),
            reason: format!("origin {origin:?} cannot name a note key: {e}"),
        })
    }

    /// The log's signing key (also signs `pacta.assessment/1` entries).
    pub fn log_key(&self) -> Result<SigningKey, DataDirError> {
        read_key_file(&self.key_path())
    }

    /// The verifier of the log's checkpoints.
    pub fn log_verifier(&self) -> Result<NoteVerifier, DataDirError> {
        Ok(self.log_signer(&self.origin()?)?.verifier())
    }

    /// Opens the log for writing, integrating whatever the journal holds beyond the last
    /// checkpoint (entries acknowledged before a crash).
    pub fn open_log(&self) -> Result<LogWriter<DirStore>, DataDirError> {
        let origin = self.origin()?;
        let signer = self.log_signer(&origin)?;
        let log_dir = self.log_dir();
        let log_err = |e: String| DataDirError::Log {
            path: log_dir.clone(),
            reason: e,
        };
        let store = DirStore::new(self.public_dir()).map_err(|e| log_err(e.to_string()))?;
        let mut writer = LogWriter::open(store, &self.journal_path(), &origin, signer)
            .map_err(|e| log_err(e.to_string()))?;
        writer.integrate().map_err(|e| log_err(e.to_string()))?;
        Ok(writer)
    }
}

/// Reads entries `0..size` of a published log from its entry bundles, in order.
pub fn read_log_entries(source: &dyn TileSource, size: u64) -> Result<Vec<Vec<u8>>, String> {
    let mut entries = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut index = 0;
    while index * TILE_WIDTH < size {
        let width = (size - index * TILE_WIDTH).min(TILE_WIDTH);
        let path = tile_path(TileKind::Entries, index, width);
        let bytes = source
            .fetch(&path)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{path} is missing"))?;
        let bundle = decode_bundle(&bytes).map_err(|e| format!("{path}: {e}"))?;
        if bundle.len() as u64 != width {
            return Err(format!(
                "{path} holds {} entries, expected {width}",
                bundle.len()
            ));
        }
        entries.extend(bundle.into_iter().map(<[u8]>::to_vec));
        index += 1;
    }
    Ok(entries)
}

/// Reads entry `index` of a published log of `size` entries from its entry bundle.
pub fn read_log_entry(source: &dyn TileSource, index: u64, size: u64) -> Result<Vec<u8>, String> {
    if index >= size {
        return Err(format!("entry {index} is beyond the log's {size} entries"));
    }
    let tile = index / TILE_WIDTH;
    let width = (size - tile * TILE_WIDTH).min(TILE_WIDTH);
    let path = tile_path(TileKind::Entries, tile, width);
    let bytes = source
        .fetch(&path)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{path} is missing"))?;
    let bundle = decode_bundle(&bytes).map_err(|e| format!("{path}: {e}"))?;
    bundle
        .get((index % TILE_WIDTH) as usize)
        .map(|entry| entry.to_vec())
        .ok_or_else(|| format!("{path} has no entry {index}"))
}

/// Writes `key` to a `pacta keygen`-format key file at `path`, labelled `name`, readable by
/// the owner only (mode 0600 on Unix). An existing file is refused (an
/// [`std::io::ErrorKind::AlreadyExists`] I/O error) unless `replace`.
pub fn write_key_file(
    path: &Path,
    key: &SigningKey,
    name: Option<&str>,
    replace: bool,
) -> Result<(), DataDirError> {
    let file = KeyFile {
        algorithm: KEY_ALGORITHM.into(),
        name: name.map(str::to_owned),
        secret: BASE64.encode(key.to_bytes()),
        public: format_public_key(&public_key_of(key)),
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| DataDirError::Malformed {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    text.push('\n');
    let mut options = OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(path).map_err(io(path))?;
    // A replaced file keeps its old mode; tighten it before the secret goes in.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        out.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(io(path))?;
    }
    out.write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .map_err(io(path))
}

/// Reads a `pacta keygen`-format key file; see [`parse_key_file`].
pub fn read_key_file(path: &Path) -> Result<SigningKey, DataDirError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    parse_key_file(&text).map_err(|reason| DataDirError::Malformed {
        path: path.to_path_buf(),
        reason,
    })
}

/// Parses the text of a `pacta keygen`-format key file, checking its public half against
/// its secret (a file edited by hand or truncated is refused rather than signing with a key
/// the agreement does not list).
pub fn parse_key_file(text: &str) -> Result<SigningKey, String> {
    let file: KeyFile =
        serde_json::from_str(text).map_err(|e| format!("not a pacta key file: {e}"))?;
    if file.algorithm != KEY_ALGORITHM {
        return Err(format!(
            "algorithm `{}` is not supported; expected `{KEY_ALGORITHM}`",
            file.algorithm
        ));
    }
    let seed: [u8; 32] = BASE64
        .decode(&file.secret)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or("`secret` must be 32 bytes in standard base64")?;
    let key = SigningKey::from_bytes(&seed);
    let stated = parse_public_key(&file.public).map_err(|e| format!("`public`: {e}"))?;
    if stated != public_key_of(&key) {
        return Err("`public` does not match `secret`; the file is damaged".into());
    }
    Ok(key)
}
