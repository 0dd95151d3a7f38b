//! A JSON tree that borrows its strings from the entry text, for reading a valid entry in one
//! pass: its canonical form is written from it (`canonical.rs`) and the typed entry is
//! deserialized from it, with no `serde_json::Value` built and no string copied twice.
//!
//! As a deserializer it behaves as `&serde_json::Value` does for every type an entry has
//! (numbers keep their integer or float kind, `null` is `None`, arrays and objects must be
//! consumed whole); where it is stricter (an enum written as an object), the entry is left to
//! the full reader, which decides. The tree is built by `json::StrictRaw`.

use std::borrow::Cow;

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;

/// A JSON value; see the module documentation.
#[derive(Debug)]
pub(crate) enum Raw<'a> {
    Null,
    Bool(bool),
    Number(RawNumber),
    /// Borrowed exactly when the text had no escape in the string.
    String(Cow<'a, str>),
    Array(Vec<Raw<'a>>),
    /// Members in canonical order (UTF-16 code units of the names), names unique.
    Object(Vec<(Cow<'a, str>, Raw<'a>)>),
}

/// A number as `serde_json` reads it: an integer (non-negative ones always `Unsigned`, as
/// `serde_json::Number` keeps them) or a double.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RawNumber {
    Unsigned(u64),
    Negative(i64),
    Float(f64),
}

impl RawNumber {
    /// The number as RFC 8785 sees every number: an IEEE double (integers read are within
    /// ±(2^53 − 1), so the conversion is exact).
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            RawNumber::Unsigned(n) => n as f64,
            RawNumber::Negative(n) => n as f64,
            RawNumber::Float(n) => n,
        }
    }
}

impl<'a> Raw<'a> {
    /// The member `name` of an object.
    pub(crate) fn get(&self, name: &str) -> Option<&Raw<'a>> {
        match self {
            Raw::Object(members) => members
                .iter()
                .find(|(member, _)| member == name)
                .map(|(_, value)| value),
            _ => None,
        }
    }
}

type Error = serde_json::Error;

fn invalid_type(raw: &Raw<'_>, expected: &dyn de::Expected) -> Error {
    let unexpected = match raw {
        Raw::Null => de::Unexpected::Unit,
        Raw::Bool(b) => de::Unexpected::Bool(*b),
        Raw::Number(RawNumber::Unsigned(n)) => de::Unexpected::Unsigned(*n),
        Raw::Number(RawNumber::Negative(n)) => de::Unexpected::Signed(*n),
        Raw::Number(RawNumber::Float(n)) => de::Unexpected::Float(*n),
        Raw::String(s) => de::Unexpected::Str(s),
        Raw::Array(_) => de::Unexpected::Seq,
        Raw::Object(_) => de::Unexpected::Map,
    };
    de::Error::invalid_type(unexpected, expected)
}

impl<'de> Deserializer<'de> for &Raw<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Raw::Null => visitor.visit_unit(),
            Raw::Bool(b) => visitor.visit_bool(*b),
            Raw::Number(RawNumber::Unsigned(n)) => visitor.visit_u64(*n),
            Raw::Number(RawNumber::Negative(n)) => visitor.visit_i64(*n),
            Raw::Number(RawNumber::Float(n)) => visitor.visit_f64(*n),
            Raw::String(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Raw::String(Cow::Owned(s)) => visitor.visit_str(s),
            Raw::Array(items) => {
                let mut seq = Items(items.iter());
                let value = visitor.visit_seq(&mut seq)?;
                match seq.0.len() {
                    0 => Ok(value),
                    left => Err(de::Error::invalid_length(
                        items.len() - left,
                        &"fewer items",
                    )),
                }
            }
            Raw::Object(members) => {
                let mut map = Members {
                    members: members.iter(),
                    value: None,
                };
                let value = visitor.visit_map(&mut map)?;
                match map.members.len() {
                    0 => Ok(value),
                    _ => Err(de::Error::custom("members left unread")),
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Raw::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// Only unit variants written as strings, the only enums an entry has.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self {
            Raw::String(Cow::Borrowed(s)) => {
                visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(s))
            }
            Raw::String(Cow::Owned(s)) => visitor.visit_enum(StrDeserializer::<Error>::new(s)),
            other => Err(invalid_type(other, &"a string")),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct Items<'a, 'de>(std::slice::Iter<'a, Raw<'de>>);

impl<'a, 'de> SeqAccess<'de> for Items<'a, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|item| seed.deserialize(item)).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Members<'a, 'de> {
    members: std::slice::Iter<'a, (Cow<'de, str>, Raw<'de>)>,
    value: Option<&'a Raw<'de>>,
}

impl<'a, 'de> MapAccess<'de> for Members<'a, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some((name, value)) = self.members.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        match name {
            Cow::Borrowed(name) => seed.deserialize(BorrowedStrDeserializer::<Error>::new(name)),
            Cow::Owned(name) => seed.deserialize(StrDeserializer::<Error>::new(name)),
        }
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value),
            None => Err(de::Error::custom("a value asked for before its name")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.members.len())
    }
}
