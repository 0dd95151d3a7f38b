//! The assessment: the full state of an agreement as of a moment, and its digest.
//!
//! [`assess`] runs the stages in order, each a pure function a server can re-run on its own
//! when new entries arrive:
//! [`crate::corroborate::corroborate`] → [`crate::attribute::attribute`]
//! → [`crate::adjudicate::rule`] → [`crate::adjudicate::settle`]
//! → [`crate::respond::respond`] → [`crate::phase::phases`]
//! → [`crate::indicator::indicators`].
//!
//! Entries submitted after the as-of time are not yet known and are ignored; reports a monitor
//! retracted (by a retraction from the same monitor, known by then) are dropped. The result
//! does not depend on the order of the entries. Every float is rounded before serialisation
//! (coordinates and scores to 1e-6, distances to whole metres), so the canonical JSON, and
//! with it the digest, is identical on every machine.
//!
//! One caveat on "every machine": distances use the platform's `sin`, `cos` and `asin`, which
//! IEEE 754 does not require to be correctly rounded. Two libms can differ in the last bit, so
//! a distance that lies within about 1e-12 km of a threshold (a corroboration radius, a zone
//! width) could be decided differently; rounding hides every other difference. Real reports
//! carry metres of uncertainty, so such a tie is a coincidence, not a pattern.

#![deny(missing_docs)]

use std::collections::BTreeSet;
use std::io::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::adjudicate::{rule, settle, Finding, FindingStatus, Verification};
use crate::agreement::model::Agreement;
use crate::attribute::attribute;
use crate::canonical::{self, Encoder};
use crate::corroborate::{corroborate, Incident, Observation, Witness};
use crate::entry::types::{Entry, GuarantorAction, Objection, Report, Ruling};
use crate::indicator::{indicators, Indicators};
use crate::phase::{phases, PhaseState};
use crate::respond::{respond, ActionIndex, Obligation, ObligationStatus};
use crate::time::Timestamp;
use crate::zone::ZoneIndex;

/// Totals, for summaries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Entries known as of the assessment time (submitted at or before it).
    pub entries: u64,
    /// Reports considered (known and not retracted).
    pub reports: u64,
    /// Known reports withdrawn by their monitors.
    pub retracted: u64,
    /// Incidents formed.
    pub incidents: u64,
    /// Findings.
    pub findings: u64,
    /// Findings provisional.
    pub findings_provisional: u64,
    /// Findings contested.
    pub findings_contested: u64,
    /// Findings confirmed.
    pub findings_confirmed: u64,
    /// Findings dismissed.
    pub findings_dismissed: u64,
    /// Obligations of every source.
    pub obligations: u64,
    /// Obligations open.
    pub obligations_open: u64,
    /// Obligations fulfilled in time.
    pub obligations_fulfilled: u64,
    /// Obligations fulfilled late.
    pub obligations_fulfilled_late: u64,
    /// Obligations overdue.
    pub obligations_overdue: u64,
}

/// The state of an agreement as of a moment. Every list is sorted by id.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assessment {
    /// The agreement assessed.
    pub agreement: String,
    /// The agreement version.
    pub agreement_version: u32,
    /// The moment assessed: entries submitted later are not known.
    pub as_of: Timestamp,
    /// Totals.
    pub counts: Counts,
    /// Corroborated incidents, with their final attribution.
    pub incidents: Vec<Incident>,
    /// Breaches, with their status as of `as_of`.
    pub findings: Vec<Finding>,
    /// Acts verified by monitors for obligation-by-deadline commitments.
    pub verifications: Vec<Verification>,
    /// Response, phase and snapback obligations together.
    pub obligations: Vec<Obligation>,
    /// Every phase's state.
    pub phases: Vec<PhaseState>,
    /// Early-warning indicators per sector.
    pub indicators: Indicators,
}

impl Assessment {
    /// The RFC 8785 (JCS) canonical JSON of the assessment.
    pub fn canonical_json(&self) -> Result<String, serde_json::Error> {
        let mut out = Vec::new();
        self.write_canonical(&mut out)?;
        String::from_utf8(out).map_err(serde::ser::Error::custom)
    }

