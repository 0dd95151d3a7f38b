//! Reading entry text into a JSON value with the rules a signature needs.
//!
//! A signature covers the RFC 8785 canonical form of the object as received, so every
//! verifier must read the same object from the same bytes. Two things let JSON parsers
//! disagree, and both are refused here: duplicate member names (one parser keeps the first,
//! another the last) and integers beyond ±(2^53 − 1) (not exact as IEEE doubles, which RFC
//! 8785 mandates).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::limits::JSON_INTEGER_ABS_MAX;
use super::raw::{Raw, RawNumber};
use crate::canonical::compare_names;

/// A JSON value read strictly (see the module documentation).
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

fn integer_too_large<E: de::Error>(text: impl fmt::Display) -> E {
    E::custom(format_args!(
        "integer {text} is beyond ±{JSON_INTEGER_ABS_MAX} (2^53 − 1), which other languages \
         cannot read exactly"
    ))
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if v.unsigned_abs() > JSON_INTEGER_ABS_MAX {
            return Err(integer_too_large(v));
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if v > JSON_INTEGER_ABS_MAX {
            return Err(integer_too_large(v));
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number must be finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        StrictValue::deserialize(d).map(|v| v.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if members.contains_key(&name) {
                return Err(de::Error::custom(format_args!(
                    "member `{name}` appears twice; parsers disagree on which one counts"
                )));
            }
            let StrictValue(value) = map.next_value()?;
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

/// A JSON value read strictly into a [`Raw`] tree, strings borrowed from the text where they
/// have no escapes. It accepts exactly the texts [`StrictValue`] accepts, but its errors are
/// terse: a reader that needs to say what is wrong re-reads the text with [`StrictValue`].
pub(crate) struct StrictRaw<'a>(pub(crate) Raw<'a>);

impl<'de> Deserialize<'de> for StrictRaw<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor).map(StrictRaw)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw<'de>, E> {
        Ok(Raw::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw<'de>, E> {
        if v.unsigned_abs() > JSON_INTEGER_ABS_MAX {
            return Err(integer_too_large(v));
        }
        // As `serde_json::Number::from(i64)`: a non-negative integer is unsigned.
        Ok(Raw::Number(match u64::try_from(v) {
            Ok(n) => RawNumber::Unsigned(n),
            Err(_) => RawNumber::Negative(v),
        }))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw<'de>, E> {
        if v > JSON_INTEGER_ABS_MAX {
            return Err(integer_too_large(v));
        }
        Ok(Raw::Number(RawNumber::Unsigned(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw<'de>, E> {
        if !v.is_finite() {
            return Err(E::custom("a number must be finite"));
        }
        Ok(Raw::Number(RawNumber::Float(v)))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Raw<'de>, E> {
        Ok(Raw::String(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw<'de>, E> {
        Ok(Raw::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw<'de>, E> {
        Ok(Raw::String(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Raw<'de>, E> {
        Ok(Raw::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Raw<'de>, E> {
        Ok(Raw::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw<'de>, D::Error> {
        StrictRaw::deserialize(d).map(|v| v.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictRaw(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Raw::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw<'de>, A::Error> {
        // Most objects of an entry have a handful of members; the entry itself about a dozen.
        let mut members = Vec::with_capacity(8);
        while let Some(RawName(name)) = map.next_key()? {
            let StrictRaw(value) = map.next_value()?;
            members.push((name, value));
        }
        // Signers usually send the canonical order already; sorting is then one pass.
        if !members
            .windows(2)
            .all(|pair| compare_names(&pair[0].0, &pair[1].0).is_lt())
        {
            members.sort_by(|a, b| compare_names(&a.0, &b.0));
            if members.windows(2).any(|pair| pair[0].0 == pair[1].0) {
                return Err(de::Error::custom("a member appears twice"));
            }
        }
        Ok(Raw::Object(members))
    }
}

/// A member name, borrowed from the text where it has no escapes.
struct RawName<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for RawName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = RawName<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<RawName<'de>, E> {
                Ok(RawName(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawName<'de>, E> {
                Ok(RawName(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<RawName<'de>, E> {
                Ok(RawName(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// Turns a `serde_path_to_error` path into an RFC 6901 JSON pointer (`/location/point/1`).
pub fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => {
                pointer.push('/');
                pointer.push_str(&index.to_string());
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    pointer
}
