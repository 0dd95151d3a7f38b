//! Typed reading of a spanned TOML tree, reporting every problem as a diagnostic instead of
//! stopping at the first.
//!
//! Each accessor returns `None` after recording a diagnostic when the value is missing or of
//! the wrong type, so the parser carries on and finds the next problem too.

use std::ops::Range;
use std::str::FromStr;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::diagnostic::{Diagnostic, Diagnostics};
use crate::time::{Duration, Timestamp};

/// Byte range in a source file.
pub(crate) type Span = Range<usize>;

/// A spanned TOML value.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// A value together with where it was written.
#[derive(Clone, Debug)]
pub(crate) struct At<T> {
    pub value: T,
    pub span: Span,
}

/// Collects diagnostics for one agreement file.
pub(crate) struct Reader {
    pub file: String,
    pub diagnostics: Diagnostics,
}

/// A TOML table whose keys have been checked against the keys it may hold.
pub(crate) struct Table<'t, 'i> {
    pub table: &'t DeTable<'i>,
    pub span: Span,
    /// How the table is named in messages, e.g. `[parties.a]`.
    pub name: String,
}

impl<'t, 'i> Table<'t, 'i> {
    pub fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.table.get(key)
    }

    /// The span of `key` itself (not its value), for diagnostics about the key.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == key)
            .map(|(k, _)| k.span())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.table.get(key).is_some()
    }
}

impl Reader {
    pub fn new(file: &str, text: &str) -> Self {
        let mut diagnostics = Diagnostics::default();
        diagnostics.add_source(file, text);
        Reader {
            file: file.to_string(),
            diagnostics,
        }
    }

    /// Records an error in the agreement file.
    pub fn error(&mut self, code: &'static str, span: Span, message: impl Into<String>) {
        let d = Diagnostic::error(code, &self.file, message).at(span);
        self.diagnostics.push(d);
    }

    /// Records an error with a hint.
    pub fn error_help(
        &mut self,
        code: &'static str,
        span: Span,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = Diagnostic::error(code, &self.file, message)
            .at(span)
            .help(help);
        self.diagnostics.push(d);
    }

