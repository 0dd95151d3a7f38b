//! The enforceability lint, "the Budapest test": does every commitment of a valid agreement
//! have a path from breach to consequence?
//!
//! An agreement can be perfectly well formed (`pacta check` passes) and still enforce
//! nothing: the 1994 Budapest Memorandum gave assurances with no measurable scope, no
//! evidence standard, no named responder and no deadline. For every commitment the lint asks
//! four questions, each worth one point:
//!
//! 1. **scope**: is the breach measurable (an event filter, a zone, a bounded period, or an
//!    act with a deadline)?
//! 2. **evidence**: does it name an evidence standard that the registered monitors can meet?
//! 3. **response**: does some response rung fire on a breach of it, with named guarantors and
//!    a deadline?
//! 4. **escalation**: does that rung escalate, through a chain that actually fires, to a
//!    stronger action?
//!
//! A commitment with the first three has an enforcement path; a missing one is an error and
//! makes the lint fail; a missing escalation is a warning. Phase conditions and snapbacks earn
//! a point each when they can be established, and are errors when they cannot (relief would
//! unlock, or fail to snap back, on a fact nobody can establish). The agreement as a whole
//! must register monitors and name guarantors; idle guarantors and unusable `alone` modes are
//! warnings. The lint is a pure function of the agreement; `docs/lint.md` lists every code.

use std::collections::BTreeSet;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::agreement::model::{
    Agreement, Commitment, CommitmentRule, EventKind, EvidenceStandard, FindingFilter, Monitor,
    ObservationMode, PhaseCondition, ResponseRung, Severity, SourceLocation, Trigger,
};

/// Whether a gap leaves something without an enforcement path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapSeverity {
    /// Weakens enforcement but leaves a path.
    Warning,
    /// No enforcement path: the lint fails.
    Error,
}

/// Every kind of gap the lint reports, each with a stable code and name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GapKind {
    /// A prohibition with no event filter, no zone and no end: nothing to measure.
    UnmeasurableScope,
    /// An obligation with no deadline can never be overdue, so never breached.
    ObligationWithoutDeadline,
    /// A prohibition with a zone but no event filter forbids every reported event, including
    /// monitors' verifications.
    AnyEventProhibited,
    /// The commitment names no evidence standard: no finding can ever be made.
    NoEvidenceStandard,
    /// The evidence standard needs more monitors, organisations or modes than are registered.
    EvidenceUnmeetable,
    /// An evidence standard lets a mode stand alone that no registered monitor has.
    AloneModeUnavailable,
    /// The agreement registers no monitor: nobody can report a breach.
    NoMonitors,
    /// No response rung fires on a breach, or none that fires names guarantors and a deadline.
    NoResponse,
    /// Only pattern or offensive rungs fire: a single breach opens no obligation.
    PatternOnlyResponse,
    /// No rung that fires on the breach escalates.
    NoEscalation,
    /// A rung names `escalate_to` but neither a missed deadline nor a continued breach
    /// escalates it.
    EscalationNeverFires,
    /// The escalation chain does not end in a stronger action than it starts with.
    EscalationNotStronger,
    /// A phase requires verification of a commitment that has no evidence path.
    UnverifiableCondition,
    /// A phase's clean window cannot be broken by any finding, so it holds by default.
    VacuousCondition,
    /// A snapback no finding can trigger, or with nobody to carry it out.
    SnapbackCannotFire,
    /// A phase whose consequence is owed with no condition at all.
    UnconditionalPhase,
    /// A guarantor that no rung, consequence or snapback asks anything of.
    IdleGuarantor,
    /// The agreement names no guarantor: nobody outside the parties owes anything.
    NoGuarantors,
}

impl GapKind {
    /// Every kind, in code order (for documentation and exhaustive tests).
    pub const ALL: [GapKind; 18] = [
        GapKind::UnmeasurableScope,
        GapKind::ObligationWithoutDeadline,
        GapKind::AnyEventProhibited,
        GapKind::NoEvidenceStandard,
        GapKind::EvidenceUnmeetable,
        GapKind::AloneModeUnavailable,
        GapKind::NoMonitors,
        GapKind::NoResponse,
        GapKind::PatternOnlyResponse,
        GapKind::NoEscalation,
        GapKind::EscalationNeverFires,
        GapKind::EscalationNotStronger,
        GapKind::UnverifiableCondition,
        GapKind::VacuousCondition,
        GapKind::SnapbackCannotFire,
        GapKind::UnconditionalPhase,
        GapKind::IdleGuarantor,
        GapKind::NoGuarantors,
    ];

    /// The stable code, e.g. `L010`.
    pub fn code(self) -> &'static str {
        match self {
            GapKind::UnmeasurableScope => "L001",
            GapKind::ObligationWithoutDeadline => "L002",
            GapKind::AnyEventProhibited => "L003",
            GapKind::NoEvidenceStandard => "L010",
            GapKind::EvidenceUnmeetable => "L011",
            GapKind::AloneModeUnavailable => "L012",
            GapKind::NoMonitors => "L013",
            GapKind::NoResponse => "L020",
            GapKind::PatternOnlyResponse => "L021",
            GapKind::NoEscalation => "L030",
            GapKind::EscalationNeverFires => "L031",
            GapKind::EscalationNotStronger => "L032",
            GapKind::UnverifiableCondition => "L040",
            GapKind::VacuousCondition => "L041",
            GapKind::SnapbackCannotFire => "L042",
            GapKind::UnconditionalPhase => "L043",
            GapKind::IdleGuarantor => "L050",
            GapKind::NoGuarantors => "L051",
        }
    }

    /// The readable name, e.g. `no-evidence-standard`.
    pub fn name(self) -> &'static str {
        match self {
            GapKind::UnmeasurableScope => "unmeasurable-scope",
            GapKind::ObligationWithoutDeadline => "obligation-without-deadline",
            GapKind::AnyEventProhibited => "any-event-prohibited",
            GapKind::NoEvidenceStandard => "no-evidence-standard",
            GapKind::EvidenceUnmeetable => "evidence-unmeetable",
            GapKind::AloneModeUnavailable => "alone-mode-unavailable",
            GapKind::NoMonitors => "no-monitors",
            GapKind::NoResponse => "no-response",
            GapKind::PatternOnlyResponse => "pattern-only-response",
            GapKind::NoEscalation => "no-escalation",
            GapKind::EscalationNeverFires => "escalation-never-fires",
            GapKind::EscalationNotStronger => "escalation-not-stronger",
            GapKind::UnverifiableCondition => "unverifiable-condition",
            GapKind::VacuousCondition => "vacuous-condition",
            GapKind::SnapbackCannotFire => "snapback-cannot-fire",
            GapKind::UnconditionalPhase => "unconditional-phase",
            GapKind::IdleGuarantor => "idle-guarantor",
            GapKind::NoGuarantors => "no-guarantors",
        }
    }

    /// Errors are gaps that leave no enforcement path.
    pub fn severity(self) -> GapSeverity {
        match self {
            GapKind::UnmeasurableScope
            | GapKind::ObligationWithoutDeadline
            | GapKind::NoEvidenceStandard
            | GapKind::EvidenceUnmeetable
            | GapKind::NoMonitors
            | GapKind::NoGuarantors
            | GapKind::NoResponse
            | GapKind::UnverifiableCondition
            | GapKind::VacuousCondition
            | GapKind::SnapbackCannotFire => GapSeverity::Error,
            GapKind::AnyEventProhibited
            | GapKind::AloneModeUnavailable
            | GapKind::PatternOnlyResponse
            | GapKind::NoEscalation
            | GapKind::EscalationNeverFires
            | GapKind::EscalationNotStronger
            | GapKind::UnconditionalPhase
            | GapKind::IdleGuarantor => GapSeverity::Warning,
        }
    }
}

