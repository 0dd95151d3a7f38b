//! The validated agreement: what the engine rules with.
//!
//! These types are produced only by [`super::parse`] after every reference has been resolved
//! and every geometry checked, so the engine can rely on them without re-validating: every
//! id named here exists, every period is non-empty, every escalation chain ends.
//!
//! All collections are `BTreeMap` or `Vec` in file order, never hash maps, so iterating an
//! agreement is deterministic.

use std::collections::BTreeMap;

use geo::{MultiLineString, MultiPolygon};
use serde::{Deserialize, Serialize};
use strum::VariantArray;

use crate::time::{Duration, Timestamp};

/// An Ed25519 public key (32 bytes), written `ed25519:BASE64` in files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey(pub [u8; 32]);

/// Which role a signing key holds. Each role may write one kind of entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Submits reports and retractions.
    Monitor,
    /// Records actions taken on obligations.
    Guarantor,
    /// Lodges objections to findings against itself.
    Party,
    /// Rules on objections.
    Panel,
}

/// How a monitor observed what it reports.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, VariantArray,
)]
#[serde(rename_all = "snake_case")]
pub enum ObservationMode {
    Saw,
    Heard,
    Patrol,
    Camera,
    Uav,
    Satellite,
    Sensor,
}

/// What kind of event a report describes.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, VariantArray,
)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Explosion,
    Projectile,
    Burst,
    Shot,
    Flare,
    WeaponPresence,
    Flight,
    MineLaying,
    RestrictionOfMovement,
    Damage,
    Casualty,
    /// A monitor verified that an act (withdrawal, exchange, access) took place.
    Verification,
}

impl EventKind {
    /// Kinds that describe the use of weapons; reports of different kinds in this family may
    /// describe the same exchange of fire (one patrol hears explosions, a camera sees bursts).
    pub fn is_fire(self) -> bool {
        matches!(
            self,
            EventKind::Explosion
                | EventKind::Projectile
                | EventKind::Burst
                | EventKind::Shot
                | EventKind::Flare
        )
    }
}

/// A weapon class. `Undetermined` is compatible with every class when corroborating.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WeaponClass(pub String);

impl WeaponClass {
    pub const UNDETERMINED: &'static str = "undetermined";
    pub fn is_undetermined(&self) -> bool {
        self.0 == Self::UNDETERMINED
    }
}

/// How grave a breach is. Ordered: `Minor < Serious < Grave`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Serious,
    Grave,
}

/// A validated agreement version.
#[derive(Clone, Debug)]
pub struct Agreement {
    pub id: String,
    pub title: String,
    /// Incremented by the parties for each amended text; recorded with every finding.
    pub version: u32,
    pub effective: Timestamp,
    pub until: Option<Timestamp>,
    /// How long a party has to object to a provisional finding before it is confirmed.
    pub objection_window: Duration,
    pub parties: BTreeMap<String, Party>,
    pub guarantors: BTreeMap<String, Guarantor>,
    pub monitors: BTreeMap<String, Monitor>,
    pub panel: BTreeMap<String, PanelMember>,
    pub zones: BTreeMap<String, Zone>,
    pub evidence: BTreeMap<String, EvidenceStandard>,
    pub corroboration: CorroborationRules,
    pub attribution: AttributionRules,
    /// In file order.
    pub commitments: Vec<Commitment>,
    /// In file order; rung ids are unique.
    pub responses: Vec<ResponseRung>,
    /// In file order; a phase's `after` always names an earlier phase.
    pub phases: Vec<Phase>,
    pub indicators: IndicatorRules,
    /// Where each item was written, keyed `KIND:ID` with KIND one of `party`, `guarantor`,
    /// `monitor`, `panel`, `zone`, `evidence`, `commitment`, `response`, `phase`, `sector`;
    /// so that tools reading a valid agreement (the lint) can point at the source.
    pub locations: BTreeMap<String, SourceLocation>,
}

/// A place in an agreement's source files: the file (as named to the parser, or relative to
/// the agreement file for referenced files), the 1-based line and column, and the byte range.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SourceLocation {
    pub file: String,
    pub line: u32,
    pub column: u32,
    /// Byte offsets into the file's text, for renderers that show the snippet.
    pub span: std::ops::Range<usize>,
}

