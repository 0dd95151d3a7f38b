//! `pacta report sign` and `pacta report verify`: sign entries with a key file, and check
//! signed entries against an agreement, one verdict per entry.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use pacta_core::entry::limits::ENTRY_BYTES_MAX;
use pacta_core::entry::signature::role_name;
use pacta_core::entry::{
    parse_entry, sign_entry, EntryError, EntryErrorReason, EntryReader, KeyRing, LineError,
    LineOutcome, Rejection,
};
use serde_json::Value;

use super::{exit_invalid, EXIT_OK};
use crate::agreement_file;

/// Sign entries, or verify signed entries against an agreement.
#[derive(clap::Subcommand)]
pub enum Command {
    Sign(SignArgs),
    Verify(VerifyArgs),
}

/// Sign an entry (report, action, objection, ruling or retraction) with a key file.
///
/// The entry is validated first; its `signature` member is set, replacing any, to the Ed25519
/// signature of its RFC 8785 canonical form without `signature`. A single entry is printed
/// as indented JSON; with --ndjson every line is signed and printed as one line.
///
/// Exit codes: 0 all signed; 1 some entry is invalid (reported with its line and JSON
/// pointer; with --ndjson the other lines are still signed); 2 usage or I/O error.
#[derive(clap::Args)]
pub struct SignArgs {
    /// A key file written by `pacta keygen`.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Read one entry per line and sign each.
    #[arg(long)]
    pub ndjson: bool,
    /// The entry (JSON) or entries (NDJSON); `-` or absent reads stdin.
    pub input: Option<PathBuf>,
}

/// Verify signed entries against an agreement: schema, limits, the agreement id, the signer's
/// role and strict Ed25519 signature under one of the keys the agreement lists for it.
///
/// A `.json` file holds one entry (any formatting); any other file, or `-` for stdin, is
/// NDJSON, one entry per line. Prints one verdict per entry (`FILE:LINE: ok ...` or
/// `FILE:LINE: rejected: ...`) and a summary on stderr. Identical resubmissions are reported
/// as duplicates and are not errors; a different entry under a used id is.
///
/// Exit codes: 0 every entry verified; 1 any entry rejected, or the agreement is invalid;
/// 2 usage or I/O error.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The agreement: a directory holding `agreement.toml`, or the TOML file.
    #[arg(long, value_name = "PATH")]
    pub agreement: PathBuf,
    /// Print verdicts for rejected entries only.
    #[arg(long, short)]
    pub quiet: bool,
    /// A `.json` entry or an `.ndjson` file of entries; `-` reads NDJSON from stdin.
    pub file: PathBuf,
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Sign(args) => sign(args),
        Command::Verify(args) => verify(args),
    }
}

fn is_stdin(path: Option<&Path>) -> bool {
    path.is_none_or(|p| p.as_os_str() == "-")
}

/// The name used in messages: the path, or `<stdin>`.
fn display_name(path: Option<&Path>) -> String {
    match path {
        Some(p) if !is_stdin(Some(p)) => p.display().to_string(),
        _ => "<stdin>".to_string(),
    }
}

fn open_input(path: Option<&Path>) -> anyhow::Result<(Box<dyn BufRead>, Option<u64>)> {
    match path {
        Some(p) if !is_stdin(Some(p)) => {
            let file = File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
            let size = file.metadata().ok().map(|m| m.len());
            Ok((Box::new(BufReader::new(file)), size))
        }
        _ => Ok((Box::new(BufReader::new(io::stdin().lock())), None)),
    }
}

/// Reads the lines of an NDJSON input, one at a time, each at most `ENTRY_BYTES_MAX` plus
/// its line ending; a longer line is consumed and handed on as an over-long marker so the
/// reader reports it without holding it in memory. Yields (1-based line, bytes read, line).
struct Lines<R> {
    input: R,
    line: usize,
    buffer: Vec<u8>,
}

/// One line of input, as read.
enum LineText {
    Text(String),
    NotUtf8,
    TooLong(usize),
}

impl<R: BufRead> Lines<R> {
    fn new(input: R) -> Self {
        Lines {
            input,
            line: 0,
            buffer: Vec::new(),
        }
    }

