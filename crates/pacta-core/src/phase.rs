//! Phases: stages of the settlement entered on verified facts, with consequences owed by
//! guarantors and snapback when the conditions later break.
//!
//! Phases are considered in file order. A phase becomes eligible at the agreement's
//! effective time, or at the entry of the phase it comes `after`; it is entered at the
//! earliest time `t` from then at which every condition holds:
//! - `no_findings {filter, for}` holds at `t` when no standing finding matching the filter
//!   was established in `(t − for, t]` and the whole window lies after the phase became
//!   eligible (a clean window must be observed, not assumed);
//! - `verified {commitment}` holds from the first time monitors verified the act.
//!
//! Candidate times are computed from the finding times and windows, so entry is exact to the
//! second with no time stepping. Phases use every finding that stands (not dismissed) from the
//! time it was established, the conservative reading for sanctions relief.
//!
//! On entry the consequence opens `phase:{id}/{guarantor}` obligations. After entry, the
//! first standing finding matching the snapback filter marks the phase snapped back and opens
//! `snapback:{id}/{guarantor}` obligations.

#![deny(missing_docs)]

use std::collections::BTreeMap;

use serde::Serialize;

use crate::adjudicate::{Finding, Verification};
use crate::agreement::model::{Agreement, Phase, PhaseCondition};
use crate::respond::{
    finding_matches, fulfil, ActionIndex, Obligation, ObligationSource, ObligationStatus,
};
use crate::shared::{SharedList, SharedStr};
use crate::time::{Duration, Timestamp};

/// Where a phase stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    /// Not yet entered.
    Pending,
    /// Entered, and no snapback since.
    Entered,
    /// Entered, then a breach matching its snapback filter.
    SnappedBack,
}

/// A phase as of the assessment time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PhaseState {
    /// The phase id.
    pub id: String,
    /// The phase title.
    pub title: Option<String>,
    /// As of the assessment time.
    pub status: PhaseStatus,
    /// When it was entered, if it was.
    pub entered_at: Option<Timestamp>,
    /// When a snapback finding came, if one did.
    pub snapped_back_at: Option<Timestamp>,
    /// The finding that triggered the snapback.
    pub snapback_finding: Option<String>,
    /// For a pending phase, the conditions that do not hold as of the assessment time.
    pub waiting_for: Vec<String>,
}

/// The phases' states (sorted by id) and the obligations they open (sorted by id).
pub fn phases(
    agreement: &Agreement,
    findings: &[Finding],
    verifications: &[Verification],
    actions: &ActionIndex,
    as_of: Timestamp,
) -> (Vec<PhaseState>, Vec<Obligation>) {
    let mut standing: Vec<&Finding> = findings.iter().filter(|f| f.stands()).collect();
    standing.sort_by(|a, b| (a.established_at, &a.id).cmp(&(b.established_at, &b.id)));
    let mut verified_at: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for v in verifications {
        let at = verified_at
            .entry(v.commitment.as_str())
            .or_insert(v.verified_at);
        *at = (*at).min(v.verified_at);
    }

    let mut entries: BTreeMap<&str, Timestamp> = BTreeMap::new();
    let mut states = Vec::new();
    let mut obligations = Vec::new();
    for phase in &agreement.phases {
        let eligible = match &phase.after {
            None => Some(agreement.effective),
            Some(after) => entries.get(after.as_str()).copied(),
        };
        let checks: Vec<Check> = phase
            .requires
            .iter()
            .map(|c| Check::new(c, &standing, &verified_at))
            .collect();
        let entered = eligible
            .and_then(|from| entry_time(&checks, from))
            .filter(|t| *t <= as_of);
        let mut state = PhaseState {
            id: phase.id.clone(),
            title: phase.title.clone(),
            status: PhaseStatus::Pending,
            entered_at: entered,
            snapped_back_at: None,
            snapback_finding: None,
            waiting_for: Vec::new(),
        };
        match entered {
            None => {
                state.waiting_for = waiting_for(phase, &checks, eligible, as_of);
            }
            Some(at) => {
                entries.insert(phase.id.as_str(), at);
                state.status = PhaseStatus::Entered;
                let owed = |duty: Duty<'_>, breach: Option<&Finding>| {
                    phase_obligations(&phase.id, duty, at, breach, actions, as_of)
                };
                if let Some(c) = &phase.consequence {
                    let duty = Duty::new(&c.guarantors, &c.action, &c.description, c.within);
                    obligations.extend(owed(duty, None));
                }
                if let Some(s) = &phase.snapback {
                    let breach = standing
                        .iter()
                        .find(|f| f.established_at > at && finding_matches(&s.on, f));
                    if let Some(f) = breach {
                        state.status = PhaseStatus::SnappedBack;
                        state.snapped_back_at = Some(f.established_at);
                        state.snapback_finding = Some(f.id.clone());
                        let duty = Duty::new(&s.guarantors, &s.action, &s.description, s.within);
                        obligations.extend(owed(duty, Some(f)));
                    }
                }
            }
        }
        states.push(state);
    }
    states.sort_by(|a, b| a.id.cmp(&b.id));
    obligations.sort_by(|a, b| a.id.cmp(&b.id));
    (states, obligations)
}

