use serde_json::{json, Value};

use super::{report, report_with};
use crate::entry::limits::{ENTRY_ID_BYTES_MAX, REPORT_TEXT_BYTES_MAX};
use crate::entry::types::{Entry, Location};
use crate::entry::{parse_entry, EntryError, EntryErrorReason};

fn error_of(value: &Value) -> EntryError {
    parse_entry(&value.to_string()).expect_err("entry should be rejected")
}

fn location_with(location: Value) -> Value {
    report_with(json!({ "location": location }))
}

#[test]
fn valid_report_parses_to_report_entry() {
    let parsed = parse_entry(&report().to_string()).expect("valid report");
    let Entry::Report(report) = parsed.entry else {
        panic!("expected a report, got {:?}", parsed.entry)
    };
    assert_eq!(report.monitor, "patrol-07");
    assert_eq!(report.event.count, 3);
    assert!(matches!(report.location, Location::Relative { .. }));
}

#[test]
fn each_schema_dispatches_to_its_entry_kind() {
    let common = |schema: &str| {
        json!({"schema": schema, "id": "e1", "agreement": "demo",
               "submitted_at": "2026-03-20T00:00:00Z"})
    };
    let merge = |mut base: Value, extra: Value| {
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            b.extend(e);
        }
        base
    };
    let cases = [
        (
            merge(
                common("pacta.action/1"),
                json!({"guarantor": "g1", "obligation": "consult/f1/g1",
                       "action": "consultations", "taken_at": "2026-03-19T00:00:00Z"}),
            ),
            "pacta.action/1",
        ),
        (
            merge(
                common("pacta.objection/1"),
                json!({"party": "a", "finding": "f1", "grounds": "Our unit was not there."}),
            ),
            "pacta.objection/1",
        ),
        (
            merge(
                common("pacta.ruling/1"),
                json!({"panelist": "p1", "objection": "o1", "decision": "upheld",
                       "reasons": "The imagery shows another unit."}),
            ),
            "pacta.ruling/1",
        ),
        (
            merge(
                common("pacta.retraction/1"),
                json!({"monitor": "patrol-07", "report": "patrol-07/2026-03-16/001",
                       "reason": "Wrong bearing."}),
            ),
            "pacta.retraction/1",
        ),
        (report(), "pacta.report/1"),
    ];
    for (value, schema) in cases {
        let parsed = parse_entry(&value.to_string()).expect(schema);
        assert_eq!(parsed.entry.schema(), schema);
    }
}

#[test]
fn latitude_out_of_range_points_at_the_latitude() {
    let error = error_of(&location_with(
        json!({"point": [37.8, 91.0], "uncertainty_m": 50}),
    ));
    assert_eq!(error.pointer, "/location/point/1");
    assert_eq!(error.reason, EntryErrorReason::LatitudeOutOfRange(91.0));
}

#[test]
fn longitude_out_of_range_points_at_the_longitude() {
    let error = error_of(&location_with(
        json!({"point": [-181, 48], "uncertainty_m": 50}),
    ));
    assert_eq!(error.pointer, "/location/point/0");
    assert_eq!(error.reason, EntryErrorReason::LongitudeOutOfRange(-181.0));
}

#[test]
fn unknown_member_is_pointed_at() {
    let mut value = report();
    value["event"]["calibre"] = json!("122mm");
    let error = error_of(&value);
    assert_eq!(error.pointer, "/event/calibre");
    assert!(
        matches!(&error.reason, EntryErrorReason::Shape(m) if m.contains("unknown field `calibre`")),
        "{error}"
    );
}

#[test]
fn missing_member_is_pointed_at_where_it_belongs() {
    let error = error_of(&report_with(json!({"monitor": null})));
    assert_eq!(error.pointer, "/monitor");
    assert!(
        matches!(&error.reason, EntryErrorReason::Shape(m) if m.contains("missing field `monitor`")),
        "{error}"
    );
}

#[test]
fn wrong_type_points_at_the_value() {
    let mut value = report();
    value["event"]["count"] = json!("three");
    let error = error_of(&value);
    assert_eq!(error.pointer, "/event/count");
}