    fn next_line(&mut self) -> io::Result<Option<(usize, usize, LineText)>> {
        self.buffer.clear();
        let limit = (ENTRY_BYTES_MAX + 2) as u64;
        let read = (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.buffer)?;
        if read == 0 {
            return Ok(None);
        }
        self.line += 1;
        let mut consumed = read;
        if self.buffer.last() != Some(&b'\n') && read as u64 == limit {
            // Over the limit: skip the rest of the line.
            let mut rest = Vec::new();
            consumed += self.input.read_until(b'\n', &mut rest)?;
            let length = consumed - usize::from(rest.last() == Some(&b'\n'));
            return Ok(Some((self.line, consumed, LineText::TooLong(length))));
        }
        while matches!(self.buffer.last(), Some(b'\n' | b'\r')) {
            self.buffer.pop();
        }
        let text = match String::from_utf8(std::mem::take(&mut self.buffer)) {
            Ok(text) => LineText::Text(text),
            Err(_) => LineText::NotUtf8,
        };
        Ok(Some((self.line, consumed, text)))
    }
}

fn sign(args: SignArgs) -> anyhow::Result<ExitCode> {
    let key = super::keygen::load_signing_key(&args.key)?;
    let name = display_name(args.input.as_deref());
    let (mut input, _) = open_input(args.input.as_deref())?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut failures = 0usize;
    if args.ndjson {
        let mut lines = Lines::new(input);
        while let Some((line, _, text)) = lines
            .next_line()
            .with_context(|| format!("cannot read {name}"))?
        {
            let text = match text {
                LineText::Text(text) if text.trim().is_empty() => continue,
                LineText::Text(text) => text,
                LineText::NotUtf8 => {
                    eprintln!("{name}:{line}: {}", EntryErrorReason::NotUtf8);
                    failures += 1;
                    continue;
                }
                LineText::TooLong(bytes) => {
                    let reason = EntryErrorReason::TooLarge {
                        bytes,
                        max: ENTRY_BYTES_MAX,
                    };
                    eprintln!("{name}:{line}: {reason}");
                    failures += 1;
                    continue;
                }
            };
            match sign_text(&text, &key) {
                Ok(signed) => writeln!(out, "{signed}")?,
                Err(reason) => {
                    eprintln!("{name}:{line}: {reason}");
                    failures += 1;
                }
            }
        }
    } else {
        let signed = read_one_entry(&mut input, &name)?.and_then(|text| sign_text(&text, &key));
        match signed {
            Ok(signed) => writeln!(out, "{}", serde_json::to_string_pretty(&signed)?)?,
            Err(reason) => {
                eprintln!("{name}: {reason}");
                failures += 1;
            }
        }
    }
    out.flush().context("cannot write the signed output")?;
    if failures > 0 {
        eprintln!("error: {failures} entries not signed");
        return Ok(exit_invalid());
    }
    Ok(EXIT_OK)
}

