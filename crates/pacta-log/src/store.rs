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
    /// A file is corrupt at a known place.
    #[error("{path}: at byte offset {offset}: {reason}")]
    Corrupt {
        /// The file.
        path: String,
        /// Byte offset of the first bad byte or record.
        offset: u64,
        /// What is wrong.
        reason: String,
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
    /// Removes whatever a writer that crashed had staged but not published. Called when a
    /// writer opens the log; a store that stages nothing outside its own memory keeps the
    /// default, which does nothing.
    fn discard_unpublished(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// Most files synced at once when publishing a checkpoint. Syncing concurrently lets the
/// file system commit them together (one integration of 1024 entries writes about ten files,
/// and one sync costs milliseconds), and the bound keeps the thread count small.
const MAX_CONCURRENT_SYNCS: usize = 64;

/// A [`TileStore`] in a local directory.
///
/// Immutable files are written to a temporary name at once and synced, renamed into place
/// and their directories synced together when the next checkpoint is published, so a reader
/// never sees a partial file and a checkpoint never refers to a file that is not durable.
pub struct DirStore {
    root: PathBuf,
    /// Written but not yet synced and renamed: (temporary file, final path).
    staged: Mutex<Vec<(PathBuf, PathBuf)>>,
    /// Parents of directories created since the last publish: their new entries must be
    /// durable before a checkpoint refers to anything below them.
    new_dir_parents: Mutex<BTreeSet<PathBuf>>,
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
        let store = DirStore {
            root: root.clone(),
            staged: Mutex::new(Vec::new()),
            new_dir_parents: Mutex::new(BTreeSet::new()),
        };
        store.create_dirs(&root)?;
        let created: Vec<PathBuf> =
            std::mem::take(&mut *store.new_dir_parents.lock().map_err(|_| poisoned(&root))?)
                .into_iter()
                .collect();
        in_parallel(&created, sync_dir)?;
        Ok(store)
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

    /// Creates `dir` and its missing ancestors, remembering each new directory's parent.
    fn create_dirs(&self, dir: &Path) -> Result<(), StoreError> {
        if dir.is_dir() {
            return Ok(());
        }
        let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(parent) = parent {
            self.create_dirs(parent)?;
        }
        match fs::create_dir(dir) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(()),
            Err(e) => return Err(io_error(dir, e)),
        }
        let parent = parent.unwrap_or(Path::new("."));
        self.new_dir_parents
            .lock()
            .map_err(|_| poisoned(dir))?
            .insert(parent.to_path_buf());
        Ok(())
    }

    /// Writes `bytes` to a temporary file next to `target`, to be synced and renamed into
    /// place by [`DirStore::publish`].
    fn stage(&self, target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let dir = target.parent().unwrap_or(&self.root);
        self.create_dirs(dir)?;
        let temporary = temporary_path(target);
        let mut file = File::create(&temporary).map_err(|e| io_error(&temporary, e))?;
        file.write_all(bytes).map_err(|e| io_error(&temporary, e))?;
        self.staged
            .lock()
            .map_err(|_| poisoned(target))?
            .push((temporary, target.to_path_buf()));
        Ok(())
    }

    /// Publishes a checkpoint: syncs it together with every staged file, renames the staged
    /// files into place and syncs their directories, and only then renames the checkpoint
    /// into place and syncs the root, so that a checkpoint never names a file that a crash
    /// could lose.
    fn publish(&self, checkpoint: &[u8]) -> Result<(), StoreError> {
        let target = self.resolve(CHECKPOINT_PATH)?;
        let checkpoint_temporary = temporary_path(&target);
        File::create(&checkpoint_temporary)
            .and_then(|mut file| file.write_all(checkpoint))
            .map_err(|e| io_error(&checkpoint_temporary, e))?;
        let staged = std::mem::take(&mut *self.staged.lock().map_err(|_| poisoned(&self.root))?);
        let mut temporaries: Vec<PathBuf> = staged.iter().map(|(t, _)| t.clone()).collect();
        temporaries.push(checkpoint_temporary.clone());
        in_parallel(&temporaries, |path| {
            File::open(path)
                .and_then(|file| file.sync_data())
                .map_err(|e| io_error(path, e))
        })?;
        let mut dirs = std::mem::take(
            &mut *self
                .new_dir_parents
                .lock()
                .map_err(|_| poisoned(&self.root))?,
        );
        for (temporary, target) in &staged {
            fs::rename(temporary, target).map_err(|e| io_error(target, e))?;
            dirs.insert(target.parent().unwrap_or(&self.root).to_path_buf());
        }
        let dirs: Vec<PathBuf> = dirs.into_iter().collect();
        in_parallel(&dirs, sync_dir)?;
        fs::rename(&checkpoint_temporary, &target).map_err(|e| io_error(&target, e))?;
        sync_dir(&self.root)
    }
}

fn poisoned(path: &Path) -> StoreError {
    StoreError::Backend {
        path: path.display().to_string(),
        reason: "a writer thread panicked while staging files".to_owned(),
    }
}

fn temporary_path(target: &Path) -> PathBuf {
    let mut temporary = target.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    PathBuf::from(temporary)
}

/// Runs `action` on every item, at most [`MAX_CONCURRENT_SYNCS`] at a time; returns the
/// first error.
fn in_parallel(
    items: &[PathBuf],
    action: impl Fn(&Path) -> Result<(), StoreError> + Sync,
) -> Result<(), StoreError> {
    for chunk in items.chunks(MAX_CONCURRENT_SYNCS) {
        let results: Vec<Result<(), StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|item| scope.spawn(|| action(item)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|_| Err(poisoned(Path::new("sync"))))
                })
                .collect()
        });
        results.into_iter().collect::<Result<(), StoreError>>()?;
    }
    Ok(())
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
        self.stage(&target, bytes)
    }

    fn put_checkpoint(&self, bytes: &[u8]) -> Result<(), StoreError> {
        self.publish(bytes)
    }

    fn discard_unpublished(&self) -> Result<(), StoreError> {
        remove_temporaries(&self.root)
    }
}

/// Removes the temporary files (`*.tmp-PID`) under `dir`, left by a crash between staging
/// and publishing; they were never part of a checkpoint.
fn remove_temporaries(dir: &Path) -> Result<(), StoreError> {
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error(dir, e)),
    };
    for item in listing {
        let item = item.map_err(|e| io_error(dir, e))?;
        let path = item.path();
        let kind = item.file_type().map_err(|e| io_error(&path, e))?;
        if kind.is_dir() {
            remove_temporaries(&path)?;
        } else if item.file_name().to_string_lossy().contains(".tmp-") {
            fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
        }
    }
    Ok(())
}

/// Opens a file for appending, creating it if needed.
pub(crate) fn open_append(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .append(true)
        .read(true)
        .open(path)
        .map_err(|e| io_error(path, e))
}
