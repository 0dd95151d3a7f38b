//! RFC 8785 (JCS) canonical JSON, written straight from `Serialize` into a byte buffer.
//!
//! The output is byte for byte what the assessment digest has always hashed: RFC 8785 as
//! `serde_json_canonicalizer` writes it (members sorted by the UTF-16 code units of their
//! names, no whitespace, floats in ECMAScript form, strings escaped as RFC 8785 says), with
//! integers written as their decimal digits and a non-finite float as `null` (as
//! `serde_json::Value`, which the digest used to go through, has them). Tests check it against
//! `serde_json_canonicalizer` on whole assessments.
//!
//! Why a serializer of our own: going through `serde_json::Value` allocates a node per value
//! and a map per object, and `serde_json_canonicalizer` buffers every member of every object
//! in its own vectors; at 10^6 reports either costs more than the assessment itself. Here an
//! object's members are written in the order the type declares them, straight into the
//! output; only when that order is not the canonical one are the members' bytes moved into
//! place once, when the object ends.

#![deny(missing_docs)]

use std::cmp::Ordering;
use std::fmt::Display;

use serde::ser::{self, Serialize};
use serde_json::Error;

/// Appends the canonical JSON of `value` to `out`.
pub fn write<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    Encoder::default().write(out, value)
}

/// A writer of canonical JSON that keeps, from one value to the next, its scratch space and
/// the canonical order of the members of each struct type it has met: encoding many values
/// of a few types, it neither allocates per value nor sorts the same field names again.
#[derive(Default)]
pub struct Encoder {
    members: Vec<Member>,
    orders: Vec<Order>,
}

/// The canonical order of a struct's fields, as they come from its `Serialize`.
struct Order {
    names: Vec<&'static str>,
    canonical: Vec<usize>,
}

/// How many struct field lists an encoder remembers: more than the assessment has types.
const MAX_ORDERS: usize = 64;

impl Encoder {
    /// Appends the canonical JSON of `value` to `out`.
    pub fn write<T: Serialize + ?Sized>(
        &mut self,
        out: &mut Vec<u8>,
        value: &T,
    ) -> Result<(), Error> {
        self.members.clear();
        let mut state = State {
            out,
            members: &mut self.members,
            orders: &mut self.orders,
        };
        value.serialize(Ser { state: &mut state })
    }
}

/// The canonical JSON of `value`.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(256);
    write(&mut out, value)?;
    Ok(out)
}

/// The output, and a stack of the members of the objects being written: an object's members
/// sit above those of the objects that contain it, and are popped when it ends.
struct State<'o> {
    out: &'o mut Vec<u8>,
    members: &'o mut Vec<Member>,
    orders: &'o mut Vec<Order>,
}

/// One member of an object being written: its name (for sorting) and where its `"name":value`
/// bytes lie in the output (`end` is known once the next member begins or the object ends).
struct Member {
    name: Name,
    at: usize,
    end: usize,
}

/// A struct's field names are static; a map's keys are owned.
enum Name {
    Static(&'static str),
    Owned(String),
}

impl Name {
    fn as_str(&self) -> &str {
        match self {
            Name::Static(s) => s,
            Name::Owned(s) => s,
        }
    }
}

/// RFC 8785 orders names by their UTF-16 code units. UTF-8 bytes order by code point, which
/// differs only where, at the first difference, one character is in U+E000..=U+FFFF (lead
/// byte 0xEE or 0xEF) and the other above U+FFFF (lead byte 0xF0 or more): UTF-16 writes the
/// latter as surrogates, 0xD800 to 0xDFFF, so it comes first. A first difference inside a
/// character lies between two continuation bytes of characters with the same lead byte,
/// where both orders agree.
pub(crate) fn compare_names(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let Some((&x, &y)) = a.iter().zip(b).find(|(x, y)| x != y) else {
        return a.len().cmp(&b.len());
    };
    let high_bmp = |c: u8| (0xee..=0xef).contains(&c);
    let supplementary = |c: u8| c >= 0xf0;
    if high_bmp(x) && supplementary(y) {
        Ordering::Greater
    } else if supplementary(x) && high_bmp(y) {
        Ordering::Less
    } else {
        x.cmp(&y)
    }
}

/// The canonical order of `members` (indices into it): remembered per list of static names,
/// sorted (stably) otherwise.
fn canonical_order<'r>(
    members: &[Member],
    orders: &'r mut Vec<Order>,
    scratch: &'r mut Vec<usize>,
) -> &'r [usize] {
    let same = |order: &Order| {
        order.names.len() == members.len()
            && order
                .names
                .iter()
                .zip(members)
                .all(|(n, m)| matches!(m.name, Name::Static(s) if std::ptr::eq(*n, s)))
    };
    let index = match orders.iter().position(same) {
        Some(i) => Some(i),
        None => {
            let mut canonical: Vec<usize> = (0..members.len()).collect();
            canonical.sort_by(|&i, &j| match (members.get(i), members.get(j)) {
                (Some(a), Some(b)) => compare_names(a.name.as_str(), b.name.as_str()),
                _ => Ordering::Equal,
            });
            let statics: Option<Vec<&'static str>> = members
                .iter()
                .map(|m| match m.name {
                    Name::Static(s) => Some(s),
                    Name::Owned(_) => None,
                })
                .collect();
            match statics {
                Some(names) if orders.len() < MAX_ORDERS => {
                    orders.push(Order { names, canonical });
                    Some(orders.len() - 1)
                }
                _ => {
                    *scratch = canonical;
                    None
                }
            }
        }
    };
    match index.and_then(|i| orders.get(i)) {
        Some(order) => &order.canonical,
        None => scratch,
    }
}