/// One gap in the enforcement of an agreement.
#[derive(Clone, Debug, PartialEq)]
pub struct Gap {
    /// What is missing; its code, name and severity.
    pub kind: GapKind,
    /// The item the gap is about, keyed like [`Agreement::locations`]: `commitment:ID`,
    /// `evidence:ID`, `response:ID`, `phase:ID` or `guarantor:ID`; or `agreement` for the
    /// whole file.
    pub subject: String,
    /// What is missing, naming the subject.
    pub message: String,
    /// What the drafters could add to close the gap.
    pub hint: String,
    /// Where the subject is written, when the parser recorded it.
    pub location: Option<SourceLocation>,
}

impl Gap {
    /// The severity of its kind.
    pub fn severity(&self) -> GapSeverity {
        self.kind.severity()
    }
}

impl Serialize for Gap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Gap", 7)?;
        s.serialize_field("code", self.kind.code())?;
        s.serialize_field("name", self.kind.name())?;
        s.serialize_field("severity", &self.severity())?;
        s.serialize_field("subject", &self.subject)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("hint", &self.hint)?;
        s.serialize_field("location", &self.location.as_ref().map(LocationView::from))?;
        s.end()
    }
}

/// The serialized form of a [`SourceLocation`] (the byte span is for renderers only).
#[derive(serde::Serialize)]
struct LocationView<'a> {
    file: &'a str,
    line: u32,
    column: u32,
}

impl<'a> From<&'a SourceLocation> for LocationView<'a> {
    fn from(l: &'a SourceLocation) -> Self {
        LocationView {
            file: &l.file,
            line: l.line,
            column: l.column,
        }
    }
}

/// The four checks on one commitment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CommitmentVerdict {
    /// The commitment's id.
    pub id: String,
    /// The agreement's own article reference, to read the verdict next to the text.
    pub article: Option<String>,
    /// A breach is measurable: an event filter, a zone or an end; or an act with a deadline.
    pub scope: bool,
    /// It names an evidence standard the registered monitors can meet.
    pub evidence: bool,
    /// A rung with named guarantors and a deadline fires on a breach of it.
    pub response: bool,
    /// One of those rungs escalates, through a chain that fires, to a stronger action.
    pub escalation: bool,
}

impl CommitmentVerdict {
    /// Measurable, provable and answered: a breach leads to someone owing something by a date.
    pub fn enforceable(&self) -> bool {
        self.scope && self.evidence && self.response
    }
}

/// How many times one check passed, out of how many times it was asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// Times the check passed.
    pub passed: u32,
    /// Times it was asked.
    pub total: u32,
}

impl Tally {
    fn add(&mut self, passed: bool) {
        self.total = self.total.saturating_add(1);
        self.passed = self.passed.saturating_add(u32::from(passed));
    }
}

/// Points per check: one per commitment for each of the four questions, one per phase
/// condition, one per snapback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Checks {
    /// Commitments whose breach is measurable.
    pub scope: Tally,
    /// Commitments with an evidence standard the monitors can meet.
    pub evidence: Tally,
    /// Commitments answered by a rung with guarantors and a deadline.
    pub response: Tally,
    /// Commitments whose answering rung climbs to a stronger action.
    pub escalation: Tally,
    /// Phase conditions that can be established.
    pub phase_conditions: Tally,
    /// Snapbacks that can fire.
    pub snapbacks: Tally,
}

impl Checks {
    /// Each check's name and tally, in the order printed.
    pub fn named(&self) -> [(&'static str, Tally); 6] {
        [
            ("scope", self.scope),
            ("evidence", self.evidence),
            ("response", self.response),
            ("escalation", self.escalation),
            ("phase conditions", self.phase_conditions),
            ("snapbacks", self.snapbacks),
        ]
    }
}

/// The summary printed at the end.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Score {
    /// How many commitments the agreement has.
    pub commitments: u32,
    /// Commitments with an enforcement path (scope, evidence and response).
    pub enforceable: u32,
    /// The checks passed: four per commitment, one per phase condition and one per snapback.
    pub points: u32,
    /// The points a fully enforceable agreement of this shape would score.
    pub points_max: u32,
    /// Gaps that leave no enforcement path.
    pub errors: u32,
    /// Gaps that weaken enforcement.
    pub warnings: u32,
    /// The points, check by check.
    pub checks: Checks,
}

impl Score {
    /// Enforceable commitments as a whole percentage (100 for an agreement without any).
    pub fn enforceable_percent(&self) -> u32 {
        percent(self.enforceable, self.commitments)
    }

    /// Points as a whole percentage.
    pub fn points_percent(&self) -> u32 {
        percent(self.points, self.points_max)
    }
}

fn percent(part: u32, whole: u32) -> u32 {
    match whole {
        0 => 100,
        _ => u32::try_from(u64::from(part) * 100 / u64::from(whole)).unwrap_or(u32::MAX),
    }
}

/// The lint's result.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LintReport {
    /// The agreement's id.
    pub agreement: String,
    /// In file order.
    pub commitments: Vec<CommitmentVerdict>,
    /// Gaps of the whole agreement, then of commitments in file order, then of evidence
    /// standards, responses, phases and guarantors.
    pub gaps: Vec<Gap>,
    /// The totals.
    pub score: Score,
}

impl LintReport {
    /// True when no gap is an error: every commitment has an enforcement path and every phase
    /// condition and snapback can be established.
    pub fn passes(&self) -> bool {
        self.gaps.iter().all(|g| g.severity() != GapSeverity::Error)
    }
}

