//! `pacta log`: create, append to, checkpoint, prove from and verify a transparency log.
//!
//! A log directory holds `log.json` (the origin), `journal` (the sequencing journal, not
//! published) and `public/` (the checkpoint, tiles and entry bundles, to be served as
//! static files under the log's URL).

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use pacta_log::proof::{ConsistencyProof, InclusionProof, CONSISTENCY_HEADER, INCLUSION_HEADER};
use pacta_log::store::StoreError;
use pacta_log::{
    verify_log, verify_log_with_progress, DirStore, LogWriter, NoteSigner, NoteVerifier,
    TileSource, MAX_ENTRY_BYTES,
};

use super::{exit_invalid, EXIT_OK};

/// Largest file fetched from a log server: entry bundles are at most 256 entries of at
/// most 65,537 bytes each (about 16.8 MB); everything else is far smaller.
const MAX_FETCH_BYTES: u64 = 17 << 20;
/// Default number of entries appended (and synced) together.
const DEFAULT_BATCH: usize = 1024;
/// Largest batch accepted, bounding memory to about 1 GiB of 65 KiB entries.
const MAX_BATCH: usize = 16_384;

/// Manage a transparency log (RFC 6962 tree, C2SP checkpoints, tiles and proofs).
#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an empty log in DIR, signed by the key in KEY (a `pacta keygen` file).
    Init {
        /// Log directory to create.
        dir: PathBuf,
        /// Signing key file (`pacta keygen` JSON).
        #[arg(long)]
        key: PathBuf,
        /// Origin line of the checkpoints; defaults to the key name.
        #[arg(long)]
        origin: Option<String>,
    },
    /// Append entries durably: each FILE is one entry, or with --lines each line of
    /// standard input is one. Prints `appended FIRST..END` once each batch is on disk.
    Append {
        /// Log directory.
        dir: PathBuf,
        /// Signing key file (`pacta keygen` JSON).
        #[arg(long)]
        key: PathBuf,
        /// Files, one entry each.
        files: Vec<PathBuf>,
        /// Read entries from standard input, one per line (without the newline).
        #[arg(long)]
        lines: bool,
        /// Entries per durable batch (one fsync each).
        #[arg(long, default_value_t = DEFAULT_BATCH)]
        batch: usize,
        /// Integrate and publish a checkpoint after each batch.
        #[arg(long)]
        checkpoint: bool,
    },
    /// Integrate every appended entry and publish a signed checkpoint; print it.
    Checkpoint {
        /// Log directory.
        dir: PathBuf,
        /// Signing key file (`pacta keygen` JSON).
        #[arg(long)]
        key: PathBuf,
    },
    /// Print a proof from the published log: a C2SP tlog-proof of entry --index, or a
    /// consistency proof from tree size --consistency-from to the current checkpoint.
    Prove {
        /// Log directory (or its `public` directory).
        dir: PathBuf,
        /// Verifier key: `name+id+base64`, a file holding one, or a `pacta keygen` file.
        #[arg(long)]
        key: String,
        /// Entry to prove included.
        #[arg(long, conflicts_with = "consistency_from")]
        index: Option<u64>,
        /// Earlier tree size to prove consistent with the current checkpoint.
        #[arg(long)]
        consistency_from: Option<u64>,
    },
    /// Verify a published log from a directory or an http(s) URL: the checkpoint
    /// signature, every entry, every tile, and any proofs given.
    Verify {
        /// Log directory, its `public` directory, or the log's base URL.
        source: String,
        /// Verifier key: `name+id+base64`, a file holding one, or a `pacta keygen` file.
        #[arg(long)]
        key: String,
        /// Expected origin line.
        #[arg(long)]
        origin: Option<String>,
        /// Proof files to check against the log (tlog-proof or consistency proof).
        #[arg(long = "proof")]
        proofs: Vec<PathBuf>,
    },
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Init { dir, key, origin } => init(&dir, &key, origin),
        Command::Append {
            dir,
            key,
            files,
            lines,
            batch,
            checkpoint,
        } => append(&dir, &key, &files, lines, batch, checkpoint),
        Command::Checkpoint { dir, key } => checkpoint(&dir, &key),
        Command::Prove {
            dir,
            key,
            index,
            consistency_from,
        } => prove(&dir, &key, index, consistency_from),
        Command::Verify {
            source,
            key,
            origin,
            proofs,
        } => verify(&source, &key, origin.as_deref(), &proofs),
    }
}

