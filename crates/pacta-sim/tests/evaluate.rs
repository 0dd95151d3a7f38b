//! The evaluator on a tiny hand-made truth and assessment, against numbers computed by hand.
//!
//! Truth: ev-1 (fire by a, breaches art1), ev-2 (fire by b, breaches art1, grave), ev-3
//! (heavy weapons by b, breaches art3-b, never reported), party a did not withdraw by its
//! deadline (art2-a), one offensive episode.
//! Assessment: inc-1 near ev-1 (party a), inc-2 at ev-2 (party a: wrong), inc-3 a second,
//! farther incident near ev-1 (a split), inc-4 far from everything; findings on inc-1
//! (unattributed), inc-3, inc-2 (party a), the deadline of art2-a (party a), and art3-b on
//! inc-4; obligations on [f1], [f2, f5], [f1, f2], none (phase entry), and an offensive one
//! on [f3].

use pacta_sim::evaluate::Outcome;
use pacta_sim::{evaluate, Evaluation, Tolerance, Truth};

const TRUTH: &str = r#"{
  "schema": "pacta.truth/1", "agreement": "t", "seed": 1,
  "start": "2026-03-01T00:00:00Z", "end": "2026-03-02T00:00:00Z", "as_of": "2026-03-02T00:00:00Z",
  "episodes": [{"id": "offensive-1", "party": "b", "start": "2026-03-01T11:00:00Z",
                "end": "2026-03-01T13:00:00Z", "along_km": [0, 10]}],
  "events": [
    {"id": "ev-1", "kind": "fire", "party": "a", "start": "2026-03-01T10:00:00Z",
     "end": "2026-03-01T10:05:00Z", "lon": 37.0, "lat": 48.0, "weapon_class": "mortar",
     "count": 3, "breaches": [{"commitment": "art1", "severity": "serious"}],
     "reports": ["r1", "r2"]},
    {"id": "ev-2", "kind": "fire", "party": "b", "start": "2026-03-01T12:00:00Z",
     "end": "2026-03-01T12:05:00Z", "lon": 37.5, "lat": 48.0, "weapon_class": "mlrs",
     "count": 1, "breaches": [{"commitment": "art1", "severity": "grave"}], "reports": ["r3"]},
    {"id": "ev-3", "kind": "heavy_weapons", "party": "b", "start": "2026-03-01T08:00:00Z",
     "end": "2026-03-01T20:00:00Z", "lon": 38.0, "lat": 48.2, "weapon_class": "tank",
     "count": 2, "breaches": [{"commitment": "art3-b", "severity": "serious"}], "reports": []}
  ],
  "false_reports": [{"id": "r4", "monitor": "m", "time": "2026-03-01T15:00:00Z", "lon": 39.0, "lat": 48.0}],
  "obligations": [{"commitment": "art2-a", "party": "a", "act": "withdrawal",
                   "deadline": "2026-03-01T00:00:00Z", "complied": false}],
  "counts": {"events": 3, "events_reported": 2, "breaches": 4, "reports": 4, "reports_true": 3,
             "reports_false": 1, "reports_duplicate": 0, "reports_late": 0}
}"#;

