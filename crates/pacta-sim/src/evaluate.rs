//! Scoring an assessment against the ground truth: incidents, findings, attribution and
//! obligations. Pure functions over data; the CLI (`pacta evaluate`) only reads and prints.
//!
//! **Incidents** are matched one to one with true events: a pair is a candidate when the
//! incident's centroid lies within `distance_km` of the event, the gap between the incident's
//! time span and the event's is at most `time_s`, and the kinds agree (fire with fire kinds,
//! heavy weapons with `weapon_presence`, withdrawals with `verification`, restrictions with
//! `restriction_of_movement`). Candidates are taken greedily, closest in space first (then in
//! time, then by id), so a second incident for one event (a split) and an incident made of
//! false reports both count against precision.
//!
//! **Findings** against prohibitions are true when their incident is matched to an event that
//! breaches the finding's commitment; a finding that an act was not verified by its deadline
//! is true when the party really did not comply. Expected findings are every breach of every
//! true event (reported or not) and every obligation not complied with whose deadline has
//! passed at the assessment time.
//!
//! **Obligations** that rest on findings are justified when at least half of those findings
//! are true ("should have opened"), unjustified otherwise ("should not have opened"). True
//! breaches that no true finding established are the obligations that should have opened
//! but did not, counted by severity. Offensive episodes are detected when an obligation
//! triggered by an offensive opened between the episode's start and a day after its end; an
//! offensive trigger whose first obligation opened outside every such window is a false
//! alarm.

use std::collections::{BTreeMap, BTreeSet};

use pacta_core::agreement::model::{EventKind, Severity};
use pacta_core::geodesy::distance_km;
use pacta_core::time::Timestamp;
use serde::{Deserialize, Serialize};

use crate::truth::{TrueEvent, TrueKind, Truth};

/// How close an incident must be to a true event to describe it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Tolerance {
    /// Farthest an incident's centroid may lie from the event, km.
    pub distance_km: f64,
    /// Largest gap between the incident's and the event's time spans, seconds.
    pub time_s: i64,
}

impl Default for Tolerance {
    /// 3 km and one hour: beyond the corroboration radius plus a patrol's typical location
    /// error, and beyond the time error of every simulated monitor kind.
    fn default() -> Self {
        Tolerance {
            distance_km: 3.0,
            time_s: 3_600,
        }
    }
}

/// Widest time tolerance, seconds: a day. Matching is exact, so the pairs of incident and
/// event it weighs grow with the tolerance times the density of events: at 10^5 reports over
/// 30 days, 60 minutes took 2.5 s and 340 MB, a day 33 s and 417 MB, and 7 days 4 min 52 s
/// and 857 MB; at 10^6 reports the pairs are a hundred times as many. A day is far beyond the
/// time error of any simulated monitor (minutes); incidents further apart are not one event.
pub const TIME_TOLERANCE_S_MAX: i64 = 86_400;

/// Widest distance tolerance, km. Every pair within the time tolerance whose distance is
/// within this one is held and sorted as a candidate, so a distance as wide as the line makes
/// the candidates every pair the time tolerance weighs. 100 km is far beyond any simulated
/// location error (σ of 0.1 to 1.2 km times `noise.scale`; a patrol that hears fire misjudges
/// its distance by about 15 %, 9 km at the 60 km the generator lets it hear at most) and
/// beyond the corroboration radius (2 km in the demo): an incident further away is not the
/// event.
pub const DISTANCE_TOLERANCE_KM_MAX: f64 = 100.0;

impl Tolerance {
    /// Why this tolerance cannot be used, if it cannot: a distance that is not a finite
    /// number from 0 to [`DISTANCE_TOLERANCE_KM_MAX`], or a time below 0 or above
    /// [`TIME_TOLERANCE_S_MAX`].
    pub fn check(&self) -> Result<(), String> {
        // NaN and infinity are outside the range too.
        if !(0.0..=DISTANCE_TOLERANCE_KM_MAX).contains(&self.distance_km) {
            return Err(format!(
                "a distance of {} km: allowed 0 to {DISTANCE_TOLERANCE_KM_MAX} km; the candidate \
                 pairs of incident and event held grow with it, and an incident further away \
                 is not the event",
                self.distance_km
            ));
        }
        if !(0..=TIME_TOLERANCE_S_MAX).contains(&self.time_s) {
            return Err(format!(
                "a time of {} minutes: allowed 0 to {} minutes ({} h); the pairs of incident \
                 and event weighed grow with it, and incidents further apart are not one event",
                self.time_s / 60,
                TIME_TOLERANCE_S_MAX / 60,
                TIME_TOLERANCE_S_MAX / 3_600
            ));
        }
        Ok(())
    }
}