/// The log's note signer from a `pacta keygen` file. The key name in signatures is the
/// log's origin, as is conventional for tlog checkpoints.
fn read_signer(path: &Path, origin: &str) -> anyhow::Result<NoteSigner> {
    let key = super::keygen::load_signing_key(path)?;
    NoteSigner::ed25519(origin, &key.to_bytes())
        .with_context(|| format!("the origin {origin:?} cannot serve as a note key name"))
}

/// The `name` a `pacta keygen` file was made with, if any.
fn key_file_name(path: &Path) -> anyhow::Result<Option<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a pacta key file", path.display()))?;
    Ok(json.get("name").and_then(|v| v.as_str()).map(str::to_owned))
}

/// Parses a verifier key given inline, in a file of its own, or as a `pacta keygen` file
/// (whose public half is used, under the log's origin as key name).
fn read_verifier(key: &str, origin: Option<&str>) -> anyhow::Result<NoteVerifier> {
    let path = Path::new(key);
    if !path.is_file() {
        return NoteVerifier::parse(key).context("--key is neither a file nor a verifier key");
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    if text.trim_start().starts_with('{') {
        let name = match origin {
            Some(origin) => origin.to_owned(),
            None => key_file_name(path)?
                .with_context(|| format!("{} has no name: give --origin", path.display()))?,
        };
        return Ok(read_signer(path, &name)?.verifier());
    }
    NoteVerifier::parse(text.trim())
        .with_context(|| format!("verifier key file {}", path.display()))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct LogConfig {
    origin: String,
}

struct LogPaths {
    config: PathBuf,
    public: PathBuf,
    journal: PathBuf,
}

fn paths(dir: &Path) -> LogPaths {
    LogPaths {
        config: dir.join("log.json"),
        public: dir.join("public"),
        journal: dir.join("journal"),
    }
}

fn read_origin(dir: &Path) -> anyhow::Result<String> {
    let path = paths(dir).config;
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {} (run `pacta log init` first)",
            path.display()
        )
    })?;
    let config: LogConfig =
        serde_json::from_str(&text).with_context(|| format!("{} is malformed", path.display()))?;
    Ok(config.origin)
}

fn open_writer(dir: &Path, key: &Path) -> anyhow::Result<LogWriter<DirStore>> {
    let origin = read_origin(dir)?;
    let signer = read_signer(key, &origin)?;
    let p = paths(dir);
    let log = LogWriter::open(DirStore::new(&p.public)?, &p.journal, &origin, signer)
        .with_context(|| format!("refusing to open the log in {}", dir.display()))?;
    if log.discarded_journal_bytes() > 0 {
        eprintln!(
            "note: cut {} bytes of an interrupted, never acknowledged append from {}",
            log.discarded_journal_bytes(),
            p.journal.display()
        );
    }
    Ok(log)
}

