//! `pacta simulate` (being built in this session; replaced by its owner).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`pacta simulate` is not built yet")
}