/// What a phase owes on entry (its consequence) or on snapback: the same fields in both.
struct Duty<'a> {
    guarantors: &'a [String],
    action: &'a str,
    description: &'a str,
    within: Duration,
}

impl<'a> Duty<'a> {
    fn new(
        guarantors: &'a [String],
        action: &'a str,
        description: &'a str,
        within: Duration,
    ) -> Self {
        Duty {
            guarantors,
            action,
            description,
            within,
        }
    }
}

/// The obligations of `duty`, one per guarantor: the consequence of entering `phase` at
/// `entered_at` when `breach` is `None`, else its snapback on that finding.
fn phase_obligations(
    phase: &str,
    duty: Duty<'_>,
    entered_at: Timestamp,
    breach: Option<&Finding>,
    actions: &ActionIndex,
    as_of: Timestamp,
) -> Vec<Obligation> {
    let (source, prefix, trigger, findings, at) = match breach {
        None => (
            ObligationSource::Phase,
            "phase",
            SharedStr::from("entry"),
            SharedList::from(Vec::new()),
            entered_at,
        ),
        Some(f) => (
            ObligationSource::Snapback,
            "snapback",
            SharedStr::from(f.id.as_str()),
            SharedList::from(vec![f.id.clone()]),
            f.established_at,
        ),
    };
    let origin = SharedStr::from(phase);
    let action = SharedStr::from(duty.action);
    let description = SharedStr::from(duty.description);
    duty.guarantors
        .iter()
        .map(|g| {
            let mut o = Obligation {
                id: format!("{prefix}:{phase}/{g}"),
                source,
                origin: origin.clone(),
                guarantor: g.as_str().into(),
                action: action.clone(),
                description: description.clone(),
                trigger: trigger.clone(),
                findings: findings.clone(),
                opened_at: at,
                due_at: at.plus(duty.within),
                status: ObligationStatus::Open,
                fulfilled_by: None,
                acted_at: None,
                escalated_from: None,
            };
            fulfil(&mut o, actions, as_of);
            o
        })
        .collect()
}

/// A phase's conditions with what deciding them needs: for `no_findings`, the times at which
/// standing findings matching its filter were established (sorted); for `verified`, when the
/// act was first verified.
enum Check {
    Clean {
        breaches: Vec<Timestamp>,
        window: Duration,
    },
    Verified(Option<Timestamp>),
}

impl Check {
    fn new(
        condition: &PhaseCondition,
        standing: &[&Finding],
        verified_at: &BTreeMap<&str, Timestamp>,
    ) -> Check {
        match condition {
            PhaseCondition::NoFindings { filter, for_ } => Check::Clean {
                breaches: standing
                    .iter()
                    .filter(|f| finding_matches(filter, f))
                    .map(|f| f.established_at)
                    .collect(),
                window: *for_,
            },
            PhaseCondition::Verified { commitment } => {
                Check::Verified(verified_at.get(commitment.as_str()).copied())
            }
        }
    }

