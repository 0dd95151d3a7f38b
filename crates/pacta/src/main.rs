//! The `pacta` command line: a thin shell that reads files and flags, calls pacta-core or
//! pacta-log, and prints.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod agreement_file;
mod cmd;

// The allocator and its setting are shared with the benchmarks, so their figures are these.
#[global_allocator]
static ALLOCATOR: pacta_alloc::MiMalloc = pacta_alloc::MiMalloc;

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
    pacta_alloc::configure_memory();
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
