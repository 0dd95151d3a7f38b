//! C2SP `tlog-checkpoint`: the note text `origin\nsize\nbase64(root)\n[extension lines]`.

use crate::hash::Hash;
use crate::note::{Note, NoteError, NoteVerifier};

/// A tree head: which log, how many entries, which root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique name of the log, conventionally a schema-less URL.
    pub origin: String,
    /// Number of entries.
    pub size: u64,
    /// Root hash of the tree of the first `size` entries.
    pub root: Hash,
    /// Optional extension lines (non-empty, without their newline).
    pub extensions: Vec<String>,
}

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signed note around it is malformed or its signature fails.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// A line of the checkpoint body is malformed.
    #[error("checkpoint line {line}: {reason}")]
    Line {
        /// One-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint is for another log.
    #[error("checkpoint origin is {found:?}, expected {expected:?}")]
    Origin {
        /// The origin line found.
        found: String,
        /// The origin expected.
        expected: String,
    },
}

impl Checkpoint {
    /// The checkpoint body, each line ending in a newline.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for extension in &self.extensions {
            text.push_str(extension);
            text.push('\n');
        }
        text
    }

    /// Parses a checkpoint body (the text of the note, without signatures).
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        let line_error = |line: usize, reason: &str| CheckpointError::Line {
            line,
            reason: reason.to_owned(),
        };
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| line_error(1, "checkpoint must end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(line_error(1, "empty origin"));
        }
        let size_text = lines
            .next()
            .ok_or_else(|| line_error(2, "missing tree size"))?;
        let canonical = size_text == "0" || !size_text.starts_with('0');
        let size = size_text
            .parse::<u64>()
            .ok()
            .filter(|_| canonical && size_text.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| line_error(2, "tree size must be a decimal without leading zeros"))?;
        let root_text = lines
            .next()
            .ok_or_else(|| line_error(3, "missing root hash"))?;
        let root = Hash::from_base64(root_text)
            .ok_or_else(|| line_error(3, "root hash must be base64 of 32 bytes"))?;
        let mut extensions = Vec::new();
        for (offset, line) in lines.enumerate() {
            if line.is_empty() {
                return Err(line_error(4 + offset, "empty extension line"));
            }
            extensions.push(line.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Parses a signed checkpoint, verifies it against trusted log keys (see
    /// [`Note::verify`]) and, when `origin` is given, checks the origin line.
    pub fn open(
        note: &[u8],
        trusted: &[NoteVerifier],
        origin: Option<&str>,
    ) -> Result<Checkpoint, CheckpointError> {
        let verified = Note::parse(note)?.verify(trusted)?;
        let checkpoint = Checkpoint::parse(&verified.text)?;
        if let Some(expected) = origin {
            if checkpoint.origin != expected {
                return Err(CheckpointError::Origin {
                    found: checkpoint.origin,
                    expected: expected.to_owned(),
                });
            }
        }
        Ok(checkpoint)
    }
}