    /// Whether the condition holds at `t` for a phase eligible from `from`.
    fn holds(&self, from: Timestamp, t: Timestamp) -> bool {
        match self {
            Check::Clean { breaches, window } => {
                let after_window_start = breaches.partition_point(|b| *b <= t.minus(*window));
                let breached = breaches.get(after_window_start).is_some_and(|b| *b <= t);
                t.minus(*window) >= from && !breached
            }
            Check::Verified(at) => at.is_some_and(|v| v <= t),
        }
    }
}

/// The earliest time from `from` at which every condition holds, if there is one.
fn entry_time(checks: &[Check], from: Timestamp) -> Option<Timestamp> {
    // Each condition only becomes true at its lower bound or when a blocking finding's
    // window ends, so the earliest entry is one of these instants.
    let mut lower = from;
    let mut candidates = Vec::new();
    for check in checks {
        match check {
            Check::Clean { breaches, window } => {
                lower = lower.max(from.plus(*window));
                candidates.extend(breaches.iter().map(|b| b.plus(*window)));
            }
            Check::Verified(at) => lower = lower.max((*at)?),
        }
    }
    candidates.push(lower);
    candidates.retain(|t| *t >= lower);
    candidates.sort_unstable();
    candidates.dedup();
    candidates
        .into_iter()
        .find(|t| checks.iter().all(|c| c.holds(from, *t)))
}

fn waiting_for(
    phase: &Phase,
    checks: &[Check],
    eligible: Option<Timestamp>,
    as_of: Timestamp,
) -> Vec<String> {
    let Some(from) = eligible else {
        return vec![format!(
            "entry of phase `{}`",
            phase.after.as_deref().unwrap_or_default()
        )];
    };
    phase
        .requires
        .iter()
        .zip(checks)
        .filter(|(_, check)| !check.holds(from, as_of))
        .map(|(c, _)| match c {
            PhaseCondition::NoFindings { filter, for_ } => format!(
                "no finding of severity {} or worse{}{} for {for_}",
                serde_json::to_string(&filter.min_severity)
                    .map(|s| s.trim_matches('"').to_string())
                    .unwrap_or_default(),
                filter
                    .party
                    .as_ref()
                    .map(|p| format!(" against `{p}`"))
                    .unwrap_or_default(),
                if filter.commitments.is_empty() {
                    String::new()
                } else {
                    format!(" under {}", filter.commitments.join(", "))
                },
            ),
            PhaseCondition::Verified { commitment } => {
                format!("verification of `{commitment}`")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(breaches: &[i64], window: i64) -> Check {
        Check::Clean {
            breaches: breaches.iter().map(|t| Timestamp(*t)).collect(),
            window: Duration(window),
        }
    }

    #[test]
    fn a_clean_window_must_lie_after_eligibility() {
        let check = clean(&[], 10);
        assert!(!check.holds(Timestamp(0), Timestamp(9)));
        assert!(check.holds(Timestamp(0), Timestamp(10)));
    }

    #[test]
    fn a_breach_blocks_the_window_that_ends_when_it_is_as_old_as_the_window() {
        let check = clean(&[20], 10);
        assert!(!check.holds(Timestamp(0), Timestamp(20)));
        assert!(!check.holds(Timestamp(0), Timestamp(29)));
        assert!(check.holds(Timestamp(0), Timestamp(30)));
    }

    #[test]
    fn entry_is_the_first_instant_every_condition_holds() {
        // Verified at 12; the breach at 5 blocks until 15, the one at 14 until 24.
        let checks = [
            clean(&[5, 14, 40], 10),
            Check::Verified(Some(Timestamp(12))),
        ];
        assert_eq!(entry_time(&checks, Timestamp(0)), Some(Timestamp(24)));
    }

    #[test]
    fn an_unverified_act_keeps_the_phase_pending() {
        let checks = [clean(&[], 10), Check::Verified(None)];
        assert_eq!(entry_time(&checks, Timestamp(0)), None);
    }
}
