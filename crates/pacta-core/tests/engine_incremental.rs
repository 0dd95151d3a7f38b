//! The incremental engine equals a replay (DESIGN.md §5, invariant 3): for any arrival order
//! of reports, resubmitted copies, retractions, actions, objections and rulings, late ones
//! included, `Engine::assessment(as_of)` has the digest of `assess` over the same entries.

#[path = "engine_common/arbitrary.rs"]
mod arbitrary;
mod engine_common;

use std::collections::BTreeSet;

use arbitrary::*;
use engine_common::*;
use pacta_core::assess::{assess, Assessment};
use pacta_core::engine::Engine;
use pacta_core::entry::types::*;
use pacta_core::time::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// One monitor's report of an event, and what may happen to it later.
#[derive(Clone, Debug)]
struct Witness {
    /// The sighting, submitted up to days after the observation so that reports arrive late.
    seen: Sighting,
    /// An observation interval of this many seconds instead of an instant.
    lasting_s: Option<i64>,
    /// A second copy of the report (same id), submitted this much later and observed this
    /// much later.
    copy: Option<(i64, i64)>,
    /// A retraction submitted this long after the observation, by the report's own monitor
    /// (`true`) or by another one (`false`, which retracts nothing).
    retraction: Option<(i64, bool)>,
}

/// An occurrence seen by one to three monitors, with the guarantor's action and the party's
/// objection (and the panel's ruling) that may follow.
#[derive(Clone, Debug)]
struct Happening {
    what: Occurrence,
    witnesses: Vec<Witness>,
    action_after_s: Option<i64>,
    objection: Option<Contest>,
}

/// A party's objection submitted this long after the event, and the panel's ruling (upheld or
/// not) submitted this long after the objection.
type Contest = (&'static str, i64, Option<(bool, i64)>);

fn witness() -> impl Strategy<Value = Witness> {
    let late = prop_oneof![4 => 0..1_800i64, 1 => 0..3 * DAY];
    let lasting = prop_oneof![6 => Just(None), 1 => (60..4 * HOUR).prop_map(Some)];
    let copy = prop_oneof![6 => Just(None), 1 => (0..DAY, -HOUR..HOUR).prop_map(Some)];
    let retraction = prop_oneof![
        6 => Just(None),
        1 => (0..2 * DAY, prop::bool::weighted(0.8)).prop_map(Some)
    ];
    (
        sighting(0..900, -0.03..0.03, -0.02..0.02, late),
        lasting,
        copy,
        retraction,
    )
        .prop_map(|(seen, lasting_s, copy, retraction)| Witness {
            seen,
            lasting_s,
            copy,
            retraction,
        })
}

/// Occurrences within `span_s` seconds of the agreement's start.
fn happening(span_s: i64) -> impl Strategy<Value = Happening> {
    let ruling = prop_oneof![Just(None), (prop::bool::ANY, 0..5 * DAY).prop_map(Some)];
    let objection = prop_oneof![
        3 => Just(None),
        1 => (prop_oneof![Just("a"), Just("b")], 0..4 * DAY, ruling).prop_map(Some)
    ];
    (
        occurrence(span_s, 36.9..37.1, 47.8..48.2),
        prop::collection::vec(witness(), 1..=3),
        action_delay(),
        objection,
    )
        .prop_map(|(what, witnesses, action_after_s, objection)| Happening {
            what,
            witnesses,
            action_after_s,
            objection,
        })
}

fn entries_of(happenings: &[Happening]) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (n, h) in happenings.iter().enumerate() {
        for (k, w) in h.witnesses.iter().enumerate() {
            let monitor = w.seen.monitor_id();
            let t = h.what.at_s + w.seen.delay_s;
            let id = format!("e{n}-{k}");
            let mut r = w.seen.report(&h.what, &id);
            r.observed.end = w.lasting_s.map(|s| at(t + s));
            if let Some((later_s, shift_s)) = w.copy {
                let mut copy = r.clone();
                copy.submitted_at = at(t + w.seen.submitted_after_s + later_s);
                copy.observed.start = at(t + shift_s);
                copy.observed.end = None;
                entries.push(Entry::Report(copy));
            }
            if let Some((after_s, own)) = w.retraction {
                let by = if own { monitor } else { "m2x" };
                entries.push(Entry::Retraction(Retraction {
                    schema: RETRACTION_SCHEMA.into(),
                    id: format!("x{n}-{k}"),
                    agreement: "demo".into(),
                    monitor: by.into(),
                    report: id.clone(),
                    submitted_at: at(t + after_s),
                    reason: "mistaken".into(),
                    signature: None,
                }));
            }
            entries.push(Entry::Report(r));
        }
        if let Some(after) = h.action_after_s {
            entries.push(consultation_action(n, h.what.at_s + after));
        }
        if let Some((party, after, ruling)) = h.objection {
            let submitted = h.what.at_s + after;
            entries.push(Entry::Objection(Objection {
                schema: OBJECTION_SCHEMA.into(),
                id: format!("o{n}"),
                agreement: "demo".into(),
                party: party.into(),
                finding: format!("ceasefire@inc:e{n}-0"),
                submitted_at: at(submitted),
                grounds: "not us".into(),
                signature: None,
            }));
            if let Some((upheld, later)) = ruling {
                entries.push(Entry::Ruling(Ruling {
                    schema: RULING_SCHEMA.into(),
                    id: format!("r{n}"),
                    agreement: "demo".into(),
                    panelist: "p1".into(),
                    objection: format!("o{n}"),
                    decision: if upheld {
                        RulingDecision::Upheld
                    } else {
                        RulingDecision::Rejected
                    },
                    submitted_at: at(submitted + later),
                    reasons: "reasons".into(),
                    signature: None,
                }));
            }
        }
    }
    entries
}