    /// Records a fully built diagnostic.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Reads `value` as a table that may hold only `known` keys; every other key is reported
    /// with the closest known key as a suggestion.
    pub fn table<'t, 'i>(
        &mut self,
        value: &'t Value<'i>,
        name: &str,
        known: &[&str],
    ) -> Option<Table<'t, 'i>> {
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(value, name, "a table");
            return None;
        };
        for (key, _) in table.iter() {
            let key_text = key.get_ref().as_ref();
            if known.contains(&key_text) {
                continue;
            }
            let help = match closest(key_text, known) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("{name} may hold: {}", list(known)),
            };
            self.push(
                Diagnostic::error(
                    "unknown-key",
                    &self.file,
                    format!("unknown key `{key_text}` in {name}"),
                )
                .at(key.span())
                .label("not a key of this table")
                .help(help),
            );
        }
        Some(Table {
            table,
            span: value.span(),
            name: name.to_string(),
        })
    }

    /// The value of a required key, or a diagnostic at the table.
    pub fn required<'t, 'i>(&mut self, table: &Table<'t, 'i>, key: &str) -> Option<&'t Value<'i>> {
        let found = table.get(key);
        // A misspelt key was already reported with this key as the suggestion; a second
        // error saying the key is missing would only repeat it.
        let misspelt = table.table.iter().any(|(k, _)| {
            closest(k.get_ref().as_ref(), &[key]).is_some() && k.get_ref().as_ref() != key
        });
        if found.is_none() && !misspelt {
            let mut d = Diagnostic::error(
                "missing-key",
                &self.file,
                format!("{} is missing the required key `{key}`", table.name),
            );
            // The document itself has an empty span: naming the file says it all.
            if !table.span.is_empty() {
                d = d
                    .at(table.span.clone())
                    .label(format!("`{key}` is required here"));
            }
            self.push(d);
        }
        found
    }

    pub fn wrong_type(&mut self, value: &Value<'_>, what: &str, expected: &str) {
        let found = value.get_ref().type_str();
        self.push(
            Diagnostic::error(
                "wrong-type",
                &self.file,
                format!("{what} must be {expected}, found {found}"),
            )
            .at(value.span())
            .label(format!("expected {expected}")),
        );
    }

    pub fn string(&mut self, value: &Value<'_>, what: &str) -> Option<At<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(At {
                value: s.to_string(),
                span: value.span(),
            }),
            _ => {
                self.wrong_type(value, what, "a string");
                None
            }
        }
    }

    /// A string naming an item (party, zone, ...): non-empty.
    pub fn id(&mut self, value: &Value<'_>, what: &str) -> Option<At<String>> {
        let s = self.string(value, what)?;
        if s.value.trim().is_empty() {
            self.error(
                "empty-id",
                s.span.clone(),
                format!("{what} must not be empty"),
            );
            return None;
        }
        Some(s)
    }

    pub fn integer(&mut self, value: &Value<'_>, what: &str) -> Option<At<i64>> {
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(At {
                    value: n,
                    span: value.span(),
                }),
                Err(_) => {
                    self.error(
                        "out-of-range",
                        value.span(),
                        format!("{what} is out of range"),
                    );
                    None
                }
            },
            _ => {
                self.wrong_type(value, what, "an integer");
                None
            }
        }
    }

    /// A whole number in `min..=u32::MAX`.
    pub fn count(&mut self, value: &Value<'_>, what: &str, min: u32) -> Option<At<u32>> {
        let n = self.integer(value, what)?;
        match u32::try_from(n.value) {
            Ok(v) if v >= min => Some(At {
                value: v,
                span: n.span,
            }),
            _ => {
                self.error(
                    "out-of-range",
                    n.span,
                    format!("{what} must be a whole number of at least {min}"),
                );
                None
            }
        }
    }

    /// A finite number (integer or float) greater than zero.
    pub fn positive_number(&mut self, value: &Value<'_>, what: &str) -> Option<At<f64>> {
        let n = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|v| v as f64),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            _ => {
                self.wrong_type(value, what, "a number");
                return None;
            }
        };
        match n {
            Some(v) if v.is_finite() && v > 0.0 => Some(At {
                value: v,
                span: value.span(),
            }),
            _ => {
                self.error(
                    "out-of-range",
                    value.span(),
                    format!("{what} must be a finite number greater than zero"),
                );
                None
            }
        }
    }

    pub fn boolean(&mut self, value: &Value<'_>, what: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.wrong_type(value, what, "true or false");
                None
            }
        }
    }

    /// An RFC 3339 instant with an offset, written as a string or a TOML date-time.
    pub fn time(&mut self, value: &Value<'_>, what: &str) -> Option<At<Timestamp>> {
        let text = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Datetime(d) => d.to_string(),
            _ => {
                self.wrong_type(value, what, "an RFC 3339 time");
                return None;
            }
        };
        match Timestamp::from_str(&text) {
            Ok(t) => Some(At {
                value: t,
                span: value.span(),
            }),
            Err(e) => {
                self.error_help(
                    "bad-time",
                    value.span(),
                    format!("{what}: {e}"),
                    "write a date, a time and an offset from UTC, e.g. 2026-03-01T00:00:00+02:00",
                );
                None
            }
        }
    }

    /// A duration such as `24h` or `14d`; `allow_zero` admits `0s`.
    pub fn duration(
        &mut self,
        value: &Value<'_>,
        what: &str,
        allow_zero: bool,
    ) -> Option<At<Duration>> {
        let s = self.string(value, what)?;
        match Duration::from_str(&s.value) {
            Ok(d) if allow_zero || d.as_seconds() > 0 => Some(At {
                value: d,
                span: s.span,
            }),
            Ok(_) => {
                self.error(
                    "bad-duration",
                    s.span,
                    format!("{what} must be longer than zero"),
                );
                None
            }
            Err(e) => {
                self.error_help(
                    "bad-duration",
                    s.span,
                    format!("{what}: {e}"),
                    "units are s, m, h, d and w; sums like 1d12h are allowed",
                );
                None
            }
        }
    }

    pub fn array<'t, 'i>(&mut self, value: &'t Value<'i>, what: &str) -> Option<&'t [Value<'i>]> {
        match value.get_ref() {
            DeValue::Array(a) => Some(a.as_ref()),
            _ => {
                self.wrong_type(value, what, "an array");
                None
            }
        }
    }

    /// A string or an array of strings (so `binds = "a"` and `binds = ["a", "b"]` both
    /// read naturally). Items of the wrong type are reported and skipped.
    pub fn strings(&mut self, value: &Value<'_>, what: &str) -> Vec<At<String>> {
        match value.get_ref() {
            DeValue::String(_) => self.id(value, what).into_iter().collect(),
            DeValue::Array(items) => items
                .iter()
                .filter_map(|item| self.id(item, what))
                .collect(),
            _ => {
                self.wrong_type(value, what, "a string or an array of strings");
                Vec::new()
            }
        }
    }

    /// A string that must be one of `choices`.
    pub fn choice<T: Copy>(
        &mut self,
        value: &Value<'_>,
        what: &str,
        choices: &[(&str, T)],
    ) -> Option<At<T>> {
        let s = self.string(value, what)?;
        if let Some((_, v)) = choices.iter().find(|(name, _)| *name == s.value) {
            return Some(At {
                value: *v,
                span: s.span,
            });
        }
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let help = match closest(&s.value, &names) {
            Some(best) => format!("did you mean `{best}`? {what} is one of {}", list(&names)),
            None => format!("{what} is one of {}", list(&names)),
        };
        self.push(
            Diagnostic::error(
                "unknown-value",
                &self.file,
                format!("`{}` is not a valid {what}", s.value),
            )
            .at(s.span)
            .label("unknown value")
            .help(help),
        );
        None
    }
}

/// `a`, `b` and `c` formatting of names for help texts.
pub(crate) fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The known name closest to `word` by edit distance, if close enough to be a likely typo.
pub(crate) fn closest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let delete = previous.get(j + 1).copied().unwrap_or(0) + 1;
            let insert = current.get(j).copied().unwrap_or(0) + 1;
            current.push(substitute.min(delete).min(insert));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("garantors", "guarantors"), 1);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }

    #[test]
    fn closest_suggests_near_misses_only() {
        assert_eq!(closest("severty", &["severity", "zone"]), Some("severity"));
        assert_eq!(closest("banana", &["severity", "zone"]), None);
    }
}
