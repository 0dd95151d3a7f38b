//! Reading one entry from JSON text: strict JSON, dispatch on `schema`, the serde types, then
//! the checks the types cannot express (ranges, limits, ordering of times). Every error names
//! the JSON pointer of the offending value.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::json::{pointer_of, StrictRaw, StrictValue};
use super::limits::*;
use super::raw::Raw;
use super::types::*;

/// Why an entry was rejected, and where in it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}: {reason}", PointerDisplay(.pointer))]
pub struct EntryError {
    /// RFC 6901 JSON pointer to the offending value; empty for the whole entry.
    pub pointer: String,
    pub reason: EntryErrorReason,
}

/// Prints the root pointer (the empty string) readably.
struct PointerDisplay<'a>(&'a str);

impl fmt::Display for PointerDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("entry")
        } else {
            f.write_str(self.0)
        }
    }
}

/// What is wrong with an entry.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EntryErrorReason {
    #[error("{bytes} bytes, over the limit of {max} bytes for one entry")]
    TooLarge { bytes: usize, max: usize },
    /// Bytes that are not UTF-8 (readers of raw bytes report this; text is UTF-8 already).
    #[error("not UTF-8 text")]
    NotUtf8,
    /// Not JSON, a duplicate member, an integer too large to be exact in every language.
    #[error("not valid JSON: {0}")]
    Json(String),
    #[error("an entry must be a JSON object")]
    NotAnObject,
    #[error("missing `schema`; expected one of {}", known_schemas())]
    MissingSchema,
    #[error("unknown schema `{found}`; expected one of {known}", found = .0, known = known_schemas())]
    UnknownSchema(String),
    /// A missing or unknown member, or a value of the wrong type, as serde reports it.
    #[error("{0}")]
    Shape(String),
    #[error("longitude {0} is outside -180..=180")]
    LongitudeOutOfRange(f64),
    #[error("latitude {0} is outside -90..=90")]
    LatitudeOutOfRange(f64),
    #[error("uncertainty {0} m is negative")]
    NegativeUncertainty(f64),
    #[error("uncertainty {value} m is over the limit of {max} m")]
    UncertaintyTooLarge { value: f64, max: f64 },
    #[error("bearing {0}° is outside 0..360")]
    BearingOutOfRange(f64),
    #[error("bearing uncertainty {0}° is outside 0..=180")]
    BearingUncertaintyOutOfRange(f64),
    #[error("distance range minimum {min} km is greater than its maximum {max} km")]
    DistanceRangeInverted { min: f64, max: f64 },
    #[error("distance {0} km is negative")]
    NegativeDistance(f64),
    #[error("distance {value} km is over the limit of {max} km")]
    DistanceTooLarge { value: f64, max: f64 },
    #[error("the interval ends ({end}) before it starts ({start})")]
    EndBeforeStart { start: String, end: String },
    #[error("the interval lasts {seconds} s, over the limit of {max} s")]
    IntervalTooLong { seconds: i64, max: i64 },
    #[error("observed at {observed}, after the entry was submitted ({submitted})")]
    ObservedAfterSubmission { observed: String, submitted: String },
    #[error("taken at {taken}, after the action was submitted ({submitted})")]
    TakenAfterSubmission { taken: String, submitted: String },
    #[error("media hash must be 64 lower-case hex digits (SHA-256)")]
    BadMediaHash,
    #[error("{count} media hashes, over the limit of {max}")]
    TooManyMedia { count: usize, max: usize },
    #[error("must not be empty")]
    Empty,
    #[error("{bytes} bytes, over the limit of {max} bytes")]
    TextTooLong { bytes: usize, max: usize },
    #[error("an id may not contain whitespace or control characters")]
    IdCharacters,
    #[error("count must be at least 1")]
    ZeroCount,
    #[error("{value} is over the limit of {max}")]
    NumberTooLarge { value: u32, max: u32 },
    #[error("low {low}, best {best}, high {high}: expected low <= best <= high")]
    EstimatesOutOfOrder { low: u32, best: u32, high: u32 },
    #[error("the signature must be a string `ed25519:BASE64`")]
    SignatureNotString,
}

