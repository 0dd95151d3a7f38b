//! The signed entries that monitors, guarantors, parties and the panel write, as they travel
//! (JSON) and as the log stores them.
//!
//! Every entry is a JSON object with a `schema` field and a `signature` member; the signature
//! is Ed25519 over the RFC 8785 canonical form of the object without `signature`.

use serde::{Deserialize, Serialize, Serializer};

use crate::agreement::model::{EventKind, ObservationMode, Role, WeaponClass};
use crate::time::Timestamp;

/// `schema` of a monitor's report.
pub const REPORT_SCHEMA: &str = "pacta.report/1";
/// `schema` of a guarantor's action.
pub const ACTION_SCHEMA: &str = "pacta.action/1";
/// `schema` of a party's objection.
pub const OBJECTION_SCHEMA: &str = "pacta.objection/1";
/// `schema` of a panel member's ruling.
pub const RULING_SCHEMA: &str = "pacta.ruling/1";
/// `schema` of a monitor's retraction of its own report.
pub const RETRACTION_SCHEMA: &str = "pacta.retraction/1";

/// A monitor's observation (`pacta.report/1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema: String,
    /// Chosen by the monitor; resubmitting the same id with the same body is idempotent.
    pub id: String,
    pub agreement: String,
    pub monitor: String,
    /// When the monitor signed and sent it; entries later than an assessment's as-of time are
    /// not yet known to that assessment.
    pub submitted_at: Timestamp,
    pub observed: ObservedTime,
    pub location: Location,
    pub event: Event,
    pub mode: ObservationMode,
    /// Boxed: most reports state none, and inline it would be a tenth of every report held
    /// in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<Box<StatedAttribution>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<MediaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Fields that map to and from ACLED and UCDP GED. Boxed: most reports have none, and
    /// inline it would be a quarter of every report held in memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Box<SourceMapping>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// The observation time: an instant (`start == end`) or an interval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedTime {
    pub start: Timestamp,
    /// Absent for an instant; never before `start` once validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<Timestamp>,
}

impl ObservedTime {
    /// The end of the interval, or the instant.
    pub fn end_or_start(&self) -> Timestamp {
        self.end.unwrap_or(self.start)
    }
}

/// Where the event was: a point with an uncertainty radius, or, as OSCE patrols reported, the
/// observer's own position and a bearing and distance range ("1.4–1.6 km SE").
///
/// Written as one JSON object whose members say which form it is: `point` and
/// `uncertainty_m`, or `observer`, `bearing_deg` and `distance_km` (with optional
/// `observer_uncertainty_m` and `bearing_uncertainty_deg`). Reading goes through
/// [`LocationWire`] so that a mix of both forms, or an unknown member, gets a precise error
/// instead of serde's "did not match any variant".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged, try_from = "LocationWire")]
pub enum Location {
    /// A point with a radius within which the event lies.
    Point {
        /// `[longitude, latitude]`, WGS 84, as in GeoJSON.
        point: [f64; 2],
        /// Radius in metres around `point`.
        uncertainty_m: f64,
    },
    /// The observer's position, a bearing and a distance range.
    Relative {
        /// The observer's `[longitude, latitude]`.
        observer: [f64; 2],
        /// Radius in metres of the observer's own position fix; absent means exact.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        observer_uncertainty_m: Option<f64>,
        /// Degrees clockwise from true north, with the half-width of the observer's estimate.
        bearing_deg: f64,
        /// Half-width in degrees; absent means a 16-point compass bearing (`SSE`: ±11.25°).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bearing_uncertainty_deg: Option<f64>,
        /// `[min, max]` in kilometres.
        distance_km: [f64; 2],
    },
}

/// The JSON members of a [`Location`] before deciding which form it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocationWire {
    point: Option<[f64; 2]>,
    uncertainty_m: Option<f64>,
    observer: Option<[f64; 2]>,
    observer_uncertainty_m: Option<f64>,
    bearing_deg: Option<f64>,
    bearing_uncertainty_deg: Option<f64>,
    distance_km: Option<[f64; 2]>,
}

