//! `pacta replay`: recompute the assessment from the log and compare digests.

use std::path::PathBuf;
use std::process::ExitCode;

use super::{exit_invalid, exit_usage_or_io, EXIT_OK};

/// Verify a data directory's log, recompute the assessment from the log alone, and compare
/// it with the digest the server recorded.
///
/// Reads the agreement from the log's `pacta.agreement/1` entry and the last
/// `pacta.assessment/1` entry's prefix and as-of time, assesses that prefix from scratch
/// and prints both digests.
///
/// Exit codes: 0 the digests match; 1 they differ, or the log does not verify; 2 the
/// directory cannot be read.
#[derive(clap::Args)]
pub struct Args {
    /// The data directory (as given to `pacta serve --data`).
    data: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !args.data.join("log").is_dir() {
        eprintln!("error: {} has no log/ directory", args.data.display());
        return Ok(exit_usage_or_io());
    }
    let replay = match pacta_server::replay::replay(&args.data) {
        Ok(replay) => replay,
        Err(reason) => {
            eprintln!("error: {reason}");
            return Ok(exit_invalid());
        }
    };
    println!("log entries:  {} (verified)", replay.log_entries);
    println!(
        "assessment:   entry {} covers entries 0..{} as of {}",
        replay.assessment_index,
        replay.prefix,
        replay.as_of.to_rfc3339()
    );
    println!("recorded:     {}", replay.recorded);
    println!("replayed:     {}", replay.replayed);
    if replay.matches() {
        println!("match");
        Ok(EXIT_OK)
    } else {
        println!("MISMATCH");
        Ok(exit_invalid())
    }
}
