//! Limits on every entry field, so that one entry's cost is bounded and every consumer (log,
//! store, dashboard, CAP alert) can rely on the same maxima. Units are in the names.

/// The largest entry accepted, as JSON text (one NDJSON line, or one file to `report sign`).
/// A report with its full 4 KiB text and 32 media hashes is under 8 KiB.
pub const ENTRY_BYTES_MAX: usize = 64 * 1024;

/// An entry id: chosen by the signer, unique within the agreement. Long enough for
/// `monitor/date/sequence` schemes, short enough to index.
pub const ENTRY_ID_BYTES_MAX: usize = 128;

/// Names that refer to something else: the agreement id, monitor, guarantor, party, panel
/// member, finding, obligation and objection ids, action classes, subtypes, weapon classes,
/// media types, source-mapping codes.
pub const NAME_BYTES_MAX: usize = 128;

/// A report's free text and a stated attribution's basis.
pub const REPORT_TEXT_BYTES_MAX: usize = 4 * 1024;

/// Longer statements: an objection's grounds, a ruling's reasons, a retraction's reason, a
/// guarantor action's description.
pub const STATEMENT_TEXT_BYTES_MAX: usize = 16 * 1024;

/// Media hashes on one report.
pub const MEDIA_COUNT_MAX: usize = 32;

/// Events counted in one report (rounds, explosions, vehicles).
pub const EVENT_COUNT_MAX: u32 = 100_000;

/// Casualties, fatalities and UCDP best/low/high estimates in one report.
pub const CASUALTIES_MAX: u32 = 100_000;

/// The largest location uncertainty radius (and observer position uncertainty), in metres.
/// Beyond this a report cannot be placed in any zone meaningfully.
pub const LOCATION_UNCERTAINTY_M_MAX: f64 = 100_000.0;

/// The farthest an observer may place an event, in kilometres (artillery flashes and sound
/// carry tens of kilometres, not hundreds).
pub const OBSERVER_DISTANCE_KM_MAX: f64 = 100.0;

/// The longest observation interval, in seconds (31 days).
pub const OBSERVED_INTERVAL_SECONDS_MAX: i64 = 31 * 86_400;

/// The largest integer magnitude accepted anywhere in an entry: 2^53 − 1. Beyond it a number
/// is not exactly representable as an IEEE double, and RFC 8785 canonicalizers in other
/// languages would print it differently, so a signature would verify on one machine and not
/// another.
pub const JSON_INTEGER_ABS_MAX: u64 = (1 << 53) - 1;