/// Action classes in order of strength, so that the lint can tell whether a ladder climbs.
/// Agreements may use other classes; the lint then cannot rank them and says so.
pub const ACTION_STRENGTH: &[(&str, u8)] = &[
    ("consultations", 1),
    ("statement", 1),
    ("demarche", 1),
    ("fact_finding", 2),
    ("monitoring_reinforcement", 2),
    ("public_attribution", 2),
    ("diplomatic_measures", 2),
    ("sanctions", 3),
    ("sanctions_reimposition", 3),
    ("economic_measures", 3),
    ("security_assistance", 4),
    ("military_assistance", 4),
    ("collective_assistance", 5),
];

fn action_strength(action: &str) -> Option<u8> {
    ACTION_STRENGTH
        .iter()
        .find(|(name, _)| *name == action)
        .map(|&(_, rank)| rank)
}

/// Runs every check over a validated agreement.
pub fn lint(agreement: &Agreement) -> LintReport {
    let mut lint = Linter {
        agreement,
        gaps: Vec::new(),
        checks: Checks::default(),
    };
    lint.actors();
    let commitments: Vec<CommitmentVerdict> = agreement
        .commitments
        .iter()
        .map(|c| lint.commitment(c))
        .collect();
    lint.evidence_standards();
    lint.rungs();
    lint.phases();
    lint.guarantors();

    let mut checks = lint.checks;
    for v in &commitments {
        checks.scope.add(v.scope);
        checks.evidence.add(v.evidence);
        checks.response.add(v.response);
        checks.escalation.add(v.escalation);
    }
    let named = checks.named();
    let points = named
        .iter()
        .map(|(_, t)| t.passed)
        .fold(0, u32::saturating_add);
    let points_max = named
        .iter()
        .map(|(_, t)| t.total)
        .fold(0, u32::saturating_add);
    let commitment_count = u32::try_from(commitments.len()).unwrap_or(u32::MAX);
    let count = |severity| {
        let n = lint
            .gaps
            .iter()
            .filter(|g| g.severity() == severity)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    let score = Score {
        commitments: commitment_count,
        enforceable: u32::try_from(commitments.iter().filter(|v| v.enforceable()).count())
            .unwrap_or(u32::MAX),
        points,
        points_max,
        errors: count(GapSeverity::Error),
        warnings: count(GapSeverity::Warning),
        checks,
    };
    LintReport {
        agreement: agreement.id.clone(),
        commitments,
        gaps: lint.gaps,
        score,
    }
}

struct Linter<'a> {
    agreement: &'a Agreement,
    gaps: Vec<Gap>,
    /// Tallies of phase conditions and snapbacks (commitments' checks are tallied from their
    /// verdicts).
    checks: Checks,
}

impl<'a> Linter<'a> {
    fn gap(&mut self, kind: GapKind, subject: String, message: String, hint: &str) {
        let location = self.agreement.locations.get(&subject).cloned();
        self.gaps.push(Gap {
            kind,
            subject,
            message,
            hint: hint.to_string(),
            location,
        });
    }

    /// Gaps of the agreement as a whole: nobody to observe, nobody to answer.
    fn actors(&mut self) {
        if self.agreement.commitments.is_empty() {
            return;
        }
        if self.agreement.monitors.is_empty() {
            self.gap(
                GapKind::NoMonitors,
                "agreement".to_string(),
                "the agreement registers no monitor: nobody is entitled to report a breach of \
                 any commitment"
                    .to_string(),
                "register monitors (`[monitors.ID]`) with their organisation, keys and \
                 observation modes",
            );
        }
        if self.agreement.guarantors.is_empty() {
            self.gap(
                GapKind::NoGuarantors,
                "agreement".to_string(),
                "the agreement names no guarantor: if a party breaks a commitment, nobody \
                 outside the parties owes any action"
                    .to_string(),
                "name guarantors (`[guarantors.ID]`) and the response rungs they answer",
            );
        }
    }

    fn commitment(&mut self, c: &Commitment) -> CommitmentVerdict {
        let subject = format!("commitment:{}", c.id);
        let scope = self.scope(c, &subject);
        let evidence = match evidence_path(self.agreement, c) {
            Ok(()) => true,
            Err((kind, message)) => {
                let hint = match kind {
                    GapKind::NoEvidenceStandard => {
                        "name an evidence standard (`evidence = \"...\"`) defining how many \
                         reports, independent monitors and organisations prove a breach"
                    }
                    _ => {
                        "register monitors that can meet the standard, or let a mode they \
                         have (e.g. UAV with media) stand alone"
                    }
                };
                self.gap(kind, subject.clone(), message, hint);
                false
            }
        };
        let firing = firing_rungs(self.agreement, c);
        let response = self.response(c, &subject, &firing);
        let escalation = response && self.escalation(c, &subject, &firing);
        CommitmentVerdict {
            id: c.id.clone(),
            article: c.article.clone(),
            scope,
            evidence,
            response,
            escalation,
        }
    }

    fn scope(&mut self, c: &Commitment, subject: &str) -> bool {
        match &c.rule {
            CommitmentRule::Prohibition(filter) => {
                let unfiltered = filter.kinds.is_empty()
                    && filter.subtypes.is_empty()
                    && filter.weapon_classes.is_empty();
                if unfiltered && c.zone.is_none() && c.until.is_none() {
                    self.gap(
                        GapKind::UnmeasurableScope,
                        subject.to_string(),
                        format!(
                            "commitment `{}` prohibits no event kind, subtype or weapon class, \
                             in no zone, for no bounded period: no report can be measured \
                             against it",
                            c.id
                        ),
                        "say what would breach it: event kinds (e.g. `explosion`, \
                         `weapon_presence`), weapon classes, a zone, or an end date",
                    );
                    return false;
                }
                if unfiltered {
                    self.gap(
                        GapKind::AnyEventProhibited,
                        subject.to_string(),
                        format!(
                            "commitment `{}` prohibits every kind of event, so even a monitor's \
                             verification report would breach it",
                            c.id
                        ),
                        "list the event kinds it prohibits",
                    );
                }
                true
            }
            CommitmentRule::Obligation { act, deadline } => {
                if deadline.is_none() {
                    self.gap(
                        GapKind::ObligationWithoutDeadline,
                        subject.to_string(),
                        format!(
                            "obligation `{}` (act `{act}`) has no deadline: it can never be \
                             overdue, so it can never be breached",
                            c.id
                        ),
                        "set `by` in `requires` to the time by which monitors must have verified the act",
                    );
                    return false;
                }
                true
            }
        }
    }

