//! One module per subcommand. Each exposes `Args` (or `Command`) and `run`, which returns
//! the exit code; an `Err` means a usage or I/O error (exit 2).

use std::process::ExitCode;

pub mod assess;
pub mod check;
pub mod demo;
pub mod evaluate;
pub mod keygen;
pub mod lint;
pub mod log;
pub mod replay;
pub mod report;
pub mod serve;
pub mod simulate;
pub mod token;

pub const EXIT_OK: ExitCode = ExitCode::SUCCESS;
/// The input was read but is invalid, or fails the check that was asked for.
pub fn exit_invalid() -> ExitCode {
    ExitCode::from(1)
}
/// Bad usage, or a file that could not be read or written.
pub fn exit_usage_or_io() -> ExitCode {
    ExitCode::from(2)
}
