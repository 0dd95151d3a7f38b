//! `pacta token`: make a bearer token for `pacta serve --tokens-file`.

use std::process::ExitCode;

use base64::Engine as _;
use pacta_core::agreement::model::Role;
use pacta_server::auth::stanza;
use rand_core::{OsRng, RngCore};

use super::EXIT_OK;

/// Make role-scoped bearer tokens for the write endpoints of `pacta serve`.
#[derive(clap::Subcommand)]
pub enum Command {
    New(NewArgs),
}

/// Generate a random token secret and the stanza that lets it write as ROLES.
///
/// Prints to stdout the secret alone on the first line, a blank line, then the `[[token]]`
/// stanza to append to the tokens file (`pacta serve --tokens-file`). The stanza holds the
/// secret's SHA-256, never the secret, and the secret is not written anywhere else: give it
/// to the client now (it sends `Authorization: Bearer <secret>`); if it is lost, make a new
/// token and remove the old stanza.
///
/// Exit codes: 0 printed; 2 usage error.
#[derive(clap::Args)]
pub struct NewArgs {
    /// The token's name, shown to operators and in refusals (never secret).
    #[arg(long)]
    pub name: String,
    /// The roles it may write as, comma-separated: monitor (reports, retractions),
    /// guarantor (actions), party (objections), panel (rulings).
    #[arg(long, value_delimiter = ',', required = true, value_parser = parse_role)]
    pub roles: Vec<Role>,
}

fn parse_role(text: &str) -> Result<Role, String> {
    match text.trim() {
        "monitor" => Ok(Role::Monitor),
        "guarantor" => Ok(Role::Guarantor),
        "party" => Ok(Role::Party),
        "panel" => Ok(Role::Panel),
        other => Err(format!(
            "`{other}` is not a role (monitor, guarantor, party, panel)"
        )),
    }
}

/// 256 bits from the operating system, URL-safe, with a prefix that secret scanners and
/// people recognise.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "pacta_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::New(args) => {
            let name = args.name.trim();
            if name.is_empty() {
                anyhow::bail!("--name must not be empty");
            }
            let mut roles = args.roles;
            roles.sort();
            roles.dedup();
            let secret = new_secret();
            let stanza = stanza(name, &roles, &secret).map_err(anyhow::Error::msg)?;
            eprintln!(
                "the first line is the secret, shown this once (the client sends \
                 `Authorization: Bearer <secret>`); append the stanza after it to the tokens file"
            );
            println!("{secret}\n\n{stanza}");
            Ok(EXIT_OK)
        }
    }
}