fn known_schemas() -> String {
    [
        REPORT_SCHEMA,
        ACTION_SCHEMA,
        OBJECTION_SCHEMA,
        RULING_SCHEMA,
        RETRACTION_SCHEMA,
    ]
    .map(|s| format!("`{s}`"))
    .join(", ")
}

impl EntryError {
    fn at(pointer: impl Into<String>, reason: EntryErrorReason) -> Self {
        EntryError {
            pointer: pointer.into(),
            reason,
        }
    }
}

/// An entry read and checked against its schema, with the JSON object it was read from:
/// its signature covers that object as received, not a re-serialization of [`Entry`].
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedEntry {
    pub entry: Entry,
    /// The object as received, `signature` included.
    pub object: Map<String, Value>,
}

/// Reads one entry from JSON text and validates it (see [`parse_entry_value`]).
pub fn parse_entry(text: &str) -> Result<ParsedEntry, EntryError> {
    if text.len() > ENTRY_BYTES_MAX {
        return Err(EntryError::at(
            "",
            EntryErrorReason::TooLarge {
                bytes: text.len(),
                max: ENTRY_BYTES_MAX,
            },
        ));
    }
    // The path-tracking parse costs about a third more, so it runs only to locate an error.
    let value = match serde_json::from_str::<StrictValue>(text) {
        Ok(StrictValue(value)) => value,
        Err(error) => return Err(locate_json_error(text, error)),
    };
    parse_entry_value(value)
}

/// [`parse_entry`] for the common case, a valid entry, without building a [`Value`]: the text
/// is read once into a [`Raw`] tree (strings borrowed, members sorted: what the canonical
/// form needs), and the typed entry is read from that tree. `None` when the text is not a valid entry, or is one
/// this path cannot vouch for: the caller then runs [`parse_entry`], which says why (or
/// accepts it), so a rejection and its message come from one place only.
///
/// Whatever it accepts, [`parse_entry`] accepts with an equal [`Entry`], and the tree's
/// canonical form equals that of [`ParsedEntry::object`] (tests in `entry/tests/fast_path.rs`).
pub(crate) fn parse_entry_raw(text: &str) -> Option<(Entry, Raw<'_>)> {
    if text.len() > ENTRY_BYTES_MAX {
        return None;
    }
    let StrictRaw(raw) = serde_json::from_str(text).ok()?;
    let Some(Raw::String(schema)) = raw.get("schema") else {
        return None;
    };
    if raw
        .get("signature")
        .is_some_and(|signature| !matches!(signature, Raw::String(_)))
    {
        return None;
    }
    let entry = match &**schema {
        REPORT_SCHEMA => Entry::Report(Deserialize::deserialize(&raw).ok()?),
        ACTION_SCHEMA => Entry::Action(Deserialize::deserialize(&raw).ok()?),
        OBJECTION_SCHEMA => Entry::Objection(Deserialize::deserialize(&raw).ok()?),
        RULING_SCHEMA => Entry::Ruling(Deserialize::deserialize(&raw).ok()?),
        RETRACTION_SCHEMA => Entry::Retraction(Deserialize::deserialize(&raw).ok()?),
        _ => return None,
    };
    check_entry(&entry).ok()?;
    Some((entry, raw))
}

/// Re-reads text that failed to parse, tracking the path, to name where it failed.
fn locate_json_error(text: &str, error: serde_json::Error) -> EntryError {
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, StrictValue>(&mut de) {
        Err(located) => EntryError::at(
            pointer_of(located.path()),
            EntryErrorReason::Json(located.into_inner().to_string()),
        ),
        // Only trailing characters fail after a complete value: the whole entry is at fault.
        Ok(_) => EntryError::at("", EntryErrorReason::Json(error.to_string())),
    }
}