    /// The assessment digest: lower-case hex SHA-256 of [`Self::canonical_json`], computed
    /// without holding the whole JSON in memory.
    pub fn digest(&self) -> Result<String, serde_json::Error> {
        let mut hasher = Sha256::new();
        self.write_canonical(&mut hasher)?;
        Ok(hex::encode(hasher.finalize()))
    }

    /// Streams the canonical JSON a list item at a time, through [`crate::canonical`]. The
    /// result is byte for byte what `serde_json_canonicalizer` gives for the whole assessment
    /// (tests check it), but that crate buffers every object until it can sort its keys,
    /// which for 10^6 reports means holding gigabytes; here the items are encoded into a
    /// buffer that goes to `out` whenever it holds [`FLUSH_BYTES`].
    pub fn write_canonical<W: Write + Send>(&self, out: &mut W) -> Result<(), serde_json::Error> {
        let mut buf = Vec::with_capacity(2 * FLUSH_BYTES);
        // Keys in RFC 8785 order (UTF-16 code units; all ASCII here, so byte order).
        buf.extend_from_slice(b"{\"agreement\":");
        canonical::write(&mut buf, &self.agreement)?;
        buf.extend_from_slice(b",\"agreement_version\":");
        canonical::write(&mut buf, &self.agreement_version)?;
        buf.extend_from_slice(b",\"as_of\":");
        canonical::write(&mut buf, &self.as_of)?;
        buf.extend_from_slice(b",\"counts\":");
        canonical::write(&mut buf, &self.counts)?;
        buf.extend_from_slice(b",\"findings\":");
        write_list(out, &mut buf, &self.findings)?;
        buf.extend_from_slice(b",\"incidents\":");
        write_list(out, &mut buf, &self.incidents)?;
        buf.extend_from_slice(b",\"indicators\":");
        canonical::write(&mut buf, &self.indicators)?;
        buf.extend_from_slice(b",\"obligations\":");
        write_list(out, &mut buf, &self.obligations)?;
        buf.extend_from_slice(b",\"phases\":");
        write_list(out, &mut buf, &self.phases)?;
        buf.extend_from_slice(b",\"verifications\":");
        write_list(out, &mut buf, &self.verifications)?;
        buf.push(b'}');
        flush(out, &mut buf)
    }
}

/// How much canonical JSON is gathered before it goes to the writer: large enough that a
/// hasher or file sees few calls, small enough to stay in cache.
const FLUSH_BYTES: usize = 1 << 16;

fn flush<W: Write>(out: &mut W, buf: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    out.write_all(buf).map_err(serde_json::Error::io)?;
    buf.clear();
    Ok(())
}

/// Items encoded together by one task when lists are encoded on every core.
#[cfg(feature = "parallel")]
const ITEMS_PER_TASK: usize = 128;

/// With the `parallel` feature, a long list is encoded on every core, a round of tasks at a
/// time, while the previous round goes to `out` in order: the bytes are the same as one
/// thread's, and a hasher's sequential work overlaps the encoding. Two sets of buffers take
/// turns (one filled while the other is written), so after the first rounds nothing is
/// allocated, and nothing is freed on a thread other than the one that allocated it (which
/// the allocator would hold on to for a while).
#[cfg(feature = "parallel")]
fn write_list<W: Write + Send, T: Serialize + Sync>(
    out: &mut W,
    buf: &mut Vec<u8>,
    items: &[T],
) -> Result<(), serde_json::Error> {
    use rayon::prelude::*;

    let tasks = 2 * rayon::current_num_threads();
    let per_round = ITEMS_PER_TASK * tasks;
    if items.len() <= per_round {
        return write_list_here(out, buf, items);
    }
    buf.push(b'[');
    flush(out, buf)?;
    let mut filling: Vec<Slot> = (0..tasks).map(|_| Slot::default()).collect();
    let mut pending: Vec<Slot> = (0..tasks).map(|_| Slot::default()).collect();
    let mut pending_tasks = 0;
    for (round, group) in items.chunks(per_round).enumerate() {
        let encode = |slots: &mut Vec<Slot>| {
            slots
                .par_iter_mut()
                .zip(group.par_chunks(ITEMS_PER_TASK))
                .enumerate()
                .try_for_each(|(task, (slot, chunk))| {
                    slot.bytes.clear();
                    for (i, item) in chunk.iter().enumerate() {
                        if round > 0 || task > 0 || i > 0 {
                            slot.bytes.push(b',');
                        }
                        slot.encoder.write(&mut slot.bytes, item)?;
                    }
                    Ok::<(), serde_json::Error>(())
                })
                .map(|()| group.len().div_ceil(ITEMS_PER_TASK))
        };
        let written = pending.get(..pending_tasks).unwrap_or_default();
        let (written, encoded) = rayon::join(|| write_all(out, written), || encode(&mut filling));
        written?;
        pending_tasks = encoded?;
        std::mem::swap(&mut pending, &mut filling);
    }
    write_all(out, pending.get(..pending_tasks).unwrap_or_default())?;
    buf.push(b']');
    Ok(())
}