impl TryFrom<LocationWire> for Location {
    type Error = String;

    fn try_from(wire: LocationWire) -> Result<Self, Self::Error> {
        let relative_member = wire.observer.is_some()
            || wire.observer_uncertainty_m.is_some()
            || wire.bearing_deg.is_some()
            || wire.bearing_uncertainty_deg.is_some()
            || wire.distance_km.is_some();
        match (wire.point, wire.observer) {
            (Some(point), None) => {
                if relative_member {
                    return Err(
                        "a location with `point` takes only `uncertainty_m` besides it; \
                                observer, bearing and distance belong to the other form"
                            .to_string(),
                    );
                }
                let uncertainty_m = wire
                    .uncertainty_m
                    .ok_or("a `point` location needs `uncertainty_m` (metres)")?;
                Ok(Location::Point {
                    point,
                    uncertainty_m,
                })
            }
            (None, Some(observer)) => {
                if wire.uncertainty_m.is_some() {
                    return Err("an observer-relative location has no `uncertainty_m`; \
                                write `observer_uncertainty_m` for the observer's own fix"
                        .to_string());
                }
                let bearing_deg = wire
                    .bearing_deg
                    .ok_or("an observer-relative location needs `bearing_deg`")?;
                let distance_km = wire
                    .distance_km
                    .ok_or("an observer-relative location needs `distance_km` as [min, max]")?;
                Ok(Location::Relative {
                    observer,
                    observer_uncertainty_m: wire.observer_uncertainty_m,
                    bearing_deg,
                    bearing_uncertainty_deg: wire.bearing_uncertainty_deg,
                    distance_km,
                })
            }
            (Some(_), Some(_)) => {
                Err("a location has either `point` or `observer`, not both".to_string())
            }
            (None, None) => Err(
                "a location needs `point` and `uncertainty_m`, or `observer`, `bearing_deg` \
                 and `distance_km`"
                    .to_string(),
            ),
        }
    }
}

/// What was observed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub kind: EventKind,
    /// A finer label; for `verification`, the act verified (e.g. `withdrawal_completed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// How many (rounds, explosions, vehicles); 1 when absent.
    #[serde(default = "one")]
    pub count: u32,
    /// `undetermined` when absent.
    #[serde(default = "undetermined")]
    pub weapon_class: WeaponClass,
    /// Whether the monitor saw or heard fire leave, arrive, or land.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<FireAssessment>,
    /// Casualties observed or confirmed, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub casualties: Option<u32>,
}

fn one() -> u32 {
    1
}

fn undetermined() -> WeaponClass {
    WeaponClass(WeaponClass::UNDETERMINED.to_string())
}

/// The direction of fire relative to the observer, as OSCE reports assessed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FireAssessment {
    Outgoing,
    Incoming,
    Impact,
    Undetermined,
}

/// A party named by the monitor as responsible, with the basis for saying so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatedAttribution {
    pub party: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
}

/// A media file the report rests on, by content hash (the file itself is kept elsewhere).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaRef {
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

/// The source dataset's own coding, kept so a report maps back to ACLED or UCDP GED.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceMapping {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_event_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_precision: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_precision: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub where_prec: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_prec: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fatalities: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<u32>,
}

/// A guarantor's record of what it did about an obligation (`pacta.action/1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuarantorAction {
    pub schema: String,
    pub id: String,
    pub agreement: String,
    pub guarantor: String,
    /// The obligation id it answers, as the assessment names it.
    pub obligation: String,
    /// The action class taken; must match the obligation's to fulfil it.
    pub action: String,
    pub taken_at: Timestamp,
    pub submitted_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A party's objection to a provisional finding against it (`pacta.objection/1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objection {
    pub schema: String,
    pub id: String,
    pub agreement: String,
    pub party: String,
    pub finding: String,
    pub submitted_at: Timestamp,
    pub grounds: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// The panel's decision on an objection (`pacta.ruling/1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ruling {
    pub schema: String,
    pub id: String,
    pub agreement: String,
    pub panelist: String,
    pub objection: String,
    pub decision: RulingDecision,
    pub submitted_at: Timestamp,
    pub reasons: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// What the panel decided on an objection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RulingDecision {
    /// The objection stands: the finding is dismissed.
    Upheld,
    /// The objection fails: the finding is confirmed.
    Rejected,
}