#[derive(Clone, Debug)]
pub struct Party {
    pub name: String,
    /// The zone holding the area this party controlled at signature, if given.
    pub controls: Option<String>,
    /// Keys that may lodge objections on the party's behalf.
    pub keys: Vec<PublicKey>,
}

#[derive(Clone, Debug)]
pub struct Guarantor {
    pub name: String,
    pub keys: Vec<PublicKey>,
}

#[derive(Clone, Debug)]
pub struct Monitor {
    /// Reports from monitors of one organisation are not independent of each other for
    /// evidence standards that count organisations.
    pub organisation: String,
    pub keys: Vec<PublicKey>,
    pub modes: Vec<ObservationMode>,
}

#[derive(Clone, Debug)]
pub struct PanelMember {
    pub name: String,
    pub keys: Vec<PublicKey>,
}

/// A named geometry.
#[derive(Clone, Debug)]
pub struct Zone {
    pub id: String,
    pub label: Option<String>,
    pub shape: ZoneShape,
}

#[derive(Clone, Debug)]
pub enum ZoneShape {
    /// Polygons from a GeoJSON file (WGS 84, lon/lat).
    Area(MultiPolygon<f64>),
    /// Lines from a GeoJSON file: a line of contact, a withdrawal line.
    Line(MultiLineString<f64>),
    /// Every point within `km` of zone `of` (geodesic distance), optionally only inside the
    /// area controlled by party `inside`.
    Within {
        of: String,
        km: f64,
        inside: Option<String>,
    },
    /// Points in any of the zones.
    Union(Vec<String>),
    /// Points in all of the zones.
    Intersection(Vec<String>),
    /// Points in the first zone but not the second.
    Difference(String, String),
}

/// When reports of one incident are enough to rule on.
#[derive(Clone, Debug, PartialEq)]
pub struct EvidenceStandard {
    pub id: String,
    pub min_reports: u32,
    pub min_independent_monitors: u32,
    pub min_organisations: u32,
    /// Observation modes that are enough on their own (one report suffices).
    pub alone: Vec<AloneRule>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AloneRule {
    pub mode: ObservationMode,
    /// The report must carry at least one media hash.
    pub with_media: bool,
}

/// Bounds for grouping reports into incidents.
#[derive(Clone, Debug, PartialEq)]
pub struct CorroborationRules {
    /// Extra distance allowed between two reports beyond their stated uncertainties.
    pub distance_km: f64,
    /// Extra time allowed between two reports' observation intervals.
    pub time_window: Duration,
    /// An incident never spans more than this, so a day of shelling along a front does not
    /// chain into one incident.
    pub max_extent_km: f64,
    pub max_duration: Duration,
}

impl Default for CorroborationRules {
    fn default() -> Self {
        CorroborationRules {
            distance_km: 2.0,
            time_window: Duration::minutes(30),
            max_extent_km: 5.0,
            max_duration: Duration::hours(2),
        }
    }
}

/// How an incident is attributed when no monitor states a party.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AttributionRules {
    /// Attribute weapon presence (and other kinds listed) inside an area a party controls to
    /// that party.
    pub by_control: Vec<EventKind>,
}

/// Which events a commitment is about.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct EventFilter {
    /// Empty means any kind.
    pub kinds: Vec<EventKind>,
    /// Empty means any subtype.
    pub subtypes: Vec<String>,
    /// Empty means any weapon class.
    pub weapon_classes: Vec<WeaponClass>,
}

#[derive(Clone, Debug)]
pub struct Commitment {
    pub id: String,
    /// The agreement's own article reference, e.g. `Article 2(1)`.
    pub article: Option<String>,
    /// The agreement's own words.
    pub text: String,
    /// Parties bound by it.
    pub binds: Vec<String>,
    pub rule: CommitmentRule,
    /// `None` means anywhere.
    pub zone: Option<String>,
    pub from: Timestamp,
    pub until: Option<Timestamp>,
    /// The evidence standard that rules on it. `None` when the agreement names none (as in
    /// the 1994 Budapest Memorandum): the engine can then never find a breach, and the lint
    /// says so.
    pub evidence: Option<String>,
    pub severity: SeverityRule,
}

#[derive(Clone, Debug)]
pub enum CommitmentRule {
    /// No event matching the filter, attributable to a bound party, in the zone, during the
    /// period.
    Prohibition(EventFilter),
    /// An act that monitors must verify (a report of kind `verification` with the given
    /// subtype) in the zone before `deadline`; unverified by then is a breach. `None` when the
    /// text sets no deadline ("consult in the event of ..."): such an act can never be
    /// overdue, so it is never breached, and the lint says so.
    Obligation {
        act: String,
        deadline: Option<Timestamp>,
    },
}