/// Validates an entry already read as a JSON value: dispatches on `schema` to the matching
/// type of [`Entry`], then checks ranges and limits.
///
/// The value is taken as is; callers reading text should use [`parse_entry`], which also
/// refuses duplicate members and inexact integers.
pub fn parse_entry_value(value: Value) -> Result<ParsedEntry, EntryError> {
    let Value::Object(object) = value else {
        return Err(EntryError::at("", EntryErrorReason::NotAnObject));
    };
    let schema = match object.get("schema") {
        None => return Err(EntryError::at("/schema", EntryErrorReason::MissingSchema)),
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(EntryError::at(
                "/schema",
                EntryErrorReason::Shape(format!("expected a string, found {}", kind_of(other))),
            ))
        }
    };
    if let Some(signature) = object.get("signature") {
        if !signature.is_string() {
            return Err(EntryError::at(
                "/signature",
                EntryErrorReason::SignatureNotString,
            ));
        }
    }
    let entry = match schema {
        REPORT_SCHEMA => Entry::Report(typed(&object)?),
        ACTION_SCHEMA => Entry::Action(typed(&object)?),
        OBJECTION_SCHEMA => Entry::Objection(typed(&object)?),
        RULING_SCHEMA => Entry::Ruling(typed(&object)?),
        RETRACTION_SCHEMA => Entry::Retraction(typed(&object)?),
        other => {
            return Err(EntryError::at(
                "/schema",
                EntryErrorReason::UnknownSchema(other.to_string()),
            ))
        }
    };
    check_entry(&entry)?;
    Ok(ParsedEntry { entry, object })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn typed<T: DeserializeOwned>(object: &Map<String, Value>) -> Result<T, EntryError> {
    // As for parsing: track the path only to locate an error.
    T::deserialize(object)
        .or_else(|_| serde_path_to_error::deserialize(object))
        .map_err(|error| {
            let mut pointer = pointer_of(error.path());
            let message = error.into_inner().to_string();
            // serde reports a missing member at its parent object; point at the member itself,
            // as JSON Patch does for a member to add, so the reader sees which one.
            if let Some(name) = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.strip_suffix('`'))
            {
                pointer.push('/');
                pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
            }
            EntryError::at(pointer, EntryErrorReason::Shape(message))
        })
}

/// The checks beyond the types, one function per entry kind.
fn check_entry(entry: &Entry) -> Result<(), EntryError> {
    check_id(entry.id())?;
    check_name("/agreement", entry.agreement())?;
    match entry {
        Entry::Report(r) => check_report(r),
        Entry::Action(a) => {
            check_name("/guarantor", &a.guarantor)?;
            check_name("/obligation", &a.obligation)?;
            check_name("/action", &a.action)?;
            check_optional_text("/text", a.text.as_deref(), STATEMENT_TEXT_BYTES_MAX)?;
            if a.taken_at > a.submitted_at {
                return Err(EntryError::at(
                    "/taken_at",
                    EntryErrorReason::TakenAfterSubmission {
                        taken: a.taken_at.to_rfc3339(),
                        submitted: a.submitted_at.to_rfc3339(),
                    },
                ));
            }
            Ok(())
        }
        Entry::Objection(o) => {
            check_name("/party", &o.party)?;
            check_name("/finding", &o.finding)?;
            check_statement("/grounds", &o.grounds)
        }
        Entry::Ruling(r) => {
            check_name("/panelist", &r.panelist)?;
            check_name("/objection", &r.objection)?;
            check_statement("/reasons", &r.reasons)
        }
        Entry::Retraction(r) => {
            check_name("/monitor", &r.monitor)?;
            check_id_at("/report", &r.report)?;
            check_statement("/reason", &r.reason)
        }
    }
}

fn check_report(r: &Report) -> Result<(), EntryError> {
    check_name("/monitor", &r.monitor)?;
    check_observed(&r.observed, r)?;
    check_location(&r.location)?;
    check_event(&r.event)?;
    if let Some(attribution) = &r.attribution {
        check_name("/attribution/party", &attribution.party)?;
        check_optional_text(
            "/attribution/basis",
            attribution.basis.as_deref(),
            REPORT_TEXT_BYTES_MAX,
        )?;
    }
    if r.media.len() > MEDIA_COUNT_MAX {
        return Err(EntryError::at(
            "/media",
            EntryErrorReason::TooManyMedia {
                count: r.media.len(),
                max: MEDIA_COUNT_MAX,
            },
        ));
    }
    for (i, media) in r.media.iter().enumerate() {
        if !is_sha256_hex(&media.sha256) {
            return Err(EntryError::at(
                format!("/media/{i}/sha256"),
                EntryErrorReason::BadMediaHash,
            ));
        }
        if let Some(media_type) = &media.media_type {
            check_name(&format!("/media/{i}/media_type"), media_type)?;
        }
    }
    check_optional_text("/text", r.text.as_deref(), REPORT_TEXT_BYTES_MAX)?;
    if let Some(source) = &r.source {
        check_source(source)?;
    }
    Ok(())
}

