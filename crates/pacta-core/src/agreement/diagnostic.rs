//! Compiler-style diagnostics for agreement files: what is wrong, where (file, line, column,
//! snippet), and how to fix it.
//!
//! Diagnostics are plain data so the core stays pure; [`Diagnostics::render`] turns them into
//! text with `miette`'s graphical handler, which is itself a pure function of its input.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use super::model::SourceLocation;

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The agreement is usable, but something looks unintended.
    Warning,
    /// The agreement cannot be used.
    Error,
}

/// One problem found in an agreement or a file it references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    /// A stable short name for the kind of problem, e.g. `unknown-key`.
    pub code: &'static str,
    pub message: String,
    /// The file the problem is in, as named to the parser (relative paths for referenced
    /// files).
    pub file: String,
    /// Byte range of the offending text in `file`, when there is one to point at.
    pub span: Option<Range<usize>>,
    /// 1-based line and column of the start of `span`.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// Text shown under the snippet.
    pub label: Option<String>,
    /// Further places in the same file that explain the problem (e.g. the first definition
    /// of a duplicated id).
    pub related: Vec<(Range<usize>, String)>,
    /// How to fix it.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A new error in `file`, not yet pointing at text.
    pub fn error(code: &'static str, file: &str, message: impl Into<String>) -> Self {
        Diagnostic::new(Level::Error, code, file, message.into())
    }

    /// A new warning in `file`, not yet pointing at text.
    pub fn warning(code: &'static str, file: &str, message: impl Into<String>) -> Self {
        Diagnostic::new(Level::Warning, code, file, message.into())
    }

    fn new(level: Level, code: &'static str, file: &str, message: String) -> Self {
        Diagnostic {
            level,
            code,
            message,
            file: file.to_string(),
            span: None,
            line: None,
            column: None,
            label: None,
            related: Vec::new(),
            help: None,
        }
    }

    /// Points at bytes `span` of the file; line and column are filled in when pushed.
    pub fn at(mut self, span: Range<usize>) -> Self {
        self.span = Some(span);
        self
    }

    /// Sets the text shown under the snippet.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Sets the hint on how to fix the problem.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a further labelled place in the same file.
    pub fn related(mut self, span: Range<usize>, text: impl Into<String>) -> Self {
        self.related.push((span, text.into()));
        self
    }

    /// The source location of the diagnostic, when it points at text.
    pub fn location(&self) -> Option<SourceLocation> {
        match (&self.span, self.line, self.column) {
            (Some(span), Some(line), Some(column)) => Some(SourceLocation {
                file: self.file.clone(),
                line,
                column,
                span: span.clone(),
            }),
            _ => None,
        }
    }
}

/// Every diagnostic of one parse, with the text of each file they point into so they can be
/// rendered with snippets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
    sources: BTreeMap<String, String>,
}

impl Diagnostics {
    /// An empty set that can point into the given files.
    pub fn new(sources: BTreeMap<String, String>) -> Self {
        Diagnostics {
            items: Vec::new(),
            sources,
        }
    }

    /// Adds a diagnostic, filling in its line and column from the file's text when it
    /// points at a span and the file is known.
    pub fn push(&mut self, mut diagnostic: Diagnostic) {
        if let (Some(span), None) = (&diagnostic.span, diagnostic.line) {
            if let Some(text) = self.sources.get(&diagnostic.file) {
                let (line, column) = line_column(text, span.start);
                diagnostic.line = Some(line);
                diagnostic.column = Some(column);
            }
        }
        self.items.push(diagnostic);
    }

    /// Registers the text of a file so diagnostics can show snippets from it.
    pub fn add_source(&mut self, file: &str, text: &str) {
        self.sources.insert(file.to_string(), text.to_string());
    }

    /// The diagnostics, sorted by file, then position, then message.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Number of diagnostics at `Level::Error`.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.level == Level::Error)
            .count()
    }

    /// Number of diagnostics at `Level::Warning`.
    pub fn warning_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.level == Level::Warning)
            .count()
    }

    /// Sorts into reading order (file, position, message) and removes exact repeats, so the
    /// output does not depend on the order checks ran in.
    pub(crate) fn finish(&mut self) {
        self.items.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                (
                    d.file.clone(),
                    d.span.as_ref().map(|s| (s.start, s.end)),
                    d.message.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        self.items.dedup();
    }

    /// Renders every diagnostic in compiler style: message, `file:line:column`, the snippet
    /// with the offending text underlined, and the help. `width` is the wrapping width;
    /// `colour` adds ANSI colours for terminals.
    pub fn render(&self, width: usize, colour: bool) -> String {
        let theme = if colour {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(width)
            .with_links(false)
            .with_urls(false);
        let mut out = String::new();
        for diagnostic in &self.items {
            let source = self
                .sources
                .get(&diagnostic.file)
                .filter(|_| diagnostic.span.is_some())
                .map(|text| NamedSource::new(diagnostic.file.clone(), text.clone()));
            let view = Rendered { diagnostic, source };
            if handler.render_report(&mut out, &view).is_err() {
                // Rendering into a String cannot fail for I/O reasons; fall back to the plain
                // message if miette rejects a span rather than losing the diagnostic.
                out.push_str(&view.to_string());
            }
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

/// Adapter giving `miette` what it needs to draw one diagnostic.
struct Rendered<'a> {
    diagnostic: &'a Diagnostic,
    source: Option<NamedSource<String>>,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.diagnostic;
        match (d.line, d.column) {
            (Some(line), Some(column)) if self.source.is_none() => {
                write!(f, "{} ({}:{}:{})", d.message, d.file, line, column)
            }
            _ if self.source.is_none() => write!(f, "{} ({})", d.message, d.file),
            _ => f.write_str(&d.message),
        }
    }
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let span = self.diagnostic.span.clone()?;
        let primary = LabeledSpan::new_primary_with_span(
            self.diagnostic.label.clone(),
            (span.start, span.end.saturating_sub(span.start)),
        );
        let related = self.diagnostic.related.iter().map(|(range, text)| {
            LabeledSpan::new_with_span(
                Some(text.clone()),
                (range.start, range.end.saturating_sub(range.start)),
            )
        });
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`. Offsets past the end
/// or inside a character are clamped to the nearest valid position.
pub fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        assert_eq!(line_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn line_column_counts_characters_not_bytes() {
        assert_eq!(line_column("é=1", 2), (1, 2));
    }
}
