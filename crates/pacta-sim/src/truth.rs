//! The ground truth of a simulation: what really happened, which commitments it breached,
//! and which reports describe it. Written as JSON (`pacta.truth/1`) next to the reports.

use pacta_core::agreement::model::Severity;
use pacta_core::time::Timestamp;
use serde::{Deserialize, Serialize};

/// `schema` of a ground-truth file.
pub const TRUTH_SCHEMA: &str = "pacta.truth/1";

/// The whole ground truth. `events` are written as they are generated, so the file's member
/// order is not this one; readers must not depend on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Truth {
    /// Always [`TRUTH_SCHEMA`].
    pub schema: String,
    /// The agreement id.
    pub agreement: String,
    /// The seed of the run.
    pub seed: u64,
    /// The first simulated instant.
    pub start: Timestamp,
    /// The end of the simulated period: the end of the last day, or the start of the event
    /// the run stopped in when it was cut at a report count.
    pub end: Timestamp,
    /// The latest submission time of any report: assess as of this (or later) to see all.
    pub as_of: Timestamp,
    /// Obligations by deadline and whether each bound party complied.
    pub obligations: Vec<TrueObligation>,
    /// Renewed offensives.
    pub episodes: Vec<Episode>,
    /// Every true event, in generation order (ids increase).
    pub events: Vec<TrueEvent>,
    /// Reports that describe no event.
    pub false_reports: Vec<FalseReport>,
    /// Totals.
    pub counts: TruthCounts,
}

/// What kind of thing happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrueKind {
    /// An exchange of fire opened by the party.
    Fire,
    /// Heavy weapons moved into an exclusion zone and kept there for a while.
    HeavyWeapons,
    /// An act an obligation requires (a withdrawal), completed by the party.
    Withdrawal,
    /// The party stopped a monitoring patrol.
    Restriction,
}

/// One true event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrueEvent {
    /// `ev-` and a sequence number.
    pub id: String,
    /// What happened.
    pub kind: TrueKind,
    /// The party that did it.
    pub party: String,
    /// When it happened (fire: a few minutes; weapons: while they stayed).
    pub start: Timestamp,
    /// When it ended (or stopped being observable).
    pub end: Timestamp,
    /// Longitude of the true place.
    pub lon: f64,
    /// Latitude of the true place.
    pub lat: f64,
    /// Weapon class (`undetermined` for restrictions and withdrawals).
    pub weapon_class: String,
    /// Rounds, salvoes or vehicles.
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Casualties, if any.
    pub casualties: Option<u32>,
    /// For withdrawals, the act completed (the report subtype monitors verify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<String>,
    /// The offensive episode it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub episode: Option<String>,
    /// Commitments it breaches (prohibitions binding the party, matching kind, weapon class,
    /// zone and period), with the severity the commitment gives it.
    pub breaches: Vec<TrueBreach>,
    /// Ids of the reports that describe it (duplicates and late reports included).
    pub reports: Vec<String>,
}

/// A commitment a true event breaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrueBreach {
    /// The commitment id.
    pub commitment: String,
    /// The severity the commitment's rule gives the true event.
    pub severity: Severity,
}

/// An obligation by deadline for one bound party, and what the party really did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrueObligation {
    /// The obligation-by-deadline commitment.
    pub commitment: String,
    /// The bound party.
    pub party: String,
    /// The act required.
    pub act: String,
    /// The commitment's deadline.
    pub deadline: Timestamp,
    /// Whether the party completed the act before the deadline.
    pub complied: bool,
    /// The withdrawal event, when the party complied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

/// A renewed offensive: many fire events spread along the line within hours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// `offensive-` and a number.
    pub id: String,
    /// The attacking party.
    pub party: String,
    /// When it began.
    pub start: Timestamp,
    /// When it ended.
    pub end: Timestamp,
    /// Where along the line it spreads, km from the line's first vertex.
    pub along_km: [f64; 2],
}

/// A report that describes nothing that happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FalseReport {
    /// The report id.
    pub id: String,
    /// The monitor that wrote it.
    pub monitor: String,
    /// The phantom's time.
    pub time: Timestamp,
    /// The phantom's longitude.
    pub lon: f64,
    /// The phantom's latitude.
    pub lat: f64,
}

/// Totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthCounts {
    /// True events.
    pub events: u64,
    /// Events described by at least one report.
    pub events_reported: u64,
    /// Expected findings: breaches of events plus obligations not complied with.
    pub breaches: u64,
    /// All reports.
    pub reports: u64,
    /// Reports describing a true event.
    pub reports_true: u64,
    /// Reports describing nothing.
    pub reports_false: u64,
    /// Second copies of an observation.
    pub reports_duplicate: u64,
    /// Reports submitted one to five days late.
    pub reports_late: u64,
}

impl Truth {
    /// Parses a truth file and checks its schema.
    pub fn from_json(text: &str) -> Result<Truth, TruthError> {
        let truth: Truth = crate::json::from_str(text).map_err(TruthError::Json)?;
        if truth.schema != TRUTH_SCHEMA {
            return Err(TruthError::Schema(truth.schema));
        }
        Ok(truth)
    }
}

/// Why a truth file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TruthError {
    #[error("not a ground-truth file: {0}")]
    /// The text is not a truth file; the error names the member at fault.
    Json(crate::json::JsonError),
    #[error("schema `{0}` is not `{TRUTH_SCHEMA}`")]
    /// The schema member names another format.
    Schema(String),
}