fn check_observed(observed: &ObservedTime, r: &Report) -> Result<(), EntryError> {
    if let Some(end) = observed.end {
        if end < observed.start {
            return Err(EntryError::at(
                "/observed/end",
                EntryErrorReason::EndBeforeStart {
                    start: observed.start.to_rfc3339(),
                    end: end.to_rfc3339(),
                },
            ));
        }
        let seconds = end.since(observed.start).as_seconds();
        if seconds > OBSERVED_INTERVAL_SECONDS_MAX {
            return Err(EntryError::at(
                "/observed/end",
                EntryErrorReason::IntervalTooLong {
                    seconds,
                    max: OBSERVED_INTERVAL_SECONDS_MAX,
                },
            ));
        }
    }
    if observed.start > r.submitted_at {
        return Err(EntryError::at(
            "/observed/start",
            EntryErrorReason::ObservedAfterSubmission {
                observed: observed.start.to_rfc3339(),
                submitted: r.submitted_at.to_rfc3339(),
            },
        ));
    }
    Ok(())
}

fn check_location(location: &Location) -> Result<(), EntryError> {
    match location {
        Location::Point {
            point,
            uncertainty_m,
        } => {
            check_position("/location/point", point)?;
            check_uncertainty("/location/uncertainty_m", *uncertainty_m)
        }
        Location::Relative {
            observer,
            observer_uncertainty_m,
            bearing_deg,
            bearing_uncertainty_deg,
            distance_km,
        } => {
            check_position("/location/observer", observer)?;
            if let Some(u) = observer_uncertainty_m {
                check_uncertainty("/location/observer_uncertainty_m", *u)?;
            }
            if !(0.0..360.0).contains(bearing_deg) {
                return Err(EntryError::at(
                    "/location/bearing_deg",
                    EntryErrorReason::BearingOutOfRange(*bearing_deg),
                ));
            }
            if let Some(u) = bearing_uncertainty_deg {
                if !(0.0..=180.0).contains(u) {
                    return Err(EntryError::at(
                        "/location/bearing_uncertainty_deg",
                        EntryErrorReason::BearingUncertaintyOutOfRange(*u),
                    ));
                }
            }
            let [min, max] = *distance_km;
            for (i, d) in [min, max].into_iter().enumerate() {
                check_magnitude(
                    &format!("/location/distance_km/{i}"),
                    d,
                    OBSERVER_DISTANCE_KM_MAX,
                    EntryErrorReason::NegativeDistance,
                    |value, max| EntryErrorReason::DistanceTooLarge { value, max },
                )?;
            }
            if min > max {
                return Err(EntryError::at(
                    "/location/distance_km",
                    EntryErrorReason::DistanceRangeInverted { min, max },
                ));
            }
            Ok(())
        }
    }
}

fn check_position(pointer: &str, [lon, lat]: &[f64; 2]) -> Result<(), EntryError> {
    if !(-180.0..=180.0).contains(lon) {
        return Err(EntryError::at(
            format!("{pointer}/0"),
            EntryErrorReason::LongitudeOutOfRange(*lon),
        ));
    }
    if !(-90.0..=90.0).contains(lat) {
        return Err(EntryError::at(
            format!("{pointer}/1"),
            EntryErrorReason::LatitudeOutOfRange(*lat),
        ));
    }
    Ok(())
}

fn check_uncertainty(pointer: &str, metres: f64) -> Result<(), EntryError> {
    check_magnitude(
        pointer,
        metres,
        LOCATION_UNCERTAINTY_M_MAX,
        EntryErrorReason::NegativeUncertainty,
        |value, max| EntryErrorReason::UncertaintyTooLarge { value, max },
    )
}