    fn response(&mut self, c: &Commitment, subject: &str, firing: &[&ResponseRung]) -> bool {
        if firing.is_empty() {
            let message = if self.agreement.responses.is_empty() {
                format!(
                    "no response answers a breach of `{}`: the agreement defines no response \
                     rung, so a breach obliges nobody to do anything",
                    c.id
                )
            } else {
                format!(
                    "no response rung's trigger matches a breach of `{}` (its parties, \
                     commitment or severity are excluded by every rung)",
                    c.id
                )
            };
            self.gap(
                GapKind::NoResponse,
                subject.to_string(),
                message,
                "add a `[[response]]` whose trigger matches findings on this commitment, with \
                 named guarantors, an action and a deadline (`within`)",
            );
            return false;
        }
        let answered: Vec<&&ResponseRung> = firing.iter().filter(|r| answers(r)).collect();
        if answered.is_empty() {
            let ids = rung_list(firing.iter().copied());
            self.gap(
                GapKind::NoResponse,
                subject.to_string(),
                format!(
                    "the rungs that fire on a breach of `{}` ({ids}) name no guarantor or no \
                     deadline: nobody owes anything by any date",
                    c.id
                ),
                "name the guarantors who must act and a positive `within`",
            );
            return false;
        }
        let single_breach = answered.iter().any(|r| {
            matches!(&r.trigger, Trigger::Finding(_))
                || matches!(&r.trigger, Trigger::Pattern { count, .. } if *count <= 1)
        });
        if !single_breach {
            self.gap(
                GapKind::PatternOnlyResponse,
                subject.to_string(),
                format!(
                    "only pattern or offensive rungs ({}) fire on `{}`: a single breach opens \
                     no obligation",
                    rung_list(answered.iter().map(|r| **r)),
                    c.id
                ),
                "add a rung triggered by a single finding (e.g. consultations within 24h)",
            );
        }
        true
    }

    fn escalation(&mut self, c: &Commitment, subject: &str, firing: &[&ResponseRung]) -> bool {
        let escalating: Vec<&&ResponseRung> = firing
            .iter()
            .filter(|r| answers(r) && r.escalate_to.is_some())
            .collect();
        if escalating.is_empty() {
            self.gap(
                GapKind::NoEscalation,
                subject.to_string(),
                format!(
                    "no rung that answers a breach of `{}` escalates: if the response fails, \
                     nothing stronger follows",
                    c.id
                ),
                "set `escalate_to` on the rung, naming a rung with a stronger action",
            );
            return false;
        }
        // Rung-level problems (a chain that never fires or never climbs) are reported once per
        // rung by `rungs`; here the commitment only gets its point if some chain is sound.
        escalating
            .iter()
            .any(|r| chain_problem(self.agreement, r).is_none())
    }

    fn evidence_standards(&mut self) {
        let modes: BTreeSet<_> = self
            .agreement
            .monitors
            .values()
            .flat_map(|m| m.modes.iter().copied())
            .collect();
        for (id, standard) in &self.agreement.evidence {
            let missing: Vec<String> = standard
                .alone
                .iter()
                .filter(|rule| !modes.contains(&rule.mode))
                .map(|rule| mode_name(rule.mode))
                .collect();
            if !missing.is_empty() {
                self.gap(
                    GapKind::AloneModeUnavailable,
                    format!("evidence:{id}"),
                    format!(
                        "evidence standard `{id}` lets {} stand alone, but no registered \
                         monitor observes that way",
                        missing.join(", ")
                    ),
                    "register a monitor with that mode, or drop the rule",
                );
            }
        }
    }

    fn rungs(&mut self) {
        let agreement = self.agreement;
        for rung in &agreement.responses {
            if rung.escalate_to.is_none() {
                continue;
            }
            let Some((kind, message)) = chain_problem(agreement, rung) else {
                continue;
            };
            let hint = match kind {
                GapKind::EscalationNeverFires => {
                    "escalate when the deadline passes unmet, or when breaches continue"
                }
                _ => {
                    "end the chain in a stronger action class: consultations < fact_finding, \
                     monitoring_reinforcement, public_attribution < sanctions, \
                     sanctions_reimposition < security_assistance < collective_assistance"
                }
            };
            self.gap(kind, format!("response:{}", rung.id), message, hint);
        }
    }

    fn phases(&mut self) {
        let agreement = self.agreement;
        for phase in &agreement.phases {
            let subject = format!("phase:{}", phase.id);
            for condition in &phase.requires {
                let problem = condition_problem(agreement, condition);
                self.checks.phase_conditions.add(problem.is_none());
                if let Some((kind, message)) = problem {
                    let hint = match kind {
                        GapKind::UnverifiableCondition => {
                            "give the commitment an evidence standard the monitors can meet"
                        }
                        _ => {
                            "make the window range over commitments that monitors can prove \
                             breached"
                        }
                    };
                    self.gap(
                        kind,
                        subject.clone(),
                        format!("phase `{}`: {message}", phase.id),
                        hint,
                    );
                }
            }
            if phase.requires.is_empty() && phase.consequence.is_some() {
                self.gap(
                    GapKind::UnconditionalPhase,
                    subject.clone(),
                    format!(
                        "phase `{}` has a consequence but no condition: it is owed whatever \
                         the parties do",
                        phase.id
                    ),
                    "add `requires` conditions over verified facts",
                );
            }
            if let Some(snapback) = &phase.snapback {
                let provable = provable_matches(agreement, &snapback.on);
                let message = if snapback.guarantors.is_empty() {
                    Some(format!(
                        "phase `{}`: the snapback names no guarantor to carry it out",
                        phase.id
                    ))
                } else if provable.is_empty() {
                    Some(format!(
                        "phase `{}`: no commitment that monitors can prove breached matches the \
                         snapback's trigger, so it can never fire",
                        phase.id
                    ))
                } else {
                    None
                };
                self.checks.snapbacks.add(message.is_none());
                if let Some(message) = message {
                    self.gap(
                        GapKind::SnapbackCannotFire,
                        subject.clone(),
                        message,
                        "trigger the snapback on findings of provable commitments, and name \
                         the guarantors who reimpose",
                    );
                }
            }
        }
    }

    fn guarantors(&mut self) {
        let agreement = self.agreement;
        let mut named: BTreeSet<&str> = BTreeSet::new();
        for rung in &agreement.responses {
            named.extend(rung.guarantors.iter().map(String::as_str));
        }
        for phase in &agreement.phases {
            if let Some(consequence) = &phase.consequence {
                named.extend(consequence.guarantors.iter().map(String::as_str));
            }
            if let Some(snapback) = &phase.snapback {
                named.extend(snapback.guarantors.iter().map(String::as_str));
            }
        }
        for id in agreement.guarantors.keys() {
            if !named.contains(id.as_str()) {
                self.gap(
                    GapKind::IdleGuarantor,
                    format!("guarantor:{id}"),
                    format!(
                        "guarantor `{id}` is named in no response rung, consequence or snapback: \
                         it guarantees nothing in particular"
                    ),
                    "name it as a responder on the rungs it has promised to answer",
                );
            }
        }
    }
}

/// The most severe finding a breach of `c` can produce.
fn max_severity(c: &Commitment) -> Severity {
    c.severity
        .raise
        .iter()
        .map(|r| r.to)
        .fold(c.severity.base, Severity::max)
}