/// A monitor withdrawing one of its own reports (`pacta.retraction/1`). A correction is a
/// retraction plus a new report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retraction {
    pub schema: String,
    pub id: String,
    pub agreement: String,
    pub monitor: String,
    pub report: String,
    pub submitted_at: Timestamp,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// Any entry, dispatched on its `schema` field.
// Nearly every entry is a report, so boxing the large variant would add an allocation per
// entry to save space only on the rare small ones.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Entry {
    Report(Report),
    Action(GuarantorAction),
    Objection(Objection),
    Ruling(Ruling),
    Retraction(Retraction),
}

/// An entry serializes as its inner object (which carries its own `schema`).
impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Entry::Report(e) => e.serialize(serializer),
            Entry::Action(e) => e.serialize(serializer),
            Entry::Objection(e) => e.serialize(serializer),
            Entry::Ruling(e) => e.serialize(serializer),
            Entry::Retraction(e) => e.serialize(serializer),
        }
    }
}

impl Entry {
    /// The report, if this entry is one.
    pub fn as_report(&self) -> Option<&Report> {
        match self {
            Entry::Report(report) => Some(report),
            _ => None,
        }
    }

    /// The signer's chosen id, unique within the agreement.
    pub fn id(&self) -> &str {
        match self {
            Entry::Report(e) => &e.id,
            Entry::Action(e) => &e.id,
            Entry::Objection(e) => &e.id,
            Entry::Ruling(e) => &e.id,
            Entry::Retraction(e) => &e.id,
        }
    }

    /// The `schema` constant of this kind of entry.
    pub fn schema(&self) -> &'static str {
        match self {
            Entry::Report(_) => REPORT_SCHEMA,
            Entry::Action(_) => ACTION_SCHEMA,
            Entry::Objection(_) => OBJECTION_SCHEMA,
            Entry::Ruling(_) => RULING_SCHEMA,
            Entry::Retraction(_) => RETRACTION_SCHEMA,
        }
    }

    /// The agreement id the entry says it is written under.
    pub fn agreement(&self) -> &str {
        match self {
            Entry::Report(e) => &e.agreement,
            Entry::Action(e) => &e.agreement,
            Entry::Objection(e) => &e.agreement,
            Entry::Ruling(e) => &e.agreement,
            Entry::Retraction(e) => &e.agreement,
        }
    }

    /// Who must have signed it: the role and the id under which the agreement lists the
    /// signer's keys (the monitor, guarantor, party or panel member the entry names).
    pub fn signer(&self) -> (Role, &str) {
        match self {
            Entry::Report(e) => (Role::Monitor, &e.monitor),
            Entry::Action(e) => (Role::Guarantor, &e.guarantor),
            Entry::Objection(e) => (Role::Party, &e.party),
            Entry::Ruling(e) => (Role::Panel, &e.panelist),
            Entry::Retraction(e) => (Role::Monitor, &e.monitor),
        }
    }

    /// The `signature` member, if the entry carries one.
    pub fn signature(&self) -> Option<&str> {
        match self {
            Entry::Report(e) => e.signature.as_deref(),
            Entry::Action(e) => e.signature.as_deref(),
            Entry::Objection(e) => e.signature.as_deref(),
            Entry::Ruling(e) => e.signature.as_deref(),
            Entry::Retraction(e) => e.signature.as_deref(),
        }
    }

    /// When it was submitted, by the signer's own statement.
    pub fn submitted_at(&self) -> Timestamp {
        match self {
            Entry::Report(e) => e.submitted_at,
            Entry::Action(e) => e.submitted_at,
            Entry::Objection(e) => e.submitted_at,
            Entry::Ruling(e) => e.submitted_at,
            Entry::Retraction(e) => e.submitted_at,
        }
    }
}
