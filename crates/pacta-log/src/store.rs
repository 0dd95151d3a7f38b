//! Where tiles, entry bundles and the checkpoint live.
//!
//! [`TileSource`] is the read side a verifier needs (a directory, an HTTP server, object
//! storage); [`TileStore`] adds the write side a log needs. [`DirStore`] keeps the files in
//! a directory laid out exactly as they are served (`checkpoint`, `tile/...`), so any
//! static file server can publish it.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Path of the checkpoint, relative to the log root.
pub const CHECKPOINT_PATH: &str = "checkpoint";

/// Why a read or a write failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O error on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file or URL.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A write would replace an immutable file with different content.
    #[error("refusing to rewrite {path}: it already holds different content (tiles and bundles are immutable once written)")]
    Rewrite {
        /// The file.
        path: String,
    },
    /// Any other failure of a backend (for example an HTTP status).
    #[error("{path}: {reason}")]
    Backend {
        /// The file or URL.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// Reads the published files of a log.
pub trait TileSource {
    /// Reads the file at `path` (for example `checkpoint` or `tile/0/000`); `Ok(None)` if
    /// it does not exist.
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Writes the published files of a log.
///
/// Implementations must make [`TileStore::put_immutable`] writes durable no later than the
/// next [`TileStore::put_checkpoint`] returns, and must write the checkpoint atomically.
pub trait TileStore: TileSource {
    /// Writes an immutable file. If the file exists with the same bytes this does nothing;
    /// with different bytes it fails with [`StoreError::Rewrite`].
    fn put_immutable(&self, path: &str, bytes: &[u8]) -> Result<(), StoreError>;
    /// Makes every earlier write durable, then atomically replaces the checkpoint and makes
    /// it durable.
    fn put_checkpoint(&self, bytes: &[u8]) -> Result<(), StoreError>;
}

/// A [`TileStore`] in a local directory.
pub struct DirStore {
    root: PathBuf,
    /// Directories with new entries not yet made durable.
    dirty_dirs: Mutex<BTreeSet<PathBuf>>,
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl DirStore {
    /// A store rooted at `root`, which is created if missing.
    pub fn new(root: impl Into<PathBuf>) -> Result<DirStore, StoreError> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(|e| io_error(&root, e))?;
        Ok(DirStore {
            root,
            dirty_dirs: Mutex::new(BTreeSet::new()),
        })
    }

    /// The directory this store writes to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn resolve(&self, path: &str) -> Result<PathBuf, StoreError> {
        // Paths come from this crate, but a defensive check keeps a bad caller inside root.
        if path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
        {
            return Err(StoreError::Backend {
                path: path.to_owned(),
                reason: "not a relative tile path".to_owned(),
            });
        }
        Ok(self.root.join(path))
    }

    fn mark_dirty(&self, dir: &Path) {
        if let Ok(mut dirs) = self.dirty_dirs.lock() {
            dirs.insert(dir.to_path_buf());
        }
    }

    /// Writes `bytes` to a temporary file next to `target`, syncs it and renames it into
    /// place, so readers never see a partial file.
    fn write_atomically(&self, target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = target.parent().unwrap_or(&self.root);
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let mut temporary = target.as_os_str().to_owned();
        temporary.push(format!(".tmp-{}", std::process::id()));
        let temporary = PathBuf::from(temporary);
        let mut file = File::create(&temporary).map_err(|e| io_error(&temporary, e))?;
        file.write_all(bytes).map_err(|e| io_error(&temporary, e))?;
        file.sync_data().map_err(|e| io_error(&temporary, e))?;
        fs::rename(&temporary, target).map_err(|e| io_error(target, e))?;
        self.mark_dirty(dir);
        Ok(())
    }

    fn sync_dirty_dirs(&self) -> Result<(), StoreError> {
        let dirs = match self.dirty_dirs.lock() {
            Ok(mut dirs) => std::mem::take(&mut *dirs),
            Err(_) => BTreeSet::new(),
        };
        for dir in dirs {
            sync_dir(&dir)?;
        }
        Ok(())
    }
}

/// Makes a directory's entries (new or renamed files) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|e| io_error(dir, e))
}

impl TileSource for DirStore {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let full = self.resolve(path)?;
        match fs::read(&full) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&full, e)),
        }
    }
}

impl TileStore for DirStore {
    fn put_immutable(&self, path: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let target = self.resolve(path)?;
        match fs::read(&target) {
            Ok(existing) if existing == bytes => return Ok(()),
            Ok(_) => {
                return Err(StoreError::Rewrite {
                    path: path.to_owned(),
                })
            }
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&target, e)),
        }
        self.write_atomically(&target, bytes)
    }

    fn put_checkpoint(&self, bytes: &[u8]) -> Result<(), StoreError> {
        self.sync_dirty_dirs()?;
        let target = self.resolve(CHECKPOINT_PATH)?;
        self.write_atomically(&target, bytes)?;
        self.sync_dirty_dirs()
    }
}

/// Opens a file for appending, creating it if needed.
pub(crate) fn open_append(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .append(true)
        .read(true)
        .open(path)
        .map_err(|e| io_error(path, e))
}