#[test]
fn unknown_schema_is_rejected_at_schema() {
    let error = error_of(&report_with(json!({"schema": "pacta.report/2"})));
    assert_eq!(error.pointer, "/schema");
    assert_eq!(
        error.reason,
        EntryErrorReason::UnknownSchema("pacta.report/2".to_string())
    );
}

#[test]
fn missing_schema_is_rejected_at_schema() {
    let error = error_of(&report_with(json!({"schema": null})));
    assert_eq!(error.pointer, "/schema");
    assert_eq!(error.reason, EntryErrorReason::MissingSchema);
}

#[test]
fn negative_uncertainty_is_rejected() {
    let error = error_of(&location_with(
        json!({"point": [37.8, 48.0], "uncertainty_m": -1}),
    ));
    assert_eq!(error.pointer, "/location/uncertainty_m");
    assert_eq!(error.reason, EntryErrorReason::NegativeUncertainty(-1.0));
}

#[test]
fn distance_range_with_min_over_max_is_rejected() {
    let error = error_of(&location_with(json!({
        "observer": [37.8, 48.0], "bearing_deg": 90, "distance_km": [2.0, 1.0]
    })));
    assert_eq!(error.pointer, "/location/distance_km");
    assert_eq!(
        error.reason,
        EntryErrorReason::DistanceRangeInverted { min: 2.0, max: 1.0 }
    );
}

#[test]
fn bearing_of_360_is_rejected() {
    let error = error_of(&location_with(json!({
        "observer": [37.8, 48.0], "bearing_deg": 360, "distance_km": [1.0, 2.0]
    })));
    assert_eq!(error.pointer, "/location/bearing_deg");
    assert_eq!(error.reason, EntryErrorReason::BearingOutOfRange(360.0));
}

#[test]
fn location_mixing_both_forms_is_rejected() {
    let error = error_of(&location_with(json!({
        "point": [37.8, 48.0], "uncertainty_m": 10, "bearing_deg": 90
    })));
    assert_eq!(error.pointer, "/location");
}

#[test]
fn observation_ending_before_it_starts_is_rejected() {
    let error = error_of(&report_with(json!({"observed": {
        "start": "2026-03-16T17:44:00+02:00", "end": "2026-03-16T17:42:00+02:00"
    }})));
    assert_eq!(error.pointer, "/observed/end");
    assert!(matches!(
        error.reason,
        EntryErrorReason::EndBeforeStart { .. }
    ));
}

#[test]
fn observation_after_submission_is_rejected() {
    let error = error_of(&report_with(
        json!({"submitted_at": "2026-03-16T17:00:00+02:00"}),
    ));
    assert_eq!(error.pointer, "/observed/start");
}

#[test]
fn time_without_offset_is_rejected_at_its_pointer() {
    let error = error_of(&report_with(json!({"submitted_at": "2026-03-16T18:05:00"})));
    assert_eq!(error.pointer, "/submitted_at");
}

#[test]
fn media_hash_in_upper_case_is_rejected() {
    let hash = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    let error = error_of(&report_with(json!({"media": [{"sha256": hash}]})));
    assert_eq!(error.pointer, "/media/0/sha256");
    assert_eq!(error.reason, EntryErrorReason::BadMediaHash);
}

#[test]
fn empty_id_is_rejected() {
    let error = error_of(&report_with(json!({"id": ""})));
    assert_eq!(error.pointer, "/id");
    assert_eq!(error.reason, EntryErrorReason::Empty);
}

#[test]
fn id_over_the_limit_is_rejected() {
    let id = "x".repeat(ENTRY_ID_BYTES_MAX + 1);
    let error = error_of(&report_with(json!({ "id": id })));
    assert_eq!(error.pointer, "/id");
    assert_eq!(
        error.reason,
        EntryErrorReason::TextTooLong {
            bytes: ENTRY_ID_BYTES_MAX + 1,
            max: ENTRY_ID_BYTES_MAX
        }
    );
}

#[test]
fn text_over_the_limit_is_rejected() {
    let text = "a".repeat(REPORT_TEXT_BYTES_MAX + 1);
    let error = error_of(&report_with(json!({ "text": text })));
    assert_eq!(error.pointer, "/text");
}