const ASSESSMENT: &str = r#"{
  "agreement": "t", "as_of": "2026-03-02T00:00:00Z",
  "incidents": [
    {"id": "inc-1", "reports": ["r1"], "lon": 37.001, "lat": 48.001, "start": "2026-03-01T10:02:00Z",
     "end": "2026-03-01T10:02:00Z", "kinds": ["explosion"], "attribution": {"party": "a"}},
    {"id": "inc-2", "reports": ["r3"], "lon": 37.5, "lat": 48.0, "start": "2026-03-01T12:30:00Z",
     "end": "2026-03-01T12:30:00Z", "kinds": ["burst"], "attribution": {"party": "a"}},
    {"id": "inc-3", "reports": ["r2"], "lon": 37.01, "lat": 48.0, "start": "2026-03-01T10:03:00Z",
     "end": "2026-03-01T10:03:00Z", "kinds": ["explosion"], "attribution": {"party": null}},
    {"id": "inc-4", "reports": ["r4"], "lon": 39.0, "lat": 48.0, "start": "2026-03-01T15:00:00Z",
     "end": "2026-03-01T15:00:00Z", "kinds": ["weapon_presence"], "attribution": {"party": "b"}}
  ],
  "findings": [
    {"id": "f1", "commitment": "art1", "party": null, "severity": "serious", "status": "provisional", "incident": "inc-1"},
    {"id": "f2", "commitment": "art1", "party": null, "severity": "serious", "status": "provisional", "incident": "inc-3"},
    {"id": "f3", "commitment": "art1", "party": "a", "severity": "grave", "status": "confirmed", "incident": "inc-2"},
    {"id": "f4", "commitment": "art2-a", "party": "a", "severity": "serious", "status": "confirmed", "incident": null},
    {"id": "f5", "commitment": "art3-b", "party": "b", "severity": "serious", "status": "provisional", "incident": "inc-4"}
  ],
  "obligations": [
    {"id": "o1", "source": "response", "origin": "consult", "trigger": "f1", "findings": ["f1"], "opened_at": "2026-03-01T11:00:00Z"},
    {"id": "o2", "source": "response", "origin": "pattern", "trigger": "pattern:x", "findings": ["f2", "f5"], "opened_at": "2026-03-01T16:00:00Z"},
    {"id": "o3", "source": "response", "origin": "pattern", "trigger": "pattern:y", "findings": ["f1", "f2"], "opened_at": "2026-03-01T16:00:00Z"},
    {"id": "o4", "source": "phase", "origin": "relief", "trigger": "entry", "findings": [], "opened_at": "2026-03-01T16:00:00Z"},
    {"id": "o5", "source": "response", "origin": "offensive", "trigger": "offensive:z", "findings": ["f3"], "opened_at": "2026-03-01T12:40:00Z"}
  ]
}"#;

fn evaluation() -> Evaluation {
    let truth = Truth::from_json(TRUTH).unwrap();
    let outcome = Outcome::from_json(ASSESSMENT).unwrap();
    evaluate(&truth, &outcome, Tolerance::default())
}

#[test]
fn incidents_match_one_to_one_and_the_split_and_the_false_one_cost_precision() {
    let e = evaluation();
    assert_eq!(
        (
            e.incidents.produced,
            e.incidents.expected,
            e.incidents.matched
        ),
        (4, 3, 2)
    );
    assert_eq!(e.incidents.precision, Some(0.5));
    assert_eq!(e.incidents.recall, Some(2.0 / 3.0));
    assert_eq!(e.incident_recall_reported, Some(1.0));
}

#[test]
fn incident_attribution_counts_the_wrong_party() {
    let a = evaluation().incident_attribution;
    assert_eq!((a.items, a.correct, a.wrong, a.unattributed), (2, 1, 1, 0));
    assert_eq!(a.accuracy, Some(0.5));
}

#[test]
fn findings_are_true_through_their_matched_incident_or_a_missed_deadline() {
    let e = evaluation();
    assert_eq!(
        (e.findings.produced, e.findings.expected, e.findings.matched),
        (5, 4, 3)
    );
    assert_eq!(e.findings.precision, Some(0.6));
    assert_eq!(e.findings.recall, Some(0.75));
}

#[test]
fn findings_are_scored_per_commitment() {
    let e = evaluation();
    let art1 = &e.findings_by_commitment["art1"];
    assert_eq!((art1.produced, art1.expected, art1.matched), (3, 2, 2));
    assert_eq!(art1.precision, Some(2.0 / 3.0));
    assert_eq!(art1.recall, Some(1.0));
    let art3 = &e.findings_by_commitment["art3-b"];
    assert_eq!((art3.produced, art3.expected, art3.matched), (1, 1, 0));
    let art2 = &e.findings_by_commitment["art2-a"];
    assert_eq!((art2.produced, art2.expected, art2.matched), (1, 1, 1));
}