/// The bytes of `word` that must be escaped (a control character, `"` or `\\`) flagged by
/// their high bit; zero if none. The classic word-at-a-time tests (`has_less`, `has_zero` of
/// the word xor the byte repeated): exact for bytes below 0x80, and a byte of 0x80 or more
/// (UTF-8 beyond ASCII) only ever adds a false alarm, which the byte loop then clears.
fn to_escape(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below_space = word.wrapping_sub(ONES * 0x20);
    let quote = (word ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES);
    let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    (below_space | quote | backslash) & HIGHS
}

/// Whether `bytes` may need an escape (never false when one does). Most strings (ids,
/// descriptions, the agreement's words) need none: they are tested eight bytes at a time
/// without a branch per word.
fn may_need_escape(bytes: &[u8]) -> bool {
    let mut flags = 0;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        flags |= to_escape(u64::from_le_bytes(word));
    }
    // Then the last eight bytes (testing some twice does no harm), or a shorter string's
    // bytes padded with spaces, which need no escape.
    let mut word = [b' '; 8];
    match bytes
        .len()
        .checked_sub(8)
        .and_then(|start| bytes.get(start..))
    {
        Some(last) => word.copy_from_slice(last),
        None => word.iter_mut().zip(bytes).for_each(|(w, b)| *w = *b),
    }
    flags | to_escape(u64::from_le_bytes(word)) != 0
}

/// A JSON string as RFC 8785 §3.2.2.2 writes it: `"`, `\\` and the C0 controls escaped (short
/// forms where JSON has them, `\u00xx` in lower case otherwise), nothing else.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    if may_need_escape(bytes) {
        write_escaped(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// The string's bytes, escaped where they must be.
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut clean = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Long clean stretches are skipped eight bytes at a time.
        if let Some(chunk) = bytes.get(i..i + 8) {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            if to_escape(u64::from_le_bytes(word)) == 0 {
                i += 8;
                continue;
            }
        }
        let Some(&b) = bytes.get(i) else { break };
        i += 1;
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            0x0c => b"\\f",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ],
            _ => continue,
        };
        out.extend_from_slice(bytes.get(clean..i - 1).unwrap_or_default());
        out.extend_from_slice(escape);
        clean = i;
    }
    out.extend_from_slice(bytes.get(clean..).unwrap_or_default());
}