/// Reads a whole single-entry input, at most `ENTRY_BYTES_MAX` bytes of UTF-8: `Err` is an
/// I/O failure, `Ok(Err(reason))` an input that cannot be an entry.
fn read_one_entry(input: &mut dyn Read, name: &str) -> anyhow::Result<Result<String, String>> {
    let mut bytes = Vec::new();
    input
        .take(ENTRY_BYTES_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    if bytes.len() > ENTRY_BYTES_MAX {
        return Ok(Err(format!(
            "entry: more than {ENTRY_BYTES_MAX} bytes, over the limit for one entry"
        )));
    }
    Ok(String::from_utf8(bytes).map_err(|_| format!("entry: {}", EntryErrorReason::NotUtf8)))
}

/// Validates one entry and signs the object as received.
fn sign_text(text: &str, key: &ed25519_dalek::SigningKey) -> Result<Value, String> {
    let parsed = parse_entry(text).map_err(|e| e.to_string())?;
    sign_entry(&Value::Object(parsed.object), key).map_err(|e| e.to_string())
}

/// Counts of verdicts, for the summary and the exit code.
#[derive(Default)]
struct Tally {
    ok: usize,
    duplicates: usize,
    rejected: usize,
}

fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let Some(parsed) = agreement_file::load_or_report(&args.agreement)? else {
        return Ok(exit_invalid());
    };
    let agreement = parsed.agreement;
    let single = args.file.extension().is_some_and(|e| e == "json");
    let name = display_name(Some(&args.file));
    let (input, size) = open_input(Some(&args.file))?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut tally = Tally::default();
    if single {
        verify_single(
            input,
            &name,
            &KeyRing::new(&agreement),
            &mut out,
            &mut tally,
        )?;
    } else {
        let bar = progress_bar(size);
        let mut reader = EntryReader::new(&agreement);
        let mut lines = Lines::new(input);
        while let Some((line, bytes, text)) = lines
            .next_line()
            .with_context(|| format!("cannot read {name}"))?
        {
            bar.inc(bytes as u64);
            let verdict = match text {
                LineText::Text(text) => reader.read_line(line, &text),
                LineText::NotUtf8 => Err(rejected_line(line, EntryErrorReason::NotUtf8)),
                LineText::TooLong(bytes) => Err(rejected_line(
                    line,
                    EntryErrorReason::TooLarge {
                        bytes,
                        max: ENTRY_BYTES_MAX,
                    },
                )),
            };
            report_verdict(&mut out, &name, line, verdict, args.quiet, &mut tally)?;
        }
        bar.finish_and_clear();
    }
    out.flush().context("cannot write the verdicts")?;
    eprintln!(
        "{name}: {} verified, {} kept once, {} rejected",
        tally.ok,
        plural(tally.duplicates, "duplicate"),
        tally.rejected
    );
    Ok(if tally.rejected > 0 {
        exit_invalid()
    } else {
        EXIT_OK
    })
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// A line error for problems found before the entry reader sees the line.
fn rejected_line(line: usize, reason: EntryErrorReason) -> LineError {
    LineError {
        line,
        rejection: Rejection::Invalid(EntryError {
            pointer: String::new(),
            reason,
        }),
    }
}

fn verify_single(
    mut input: Box<dyn BufRead>,
    name: &str,
    keys: &KeyRing,
    out: &mut impl Write,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let verdict = read_one_entry(&mut input, name)?
        .and_then(|text| parse_entry(&text).map_err(|e| e.to_string()))
        .and_then(|parsed| {
            keys.authorise(&parsed)
                .map(|authorised| (parsed.entry, authorised.role))
                .map_err(|e| e.to_string())
        });
    match verdict {
        Ok((entry, role)) => {
            tally.ok += 1;
            let (_, signer) = entry.signer();
            writeln!(
                out,
                "{name}: ok: {} `{}` signed by {} `{signer}`",
                entry.schema(),
                entry.id(),
                role_name(role)
            )?;
        }
        Err(reason) => {
            tally.rejected += 1;
            writeln!(out, "{name}: rejected: {reason}")?;
        }
    }
    Ok(())
}

fn report_verdict(
    out: &mut impl Write,
    name: &str,
    line: usize,
    verdict: Result<LineOutcome, LineError>,
    quiet: bool,
    tally: &mut Tally,
) -> io::Result<()> {
    match verdict {
        Ok(LineOutcome::Blank) => Ok(()),
        Ok(LineOutcome::Accepted(accepted)) => {
            tally.ok += 1;
            if quiet {
                return Ok(());
            }
            let (_, signer) = accepted.entry.signer();
            writeln!(
                out,
                "{name}:{line}: ok: {} `{}` signed by {} `{signer}`",
                accepted.entry.schema(),
                accepted.entry.id(),
                role_name(accepted.role)
            )
        }
        Ok(LineOutcome::Duplicate { first_line }) => {
            tally.duplicates += 1;
            if quiet {
                return Ok(());
            }
            writeln!(
                out,
                "{name}:{line}: duplicate: identical to line {first_line}, kept once"
            )
        }
        Err(error) => {
            tally.rejected += 1;
            writeln!(out, "{name}:{line}: rejected: {}", error.rejection)
        }
    }
}

/// A byte-based progress bar on stderr for large inputs; hidden when stderr is not a
/// terminal, when stdout is (the verdicts are the progress), or when the size is unknown.
fn progress_bar(size: Option<u64>) -> ProgressBar {
    let show = io::stderr().is_terminal() && !io::stdout().is_terminal();
    match size {
        Some(size) if show => {
            let bar = ProgressBar::new(size);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} verifying [{bar:40}] {bytes}/{total_bytes} ({eta})",
            ) {
                bar.set_style(style);
            }
            bar
        }
        _ => ProgressBar::hidden(),
    }
}