#[test]
fn zero_count_is_rejected() {
    let mut value = report();
    value["event"]["count"] = json!(0);
    let error = error_of(&value);
    assert_eq!(error.pointer, "/event/count");
    assert_eq!(error.reason, EntryErrorReason::ZeroCount);
}

#[test]
fn duplicate_member_is_rejected() {
    let text = report().to_string().replacen("{", r#"{"id":"other","#, 1);
    let error = parse_entry(&text).expect_err("duplicate member");
    assert!(
        matches!(&error.reason, EntryErrorReason::Json(m) if m.contains("`id` appears twice")),
        "{error}"
    );
}

#[test]
fn integer_beyond_two_to_the_53_is_rejected() {
    let mut value = report();
    value["event"]["casualties"] = json!(9_007_199_254_740_993_u64);
    let error = error_of(&value);
    assert_eq!(error.pointer, "/event/casualties");
    assert!(matches!(error.reason, EntryErrorReason::Json(_)), "{error}");
}

#[test]
fn syntax_error_is_reported_as_json() {
    let error = parse_entry(r#"{"schema": "pacta.report/1", "id": }"#).expect_err("bad JSON");
    assert!(matches!(error.reason, EntryErrorReason::Json(_)), "{error}");
}

#[test]
fn non_object_is_rejected() {
    let error = parse_entry("[1, 2]").expect_err("array");
    assert_eq!(error.reason, EntryErrorReason::NotAnObject);
}

#[test]
fn ucdp_estimates_out_of_order_are_rejected() {
    let error = error_of(&report_with(
        json!({"source": {"low": 5, "best": 3, "high": 9}}),
    ));
    assert_eq!(error.pointer, "/source");
}

#[test]
fn error_message_names_pointer_and_reason() {
    let error = error_of(&location_with(
        json!({"point": [37.8, 91.0], "uncertainty_m": 50}),
    ));
    assert_eq!(
        error.to_string(),
        "/location/point/1: latitude 91 is outside -90..=90"
    );
}

mod properties {
    use proptest::prelude::*;
    use serde_json::Value;

    use crate::entry::{parse_entry, parse_entry_value};

    /// Any JSON value, nested a few levels, with member names drawn from the schema's own so
    /// that generated objects get past the first checks.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(Value::from),
            (-1e6..1e6_f64).prop_map(Value::from),
            prop_oneof![
                Just("pacta.report/1".to_string()),
                Just("2026-03-16T17:42:00Z".to_string()),
                "[a-z0-9 ]{0,12}",
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 8, |inner| {
            let name = prop_oneof![
                Just("schema"),
                Just("id"),
                Just("agreement"),
                Just("monitor"),
                Just("submitted_at"),
                Just("observed"),
                Just("start"),
                Just("end"),
                Just("location"),
                Just("point"),
                Just("observer"),
                Just("uncertainty_m"),
                Just("bearing_deg"),
                Just("distance_km"),
                Just("event"),
                Just("kind"),
                Just("count"),
                Just("mode"),
                Just("media"),
                Just("sha256"),
                Just("signature"),
                Just("source"),
                Just("best"),
                Just("low"),
                Just("high"),
            ]
            .prop_map(str::to_string);
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(name, inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_json_values_are_accepted_or_rejected_without_panic(value in json_value()) {
            let from_value = parse_entry_value(value.clone()).is_ok();
            let from_text = parse_entry(&value.to_string()).is_ok();
            prop_assert_eq!(from_value, from_text);
        }
    }
}

mod numbers {
    use proptest::prelude::*;
    use serde_json::Value;

    use crate::entry::json::StrictValue;

    proptest! {
        /// Other languages write up to 17 significant digits and parse them correctly
        /// rounded; reading them any less exactly would change the canonical form, and a
        /// signature made elsewhere would fail here. (serde_json's `float_roundtrip` feature,
        /// which serde_json_canonicalizer enables, is what makes this hold.)
        #[test]
        fn seventeen_digit_numbers_parse_to_the_exact_double(x in -1e6..1e6_f64) {
            let text = format!("{x:.16e}");
            let StrictValue(value) = serde_json::from_str(&text).expect("a number");
            let expected: f64 = text.parse().expect("std parses correctly rounded");
            prop_assert_eq!(value, Value::from(expected));
        }
    }
}
