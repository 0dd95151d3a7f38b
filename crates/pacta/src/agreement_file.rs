//! Loading an agreement from disk for any command: resolves the path, reads the TOML file
//! and the GeoJSON files it references, parses and validates with pacta-core, and prints
//! diagnostics in compiler style.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use pacta_core::agreement::{parse_agreement, Diagnostics, Parsed, SourceLoader};

/// The file looked for when a command is given a directory.
pub const AGREEMENT_FILE_NAME: &str = "agreement.toml";

/// Wrapping width of rendered diagnostics when not writing to a terminal, fixed so output
/// (and snapshot tests) do not depend on the environment.
const RENDER_WIDTH: usize = 100;

/// Reads referenced files relative to the agreement file's directory.
struct DirectoryLoader {
    dir: PathBuf,
}

impl SourceLoader for DirectoryLoader {
    fn load(&self, relative_path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.dir.join(relative_path)).map_err(|e| e.to_string())
    }
}

/// `PATH` itself if it is a file, else `PATH/agreement.toml`.
pub fn agreement_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(AGREEMENT_FILE_NAME)
    } else {
        path.to_path_buf()
    }
}

/// Parses the agreement at `path` (a directory holding `agreement.toml`, or the TOML file).
///
/// `Err` is an I/O error on the agreement file itself (exit 2); `Ok(Err(diagnostics))` is an
/// invalid agreement (exit 1), including unreadable referenced files, which are reported as
/// diagnostics at the line that names them.
pub fn load(path: &Path) -> anyhow::Result<Result<Parsed, Diagnostics>> {
    let file = agreement_path(path);
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read agreement file {}", file.display()))?;
    let dir = file
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // Diagnostics name files with forward slashes on every platform so output is stable.
    let name = file.to_string_lossy().replace('\\', "/");
    Ok(parse_agreement(&name, &text, &DirectoryLoader { dir }))
}

/// Loads the agreement at `path`, printing its diagnostics (errors and warnings) to stderr.
/// Returns `None` when it is invalid: the caller should exit with `exit_invalid()`.
pub fn load_or_report(path: &Path) -> anyhow::Result<Option<Parsed>> {
    match load(path)? {
        Ok(parsed) => {
            if !parsed.warnings.is_empty() {
                eprint!("{}", render(&parsed.warnings));
            }
            Ok(Some(parsed))
        }
        Err(diagnostics) => {
            eprint!("{}", render(&diagnostics));
            eprintln!("{}", tally(&diagnostics));
            Ok(None)
        }
    }
}

/// Renders diagnostics for stderr: colour and the terminal's width on a terminal (unless
/// `NO_COLOR` is set), plain text at a fixed width otherwise.
pub fn render(diagnostics: &Diagnostics) -> String {
    let terminal = std::io::stderr().is_terminal();
    let colour = terminal && std::env::var_os("NO_COLOR").is_none();
    diagnostics.render(RENDER_WIDTH, colour)
}

/// `error: the agreement is invalid: 3 errors, 1 warning`.
pub fn tally(diagnostics: &Diagnostics) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "error: the agreement is invalid: {}, {}",
        plural(diagnostics.error_count(), "error"),
        plural(diagnostics.warning_count(), "warning")
    )
}
