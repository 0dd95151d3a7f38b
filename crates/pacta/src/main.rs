//! The `pacta` command line: a thin shell that reads files and flags, calls pacta-core or
//! pacta-log, and prints.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod agreement_file;
mod cmd;

// Ingest and replay allocate per entry on every core; glibc's allocator spent a tenth of the
// server's CPU there under load (perf), mimalloc's thread-local heaps far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`, by its place in `mimalloc.h`'s option enum (v2 and v3
/// alike; libmimalloc-sys names only some options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system at once, not after mimalloc's default second. A
/// replay frees each stage's working memory (the observations once corroborated, the
/// responses' chains once sorted) just before the next stage allocates its own; held for a
/// second, both were resident together: 1,129 MiB against 918 MiB at the peak of a replay of
/// 10^6 reports, and 45.5 against 45.2 CPU seconds (one replay each way; `bench/BENCHMARKS.md`,
/// run 6). `MIMALLOC_PURGE_DELAY` in the environment still decides where it is set.
fn return_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an option of the allocator, which reads it each time it frees pages;
        // no memory is touched.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}

/// Pacta: agreements whose guarantees are checkable, evidence that anyone can verify.
///
/// Exit codes: 0 success; 1 the input is invalid or fails the check asked for (a broken
/// agreement, a lint gap, a bad signature); 2 usage or I/O error.
#[derive(Parser)]
#[command(name = "pacta", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Check(cmd::check::Args),
    Lint(cmd::lint::Args),
    Keygen(cmd::keygen::Args),
    #[command(subcommand)]
    Report(cmd::report::Command),
    Assess(cmd::assess::Args),
    #[command(subcommand)]
    Log(cmd::log::Command),
    Serve(cmd::serve::Args),
    Replay(cmd::replay::Args),
    Demo(cmd::demo::Args),
    Simulate(cmd::simulate::Args),
    Evaluate(cmd::evaluate::Args),
    #[command(subcommand)]
    Token(cmd::token::Command),
}

fn main() -> ExitCode {
    return_freed_memory_at_once();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Lint(args) => cmd::lint::run(args),
        Command::Keygen(args) => cmd::keygen::run(args),
        Command::Report(command) => cmd::report::run(command),
        Command::Assess(args) => cmd::assess::run(args),
        Command::Log(command) => cmd::log::run(command),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Demo(args) => cmd::demo::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Evaluate(args) => cmd::evaluate::run(args),
        Command::Token(command) => cmd::token::run(command),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            cmd::exit_usage_or_io()
        }
    }
}