/// One task's buffer and encoder, kept from round to round.
#[cfg(feature = "parallel")]
#[derive(Default)]
struct Slot {
    bytes: Vec<u8>,
    encoder: Encoder,
}

#[cfg(feature = "parallel")]
fn write_all<W: Write>(out: &mut W, slots: &[Slot]) -> Result<(), serde_json::Error> {
    for slot in slots {
        out.write_all(&slot.bytes).map_err(serde_json::Error::io)?;
    }
    Ok(())
}

#[cfg(not(feature = "parallel"))]
fn write_list<W: Write, T: Serialize>(
    out: &mut W,
    buf: &mut Vec<u8>,
    items: &[T],
) -> Result<(), serde_json::Error> {
    write_list_here(out, buf, items)
}

/// A list encoded on this thread, into `buf`, flushed to `out` as it fills.
fn write_list_here<W: Write, T: Serialize>(
    out: &mut W,
    buf: &mut Vec<u8>,
    items: &[T],
) -> Result<(), serde_json::Error> {
    buf.push(b'[');
    let mut encoder = Encoder::default();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        encoder.write(buf, item)?;
        if buf.len() >= FLUSH_BYTES {
            flush(out, buf)?;
        }
    }
    buf.push(b']');
    Ok(())
}

/// The entries known as of a moment, split by kind.
#[derive(Debug, Default)]
pub struct KnownEntries<'a> {
    /// How many entries are known.
    pub entries: u64,
    /// Reports not retracted.
    pub reports: Vec<&'a Report>,
    /// How many known reports were retracted.
    pub retracted: u64,
    /// Guarantor actions.
    pub actions: Vec<&'a GuarantorAction>,
    /// Objections to findings.
    pub objections: Vec<&'a Objection>,
    /// Rulings on objections.
    pub rulings: Vec<&'a Ruling>,
}

/// Keeps the entries submitted at or before `as_of` and drops retracted reports.
pub fn known_entries(entries: &[Entry], as_of: Timestamp) -> KnownEntries<'_> {
    let mut known = KnownEntries::default();
    let mut retractions = BTreeSet::new();
    let mut reports = Vec::new();
    for entry in entries.iter().filter(|e| e.submitted_at() <= as_of) {
        known.entries += 1;
        match entry {
            Entry::Report(r) => reports.push(r),
            Entry::Action(a) => known.actions.push(a),
            Entry::Objection(o) => known.objections.push(o),
            Entry::Ruling(r) => known.rulings.push(r),
            Entry::Retraction(r) => {
                retractions.insert((r.monitor.as_str(), r.report.as_str()));
            }
        }
    }
    for r in reports {
        if retractions.contains(&(r.monitor.as_str(), r.id.as_str())) {
            known.retracted += 1;
        } else {
            known.reports.push(r);
        }
    }
    known
}

/// A stage of the assessment, announced to an observer as it begins (for progress bars and
/// timings; the stages run in this order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Reports into incidents.
    Corroborate,
    /// Incidents to parties.
    Attribute,
    /// Incidents against commitments, then objections and rulings.
    Adjudicate,
    /// Findings into guarantors' obligations.
    Respond,
    /// Phase entry, consequences and snapback.
    Phases,
    /// Violations per day per sector.
    Indicators,
}

/// Assesses an agreement from already verified and authorised entries, as of `as_of`.
pub fn assess(agreement: &Agreement, entries: &[Entry], as_of: Timestamp) -> Assessment {
    assess_observed(agreement, entries, as_of, &mut |_| {})
}

