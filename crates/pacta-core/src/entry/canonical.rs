//! The RFC 8785 (JCS) canonical form written straight from a parsed tree.
//!
//! `serde_json_canonicalizer` serializes through a serde `Formatter` that buffers every member
//! of every object, re-parses each member name to sort it, and boxes a writer per write: for a
//! report that cost more than a tenth of a full check. Here the tree is walked once, member
//! names are sorted as they are (by UTF-16 code units, as RFC 8785 §3.2.3 says), and strings,
//! numbers and the order of names are written by the primitives of [`crate::canonical`], the
//! assessment's RFC 8785 writer, so that one piece of code says how RFC 8785 writes each;
//! property tests in `entry/tests/fast_path.rs` check the bytes against
//! `serde_json_canonicalizer::to_vec`. Unlike the assessment's writer, an entry's canonical
//! form refuses a number that is not finite rather than writing `null`.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::raw::Raw;
use super::signature::{CanonicalForms, SignError};
use crate::canonical::{compare_names, write_f64, write_str};

/// The message an entry's signature covers, from the entry object read as a [`Raw`] tree:
/// its canonical form without the `signature` member.
pub(crate) fn signed_form(object: &Raw<'_>) -> Result<Vec<u8>, SignError> {
    let Raw::Object(members) = object else {
        return Err(SignError::NotAnObject);
    };
    let mut out = Vec::with_capacity(512);
    write_raw_members(
        &mut out,
        members
            .iter()
            .filter(|(name, _)| name != "signature")
            .map(|(name, value)| (name, value)),
    )?;
    Ok(out)
}

/// Both canonical forms of an entry object read as a [`Raw`] tree: the signed message, and
/// the whole entry with its `signature`, the bytes a log stores.
pub(crate) fn raw_canonical_forms(object: &Raw<'_>) -> Result<CanonicalForms, SignError> {
    let mut full = Vec::with_capacity(640);
    object.write_canonical(&mut full)?;
    Ok(CanonicalForms {
        signed: signed_form(object)?,
        full,
    })
}

/// A tree that can write itself in canonical form.
pub(crate) trait Canonical {
    fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), SignError>;
}

impl Canonical for Raw<'_> {
    fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), SignError> {
        match self {
            Raw::Null => out.extend_from_slice(b"null"),
            Raw::Bool(b) => write_bool(out, *b),
            Raw::Number(n) => write_number(out, n.as_f64())?,
            Raw::String(s) => write_text(out, s)?,
            Raw::Array(items) => write_array(out, items)?,
            Raw::Object(members) => {
                write_raw_members(out, members.iter().map(|(name, value)| (name, value)))?
            }
        }
        Ok(())
    }
}

impl Canonical for Value {
    fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), SignError> {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(b) => write_bool(out, *b),
            Value::Number(n) => {
                // Without `arbitrary_precision` every number has an f64 view, and it is the
                // one `serde_json_canonicalizer` formats (integers converted with `as f64`).
                let n = n
                    .as_f64()
                    .ok_or_else(|| SignError::Canonical(format!("number {n} is not a double")))?;
                write_number(out, n)?;
            }
            Value::String(s) => write_str(out, s),
            Value::Array(items) => write_array(out, items)?,
            Value::Object(object) => write_members(out, sorted_members(object))?,
        }
        Ok(())
    }
}

/// A [`Map`]'s members in canonical order. A `Map` iterates in byte order of the names,
/// which is UTF-16 order unless a name has characters beyond the Basic Multilingual Plane
/// or in its private-use and specials block; only then are the members re-sorted.
pub(crate) fn sorted_members(object: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let mut members: Vec<(&str, &Value)> = object.iter().map(|(n, v)| (n.as_str(), v)).collect();
    if !members.iter().all(|(name, _)| name.is_ascii()) {
        members.sort_by(|a, b| compare_names(a.0, b.0));
    }
    members
}

fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// A number as ECMAScript's `Number.prototype.toString` writes it (RFC 8785 §3.2.2.3), by
/// the crate `serde_json_canonicalizer` formats with.
fn write_number(out: &mut Vec<u8>, n: f64) -> Result<(), SignError> {
    if !n.is_finite() {
        return Err(SignError::Canonical(
            "NaN and ±Infinity are not JSON numbers".to_string(),
        ));
    }
    write_f64(out, n);
    Ok(())
}

/// A string read from entry text. One borrowed from the text had no escapes there, and JSON
/// allows none of `"`, `\` or a control character unescaped in a string, so it needs none
/// in canonical form either: it is copied as it is.
// Whether the string is borrowed is what decides, so the `Cow` itself is the argument.
#[allow(clippy::ptr_arg)]
fn write_text(out: &mut Vec<u8>, s: &Cow<'_, str>) -> Result<(), SignError> {
    match s {
        Cow::Borrowed(s) => {
            out.push(b'"');
            out.extend_from_slice(s.as_bytes());
            out.push(b'"');
            Ok(())
        }
        Cow::Owned(s) => {
            write_str(out, s);
            Ok(())
        }
    }
}

fn write_array<T: Canonical>(out: &mut Vec<u8>, items: &[T]) -> Result<(), SignError> {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        item.write_canonical(out)?;
    }
    out.push(b']');
    Ok(())
}

/// A [`Raw`] object from its members, already in canonical order.
fn write_raw_members<'v, 't: 'v>(
    out: &mut Vec<u8>,
    members: impl IntoIterator<Item = (&'v Cow<'t, str>, &'v Raw<'t>)>,
) -> Result<(), SignError> {
    out.push(b'{');
    for (i, (name, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_text(out, name)?;
        out.push(b':');
        value.write_canonical(out)?;
    }
    out.push(b'}');
    Ok(())
}

/// An object from its members, already in canonical order.
pub(crate) fn write_members<'v, T: Canonical + 'v>(
    out: &mut Vec<u8>,
    members: impl IntoIterator<Item = (&'v str, &'v T)>,
) -> Result<(), SignError> {
    out.push(b'{');
    for (i, (name, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, name);
        out.push(b':');
        value.write_canonical(out)?;
    }
    out.push(b'}');
    Ok(())
}