fn init(dir: &Path, key: &Path, origin: Option<String>) -> anyhow::Result<ExitCode> {
    let origin = match origin {
        Some(origin) => origin,
        None => key_file_name(key)?
            .with_context(|| format!("{} has no name: give --origin", key.display()))?,
    };
    let signer = read_signer(key, &origin)?;
    let p = paths(dir);
    if p.config.exists() {
        bail!(
            "{} already exists: {} already holds a log",
            p.config.display(),
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let verifier = signer.verifier();
    LogWriter::create(DirStore::new(&p.public)?, &p.journal, &origin, signer)?;
    let config = serde_json::to_string_pretty(&LogConfig {
        origin: origin.clone(),
    })?;
    std::fs::write(&p.config, config + "\n")
        .with_context(|| format!("cannot write {}", p.config.display()))?;
    println!("created log {origin} in {}", dir.display());
    println!("verifier key: {verifier}");
    Ok(EXIT_OK)
}

fn append(
    dir: &Path,
    key: &Path,
    files: &[PathBuf],
    lines: bool,
    batch: usize,
    checkpoint: bool,
) -> anyhow::Result<ExitCode> {
    if batch == 0 || batch > MAX_BATCH {
        bail!("--batch must be between 1 and {MAX_BATCH}");
    }
    if lines != files.is_empty() {
        bail!("give either entry files or --lines (entries on standard input)");
    }
    let mut log = open_writer(dir, key)?;
    let mut out = std::io::stdout().lock();
    let mut flush =
        |log: &mut LogWriter<DirStore>, entries: &mut Vec<Vec<u8>>| -> anyhow::Result<()> {
            if entries.is_empty() {
                return Ok(());
            }
            let range = log.append(entries)?;
            entries.clear();
            writeln!(out, "appended {}..{}", range.start, range.end)?;
            if checkpoint {
                let size = log.integrate()?.size;
                writeln!(out, "checkpoint {size}")?;
            }
            out.flush()?;
            Ok(())
        };
    let mut entries = Vec::with_capacity(batch);
    let mut stdin = std::io::stdin().lock();
    let mut files = files.iter();
    let mut line_number = 0;
    let mut next_entry = || -> anyhow::Result<Option<Vec<u8>>> {
        if lines {
            line_number += 1;
            read_entry_line(&mut stdin, line_number)
        } else {
            files.next().map(|file| read_entry_file(file)).transpose()
        }
    };
    while let Some(entry) = next_entry()? {
        entries.push(entry);
        if entries.len() == batch {
            flush(&mut log, &mut entries)?;
        }
    }
    flush(&mut log, &mut entries)?;
    Ok(EXIT_OK)
}

/// Reads one entry file, refusing (by name, and without reading all of it) one larger than
/// an entry may be.
fn read_entry_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut entry = Vec::new();
    file.take(MAX_ENTRY_BYTES as u64 + 1)
        .read_to_end(&mut entry)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if entry.len() > MAX_ENTRY_BYTES {
        bail!(
            "{}: the entry exceeds the maximum entry size of {MAX_ENTRY_BYTES} bytes",
            path.display()
        );
    }
    Ok(entry)
}

/// Reads the next line of standard input (line `number`) as an entry, without its newline;
/// `None` at the end. A line longer than an entry may be is refused by number, without
/// reading the rest of it.
fn read_entry_line(input: &mut impl BufRead, number: usize) -> anyhow::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    // The entry, its newline, and one byte more to tell an overlong line.
    input
        .take(MAX_ENTRY_BYTES as u64 + 2)
        .read_until(b'\n', &mut line)
        .with_context(|| format!("cannot read standard input line {number}"))?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    if line.len() > MAX_ENTRY_BYTES {
        bail!("standard input line {number}: the entry exceeds the maximum entry size of {MAX_ENTRY_BYTES} bytes");
    }
    Ok(Some(line))
}

fn checkpoint(dir: &Path, key: &Path) -> anyhow::Result<ExitCode> {
    let mut log = open_writer(dir, key)?;
    log.integrate()?;
    print!("{}", log.signed_checkpoint());
    Ok(EXIT_OK)
}

/// The directory whose `checkpoint` and `tile/` are published: DIR/public for a log
/// directory, DIR itself otherwise.
fn public_dir(dir: &Path) -> PathBuf {
    let public = paths(dir).public;
    if public.join("checkpoint").is_file() {
        public
    } else {
        dir.to_path_buf()
    }
}