/// Entries of `happenings` in an arrival order given by a shuffle of their indices.
fn arrivals(
    happenings: impl Strategy<Value = Vec<Happening>>,
) -> impl Strategy<Value = Vec<Entry>> {
    happenings.prop_flat_map(|h| shuffled(entries_of(&h)))
}

/// The engine's assessment as of `as_of` is the batch assessment of `known`.
fn equals_replay(
    engine: &mut Engine,
    known: &[Entry],
    as_of: Timestamp,
) -> Result<(), TestCaseError> {
    let expected = assess(&agreement(), known, as_of);
    let got = engine.assessment(as_of);
    prop_assert_eq!(&got.counts, &expected.counts, "counts as of {}", as_of);
    prop_assert_eq!(
        &got.incidents,
        &expected.incidents,
        "incidents as of {}",
        as_of
    );
    prop_assert_eq!(
        &got.findings,
        &expected.findings,
        "findings as of {}",
        as_of
    );
    prop_assert_eq!(
        digest_of(got),
        digest_of(&expected),
        "digest as of {}",
        as_of
    );
    Ok(())
}

/// Moments before, during and after the events, and past the withdrawal deadline (day 14)
/// and the relief phase's 30 clean days, visited out of order so the engine's horizon moves
/// back as well as forward.
const AS_OF_DAYS: [i64; 5] = [1, 45, 3, 15, 2];

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn after_every_insert_the_engine_equals_a_replay(
        entries in arrivals(prop::collection::vec(happening(2 * DAY), 1..12))
    ) {
        let mut engine = Engine::new(agreement());
        for (n, entry) in entries.iter().enumerate() {
            engine.insert(entry.clone());
            let day = AS_OF_DAYS.get(n % AS_OF_DAYS.len()).copied().unwrap_or(1);
            equals_replay(&mut engine, entries.get(..=n).unwrap_or_default(), at(day * DAY))?;
        }
    }

    #[test]
    fn changes_since_the_last_generation_name_exactly_the_rows_that_differ(
        entries in arrivals(prop::collection::vec(happening(2 * DAY), 1..10))
    ) {
        let mut engine = Engine::new(agreement());
        let mut previous = engine.assessment(at(DAY)).clone();
        for (n, entry) in entries.iter().enumerate() {
            engine.insert(entry.clone());
            let generation = engine.generation();
            let day = AS_OF_DAYS.get(n % AS_OF_DAYS.len()).copied().unwrap_or(1);
            let current = engine.assessment(at(day * DAY)).clone();
            let delta = engine.changes_since(generation);
            let expect = |old: Vec<(String, String)>, new: Vec<(String, String)>| {
                let old: BTreeSet<(String, String)> = old.into_iter().collect();
                let new: BTreeSet<(String, String)> = new.into_iter().collect();
                let ids: BTreeSet<String> =
                    old.symmetric_difference(&new).map(|(id, _)| id.clone()).collect();
                ids
            };
            let rows = |a: &Assessment| {
                (
                    a.incidents.iter().map(|i| (i.id.clone(), format!("{i:?}"))).collect(),
                    a.findings.iter().map(|f| (f.id.clone(), format!("{f:?}"))).collect(),
                    a.obligations.iter().map(|o| (o.id.clone(), format!("{o:?}"))).collect(),
                )
            };
            let (old_i, old_f, old_o): (Vec<_>, Vec<_>, Vec<_>) = rows(&previous);
            let (new_i, new_f, new_o): (Vec<_>, Vec<_>, Vec<_>) = rows(&current);
            let named = |c: &pacta_core::engine::Changes| -> BTreeSet<String> {
                c.upserted.iter().chain(&c.removed).cloned().collect()
            };
            prop_assert_eq!(named(&delta.incidents), expect(old_i, new_i));
            prop_assert_eq!(named(&delta.findings), expect(old_f, new_f));
            prop_assert_eq!(named(&delta.obligations), expect(old_o, new_o));
            for id in &delta.incidents.removed {
                prop_assert!(current.incidents.iter().all(|i| &i.id != id));
            }
            previous = current;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3, ..ProptestConfig::default() })]

    #[test]
    fn thousands_of_entries_inserted_in_batches_equal_a_replay(
        entries in arrivals(prop::collection::vec(happening(20 * DAY), 900..1_100)),
        batch in 1..400usize,
    ) {
        prop_assert!(entries.len() >= 2_000);
        let mut engine = Engine::new(agreement());
        let mut inserted = 0;
        let mut checks = 0;
        for chunk in entries.chunks(batch) {
            engine.insert_batch(chunk.iter().cloned());
            inserted += chunk.len();
            // About six checks along the way, each at a different moment.
            if inserted * 6 / entries.len() > checks {
                checks += 1;
                let day = AS_OF_DAYS.get(checks % AS_OF_DAYS.len()).copied().unwrap_or(1);
                equals_replay(&mut engine, entries.get(..inserted).unwrap_or_default(), at(day * DAY))?;
            }
        }
        for day in [25, 2, 9, 60] {
            equals_replay(&mut engine, &entries, at(day * DAY))?;
        }
    }
}