pub(crate) fn write_f64(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        out.extend_from_slice(ryu_js::Buffer::new().format_finite(x).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, i: I) {
    out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
}

/// The serializer: one per value, borrowing the shared state.
struct Ser<'s, 'o> {
    state: &'s mut State<'o>,
}

impl<'s, 'o> ser::Serializer for Ser<'s, 'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'s, 'o>;
    type SerializeTuple = Seq<'s, 'o>;
    type SerializeTupleStruct = Seq<'s, 'o>;
    type SerializeTupleVariant = Seq<'s, 'o>;
    type SerializeMap = Object<'s, 'o>;
    type SerializeStruct = Object<'s, 'o>;
    type SerializeStructVariant = Object<'s, 'o>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.state
            .out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        write_int(self.state.out, v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        write_f64(self.state.out, f64::from(v));
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        write_f64(self.state.out, v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        write_str(self.state.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        write_str(self.state.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            ser::SerializeSeq::serialize_element(&mut seq, b)?;
        }
        ser::SerializeSeq::end(seq)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.state.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let out = &mut *self.state.out;
        out.push(b'{');
        write_str(out, variant);
        out.push(b':');
        value.serialize(Ser {
            state: &mut *self.state,
        })?;
        self.state.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'s, 'o>, Error> {
        self.state.out.push(b'[');
        Ok(Seq {
            state: self.state,
            first: true,
            variant: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'s, 'o>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'s, 'o>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'s, 'o>, Error> {
        let out = &mut *self.state.out;
        out.push(b'{');
        write_str(out, variant);
        out.extend_from_slice(b":[");
        Ok(Seq {
            state: self.state,
            first: true,
            variant: true,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'s, 'o>, Error> {
        Ok(Object::open(self.state, false))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Object<'s, 'o>, Error> {
        Ok(Object::open(self.state, false))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Object<'s, 'o>, Error> {
        let out = &mut *self.state.out;
        out.push(b'{');
        write_str(out, variant);
        out.push(b':');
        Ok(Object::open(self.state, true))
    }
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), Error> {
        self.serialize_str(&value.to_string())
    }
}

/// An array being written (for a tuple variant, inside its one-member object).
struct Seq<'s, 'o> {
    state: &'s mut State<'o>,
    first: bool,
    variant: bool,
}

impl Seq<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !self.first {
            self.state.out.push(b',');
        }
        self.first = false;
        value.serialize(Ser {
            state: &mut *self.state,
        })
    }

    fn close(self) -> Result<(), Error> {
        self.state.out.push(b']');
        if self.variant {
            self.state.out.push(b'}');
        }
        Ok(())
    }
}

/// The four sequence traits of serde, which differ only in the name of their element method.
macro_rules! seq_traits {
    ($($trait_:ident :: $method:ident),*) => {$(
        impl ser::$trait_ for Seq<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

seq_traits!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// An object being written: members go out in the order they come, and are put in canonical
/// order when the object ends if they did not come in it.
struct Object<'s, 'o> {
    state: &'s mut State<'o>,
    /// Where the first member begins (just after the `{`).
    start: usize,
    /// The first of this object's entries on the member stack.
    base: usize,
    /// The members so far came in canonical order.
    sorted: bool,
    /// A struct variant: the object sits inside the variant's one-member object.
    variant: bool,
}

impl<'s, 'o> Object<'s, 'o> {
    fn open(state: &'s mut State<'o>, variant: bool) -> Object<'s, 'o> {
        state.out.push(b'{');
        Object {
            start: state.out.len(),
            base: state.members.len(),
            sorted: true,
            variant,
            state,
        }
    }

    /// Begins a member: ends the previous one, writes the separator, and records the name and
    /// where the member starts.
    fn begin(&mut self, name: Name) {
        let end = self.state.out.len();
        if let Some(previous) = self
            .state
            .members
            .get_mut(self.base..)
            .and_then(<[_]>::last_mut)
        {
            previous.end = end;
            // Once out of order, the object is sorted when it ends whatever follows.
            if self.sorted && compare_names(previous.name.as_str(), name.as_str()) != Ordering::Less
            {
                self.sorted = false;
            }
            self.state.out.push(b',');
        }
        let at = self.state.out.len();
        write_str(self.state.out, name.as_str());
        self.state.out.push(b':');
        self.state.members.push(Member { name, at, end: at });
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(Ser {
            state: &mut *self.state,
        })
    }

    fn close(self) -> Result<(), Error> {
        let State {
            out,
            members,
            orders,
        } = self.state;
        let end = out.len();
        if let Some(own) = members.get_mut(self.base..) {
            if let Some(last) = own.last_mut() {
                last.end = end;
            }
            if !self.sorted {
                // The members' bytes are copied after the object in canonical order, then
                // moved back over it.
                let mut scratch = Vec::new();
                let order = canonical_order(own, orders, &mut scratch);
                for (n, &i) in order.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    if let Some(member) = own.get(i) {
                        out.extend_from_within(member.at..member.end);
                    }
                }
                out.copy_within(end.., self.start);
                out.truncate(out.len() - (end - self.start));
            }
        }
        members.truncate(self.base);
        out.push(b'}');
        if self.variant {
            out.push(b'}');
        }
        Ok(())
    }
}

/// A struct and a struct variant's fields are members named by their static names.
macro_rules! struct_traits {
    ($($trait_:ident),*) => {$(
        impl ser::$trait_ for Object<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.begin(Name::Static(key));
                self.value(value)
            }
            fn end(self) -> Result<(), Error> {
                self.close()
            }
        }
    )*};
}

struct_traits!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Object<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.begin(Name::Owned(key.serialize(KeySer)?));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.value(value)
    }
    fn end(self) -> Result<(), Error> {
        self.close()
    }
}

/// A map key: JSON names are strings; integers and characters become strings, as serde_json
/// makes them.
struct KeySer;

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

impl ser::Serializer for KeySer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_owned())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }
    fn serialize_i8(self, v: i8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_bool(self, _v: bool) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<String, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde::Serialize;
    use serde_json::Value;

    use super::to_vec;

    fn reference<T: Serialize>(value: &T) -> Vec<u8> {
        match serde_json_canonicalizer::to_vec(value) {
            Ok(v) => v,
            Err(e) => panic!("reference canonicaliser: {e}"),
        }
    }

    fn ours<T: Serialize>(value: &T) -> Vec<u8> {
        match to_vec(value) {
            Ok(v) => v,
            Err(e) => panic!("canonical writer: {e}"),
        }
    }

    #[derive(Serialize)]
    struct Inner {
        z: Option<u32>,
        a: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        m: Option<String>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Shape {
        Unit,
        Newtype(Inner),
        Tuple(u8, String),
        Struct { y: bool, b: Vec<Inner> },
    }

    #[derive(Serialize)]
    struct Outer {
        zeta: Vec<Shape>,
        alpha: Inner,
        mid: BTreeMap<String, i64>,
        pair: (i32, f32),
        bytes: serde_bytes_like::Bytes,
        text: char,
    }

    /// `serialize_bytes`, which derive never emits on its own.
    mod serde_bytes_like {
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    #[test]
    fn nested_structs_enums_and_maps_match_the_reference() {
        let inner = |z, a: f64, m: Option<&str>| Inner {
            z,
            a,
            m: m.map(str::to_owned),
        };
        let value = Outer {
            zeta: vec![
                Shape::Unit,
                Shape::Newtype(inner(Some(3), 1e21, None)),
                Shape::Tuple(7, "t\u{7f}\u{1}".into()),
                Shape::Struct {
                    y: true,
                    b: vec![inner(None, -0.0, Some("x")), inner(Some(0), 5e-7, None)],
                },
            ],
            alpha: inner(Some(u32::MAX), 48.123_456, Some("\"\\/\u{8}\u{c}\n\r\t")),
            // Byte order and UTF-16 order disagree on the last two keys.
            mid: [
                ("b".to_string(), -1),
                ("a".to_string(), 2),
                ("\u{ff61}".to_string(), 3),
                ("\u{1f600}".to_string(), 4),
            ]
            .into(),
            pair: (-5, 0.1),
            bytes: serde_bytes_like::Bytes(vec![0, 255]),
            text: 'é',
        };
        assert_eq!(
            String::from_utf8_lossy(&ours(&value)),
            String::from_utf8_lossy(&reference(&value))
        );
    }

    #[test]
    fn an_encoder_reused_across_values_and_shapes_matches_the_reference() {
        let mut encoder = super::Encoder::default();
        for i in 0..12u32 {
            let value = Inner {
                z: (i % 2 == 0).then_some(i),
                a: f64::from(i) / 3.0,
                m: (i % 3 == 0).then(|| format!("m{i}")),
            };
            let mut out = Vec::new();
            if let Err(e) = encoder.write(&mut out, &value) {
                panic!("canonical writer: {e}");
            }
            assert_eq!(out, reference(&value));
        }
    }

    /// A character to escape at every place, in words of eight bytes and in the padded tail,
    /// among ASCII and beyond it.
    #[test]
    fn an_escape_anywhere_in_a_string_is_written() {
        for special in ['"', '\\', '\n', '\u{1}', '\u{1f}', 'é', ' ', '~'] {
            for len in 0..24 {
                for at in 0..len {
                    let s: String = (0..len)
                        .map(|i| if i == at { special } else { 'a' })
                        .collect();
                    assert_eq!(ours(&s), reference(&s), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn a_non_finite_float_is_null_as_in_a_json_value() {
        assert_eq!(ours(&f64::NAN), b"null");
        assert_eq!(ours(&vec![f64::INFINITY]), b"[null]");
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            // Integers within 2^53, where digits and the ECMAScript form agree.
            (-(1i64 << 53)..(1i64 << 53)).prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |x| x.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_json_value_matches_the_reference(value in json()) {
            prop_assert_eq!(ours(&value), reference(&value));
        }
    }
}