/// [`assess`], telling `observe` as each [`Stage`] begins. The observer cannot change the
/// result.
pub fn assess_observed(
    agreement: &Agreement,
    entries: &[Entry],
    as_of: Timestamp,
    observe: &mut dyn FnMut(Stage),
) -> Assessment {
    let zones = ZoneIndex::compile(agreement);
    let known = known_entries(entries, as_of);

    observe(Stage::Corroborate);
    let incidents = corroborate(
        &agreement.corroboration,
        &agreement.monitors,
        known.reports.iter().copied(),
    );
    let tally = Tally {
        entries: known.entries,
        reports: known.reports.len() as u64,
        retracted: known.retracted,
    };
    assess_incidents(agreement, &zones, incidents, tally, &known, as_of, observe)
}

/// Observations an [`Intake`] holds in one allocation: about 3 MB.
const INTAKE_CHUNK: usize = 1 << 14;

/// Entries gathered for an assessment one at a time, as a reader admits them, holding only
/// what the assessment reads: each report is reduced at once to the [`Observation`]
/// corroboration reads (its strings moved, the rest freed), so a reader of 10^6 reports never
/// holds them whole. [`assess_intake`] assesses it; the result is [`assess_observed`]'s on the
/// same entries, in any order.
#[derive(Debug, Default)]
pub struct Intake {
    /// In chunks of [`INTAKE_CHUNK`] (the first grows to it): growing never moves what is
    /// held, where one `Vec` of 10^6 would be copied at each doubling and briefly held twice.
    observations: Vec<Vec<Observation>>,
    /// The few entries other than reports: actions, objections, rulings, retractions.
    others: Vec<Entry>,
    latest_submission: Option<Timestamp>,
}

impl Intake {
    /// An intake holding nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one entry.
    pub fn push(&mut self, entry: Entry) {
        let submitted_at = entry.submitted_at();
        self.latest_submission = self.latest_submission.max(Some(submitted_at));
        match entry {
            Entry::Report(report) => {
                match self.observations.last() {
                    // The first chunk grows as it fills: a server assesses a few entries
                    // as often as many.
                    None => self.observations.push(Vec::new()),
                    Some(chunk) if chunk.len() >= INTAKE_CHUNK => {
                        self.observations.push(Vec::with_capacity(INTAKE_CHUNK));
                    }
                    Some(_) => {}
                }
                if let Some(chunk) = self.observations.last_mut() {
                    chunk.push(Observation::from(report));
                }
            }
            other => self.others.push(other),
        }
    }

    /// Entries taken.
    pub fn len(&self) -> usize {
        self.observations.iter().map(Vec::len).sum::<usize>() + self.others.len()
    }

    /// Whether no entry was taken.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The reports taken, as corroboration will read them, in the order taken.
    pub fn observations(&self) -> impl Iterator<Item = &Observation> {
        self.observations.iter().flatten()
    }

    /// The latest submission time of the entries taken: the as-of time at which all of
    /// them are known.
    pub fn latest_submission(&self) -> Option<Timestamp> {
        self.latest_submission
    }
}

impl Extend<Entry> for Intake {
    fn extend<I: IntoIterator<Item = Entry>>(&mut self, entries: I) {
        for entry in entries {
            self.push(entry);
        }
    }
}

impl FromIterator<Entry> for Intake {
    fn from_iter<I: IntoIterator<Item = Entry>>(entries: I) -> Self {
        let mut intake = Intake::new();
        intake.extend(entries);
        intake
    }
}