fn prove(
    dir: &Path,
    key: &str,
    index: Option<u64>,
    consistency_from: Option<u64>,
) -> anyhow::Result<ExitCode> {
    let verifier = read_verifier(key, None)?;
    let store = DirStore::new(public_dir(dir))?;
    let log = match verify_log(&store, &[verifier], None) {
        Ok(log) => log,
        Err(error) => {
            eprintln!(
                "error: the log in {} does not verify: {error}",
                dir.display()
            );
            return Ok(exit_invalid());
        }
    };
    let text = match (index, consistency_from) {
        (Some(index), _) => log.inclusion_proof(index)?.to_text(),
        (None, Some(old)) => log.consistency_proof(old)?.to_text(),
        (None, None) => bail!("give --index N or --consistency-from SIZE"),
    };
    print!("{text}");
    Ok(EXIT_OK)
}

/// Reads a published log over HTTP(S), relative to its base URL.
struct HttpSource {
    base: String,
    agent: ureq::Agent,
}

impl TileSource for HttpSource {
    fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let url = format!("{}/{path}", self.base.trim_end_matches('/'));
        let backend = |reason: String| StoreError::Backend {
            path: url.clone(),
            reason,
        };
        match self.agent.get(&url).call() {
            Ok(mut response) => response
                .body_mut()
                .with_config()
                .limit(MAX_FETCH_BYTES)
                .read_to_vec()
                .map(Some)
                .map_err(|e| backend(e.to_string())),
            Err(ureq::Error::StatusCode(404)) => Ok(None),
            Err(error) => Err(backend(error.to_string())),
        }
    }
}

fn verify(
    source: &str,
    key: &str,
    origin: Option<&str>,
    proofs: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let verifier = read_verifier(key, origin)?;
    let trusted = [verifier];
    // The bar draws on standard error only when it is a terminal.
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("verifying {bar:40} {pos}/{len} entries {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let outcome = if source.starts_with("http://") || source.starts_with("https://") {
        let http = HttpSource {
            base: source.to_owned(),
            agent: ureq::Agent::new_with_defaults(),
        };
        verify_log_with_progress(&http, &trusted, origin, &mut progress)
    } else {
        let dir = public_dir(Path::new(source));
        if !dir.is_dir() {
            bail!("{source} is neither a directory nor an http(s) URL");
        }
        verify_log_with_progress(&DirStore::new(dir)?, &trusted, origin, &mut progress)
    };
    bar.finish_and_clear();
    let log = match outcome {
        Ok(log) => log,
        Err(error) => {
            eprintln!("verify failed: {error}");
            return Ok(exit_invalid());
        }
    };
    let checkpoint = log.checkpoint();
    println!(
        "checkpoint {} size {} root {}: signature verified",
        checkpoint.origin, checkpoint.size, checkpoint.root
    );
    println!(
        "recomputed {} entries from their bundles; {} tiles match",
        checkpoint.size,
        log.tiles_checked()
    );
    for path in proofs {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read proof {}", path.display()))?;
        let result = if text.starts_with(INCLUSION_HEADER) {
            InclusionProof::parse(&text).and_then(|proof| {
                log.check_inclusion_proof(&proof, &trusted)
                    .map(|()| format!("inclusion of entry {}", proof.index))
            })
        } else if text.starts_with(CONSISTENCY_HEADER) {
            ConsistencyProof::parse(&text).and_then(|proof| {
                log.check_consistency_proof(&proof, &trusted)
                    .map(|()| format!("consistency from size {}", proof.old_size))
            })
        } else {
            eprintln!(
                "verify failed: {}: line 1: neither {INCLUSION_HEADER:?} nor {CONSISTENCY_HEADER:?}",
                path.display()
            );
            return Ok(exit_invalid());
        };
        match result {
            Ok(what) => println!("{}: {what} verified", path.display()),
            Err(error) => {
                eprintln!("verify failed: {}: {error}", path.display());
                return Ok(exit_invalid());
            }
        }
    }
    Ok(EXIT_OK)
}