/// What the evaluator reads from an assessment (`pacta assess --json`); other members are
/// ignored.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Outcome {
    /// The agreement assessed.
    #[serde(default)]
    pub agreement: String,
    /// The assessment's as-of time.
    pub as_of: Timestamp,
    #[serde(default)]
    /// Incidents, any order.
    pub incidents: Vec<OutcomeIncident>,
    #[serde(default)]
    /// Findings, any order.
    pub findings: Vec<OutcomeFinding>,
    #[serde(default)]
    /// Obligations, any order.
    pub obligations: Vec<OutcomeObligation>,
}

/// An incident as the assessment writes it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OutcomeIncident {
    /// The incident id.
    pub id: String,
    #[serde(default)]
    /// Member report ids.
    pub reports: Vec<String>,
    /// Centroid longitude.
    pub lon: f64,
    /// Centroid latitude.
    pub lat: f64,
    /// Earliest observed start of a member.
    pub start: Timestamp,
    /// Latest observed end of a member.
    pub end: Timestamp,
    /// Kinds its members reported.
    pub kinds: Vec<EventKind>,
    /// The party it is laid at.
    pub attribution: OutcomeAttribution,
}

/// An incident's attribution.
#[derive(Clone, Debug, PartialEq, Default, Deserialize)]
pub struct OutcomeAttribution {
    /// The party, if attributed.
    pub party: Option<String>,
}

/// A finding as the assessment writes it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OutcomeFinding {
    /// The finding id.
    pub id: String,
    /// The commitment breached.
    pub commitment: String,
    /// The party, if attributed.
    pub party: Option<String>,
    /// The severity ruled.
    pub severity: Severity,
    /// `provisional`, `contested`, `confirmed` or `dismissed`.
    pub status: String,
    /// The incident it rests on; `None` for a deadline finding.
    pub incident: Option<String>,
}

/// An obligation as the assessment writes it.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct OutcomeObligation {
    /// The obligation id.
    pub id: String,
    /// `response`, `phase` or `snapback`.
    pub source: String,
    /// The rung or phase that opened it.
    pub origin: String,
    /// The finding id, `pattern:…`, `offensive:…` or `entry`.
    pub trigger: String,
    #[serde(default)]
    /// The findings it rests on.
    pub findings: Vec<String>,
    /// When it opened.
    pub opened_at: Timestamp,
}

impl Outcome {
    /// Reads an assessment's JSON; an error names the member at fault.
    pub fn from_json(text: &str) -> Result<Outcome, crate::json::JsonError> {
        crate::json::from_str(text)
    }
}

/// Precision and recall with their counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Score {
    /// Items the system produced.
    pub produced: u64,
    /// Items the truth expects.
    pub expected: u64,
    /// Produced items that match an expected one.
    pub matched: u64,
    /// `matched / produced`, unrounded (a report rounds once, when it prints); `None`
    /// when nothing was produced.
    pub precision: Option<f64>,
    /// `matched / expected`; `None` when nothing was expected.
    pub recall: Option<f64>,
    /// The harmonic mean of precision and recall; `None` when either is.
    pub f1: Option<f64>,
}

impl Score {
    /// The score of `matched` hits among `produced` items against `expected` ones.
    pub fn new(produced: u64, expected: u64, matched: u64) -> Score {
        let ratio = |n: u64, d: u64| (d > 0).then(|| n as f64 / d as f64);
        let precision = ratio(matched, produced);
        let recall = ratio(matched, expected);
        let f1 = match (precision, recall) {
            (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
            (Some(_), Some(_)) => Some(0.0),
            _ => None,
        };
        Score {
            produced,
            expected,
            matched,
            precision,
            recall,
            f1,
        }
    }
}

/// How attribution fared on matched items.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct AttributionScore {
    /// Matched items considered.
    pub items: u64,
    /// Attributed to the true party.
    pub correct: u64,
    /// Attributed to another party.
    pub wrong: u64,
    /// Attributed to no party.
    pub unattributed: u64,
    /// `correct / items`.
    pub accuracy: Option<f64>,
}