/// A quantity that must lie in `0..=max`, with the reasons to give when it does not.
fn check_magnitude(
    pointer: &str,
    value: f64,
    max: f64,
    negative: impl Fn(f64) -> EntryErrorReason,
    too_large: impl Fn(f64, f64) -> EntryErrorReason,
) -> Result<(), EntryError> {
    if value < 0.0 {
        return Err(EntryError::at(pointer, negative(value)));
    }
    if value > max {
        return Err(EntryError::at(pointer, too_large(value, max)));
    }
    Ok(())
}

fn check_event(event: &Event) -> Result<(), EntryError> {
    if let Some(subtype) = &event.subtype {
        check_name("/event/subtype", subtype)?;
    }
    check_name("/event/weapon_class", &event.weapon_class.0)?;
    if event.count == 0 {
        return Err(EntryError::at("/event/count", EntryErrorReason::ZeroCount));
    }
    check_at_most("/event/count", event.count, EVENT_COUNT_MAX)?;
    if let Some(casualties) = event.casualties {
        check_at_most("/event/casualties", casualties, CASUALTIES_MAX)?;
    }
    Ok(())
}

fn check_source(source: &SourceMapping) -> Result<(), EntryError> {
    let names = [
        ("/source/dataset", &source.dataset),
        ("/source/source_id", &source.source_id),
        ("/source/event_type", &source.event_type),
        ("/source/sub_event_type", &source.sub_event_type),
    ];
    for (pointer, name) in names {
        if let Some(name) = name {
            check_name(pointer, name)?;
        }
    }
    let numbers = [
        ("/source/fatalities", source.fatalities),
        ("/source/best", source.best),
        ("/source/low", source.low),
        ("/source/high", source.high),
    ];
    for (pointer, number) in numbers {
        if let Some(n) = number {
            check_at_most(pointer, n, CASUALTIES_MAX)?;
        }
    }
    let best = source.best;
    let low = source.low.or(best);
    let high = source.high.or(best);
    if let (Some(low), Some(high)) = (low, high) {
        let best = best.unwrap_or(low);
        if !(low <= best && best <= high) {
            return Err(EntryError::at(
                "/source",
                EntryErrorReason::EstimatesOutOfOrder { low, best, high },
            ));
        }
    }
    Ok(())
}

fn check_at_most(pointer: &str, value: u32, max: u32) -> Result<(), EntryError> {
    if value > max {
        return Err(EntryError::at(
            pointer,
            EntryErrorReason::NumberTooLarge { value, max },
        ));
    }
    Ok(())
}

fn check_id(id: &str) -> Result<(), EntryError> {
    check_id_at("/id", id)
}

fn check_id_at(pointer: &str, id: &str) -> Result<(), EntryError> {
    check_text(pointer, id, ENTRY_ID_BYTES_MAX)?;
    if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EntryError::at(pointer, EntryErrorReason::IdCharacters));
    }
    Ok(())
}

fn check_name(pointer: &str, name: &str) -> Result<(), EntryError> {
    check_text(pointer, name, NAME_BYTES_MAX)
}

fn check_statement(pointer: &str, text: &str) -> Result<(), EntryError> {
    check_text(pointer, text, STATEMENT_TEXT_BYTES_MAX)
}

fn check_optional_text(pointer: &str, text: Option<&str>, max: usize) -> Result<(), EntryError> {
    match text {
        Some(text) if text.len() > max => Err(EntryError::at(
            pointer,
            EntryErrorReason::TextTooLong {
                bytes: text.len(),
                max,
            },
        )),
        _ => Ok(()),
    }
}

/// Required text: not empty (nor only whitespace), and within `max` bytes.
fn check_text(pointer: &str, text: &str, max: usize) -> Result<(), EntryError> {
    if text.trim().is_empty() {
        return Err(EntryError::at(pointer, EntryErrorReason::Empty));
    }
    if text.len() > max {
        return Err(EntryError::at(
            pointer,
            EntryErrorReason::TextTooLong {
                bytes: text.len(),
                max,
            },
        ));
    }
    Ok(())
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