/// [`assess_observed`] on an [`Intake`]: the observations are freed once corroborated, so
/// the later stages never hold them beside the incidents, findings and obligations.
pub fn assess_intake(
    agreement: &Agreement,
    intake: Intake,
    as_of: Timestamp,
    observe: &mut dyn FnMut(Stage),
) -> Assessment {
    let Intake {
        observations,
        others,
        latest_submission: _,
    } = intake;
    let zones = ZoneIndex::compile(agreement);
    let known = known_entries(&others, as_of);
    let retractions = retractions(&others, as_of);

    observe(Stage::Corroborate);
    let mut tally = Tally {
        entries: known.entries,
        reports: 0,
        retracted: 0,
    };
    let submitted = |o: &&Observation| o.submitted_at() <= as_of;
    let retracted = |o: &Observation| retractions.contains(&(o.monitor(), o.id()));
    for o in observations.iter().flatten().filter(submitted) {
        tally.entries += 1;
        if retracted(o) {
            tally.retracted += 1;
        } else {
            tally.reports += 1;
        }
    }
    // Counted first, so the list corroboration reads is made at its size, never grown.
    let mut known_reports: Vec<&Observation> = Vec::with_capacity(tally.reports as usize);
    known_reports.extend(
        observations
            .iter()
            .flatten()
            .filter(|o| submitted(o) && !retracted(o)),
    );
    let incidents = corroborate(&agreement.corroboration, &agreement.monitors, known_reports);
    drop(observations);
    assess_incidents(agreement, &zones, incidents, tally, &known, as_of, observe)
}

/// The counts of the known entries.
struct Tally {
    entries: u64,
    reports: u64,
    retracted: u64,
}

/// The retractions known as of `as_of`: (monitor, report id).
fn retractions(entries: &[Entry], as_of: Timestamp) -> BTreeSet<(&str, &str)> {
    entries
        .iter()
        .filter(|e| e.submitted_at() <= as_of)
        .filter_map(|e| match e {
            Entry::Retraction(r) => Some((r.monitor.as_str(), r.report.as_str())),
            _ => None,
        })
        .collect()
}

/// The stages after corroboration. `known` gives the actions, objections and rulings.
fn assess_incidents(
    agreement: &Agreement,
    zones: &ZoneIndex,
    mut incidents: Vec<Incident>,
    tally: Tally,
    known: &KnownEntries,
    as_of: Timestamp,
    observe: &mut dyn FnMut(Stage),
) -> Assessment {
    observe(Stage::Attribute);
    for incident in &mut incidents {
        incident.attribution = attribute(incident, &agreement.attribution, zones);
    }
    observe(Stage::Adjudicate);
    let mut rulings = rule(agreement, zones, &incidents, as_of);
    settle(
        agreement,
        &mut rulings.findings,
        &known.objections,
        &known.rulings,
        as_of,
    );
    observe(Stage::Respond);
    let actions = ActionIndex::new(&known.actions);
    let mut obligations = respond(agreement, zones, &rulings.findings, &actions, as_of);
    observe(Stage::Phases);
    let (phase_states, phase_obligations) = phases(
        agreement,
        &rulings.findings,
        &rulings.verifications,
        &actions,
        as_of,
    );
    obligations.extend(phase_obligations);
    obligations.sort_by(|a, b| a.id.cmp(&b.id));
    observe(Stage::Indicators);
    let indicators = indicators(agreement, zones, &incidents, &rulings.findings, as_of);

    let findings_with =
        |s: FindingStatus| rulings.findings.iter().filter(|f| f.status == s).count() as u64;
    let obligations_with =
        |s: ObligationStatus| obligations.iter().filter(|o| o.status == s).count() as u64;
    let counts = Counts {
        entries: tally.entries,
        reports: tally.reports,
        retracted: tally.retracted,
        incidents: incidents.len() as u64,
        findings: rulings.findings.len() as u64,
        findings_provisional: findings_with(FindingStatus::Provisional),
        findings_contested: findings_with(FindingStatus::Contested),
        findings_confirmed: findings_with(FindingStatus::Confirmed),
        findings_dismissed: findings_with(FindingStatus::Dismissed),
        obligations: obligations.len() as u64,
        obligations_open: obligations_with(ObligationStatus::Open),
        obligations_fulfilled: obligations_with(ObligationStatus::Fulfilled),
        obligations_fulfilled_late: obligations_with(ObligationStatus::FulfilledLate),
        obligations_overdue: obligations_with(ObligationStatus::Overdue),
    };

    Assessment {
        agreement: agreement.id.clone(),
        agreement_version: agreement.version,
        as_of,
        counts,
        incidents,
        findings: rulings.findings,
        verifications: rulings.verifications,
        obligations,
        phases: phase_states,
        indicators,
    }
}