impl AttributionScore {
    fn add(&mut self, stated: Option<&str>, truth: &str) {
        self.items += 1;
        match stated {
            Some(p) if p == truth => self.correct += 1,
            Some(_) => self.wrong += 1,
            None => self.unattributed += 1,
        }
        self.accuracy = Some(self.correct as f64 / self.items as f64);
    }
}

/// Obligations against the truth.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ObligationScore {
    /// Obligations that rest on findings.
    pub opened: u64,
    /// At least half of their findings are true: they should have opened.
    pub justified: u64,
    /// They should not have opened.
    pub unjustified: u64,
    /// Phase-entry obligations (resting on no finding), not scored.
    pub not_scored: u64,
    /// True breaches no true finding established, by severity: the obligations they should
    /// have opened did not.
    pub missed_breaches: BTreeMap<String, u64>,
    /// Renewed offensives that started by the assessment time.
    pub episodes: u64,
    /// Episodes for which an offensive obligation opened in time.
    pub episodes_detected: u64,
    /// Offensive alarms: distinct `offensive:…` triggers that opened obligations.
    pub offensive_alarms: u64,
    /// Of them, alarms that opened outside every episode's window (its start to a day after
    /// its end): offensives declared where none was fought.
    pub offensive_false_alarms: u64,
}

/// The whole evaluation.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Evaluation {
    /// The matching tolerance used.
    pub tolerance: Tolerance,
    /// The assessment's as-of time.
    pub as_of: Timestamp,
    /// Incidents against all true events.
    pub incidents: Score,
    /// Recall against the events at least one report describes (what any method could find).
    pub incident_recall_reported: Option<f64>,
    /// Findings against all expected breaches.
    pub findings: Score,
    /// The same, per commitment.
    pub findings_by_commitment: BTreeMap<String, Score>,
    /// Parties of matched incidents against the true party.
    pub incident_attribution: AttributionScore,
    /// Parties of true findings against the true party.
    pub finding_attribution: AttributionScore,
    /// Obligations against the truth.
    pub obligations: ObligationScore,
}

fn compatible(kind: TrueKind, kinds: &[EventKind]) -> bool {
    kinds.iter().any(|k| match kind {
        TrueKind::Fire => k.is_fire(),
        TrueKind::HeavyWeapons => *k == EventKind::WeaponPresence,
        TrueKind::Withdrawal => *k == EventKind::Verification,
        TrueKind::Restriction => *k == EventKind::RestrictionOfMovement,
    })
}

fn gap_s(a: (Timestamp, Timestamp), b: (Timestamp, Timestamp)) -> i64 {
    (b.0 .0 - a.1 .0).max(a.0 .0 - b.1 .0).max(0)
}

/// How long after an offensive's end an alarm still counts as detecting it: a day, the
/// offensive trigger's usual window.
const OFFENSIVE_DETECTION_S: i64 = 86_400;

/// Seconds per time bucket of the candidate search.
const BUCKET_S: i64 = 3_600;

/// The first and last buckets of the span from `a` to `b`, in either order (a malformed span
/// must not make an empty range, which `BTreeMap::range` panics on).
fn hours_of(a: i64, b: i64) -> (i64, i64) {
    (a.min(b).div_euclid(BUCKET_S), a.max(b).div_euclid(BUCKET_S))
}

/// Matches incidents to events one to one (see the module documentation). Returns, for each
/// incident index, the matched event index.
pub fn match_incidents(
    incidents: &[OutcomeIncident],
    events: &[TrueEvent],
    tolerance: Tolerance,
) -> BTreeMap<usize, usize> {
    // Events by the hour buckets their own span touches, and each incident looks in the buckets
    // of its span widened by the tolerance: widening the events instead put every event in
    // (2 * tolerance / 1 h) buckets, so a tolerance of a year took gigabytes before matching
    // began. A pair within the tolerance shares a bucket either way.
    let mut buckets: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let (from, to) = hours_of(e.start.0, e.end.0);
        for b in from..=to {
            buckets.entry(b).or_default().push(i);
        }
    }
    let mut candidates: Vec<(f64, i64, usize, usize)> = Vec::new();
    for (i, inc) in incidents.iter().enumerate() {
        let (from, to) = hours_of(
            inc.start.0.min(inc.end.0).saturating_sub(tolerance.time_s),
            inc.start.0.max(inc.end.0).saturating_add(tolerance.time_s),
        );
        for (&bucket, list) in buckets.range(from..=to) {
            for &e in list {
                let Some(event) = events.get(e) else {
                    continue;
                };
                // An event in several buckets is looked at once, in the first one searched.
                if hours_of(event.start.0, event.end.0).0.max(from) != bucket {
                    continue;
                }
                if !compatible(event.kind, &inc.kinds) {
                    continue;
                }
                let gap = gap_s((inc.start, inc.end), (event.start, event.end));
                if gap > tolerance.time_s {
                    continue;
                }
                let d = distance_km((inc.lon, inc.lat), (event.lon, event.lat));
                if d <= tolerance.distance_km {
                    candidates.push((d, gap, i, e));
                }
            }
        }
    }
    candidates.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    let mut taken_incident = BTreeSet::new();
    let mut taken_event = BTreeSet::new();
    let mut out = BTreeMap::new();
    for (_, _, i, e) in candidates {
        if taken_incident.contains(&i) || taken_event.contains(&e) {
            continue;
        }
        taken_incident.insert(i);
        taken_event.insert(e);
        out.insert(i, e);
    }
    out
}

