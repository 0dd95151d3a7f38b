//! `pacta keygen`: make an Ed25519 signing key for a monitor, guarantor, party or panel
//! member, and the loader of such files that `pacta report sign` uses (the format itself is
//! written and read by `pacta_server::datadir`, which keeps the server's log key the same way).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use pacta_core::entry::{format_public_key, public_key_of};
use pacta_server::datadir::{read_key_file, write_key_file};
use pacta_server::DataDirError;

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

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let key = SigningKey::generate(&mut rand_core::OsRng);
    write_key_file(&args.out, &key, args.name.as_deref(), args.force).map_err(|e| match e {
        DataDirError::Io { source, .. } if source.kind() == std::io::ErrorKind::AlreadyExists => {
            anyhow::anyhow!(
                "{} already exists; pass --force to replace it (its key will be lost)",
                args.out.display()
            )
        }
        other => anyhow::Error::new(other).context("cannot write the key file"),
    })?;
    eprintln!(
        "wrote a secret key to {} (mode 0600); list this public key under its signer's `keys`:",
        args.out.display()
    );
    println!("{}", format_public_key(&public_key_of(&key)));
    Ok(EXIT_OK)
}

/// Reads a key file written by `pacta keygen` (see [`read_key_file`]), warning when others
/// may read it.
pub fn load_signing_key(path: &Path) -> anyhow::Result<SigningKey> {
    warn_if_readable_by_others(path);
    read_key_file(path).context("cannot load the signing key")
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