/// Small agreements and reports built in code for the unit tests of the engine's modules.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::BTreeMap;

    use crate::agreement::model::*;
    use crate::attribute::Attribution;
    use crate::corroborate::{Confidence, ConfidenceLevel, Incident, Sources};
    use crate::time::{Duration, Timestamp};

    /// An agreement with parties `a` and `b`, no zones and no commitments, effective at 0,
    /// with a 72 h objection window.
    pub fn agreement() -> Agreement {
        let party = |name: &str| Party {
            name: name.into(),
            controls: None,
            keys: vec![],
        };
        Agreement {
            id: "demo".into(),
            title: "Demo".into(),
            version: 1,
            effective: Timestamp(0),
            until: None,
            objection_window: Duration::hours(72),
            parties: [("a".to_string(), party("A")), ("b".to_string(), party("B"))].into(),
            guarantors: BTreeMap::new(),
            monitors: monitors(),
            panel: BTreeMap::new(),
            zones: BTreeMap::new(),
            evidence: BTreeMap::new(),
            corroboration: CorroborationRules::default(),
            attribution: AttributionRules::default(),
            commitments: vec![ceasefire()],
            responses: vec![],
            phases: vec![],
            indicators: IndicatorRules::default(),
            locations: BTreeMap::new(),
        }
    }

    /// Monitors `m1`, `m2` (organisation `osce`) and `m3` (organisation `un`).
    pub fn monitors() -> BTreeMap<String, Monitor> {
        let monitor = |org: &str| Monitor {
            organisation: org.into(),
            keys: vec![],
            modes: vec![ObservationMode::Saw],
        };
        [
            ("m1".to_string(), monitor("osce")),
            ("m2".to_string(), monitor("osce")),
            ("m3".to_string(), monitor("un")),
        ]
        .into()
    }

    /// A ceasefire binding both parties, anywhere, from time 0.
    pub fn ceasefire() -> Commitment {
        Commitment {
            id: "ceasefire".into(),
            article: Some("Article 1".into()),
            text: "The Parties shall cease fire.".into(),
            binds: vec!["a".into(), "b".into()],
            rule: CommitmentRule::Prohibition(EventFilter::default()),
            zone: None,
            from: Timestamp(0),
            until: None,
            evidence: Some("standard".into()),
            severity: SeverityRule {
                base: Severity::Serious,
                raise: vec![],
            },
        }
    }

    /// A one-report explosion incident at (37, 48) beginning at `start`.
    pub fn incident(id: &str, start: i64) -> Incident {
        Incident {
            id: id.into(),
            reports: vec![id.trim_start_matches("inc:").into()].into(),
            lon: 37.0,
            lat: 48.0,
            radius_m: 500,
            start: Timestamp(start),
            end: Timestamp(start),
            kinds: vec![EventKind::Explosion].into(),
            subtypes: vec![],
            weapon_class: WeaponClass::UNDETERMINED.into(),
            count: 1,
            casualties: None,
            sources: Sources {
                monitors: vec!["m1".into()].into(),
                organisations: vec!["osce".into()].into(),
                modes: vec![ObservationMode::Saw].into(),
            },
            confidence: Confidence {
                level: ConfidenceLevel::Low,
                score: 0.5,
            },
            attribution: Attribution::from_statements(Default::default()),
            testimony: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicator::Level;

    /// Long enough lists that, with the `parallel` feature, they are encoded in rounds of
    /// tasks on every core.
    #[test]
    fn long_lists_are_written_as_the_reference_canonicaliser_writes_them() {
        let incidents: Vec<Incident> = (0..20_000i32)
            .map(|i| {
                let mut incident = fixtures::incident(&format!("inc:r{i:06}"), i64::from(i));
                incident.lon = 37.0 + f64::from(i) * 1e-6;
                incident
            })
            .collect();
        let a = Assessment {
            agreement: "demo".into(),
            agreement_version: 1,
            as_of: Timestamp(86_400),
            counts: Counts::default(),
            incidents,
            findings: vec![],
            verifications: vec![],
            obligations: vec![],
            phases: vec![],
            indicators: Indicators {
                level: Level::Normal,
                sectors: vec![],
            },
        };
        let reference = serde_json_canonicalizer::to_string(&a).ok();
        assert!(reference.is_some());
        assert_eq!(a.canonical_json().ok(), reference);
    }
}