/// Scores `outcome` against `truth`.
pub fn evaluate(truth: &Truth, outcome: &Outcome, tolerance: Tolerance) -> Evaluation {
    let events = &truth.events;
    let matched = match_incidents(&outcome.incidents, events, tolerance);
    let reported = events.iter().filter(|e| !e.reports.is_empty()).count() as u64;
    let incidents = Score::new(
        outcome.incidents.len() as u64,
        events.len() as u64,
        matched.len() as u64,
    );
    let mut incident_attribution = AttributionScore::default();
    for (i, e) in &matched {
        if let (Some(inc), Some(event)) = (outcome.incidents.get(*i), events.get(*e)) {
            incident_attribution.add(inc.attribution.party.as_deref(), &event.party);
        }
    }
    let event_of_incident: BTreeMap<&str, &TrueEvent> = matched
        .iter()
        .filter_map(|(i, e)| Some((outcome.incidents.get(*i)?.id.as_str(), events.get(*e)?)))
        .collect();

    // Expected findings, keyed by commitment, and whether a true finding established each.
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for e in events {
        for b in &e.breaches {
            *expected.entry(b.commitment.clone()).or_default() += 1;
        }
    }
    let failed: BTreeSet<(&str, &str)> = truth
        .obligations
        .iter()
        .filter(|o| !o.complied && o.deadline <= outcome.as_of)
        .map(|o| (o.commitment.as_str(), o.party.as_str()))
        .collect();
    for (c, _) in &failed {
        *expected.entry((*c).to_string()).or_default() += 1;
    }

    let mut produced: BTreeMap<String, u64> = BTreeMap::new();
    let mut hits: BTreeMap<String, u64> = BTreeMap::new();
    let mut established: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut deadline_hits: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut true_findings: BTreeSet<&str> = BTreeSet::new();
    let mut finding_attribution = AttributionScore::default();
    for f in outcome.findings.iter().filter(|f| f.status != "dismissed") {
        *produced.entry(f.commitment.clone()).or_default() += 1;
        let hit = match &f.incident {
            Some(incident) => match event_of_incident.get(incident.as_str()) {
                Some(event)
                    if event.breaches.iter().any(|b| b.commitment == f.commitment)
                        && established.insert((event.id.as_str(), f.commitment.as_str())) =>
                {
                    finding_attribution.add(f.party.as_deref(), &event.party);
                    true
                }
                _ => false,
            },
            None => f.party.as_deref().is_some_and(|p| {
                failed.contains(&(f.commitment.as_str(), p))
                    && deadline_hits.insert((f.commitment.as_str(), p))
            }),
        };
        if hit {
            *hits.entry(f.commitment.clone()).or_default() += 1;
            true_findings.insert(f.id.as_str());
        }
    }
    let commitments: BTreeSet<&String> = expected.keys().chain(produced.keys()).collect();
    let findings_by_commitment: BTreeMap<String, Score> = commitments
        .into_iter()
        .map(|c| {
            let get = |m: &BTreeMap<String, u64>| m.get(c).copied().unwrap_or(0);
            (
                c.clone(),
                Score::new(get(&produced), get(&expected), get(&hits)),
            )
        })
        .collect();
    let findings = Score::new(
        produced.values().sum(),
        expected.values().sum(),
        hits.values().sum(),
    );

    let mut obligations = ObligationScore::default();
    for o in &outcome.obligations {
        if o.findings.is_empty() {
            obligations.not_scored += 1;
            continue;
        }
        obligations.opened += 1;
        let true_count = o
            .findings
            .iter()
            .filter(|f| true_findings.contains(f.as_str()))
            .count();
        if 2 * true_count >= o.findings.len() {
            obligations.justified += 1;
        } else {
            obligations.unjustified += 1;
        }
    }
    for e in events {
        for b in &e.breaches {
            if !established.contains(&(e.id.as_str(), b.commitment.as_str())) {
                *obligations
                    .missed_breaches
                    .entry(severity_name(b.severity).to_string())
                    .or_default() += 1;
            }
        }
    }
    obligations.episodes = truth
        .episodes
        .iter()
        .filter(|e| e.start <= outcome.as_of)
        .count() as u64;
    let in_window = |e: &crate::truth::Episode, at: Timestamp| {
        at >= e.start && at.0 <= e.end.0 + OFFENSIVE_DETECTION_S
    };
    // Each offensive trigger, with the first time it opened an obligation.
    let mut alarms: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for o in &outcome.obligations {
        if o.trigger.starts_with("offensive:") {
            let first = alarms.entry(o.trigger.as_str()).or_insert(o.opened_at);
            *first = (*first).min(o.opened_at);
        }
    }
    obligations.episodes_detected = truth
        .episodes
        .iter()
        .filter(|e| e.start <= outcome.as_of)
        .filter(|e| alarms.values().any(|at| in_window(e, *at)))
        .count() as u64;
    obligations.offensive_alarms = alarms.len() as u64;
    obligations.offensive_false_alarms = alarms
        .values()
        .filter(|at| !truth.episodes.iter().any(|e| in_window(e, **at)))
        .count() as u64;

    Evaluation {
        tolerance,
        as_of: outcome.as_of,
        incidents,
        incident_recall_reported: (reported > 0).then(|| matched.len() as f64 / reported as f64),
        findings,
        findings_by_commitment,
        incident_attribution,
        finding_attribution,
        obligations,
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Minor => "minor",
        Severity::Serious => "serious",
        Severity::Grave => "grave",
    }
}

