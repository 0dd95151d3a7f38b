//! `pacta keygen`: make an Ed25519 signing key for a monitor, guarantor, party or panel
//! member, and the key file format that `pacta report sign` reads.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use pacta_core::entry::{format_public_key, parse_public_key, public_key_of};
use serde::{Deserialize, Serialize};

use super::EXIT_OK;

/// Generate an Ed25519 signing key and write it to a key file.
///
/// The file is JSON: `{"algorithm":"ed25519","name":...,"secret":"BASE64(32-byte seed)",
/// "public":"ed25519:BASE64"}`, created with mode 0600 (owner only). The public key is
/// printed alone on stdout, ready to paste into the signer's `keys` in the agreement.
///
/// Exit codes: 0 written; 2 usage error, the file exists (without --force), or it cannot be
/// written.
#[derive(clap::Args)]
pub struct Args {
    /// Where to write the key file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// A label kept in the file, e.g. the monitor id the key is for.
    #[arg(long)]
    pub name: Option<String>,
    /// Replace an existing file (its old key is lost).
    #[arg(long)]
    pub force: bool,
}

/// The algorithm name in key files.
const ALGORITHM: &str = "ed25519";

/// A key file as written on disk.
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

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let public = format_public_key(&public_key_of(&key));
    let file = KeyFile {
        algorithm: ALGORITHM.to_string(),
        name: args.name,
        secret: BASE64.encode(key.to_bytes()),
        public: public.clone(),
    };
    let mut text = serde_json::to_string_pretty(&file)?;
    text.push('\n');
    write_secret_file(&args.out, text.as_bytes(), args.force)?;
    eprintln!(
        "wrote a secret key to {} (mode 0600); list this public key under its signer's `keys`:",
        args.out.display()
    );
    println!("{public}");
    Ok(EXIT_OK)
}

/// Writes `bytes` to `path` readable by the owner only, refusing to replace an existing file
/// unless `force`.
fn write_secret_file(path: &Path, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists; pass --force to replace it (its key will be lost)",
                path.display()
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
        }
    })?;
    // A replaced file keeps its old mode; tighten it before the secret goes in.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {} to mode 0600", path.display()))?;
    }
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Reads a key file written by `pacta keygen`, checking that its public key matches its
/// secret (a file edited by hand or truncated is refused rather than signing with a key the
/// agreement does not list).
pub fn load_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    warn_if_readable_by_others(path);
    let file: KeyFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a pacta key file", path.display()))?;
    if file.algorithm != ALGORITHM {
        bail!(
            "{}: algorithm `{}` is not supported; expected `{ALGORITHM}`",
            path.display(),
            file.algorithm
        );
    }
    let seed: [u8; 32] = BASE64
        .decode(&file.secret)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .with_context(|| {
            format!(
                "{}: `secret` must be 32 bytes in standard base64",
                path.display()
            )
        })?;
    let key = SigningKey::from_bytes(&seed);
    let stated = parse_public_key(&file.public)
        .map_err(|e| anyhow::anyhow!("{}: `public`: {e}", path.display()))?;
    if stated != public_key_of(&key) {
        bail!(
            "{}: `public` does not match `secret`; the file is damaged",
            path.display()
        );
    }
    Ok(key)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(metadata) = std::fs::metadata(path) {
        if metadata.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: key file {} is readable by others; run `chmod 600` on it",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}
