//! `pacta check PATH`: parse and validate an agreement and the files it references.

use std::path::PathBuf;
use std::process::ExitCode;

use pacta_core::agreement::model::{Agreement, CommitmentRule};

use super::{exit_invalid, EXIT_OK};
use crate::agreement_file;

/// Parse and validate an agreement: syntax, keys and types, times and durations,
/// references, geometry, periods, escalation and phase order.
///
/// Prints every problem found with its file, line and column, the offending text and a
/// hint; on success prints a summary of the agreement.
///
/// Exit codes: 0 the agreement is valid (warnings may be printed); 1 it is invalid;
/// 2 usage error, or the agreement file cannot be read.
#[derive(clap::Args)]
pub struct Args {
    /// A directory holding `agreement.toml`, or the agreement's TOML file.
    pub path: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match agreement_file::load_or_report(&args.path)? {
        Some(parsed) => {
            println!("{}", summary(&parsed.agreement));
            Ok(EXIT_OK)
        }
        None => Ok(exit_invalid()),
    }
}

/// One paragraph: what the agreement holds.
fn summary(a: &Agreement) -> String {
    let obligations = a
        .commitments
        .iter()
        .filter(|c| matches!(c.rule, CommitmentRule::Obligation { .. }))
        .count();
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "ok: `{}` (version {}, effective {}) is valid: {}, {}, {}, {}, {}, {} ({}, {}), {}, {}.",
        a.id,
        a.version,
        a.effective,
        count(a.parties.len(), "party", "parties"),
        count(a.guarantors.len(), "guarantor", "guarantors"),
        count(a.monitors.len(), "monitor", "monitors"),
        count(a.zones.len(), "zone", "zones"),
        count(a.evidence.len(), "evidence standard", "evidence standards"),
        count(a.commitments.len(), "commitment", "commitments"),
        count(
            a.commitments.len() - obligations,
            "prohibition",
            "prohibitions"
        ),
        count(obligations, "obligation", "obligations"),
        count(a.responses.len(), "response rung", "response rungs"),
        count(a.phases.len(), "phase", "phases"),
    )
}