/// Whether an assessment and a truth can be scored together, before any metric is computed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pairing {
    /// Why they cannot: they are of different runs, and every metric would be meaningless.
    pub mismatch: Option<String>,
    /// What will make some metrics mean less than they seem.
    pub warnings: Vec<String>,
}

/// Checks that `outcome` assesses the reports of the run `truth` describes: the same
/// agreement, and incidents made of that run's reports. A scorer handed the truth of one
/// seed and the assessment of another would otherwise print a precision near zero, with
/// nothing to say why.
pub fn pairing(truth: &Truth, outcome: &Outcome) -> Pairing {
    let mut pairing = Pairing::default();
    if !outcome.agreement.is_empty() && outcome.agreement != truth.agreement {
        pairing.mismatch = Some(format!(
            "the assessment is of agreement `{}`, the truth of `{}`",
            outcome.agreement, truth.agreement
        ));
        return pairing;
    }
    let of_the_run: BTreeSet<&str> = truth
        .events
        .iter()
        .flat_map(|e| e.reports.iter().map(String::as_str))
        .chain(truth.false_reports.iter().map(|f| f.id.as_str()))
        .collect();
    let members: BTreeSet<&str> = outcome
        .incidents
        .iter()
        .flat_map(|i| i.reports.iter().map(String::as_str))
        .collect();
    let foreign = members
        .iter()
        .filter(|id| !of_the_run.contains(*id))
        .count();
    if foreign > 0 && foreign == members.len() {
        pairing.mismatch = Some(format!(
            "none of the {} reports in the assessment's incidents is a report of the run the \
             truth describes (seed {}): they are of another run",
            members.len(),
            truth.seed
        ));
        return pairing;
    }
    if foreign > 0 {
        pairing.warnings.push(format!(
            "{foreign} of the {} reports in the assessment's incidents are not reports of this \
             run: their incidents can only count against precision",
            members.len()
        ));
    }
    if outcome.as_of < truth.as_of {
        pairing.warnings.push(format!(
            "the assessment is as of {}, before the run's last submission ({}): reports \
             submitted later are not in it, and events only they describe count as missed",
            outcome.as_of, truth.as_of
        ));
    }
    pairing
}