/// The severity of a breach: a base level raised by the first matching rule.
#[derive(Clone, Debug, PartialEq)]
pub struct SeverityRule {
    pub base: Severity,
    pub raise: Vec<SeverityRaise>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SeverityRaise {
    pub to: Severity,
    pub weapon_classes: Vec<WeaponClass>,
    pub min_count: Option<u32>,
    pub with_casualties: bool,
}

/// Which findings a rung or a snapback reacts to.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingFilter {
    pub min_severity: Severity,
    /// `None`: any party (including unattributed).
    pub party: Option<String>,
    /// Empty: any commitment.
    pub commitments: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Trigger {
    /// Each matching finding opens obligations.
    Finding(FindingFilter),
    /// `count` matching findings within `window`.
    Pattern {
        filter: FindingFilter,
        count: u32,
        window: Duration,
    },
    /// Matching findings spread along more than `span_km` of line `along` within `window`:
    /// a renewed offensive rather than scattered violations.
    Offensive {
        filter: FindingFilter,
        along: String,
        span_km: f64,
        window: Duration,
    },
    /// Reached only by escalation from another rung.
    Escalation,
}

/// When a finding counts for a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TriggerBasis {
    /// As soon as the finding is made (provisional).
    Provisional,
    /// Only once the objection window has passed without a successful objection.
    #[default]
    Confirmed,
}

#[derive(Clone, Debug)]
pub struct ResponseRung {
    pub id: String,
    pub title: Option<String>,
    pub trigger: Trigger,
    pub basis: TriggerBasis,
    /// Named guarantors, each of which owes the action.
    pub guarantors: Vec<String>,
    /// The action class guarantors record to fulfil the obligation (e.g. `consultations`).
    pub action: String,
    pub description: String,
    pub within: Duration,
    pub escalate_to: Option<String>,
    /// Escalate when the deadline passes unmet.
    pub escalate_on_missed_deadline: bool,
    /// Escalate when another matching finding comes while the obligation is open.
    pub escalate_on_continued_breach: bool,
    /// With a `finding` trigger, a matching finding by a party whose earlier firing of this
    /// rung is still running joins that firing instead of opening new obligations (the
    /// default); `false` when the agreement's text says "each breach".
    pub coalesce: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PhaseCondition {
    /// No finding matching the filter for the whole of the preceding `for_`.
    NoFindings {
        filter: FindingFilter,
        for_: Duration,
    },
    /// The obligation-by-deadline commitment has been verified by monitors.
    Verified { commitment: String },
}

#[derive(Clone, Debug)]
pub struct PhaseConsequence {
    pub action: String,
    pub tranche: Option<u32>,
    pub guarantors: Vec<String>,
    pub within: Duration,
    pub description: String,
}

#[derive(Clone, Debug)]
pub struct Snapback {
    pub on: FindingFilter,
    pub action: String,
    pub guarantors: Vec<String>,
    pub within: Duration,
    pub description: String,
}

#[derive(Clone, Debug)]
pub struct Phase {
    pub id: String,
    pub title: Option<String>,
    /// The phase that must have been entered first.
    pub after: Option<String>,
    pub requires: Vec<PhaseCondition>,
    pub consequence: Option<PhaseConsequence>,
    pub snapback: Option<Snapback>,
}

/// Early-warning indicators: violations per day per sector against a trailing baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorRules {
    /// Sectors in file order; an incident belongs to the first sector containing it.
    pub sectors: Vec<Sector>,
    pub baseline: Duration,
    /// Ratios of today's count to the baseline daily mean at which the level rises.
    pub elevated_ratio: f64,
    pub high_ratio: f64,
    pub critical_ratio: f64,
    /// Counts below this never raise the level (avoids alarms on 1 vs 0).
    pub min_count: u32,
}

impl Default for IndicatorRules {
    fn default() -> Self {
        IndicatorRules {
            sectors: Vec::new(),
            baseline: Duration::days(14),
            elevated_ratio: 1.5,
            high_ratio: 3.0,
            critical_ratio: 6.0,
            min_count: 3,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sector {
    pub id: String,
    pub zone: String,
}