/// Whether a finding on `c` can match `filter`.
fn filter_matches(filter: &FindingFilter, c: &Commitment) -> bool {
    let commitment_ok = filter.commitments.is_empty() || filter.commitments.contains(&c.id);
    let party_ok = filter.party.as_ref().is_none_or(|p| c.binds.contains(p));
    commitment_ok && party_ok && filter.min_severity <= max_severity(c)
}

/// Rungs whose trigger reacts to findings on `c` directly (not only through escalation).
fn firing_rungs<'a>(agreement: &'a Agreement, c: &Commitment) -> Vec<&'a ResponseRung> {
    agreement
        .responses
        .iter()
        .filter(|rung| match &rung.trigger {
            Trigger::Finding(filter)
            | Trigger::Pattern { filter, .. }
            | Trigger::Offensive { filter, .. } => filter_matches(filter, c),
            Trigger::Escalation => false,
        })
        .collect()
}

/// A rung that names somebody and a date.
fn answers(rung: &ResponseRung) -> bool {
    !rung.guarantors.is_empty() && rung.within.as_seconds() > 0
}

fn rung_list<'a>(rungs: impl Iterator<Item = &'a ResponseRung>) -> String {
    rungs
        .map(|r| format!("`{}`", r.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether findings on `c` can be made at all: an evidence standard the monitors can meet.
fn evidence_path(agreement: &Agreement, c: &Commitment) -> Result<(), (GapKind, String)> {
    let Some(id) = &c.evidence else {
        return Err((
            GapKind::NoEvidenceStandard,
            format!(
                "commitment `{}` names no evidence standard: no report, however many, can \
                 establish a breach",
                c.id
            ),
        ));
    };
    let Some(standard) = agreement.evidence.get(id) else {
        return Err((
            GapKind::NoEvidenceStandard,
            format!(
                "commitment `{}` names evidence standard `{id}`, which is not defined",
                c.id
            ),
        ));
    };
    match unmeetable(agreement, standard, c) {
        None => Ok(()),
        Some(reason) => Err((
            GapKind::EvidenceUnmeetable,
            format!(
                "commitment `{}`: evidence standard `{id}` cannot be met: {reason}",
                c.id
            ),
        )),
    }
}

/// Whether a breach of `c` must be seen rather than heard or sensed: the presence of a
/// weapon, a minefield, damage or a verified act cannot be established by ear or by an
/// acoustic or seismic sensor, while fire can.
fn needs_sight(c: &Commitment) -> bool {
    let visual = |kind: &EventKind| {
        matches!(
            kind,
            EventKind::WeaponPresence
                | EventKind::MineLaying
                | EventKind::Damage
                | EventKind::Verification
        )
    };
    match &c.rule {
        CommitmentRule::Prohibition(filter) => {
            !filter.kinds.is_empty() && filter.kinds.iter().all(visual)
        }
        CommitmentRule::Obligation { .. } => true,
    }
}

/// Whether a monitor observing in `mode` can establish a breach of `c`.
fn mode_can_establish(mode: ObservationMode, c: &Commitment) -> bool {
    !needs_sight(c) || !matches!(mode, ObservationMode::Heard | ObservationMode::Sensor)
}

/// Why the registered monitors cannot meet `standard` for a breach of `c`, if they cannot.
fn unmeetable(
    agreement: &Agreement,
    standard: &EvidenceStandard,
    c: &Commitment,
) -> Option<String> {
    if agreement.monitors.is_empty() {
        return Some("the agreement registers no monitors".to_string());
    }
    let able: Vec<&Monitor> = agreement
        .monitors
        .values()
        .filter(|m| m.modes.is_empty() || m.modes.iter().any(|&mode| mode_can_establish(mode, c)))
        .collect();
    let alone_possible = standard.alone.iter().any(|rule| {
        mode_can_establish(rule.mode, c) && able.iter().any(|m| m.modes.contains(&rule.mode))
    });
    if alone_possible {
        return None;
    }
    // Monitors that state no mode are given the benefit of the doubt; those whose every mode
    // is hearing or sensing cannot see what this commitment is about.
    let able_to = if needs_sight(c) {
        " able to see it"
    } else {
        ""
    };
    let organisations: BTreeSet<&str> = able.iter().map(|m| m.organisation.as_str()).collect();
    let need_monitors = usize::try_from(standard.min_independent_monitors).unwrap_or(usize::MAX);
    let need_organisations = usize::try_from(standard.min_organisations).unwrap_or(usize::MAX);
    let mut shortfalls = Vec::new();
    if able.len() < need_monitors {
        shortfalls.push(format!(
            "it needs {need_monitors} independent monitors{able_to} and {} are registered",
            able.len()
        ));
    }
    if organisations.len() < need_organisations {
        shortfalls.push(format!(
            "it needs {need_organisations} organisations and the monitors{able_to} belong to {}",
            organisations.len()
        ));
    }
    if shortfalls.is_empty() {
        None
    } else {
        Some(shortfalls.join("; "))
    }
}

/// Commitments matching `filter` whose breach monitors can prove.
fn provable_matches<'a>(agreement: &'a Agreement, filter: &FindingFilter) -> Vec<&'a Commitment> {
    agreement
        .commitments
        .iter()
        .filter(|c| filter_matches(filter, c) && evidence_path(agreement, c).is_ok())
        .collect()
}

fn condition_problem(
    agreement: &Agreement,
    condition: &PhaseCondition,
) -> Option<(GapKind, String)> {
    match condition {
        PhaseCondition::Verified { commitment } => {
            let Some(c) = agreement.commitments.iter().find(|c| &c.id == commitment) else {
                return Some((
                    GapKind::UnverifiableCondition,
                    format!(
                        "it requires verification of `{commitment}`, which is not a commitment"
                    ),
                ));
            };
            match evidence_path(agreement, c) {
                Ok(()) => None,
                Err((_, reason)) => Some((
                    GapKind::UnverifiableCondition,
                    format!("it requires `{commitment}` to be verified, but {reason}"),
                )),
            }
        }
        PhaseCondition::NoFindings { filter, .. } => {
            let matching: Vec<&Commitment> = agreement
                .commitments
                .iter()
                .filter(|c| filter_matches(filter, c))
                .collect();
            if matching.is_empty() {
                return Some((
                    GapKind::VacuousCondition,
                    "no commitment can produce a finding its clean window counts, so the \
                     window is always clean"
                        .to_string(),
                ));
            }
            if provable_matches(agreement, filter).is_empty() {
                let ids = matching
                    .iter()
                    .map(|c| format!("`{}`", c.id))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Some((
                    GapKind::VacuousCondition,
                    format!(
                        "its clean window counts findings on {ids}, none of which monitors can \
                         prove breached, so the window is clean by default"
                    ),
                ));
            }
            None
        }
    }
}

/// Why the escalation chain starting at `rung` is unsound, if it is.
fn chain_problem(agreement: &Agreement, rung: &ResponseRung) -> Option<(GapKind, String)> {
    let find = |id: &str| agreement.responses.iter().find(|r| r.id == id);
    let mut current = rung;
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    seen.insert(&rung.id);
    while let Some(next_id) = &current.escalate_to {
        if !current.escalate_on_missed_deadline && !current.escalate_on_continued_breach {
            return Some((
                GapKind::EscalationNeverFires,
                format!(
                    "rung `{}` names `{next_id}` to escalate to, but neither a missed deadline \
                     nor a continued breach escalates it",
                    current.id
                ),
            ));
        }
        // The parser rejects unknown rungs and cycles; stop rather than loop if either slipped
        // through.
        let Some(next) = find(next_id) else { break };
        if !seen.insert(&next.id) {
            break;
        }
        current = next;
    }
    let first = &rung.action;
    let last = &current.action;
    match (action_strength(first), action_strength(last)) {
        (Some(a), Some(b)) if b > a => None,
        (Some(_), Some(_)) => Some((
            GapKind::EscalationNotStronger,
            format!(
                "rung `{}` ({first}) escalates to `{}` ({last}), which is no stronger",
                rung.id, current.id
            ),
        )),
        _ if first != last => Some((
            GapKind::EscalationNotStronger,
            format!(
                "rung `{}` ({first}) escalates to `{}` ({last}); the lint cannot rank these \
                 action classes, so it cannot tell whether the ladder climbs",
                rung.id, current.id
            ),
        )),
        _ => Some((
            GapKind::EscalationNotStronger,
            format!(
                "rung `{}` escalates to `{}` with the same action ({last})",
                rung.id, current.id
            ),
        )),
    }
}

fn mode_name(mode: ObservationMode) -> String {
    serde_json::to_value(mode)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{mode:?}"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::agreement::model::{
        AloneRule, AttributionRules, CorroborationRules, EventFilter, EventKind, Guarantor,
        IndicatorRules, Monitor, ObservationMode, Party, Phase, PhaseConsequence, SeverityRule,
        Snapback, TriggerBasis, WeaponClass,
    };
    use crate::time::{Duration, Timestamp};

    const T0: Timestamp = Timestamp::from_unix_seconds(1_772_316_000);

    fn filter(min_severity: Severity, party: Option<&str>) -> FindingFilter {
        FindingFilter {
            min_severity,
            party: party.map(str::to_string),
            commitments: Vec::new(),
        }
    }

    fn prohibition(id: &str, kinds: Vec<EventKind>, evidence: Option<&str>) -> Commitment {
        Commitment {
            id: id.to_string(),
            article: Some("Article 1".to_string()),
            text: "The parties shall cease fire.".to_string(),
            binds: vec!["a".to_string(), "b".to_string()],
            rule: CommitmentRule::Prohibition(EventFilter {
                kinds,
                ..EventFilter::default()
            }),
            zone: None,
            from: T0,
            until: None,
            evidence: evidence.map(str::to_string),
            severity: SeverityRule {
                base: Severity::Serious,
                raise: Vec::new(),
            },
        }
    }

    fn obligation(id: &str, deadline: Option<Timestamp>) -> Commitment {
        Commitment {
            rule: CommitmentRule::Obligation {
                act: "withdrawal".to_string(),
                deadline,
            },
            binds: vec!["b".to_string()],
            ..prohibition(id, Vec::new(), Some("standard"))
        }
    }

    fn rung(id: &str, trigger: Trigger, action: &str, escalate_to: Option<&str>) -> ResponseRung {
        ResponseRung {
            id: id.to_string(),
            title: None,
            trigger,
            basis: TriggerBasis::Confirmed,
            guarantors: vec!["g1".to_string(), "g2".to_string()],
            action: action.to_string(),
            description: String::new(),
            within: Duration::hours(24),
            escalate_to: escalate_to.map(str::to_string),
            escalate_on_missed_deadline: true,
            escalate_on_continued_breach: false,
            coalesce: true,
        }
    }

    fn monitor(organisation: &str, modes: Vec<ObservationMode>) -> Monitor {
        Monitor {
            organisation: organisation.to_string(),
            keys: Vec::new(),
            modes,
        }
    }

    /// A small agreement with a complete enforcement path for every commitment.
    fn enforceable() -> Agreement {
        let named = |name: &str| Guarantor {
            name: name.to_string(),
            keys: Vec::new(),
        };
        let party = |name: &str| Party {
            name: name.to_string(),
            controls: None,
            keys: Vec::new(),
        };
        Agreement {
            id: "test".to_string(),
            title: "Test".to_string(),
            version: 1,
            effective: T0,
            until: None,
            objection_window: Duration::hours(72),
            parties: BTreeMap::from([("a".to_string(), party("A")), ("b".to_string(), party("B"))]),
            guarantors: BTreeMap::from([
                ("g1".to_string(), named("G1")),
                ("g2".to_string(), named("G2")),
            ]),
            monitors: BTreeMap::from([
                (
                    "m1".to_string(),
                    monitor("mission", vec![ObservationMode::Patrol]),
                ),
                (
                    "m2".to_string(),
                    monitor("satellite-agency", vec![ObservationMode::Satellite]),
                ),
            ]),
            panel: BTreeMap::new(),
            zones: BTreeMap::new(),
            evidence: BTreeMap::from([(
                "standard".to_string(),
                EvidenceStandard {
                    id: "standard".to_string(),
                    min_reports: 2,
                    min_independent_monitors: 2,
                    min_organisations: 2,
                    alone: Vec::new(),
                },
            )]),
            corroboration: CorroborationRules::default(),
            attribution: AttributionRules::default(),
            commitments: vec![
                prohibition("ceasefire", vec![EventKind::Explosion], Some("standard")),
                obligation("withdrawal", Some(T0.plus(Duration::days(14)))),
            ],
            responses: vec![
                rung(
                    "consult",
                    Trigger::Finding(filter(Severity::Serious, None)),
                    "consultations",
                    Some("assist"),
                ),
                rung("assist", Trigger::Escalation, "collective_assistance", None),
            ],
            phases: vec![Phase {
                id: "relief-1".to_string(),
                title: None,
                after: None,
                requires: vec![
                    PhaseCondition::NoFindings {
                        filter: filter(Severity::Serious, Some("b")),
                        for_: Duration::days(60),
                    },
                    PhaseCondition::Verified {
                        commitment: "withdrawal".to_string(),
                    },
                ],
                consequence: Some(PhaseConsequence {
                    action: "sanctions_relief".to_string(),
                    tranche: Some(1),
                    guarantors: vec!["g2".to_string()],
                    within: Duration::days(30),
                    description: String::new(),
                }),
                snapback: Some(Snapback {
                    on: filter(Severity::Serious, Some("b")),
                    action: "sanctions_reimposition".to_string(),
                    guarantors: vec!["g2".to_string()],
                    within: Duration::hours(72),
                    description: String::new(),
                }),
            }],
            indicators: IndicatorRules::default(),
            locations: BTreeMap::new(),
        }
    }

    fn codes(report: &LintReport) -> Vec<(&'static str, &str)> {
        report
            .gaps
            .iter()
            .map(|g| (g.kind.code(), g.subject.as_str()))
            .collect()
    }

    fn first_gap(report: &LintReport, subject: &str) -> Option<Gap> {
        report.gaps.iter().find(|g| g.subject == subject).cloned()
    }

    #[test]
    fn complete_agreement_passes_with_full_score() {
        let report = lint(&enforceable());
        assert!(report.gaps.is_empty(), "{:?}", report.gaps);
        assert!(report.passes());
        assert_eq!(report.score.enforceable, 2);
        assert_eq!(report.score.points, report.score.points_max);
        // Two commitments at four points, two phase conditions and a snapback.
        assert_eq!(report.score.points_max, 11);
        assert_eq!(
            report.score.checks.phase_conditions,
            Tally {
                passed: 2,
                total: 2
            }
        );
    }

    #[test]
    fn prohibition_without_filter_zone_or_end_is_unmeasurable() {
        let mut a = enforceable();
        a.commitments[0] = prohibition("ceasefire", Vec::new(), Some("standard"));
        let report = lint(&a);
        assert_eq!(codes(&report), vec![("L001", "commitment:ceasefire")]);
        assert!(!report.commitments[0].scope);
        assert!(!report.passes());
    }

    #[test]
    fn prohibition_with_zone_but_no_filter_is_measurable_with_a_warning() {
        let mut a = enforceable();
        a.commitments[0] = Commitment {
            zone: Some("dmz".to_string()),
            ..prohibition("ceasefire", Vec::new(), Some("standard"))
        };
        let report = lint(&a);
        assert_eq!(codes(&report), vec![("L003", "commitment:ceasefire")]);
        assert!(report.commitments[0].scope);
        assert!(report.passes());
    }

    #[test]
    fn prohibition_of_a_weapon_class_alone_is_measurable() {
        let mut a = enforceable();
        a.commitments[0] = Commitment {
            rule: CommitmentRule::Prohibition(EventFilter {
                weapon_classes: vec![WeaponClass("nuclear".to_string())],
                ..EventFilter::default()
            }),
            ..prohibition("no-nuclear", Vec::new(), Some("standard"))
        };
        assert!(lint(&a).commitments[0].scope);
    }

    #[test]
    fn obligation_without_deadline_has_no_scope() {
        let mut a = enforceable();
        a.commitments[1] = obligation("withdrawal", None);
        let report = lint(&a);
        assert_eq!(codes(&report), vec![("L002", "commitment:withdrawal")]);
        assert!(!report.commitments[1].enforceable());
    }

    #[test]
    fn commitment_without_evidence_standard_has_no_evidence_path() {
        let mut a = enforceable();
        a.commitments[0].evidence = None;
        let report = lint(&a);
        assert_eq!(codes(&report), vec![("L010", "commitment:ceasefire")]);
        assert!(!report.commitments[0].evidence);
    }

    #[test]
    fn standard_cannot_be_met_without_monitors() {
        let mut a = enforceable();
        a.monitors.clear();
        let gap = first_gap(&lint(&a), "commitment:ceasefire");
        assert_eq!(
            gap.as_ref().map(|g| g.kind),
            Some(GapKind::EvidenceUnmeetable)
        );
        assert!(gap.is_some_and(|g| g.message.contains("no monitors")));
    }

    #[test]
    fn standard_needing_two_organisations_fails_with_monitors_of_one() {
        let mut a = enforceable();
        a.monitors.insert(
            "m2".to_string(),
            monitor("mission", vec![ObservationMode::Patrol]),
        );
        let report = lint(&a);
        assert!(codes(&report).contains(&("L011", "commitment:ceasefire")));
        assert!(codes(&report).contains(&("L011", "commitment:withdrawal")));
    }

    #[test]
    fn monitors_that_only_hear_cannot_prove_weapon_presence() {
        let mut a = enforceable();
        a.commitments[0] = prohibition("dmz", vec![EventKind::WeaponPresence], Some("standard"));
        a.monitors.insert(
            "m2".to_string(),
            monitor("acoustic-network", vec![ObservationMode::Sensor]),
        );
        let gap = first_gap(&lint(&a), "commitment:dmz");
        assert_eq!(
            gap.as_ref().map(|g| g.kind),
            Some(GapKind::EvidenceUnmeetable)
        );
        assert!(gap.is_some_and(|g| g.message.contains("able to see it")));
    }

    #[test]
    fn monitors_that_only_hear_can_prove_fire() {
        let mut a = enforceable();
        a.monitors.insert(
            "m2".to_string(),
            monitor("acoustic-network", vec![ObservationMode::Sensor]),
        );
        assert_eq!(first_gap(&lint(&a), "commitment:ceasefire"), None);
    }

    #[test]
    fn a_mode_that_stands_alone_makes_a_standard_meetable_by_one_monitor() {
        let mut a = enforceable();
        a.monitors = BTreeMap::from([(
            "m1".to_string(),
            monitor("mission", vec![ObservationMode::Uav]),
        )]);
        if let Some(standard) = a.evidence.get_mut("standard") {
            standard.alone = vec![AloneRule {
                mode: ObservationMode::Uav,
                with_media: true,
            }];
        }
        assert!(lint(&a).gaps.is_empty());
    }

    #[test]
    fn a_mode_allowed_alone_that_no_monitor_has_is_a_warning() {
        let mut a = enforceable();
        if let Some(standard) = a.evidence.get_mut("standard") {
            standard.alone = vec![AloneRule {
                mode: ObservationMode::Sensor,
                with_media: false,
            }];
        }
        let report = lint(&a);
        assert_eq!(codes(&report), vec![("L012", "evidence:standard")]);
        assert!(report.passes());
    }

    #[test]
    fn commitment_without_any_rung_has_no_response() {
        let mut a = enforceable();
        a.responses.clear();
        let report = lint(&a);
        assert!(codes(&report).contains(&("L020", "commitment:ceasefire")));
        assert!(!report.commitments[0].response);
        assert!(!report.commitments[0].escalation);
    }

    #[test]
    fn rung_for_another_party_does_not_answer_a_commitment() {
        let mut a = enforceable();
        a.commitments[0].binds = vec!["a".to_string()];
        a.responses[0].trigger = Trigger::Finding(filter(Severity::Serious, Some("b")));
        let report = lint(&a);
        assert!(codes(&report).contains(&("L020", "commitment:ceasefire")));
        assert!(!codes(&report).contains(&("L020", "commitment:withdrawal")));
    }

    #[test]
    fn rung_above_the_severity_a_commitment_reaches_does_not_answer_it() {
        let mut a = enforceable();
        a.responses[0].trigger = Trigger::Finding(filter(Severity::Grave, None));
        let report = lint(&a);
        assert!(codes(&report).contains(&("L020", "commitment:ceasefire")));
    }

    #[test]
    fn rung_without_guarantors_does_not_answer() {
        let mut a = enforceable();
        a.responses[0].guarantors.clear();
        let gap = first_gap(&lint(&a), "commitment:ceasefire");
        assert_eq!(gap.as_ref().map(|g| g.kind), Some(GapKind::NoResponse));
        assert!(gap.is_some_and(|g| g.message.contains("no guarantor")));
    }

    #[test]
    fn only_an_offensive_rung_warns_that_a_single_breach_opens_nothing() {
        let mut a = enforceable();
        a.responses[0].trigger = Trigger::Offensive {
            filter: filter(Severity::Serious, None),
            along: "contact_line".to_string(),
            span_km: 20.0,
            window: Duration::hours(24),
        };
        let report = lint(&a);
        assert!(codes(&report).contains(&("L021", "commitment:ceasefire")));
        assert!(report.passes());
    }

    #[test]
    fn rung_that_does_not_escalate_costs_the_escalation_point() {
        let mut a = enforceable();
        a.responses[0].escalate_to = None;
        let report = lint(&a);
        assert!(codes(&report).contains(&("L030", "commitment:ceasefire")));
        assert!(!report.commitments[0].escalation);
        assert!(report.passes());
    }

    #[test]
    fn escalation_with_no_condition_never_fires() {
        let mut a = enforceable();
        a.responses[0].escalate_on_missed_deadline = false;
        let report = lint(&a);
        assert!(codes(&report).contains(&("L031", "response:consult")));
        assert!(!report.commitments[0].escalation);
    }

    #[test]
    fn escalation_to_a_weaker_action_is_not_a_ladder() {
        let mut a = enforceable();
        a.responses[0].action = "sanctions".to_string();
        a.responses[1].action = "statement".to_string();
        let report = lint(&a);
        assert_eq!(
            codes(&report),
            vec![("L032", "response:consult")],
            "{:?}",
            report.gaps
        );
    }

    #[test]
    fn escalation_between_unranked_actions_is_flagged_as_unknown() {
        let mut a = enforceable();
        a.responses[1].action = "strongly_worded_letter".to_string();
        let report = lint(&a);
        let gap = report.gaps.iter().find(|g| g.subject == "response:consult");
        assert!(gap.is_some_and(|g| g.message.contains("cannot rank")));
    }

    #[test]
    fn verified_condition_on_an_unprovable_commitment_is_unverifiable() {
        let mut a = enforceable();
        a.commitments[1].evidence = None;
        let report = lint(&a);
        assert!(codes(&report).contains(&("L040", "phase:relief-1")));
    }

    #[test]
    fn clean_window_over_unprovable_commitments_is_vacuous() {
        let mut a = enforceable();
        for c in &mut a.commitments {
            c.evidence = None;
        }
        let report = lint(&a);
        assert!(codes(&report).contains(&("L041", "phase:relief-1")));
    }

    #[test]
    fn clean_window_no_commitment_can_breach_is_vacuous() {
        let mut a = enforceable();
        a.phases[0].requires = vec![PhaseCondition::NoFindings {
            filter: filter(Severity::Grave, Some("b")),
            for_: Duration::days(60),
        }];
        let report = lint(&a);
        assert!(codes(&report).contains(&("L041", "phase:relief-1")));
    }

    #[test]
    fn snapback_on_an_unprovable_commitment_cannot_fire() {
        let mut a = enforceable();
        a.monitors.clear();
        let report = lint(&a);
        assert!(codes(&report).contains(&("L042", "phase:relief-1")));
    }

    #[test]
    fn phase_with_a_consequence_and_no_condition_is_a_warning() {
        let mut a = enforceable();
        a.phases[0].requires.clear();
        let report = lint(&a);
        assert_eq!(codes(&report), vec![("L043", "phase:relief-1")]);
    }

    #[test]
    fn agreement_without_monitors_says_so_once() {
        let mut a = enforceable();
        a.monitors.clear();
        let report = lint(&a);
        let at_agreement: Vec<_> = codes(&report)
            .into_iter()
            .filter(|(_, subject)| *subject == "agreement")
            .collect();
        assert_eq!(at_agreement, vec![("L013", "agreement")]);
    }

    #[test]
    fn agreement_without_guarantors_says_so() {
        let mut a = enforceable();
        a.guarantors.clear();
        a.responses.clear();
        a.phases.clear();
        let report = lint(&a);
        assert_eq!(codes(&report).first(), Some(&("L051", "agreement")));
    }

    #[test]
    fn guarantor_named_nowhere_is_idle() {
        let mut a = enforceable();
        a.guarantors.insert(
            "g3".to_string(),
            Guarantor {
                name: "G3".to_string(),
                keys: Vec::new(),
            },
        );
        let report = lint(&a);
        assert_eq!(codes(&report), vec![("L050", "guarantor:g3")]);
    }

    #[test]
    fn gap_points_at_the_parsed_location() {
        let mut a = enforceable();
        a.commitments[0].evidence = None;
        let at = SourceLocation {
            file: "agreement.toml".to_string(),
            line: 12,
            column: 1,
            span: 200..260,
        };
        a.locations
            .insert("commitment:ceasefire".to_string(), at.clone());
        let report = lint(&a);
        assert_eq!(
            report.gaps.first().and_then(|g| g.location.clone()),
            Some(at)
        );
    }

    #[test]
    fn gap_serializes_code_name_severity_and_location() {
        let gap = Gap {
            kind: GapKind::NoResponse,
            subject: "commitment:x".to_string(),
            message: "m".to_string(),
            hint: "h".to_string(),
            location: Some(SourceLocation {
                file: "f.toml".to_string(),
                line: 3,
                column: 5,
                span: 0..1,
            }),
        };
        let json = serde_json::to_value(&gap).ok();
        let expected = serde_json::json!({
            "code": "L020", "name": "no-response", "severity": "error",
            "subject": "commitment:x", "message": "m", "hint": "h",
            "location": {"file": "f.toml", "line": 3, "column": 5}
        });
        assert_eq!(json, Some(expected));
    }

    #[test]
    fn codes_and_names_are_unique() {
        let codes: BTreeSet<_> = GapKind::ALL.iter().map(|k| k.code()).collect();
        let names: BTreeSet<_> = GapKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(codes.len(), GapKind::ALL.len());
        assert_eq!(names.len(), GapKind::ALL.len());
    }
}