#[test]
fn finding_attribution_separates_wrong_from_unattributed() {
    let a = evaluation().finding_attribution;
    assert_eq!((a.items, a.correct, a.wrong, a.unattributed), (2, 0, 1, 1));
    assert_eq!(a.accuracy, Some(0.0));
}

#[test]
fn obligations_are_justified_when_half_their_findings_are_true() {
    let o = evaluation().obligations;
    assert_eq!(
        (o.opened, o.justified, o.unjustified, o.not_scored),
        (4, 3, 1, 1)
    );
}

#[test]
fn missed_breaches_are_counted_by_severity() {
    let o = evaluation().obligations;
    assert_eq!(o.missed_breaches.len(), 1);
    assert_eq!(o.missed_breaches["serious"], 1);
}

#[test]
fn an_offensive_obligation_during_the_episode_detects_it() {
    let o = evaluation().obligations;
    assert_eq!((o.episodes, o.episodes_detected), (1, 1));
}

#[test]
fn an_offensive_alarm_outside_every_episode_is_a_false_alarm() {
    let o = evaluation().obligations;
    assert_eq!((o.offensive_alarms, o.offensive_false_alarms), (1, 0));
    // The same trigger opening a second obligation is still one alarm; another trigger two
    // days later, when no offensive is fought, is a false one.
    let more = ASSESSMENT.replace(
        r#"{"id": "o5","#,
        r#"{"id": "o6", "source": "response", "origin": "offensive", "trigger": "offensive:z", "findings": ["f3"], "opened_at": "2026-03-01T12:50:00Z"},
    {"id": "o7", "source": "response", "origin": "offensive", "trigger": "offensive:w", "findings": ["f3"], "opened_at": "2026-03-03T18:00:00Z"},
    {"id": "o5","#,
    );
    let truth = Truth::from_json(TRUTH).unwrap();
    let outcome = Outcome::from_json(&more).unwrap();
    let o = evaluate(&truth, &outcome, Tolerance::default()).obligations;
    assert_eq!((o.episodes, o.episodes_detected), (1, 1));
    assert_eq!((o.offensive_alarms, o.offensive_false_alarms), (2, 1));
}

#[test]
fn an_assessment_of_the_run_pairs_with_its_truth_and_another_runs_does_not() {
    use pacta_sim::evaluate::pairing;
    let truth = Truth::from_json(TRUTH).unwrap();
    let outcome = Outcome::from_json(ASSESSMENT).unwrap();
    assert_eq!(pairing(&truth, &outcome), Default::default());

    // Another agreement.
    let other_agreement =
        Outcome::from_json(&ASSESSMENT.replace(r#""agreement": "t""#, r#""agreement": "u""#))
            .unwrap();
    let mismatch = pairing(&truth, &other_agreement).mismatch.unwrap();
    assert!(
        mismatch.contains("`u`") && mismatch.contains("`t`"),
        "{mismatch}"
    );

    // Another run: none of the members is a report of this one.
    let mut other_run = outcome.clone();
    for incident in &mut other_run.incidents {
        for report in &mut incident.reports {
            report.insert_str(0, "other-");
        }
    }
    let mismatch = pairing(&truth, &other_run).mismatch.unwrap();
    assert!(mismatch.contains("none of the 4 reports"), "{mismatch}");

    // Some foreign members, and an assessment made before the last submission: scored,
    // with a warning for each.
    let mut partly = outcome.clone();
    if let Some(first) = partly.incidents.first_mut() {
        first.reports.push("elsewhere".into());
    }
    partly.as_of = "2026-03-01T12:00:00Z".parse().unwrap();
    let paired = pairing(&truth, &partly);
    assert_eq!(paired.mismatch, None);
    assert_eq!(paired.warnings.len(), 2, "{:?}", paired.warnings);
    assert!(paired.warnings[0].starts_with("1 of the 5 reports"));
    assert!(paired.warnings[1].contains("before the run's last submission"));
}

/// An incident at ev-1's place seen at `start`..`end` (RFC 3339).
fn incident_at_ev1(start: &str, end: &str) -> pacta_sim::evaluate::OutcomeIncident {
    pacta_sim::evaluate::OutcomeIncident {
        id: "inc".to_string(),
        reports: Vec::new(),
        lon: 37.0,
        lat: 48.0,
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        kinds: vec![pacta_core::agreement::model::EventKind::Explosion],
        attribution: Default::default(),
    }
}

#[test]
fn incidents_match_events_as_far_apart_in_time_as_the_tolerance_and_no_farther() {
    use pacta_sim::evaluate::match_incidents;
    let truth = Truth::from_json(TRUTH).unwrap();
    // ev-1 ends at 10:05; this incident starts 4 h 57 min later, hours of buckets away.
    let late = [incident_at_ev1(
        "2026-03-01T15:02:00Z",
        "2026-03-01T15:02:00Z",
    )];
    let within = |hours: i64| Tolerance {
        distance_km: 3.0,
        time_s: hours * 3_600,
    };
    assert_eq!(
        match_incidents(&late, &truth.events, within(5)).get(&0),
        Some(&0)
    );
    assert!(match_incidents(&late, &truth.events, within(4)).is_empty());
    // A span written backwards is searched as the span it covers, not refused by a panic.
    let backwards = [incident_at_ev1(
        "2026-03-01T10:03:00Z",
        "2026-03-01T09:00:00Z",
    )];
    assert_eq!(
        match_incidents(&backwards, &truth.events, within(1)).get(&0),
        Some(&0)
    );
}

#[test]
fn a_time_tolerance_above_a_day_is_refused() {
    use pacta_sim::evaluate::TIME_TOLERANCE_S_MAX;
    assert_eq!(Tolerance::default().check(), Ok(()));
    let at = |time_s| Tolerance {
        distance_km: 3.0,
        time_s,
    };
    assert_eq!(at(TIME_TOLERANCE_S_MAX).check(), Ok(()));
    let why = at(TIME_TOLERANCE_S_MAX + 60).check().unwrap_err();
    assert!(
        why.contains("1441 minutes") && why.contains("allowed 0 to 1440 minutes"),
        "{why}"
    );
    assert!(at(-60).check().is_err());
    let nan = Tolerance {
        distance_km: f64::NAN,
        time_s: 60,
    };
    assert!(nan.check().is_err());
}

#[test]
fn a_distance_tolerance_above_100_km_is_refused() {
    use pacta_sim::evaluate::DISTANCE_TOLERANCE_KM_MAX;
    let at = |distance_km| Tolerance {
        distance_km,
        time_s: 3_600,
    };
    assert_eq!(at(DISTANCE_TOLERANCE_KM_MAX).check(), Ok(()));
    assert_eq!(at(0.0).check(), Ok(()));
    for refused in [100.5, f64::INFINITY, -1.0] {
        let why = at(refused).check().unwrap_err();
        assert!(
            why.contains(&format!("a distance of {refused} km"))
                && why.contains("allowed 0 to 100 km"),
            "{why}"
        );
    }
}

#[test]
fn an_assessment_or_truth_that_does_not_read_names_the_member_at_fault() {
    let wrong = ASSESSMENT.replace(
        r#""start": "2026-03-01T15:00:00Z""#,
        r#""start": 1772377200"#,
    );
    let error = Outcome::from_json(&wrong).unwrap_err();
    assert_eq!(error.pointer, "/incidents/3/start");
    assert!(
        error
            .to_string()
            .starts_with("at `/incidents/3/start`: invalid type: integer"),
        "{error}"
    );
    let wrong = TRUTH.replace(r#""kind": "heavy_weapons""#, r#""kind": "meteor""#);
    let error = Truth::from_json(&wrong).unwrap_err().to_string();
    assert!(
        error.starts_with("not a ground-truth file: at `/events/2/kind`: unknown variant"),
        "{error}"
    );
}
