//! The one-pass reading of a valid entry (`validate::parse_entry_raw`, `canonical.rs`) against
//! the reference: `parse_entry`'s `Value`, `serde_json_canonicalizer`'s bytes, and the line
//! check as it was (parse, authorise, hash), which must give the same verdict, entry, error and
//! hash for every line.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{
    agreement, agreement_with_monitor_keys, key, report, ruling, signed_line, GUARANTOR_G1,
    PANEL_P1, PARTY_A, PATROL_07, PATROL_08,
};
use crate::entry::canonical::signed_form;
use crate::entry::json::{StrictRaw, StrictValue};
use crate::entry::signature::public_key_of;
use crate::entry::validate::parse_entry_raw;
use crate::entry::{
    canonical_bytes, canonical_forms, parse_entry, AcceptedEntry, Checked, KeyRing, LineChecker,
    LineError, Rejection, Unverified, VerifiedEntry,
};

/// The line check before the one-pass reading: the full reader, then authorisation.
fn reference_check(keys: &KeyRing, line: usize, text: &str) -> Result<Checked, LineError> {
    if text.trim().is_empty() {
        return Ok(Checked::Blank);
    }
    let reject = |rejection| LineError { line, rejection };
    let parsed = parse_entry(text).map_err(|e| reject(Rejection::Invalid(e)))?;
    let authorised = keys
        .authorise(&parsed)
        .map_err(|e| reject(Rejection::Unauthorised(e)))?;
    let signed = &authorised.canonical.signed;
    Ok(Checked::Entry(AcceptedEntry {
        line,
        body: Sha256::digest(signed).into(),
        signed_len: signed.len(),
        entry: parsed.entry,
        role: authorised.role,
    }))
}

/// What a server's check of one entry was before the one-pass reading: the full reader, then
/// authorisation, with both canonical forms.
fn reference_verify(keys: &KeyRing, text: &str) -> Result<VerifiedEntry, Unverified> {
    let parsed = parse_entry(text).map_err(Unverified::Invalid)?;
    let authorised = keys.authorise(&parsed).map_err(Unverified::Unauthorised)?;
    Ok(VerifiedEntry {
        entry: parsed.entry,
        role: authorised.role,
        canonical: authorised.canonical,
    })
}

/// `serde_json_canonicalizer`'s canonical form of `object` without `signature`.
fn reference_signed(object: &Map<String, Value>) -> Vec<u8> {
    let mut unsigned = object.clone();
    unsigned.remove("signature");
    serde_json_canonicalizer::to_vec(&unsigned).expect("canonical form")
}

/// Checks everything the one-pass reading promises about `text`, and returns whether it took
/// the one-pass route.
fn assert_same_as_reference(text: &str) -> Result<bool, TestCaseError> {
    let checker = LineChecker::new(&agreement());
    let keys = KeyRing::new(&agreement());
    prop_assert_eq!(checker.check(7, text), reference_check(&keys, 7, text));
    let verified = keys.verify_text(text);
    prop_assert_eq!(&verified, &reference_verify(&keys, text));
    if let (Ok(verified), Ok(parsed)) = (&verified, parse_entry(text)) {
        prop_assert_eq!(
            &verified.canonical.full,
            &serde_json_canonicalizer::to_vec(&parsed.object).expect("canonical form")
        );
    }
    let Some((entry, raw)) = parse_entry_raw(text) else {
        return Ok(false);
    };
    let parsed = parse_entry(text);
    prop_assert!(
        parsed.is_ok(),
        "one-pass accepted what the reader rejects: {text}"
    );
    let Ok(parsed) = parsed else {
        return Ok(false);
    };
    prop_assert_eq!(&entry, &parsed.entry);
    let signed = signed_form(&raw).expect("signed form");
    prop_assert_eq!(&signed, &reference_signed(&parsed.object));
    prop_assert_eq!(
        &signed,
        &canonical_forms(&parsed.object).expect("forms").signed
    );
    Ok(true)
}

fn action() -> Value {
    json!({"schema": "pacta.action/1", "id": "g1/consult/1", "agreement": "demo",
           "guarantor": "g1", "obligation": "consult/f1/g1", "action": "consultations",
           "taken_at": "2026-03-19T00:00:00Z", "submitted_at": "2026-03-19T01:00:00Z",
           "text": "Consultations held in \"Vienna\"\n(second round)."})
}

fn objection() -> Value {
    json!({"schema": "pacta.objection/1", "id": "a/objection/1", "agreement": "demo",
           "party": "a", "finding": "f1", "submitted_at": "2026-03-19T00:00:00Z",
           "grounds": "Our unit was not there. \u{1F6A7} \u{E000}"})
}

fn retraction() -> Value {
    json!({"schema": "pacta.retraction/1", "id": "patrol-07/retract/1", "agreement": "demo",
           "monitor": "patrol-07", "report": "patrol-07/2026-03-16/001",
           "submitted_at": "2026-03-17T00:00:00Z", "reason": "Wrong grid square.\t(typo)"})
}

/// A report with a point location, attribution, source coding and several media.
fn point_report() -> Value {
    json!({
        "schema": "pacta.report/1",
        "id": "patrol-07/2026-03-16/002",
        "agreement": "demo",
        "monitor": "patrol-07",
        "submitted_at": "2026-03-16T18:05:00Z",
        "observed": {"start": "2026-03-16T17:42:00Z"},
        "location": {"point": [37.7731, -48.0159], "uncertainty_m": 1200.0},
        "event": {"kind": "explosion", "subtype": "shelling", "count": 12,
                  "weapon_class": "mortar", "casualties": 0},
        "mode": "saw",
        "attribution": {"party": "a", "basis": "direction of fire"},
        "media": [
            {"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
             "media_type": "image/jpeg"},
            {"sha256": "0000000000000000000000000000000000000000000000000000000000000000"}
        ],
        "source": {"dataset": "ucdp", "source_id": "123", "best": 2, "low": 1, "high": 3,
                   "geo_precision": 2},
        "text": "Caf\u{e9} \u{2014} \u{10348} \u{1}\u{1f} end"
    })
}

/// Every kind of entry, signed by its signer, as compact JSON text.
fn signed_entries() -> Vec<String> {
    vec![
        signed_line(&report(), &key(PATROL_07)),
        signed_line(&point_report(), &key(PATROL_07)),
        signed_line(&action(), &key(GUARANTOR_G1)),
        signed_line(&objection(), &key(PARTY_A)),
        signed_line(&ruling(), &key(PANEL_P1)),
        signed_line(&retraction(), &key(PATROL_07)),
    ]
}

/// `text` with its top-level members written in reverse order, names escaped where they
/// contain an `i`, and spaces between tokens: the same object, spelled another way.
fn respelled(text: &str) -> String {
    let value: Value = serde_json::from_str(text).expect("JSON");
    let Value::Object(object) = value else {
        panic!("an entry is an object");
    };
    let members: Vec<String> = object
        .iter()
        .rev()
        .map(|(name, value)| {
            let name = serde_json::to_string(name)
                .expect("name")
                .replace('i', "\\u0069");
            format!("{name} : {value}")
        })
        .collect();
    format!(" {{ {} }} ", members.join(" , "))
}

#[test]
fn every_kind_of_valid_entry_takes_the_one_pass_route_with_the_reference_results() {
    for line in signed_entries() {
        for text in [line.clone(), respelled(&line)] {
            match assert_same_as_reference(&text) {
                Ok(one_pass) => assert!(one_pass, "not read in one pass: {text}"),
                Err(error) => panic!("{error}"),
            }
            assert!(matches!(
                LineChecker::new(&agreement()).check(1, &text),
                Ok(Checked::Entry(_))
            ));
        }
    }
}

/// Lines each rejected (or, for the quirks, accepted) for a reason of its own.
fn awkward_lines() -> Vec<String> {
    let line = signed_line(&report(), &key(PATROL_07));
    let point = signed_line(&point_report(), &key(PATROL_07));
    let mut lines = vec![
        String::new(),
        "   ".to_string(),
        "not json".to_string(),
        "[]".to_string(),
        "{}".to_string(),
        "null".to_string(),
        r#"{"schema": 1}"#.to_string(),
        r#"{"schema": "pacta.nothing/1"}"#.to_string(),
        format!("{line} trailing"),
        format!("{line}{line}"),
        " ".repeat(70_000) + &line,
        line.replacen(r#""schema""#, r#""schema":"pacta.report/1","schema""#, 1),
        line.replacen(r#""mode":"heard""#, r#""mode":"heard","mode":"heard""#, 1),
        line.replacen(r#""count":3"#, r#""count":3.0"#, 1),
        line.replacen(r#""count":3"#, r#""count":-3"#, 1),
        line.replacen(r#""count":3"#, r#""count":9007199254740992"#, 1),
        line.replacen(r#""count":3"#, r#""count":1e400"#, 1),
        line.replacen(r#""bearing_deg":135"#, r#""bearing_deg":135.0"#, 1),
        line.replacen(r#""bearing_deg":135"#, r#""bearing_deg":1.35e2"#, 1),
        line.replacen(
            r#""bearing_deg":135"#,
            r#""bearing_deg":9007199254740993"#,
            1,
        ),
        line.replacen(r#""bearing_deg":135"#, r#""bearing_deg":"135""#, 1),
        line.replacen(r#""mode":"heard""#, r#""mode":{"heard":null}"#, 1),
        line.replacen(r#""mode":"heard""#, r#""mode":"he\u0061rd""#, 1),
        line.replacen(r#""mode":"heard""#, r#""mode":"saw""#, 1),
        line.replacen(r#""agreement":"demo""#, r#""agreement":"other""#, 1),
        line.replacen(r#""monitor":"patrol-07""#, r#""monitor":"patrol-08""#, 1),
        line.replacen(r#""signature":"ed25519:"#, r#""signature":"ed25519:A"#, 1),
        line.replacen(r#""signature":"#, r#""signature":1,"x":"#, 1),
        line.replacen(
            r#""distance_km":[1.4,1.6]"#,
            r#""distance_km":[1.4,1.6,1.8]"#,
            1,
        ),
        line.replacen(
            r#""distance_km":[1.4,1.6]"#,
            r#""distance_km":[1.6,1.4]"#,
            1,
        ),
        line.replacen(r#""observer":"#, r#""point":[1,2],"observer":"#, 1),
        line.replacen(r#""text":"#, r#""text":null,"unknown":"#, 1),
        line.replacen(r#""text":"Three"#, r#""text":"Thr\u0000ee"#, 1),
        line.replacen(r#""text":"Three"#, r#""text":"Thr\ud800ee"#, 1),
        point.replacen(r#""source":{"#, r#""source":{"fatalities":1.5,"#, 1),
        point.replacen(r#""geo_precision":2"#, r#""geo_precision":300"#, 1),
        point.replacen(r#""media_type":"image/jpeg""#, r#""media_type":" ""#, 1),
        point.replacen(r#""party":"a"}"#, r#""party":"z"}"#, 1),
        point.replacen(
            r#""point":[37.7731,-48.0159]"#,
            r#""point":[37.7731,-98.0159]"#,
            1,
        ),
        point.replacen(
            r#""observed":{"start":"2026-03-16T17:42:00Z"}"#,
            r#""observed":["2026-03-16T17:42:00Z"]"#,
            1,
        ),
        point.replacen(
            r#""observed":{"start":"2026-03-16T17:42:00Z"}"#,
            r#""observed":{"start":"2026-03-16T19:42:00Z"}"#,
            1,
        ),
        point.replacen(
            r#""observed":{"start":"2026-03-16T17:42:00Z"}"#,
            r#""observed":{"start":"2026-03-16 17:42"}"#,
            1,
        ),
    ];
    let mut deep = "[".repeat(200);
    deep.push_str(&"]".repeat(200));
    lines.push(deep);
    lines
}

#[test]
fn awkward_lines_get_the_reference_verdict_error_and_hash() {
    for text in awkward_lines() {
        if let Err(error) = assert_same_as_reference(&text) {
            panic!("{error}");
        }
    }
}

#[test]
fn objects_with_names_beyond_the_basic_multilingual_plane_sort_by_utf16() {
    // U+E000 sorts after U+1F600 in UTF-8 bytes but before it in UTF-16 code units.
    let text = r#"{"\ue000":1,"😀":2,"a":3,"é":[true,null,-0.0,1e21,0.000001]}"#;
    let StrictValue(value) = serde_json::from_str(text).expect("strict value");
    let Value::Object(object) = &value else {
        panic!("an object");
    };
    let expected = serde_json_canonicalizer::to_vec(&value).expect("canonical");
    assert_eq!(canonical_bytes(object), Ok(expected.clone()));
    let StrictRaw(raw) = serde_json::from_str(text).expect("strict raw");
    assert_eq!(signed_form(&raw), Ok(expected));
}

/// Any JSON value: every kind of number `serde_json` holds, strings with escapes, controls
/// and characters from every plane, names likewise.
fn any_json() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        (-1e6..1e6_f64).prop_map(Value::from),
        (-(1i64 << 53)..(1i64 << 53)).prop_map(Value::from),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        any::<String>().prop_map(Value::String),
        "[a-z\"\\\\/\u{0}-\u{1f}\u{7f}é\u{e000}\u{ffff}\u{10000}]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let name = prop_oneof![
            any::<String>(),
            "[a-z\"\\\\\u{0}-\u{1f}é\u{e000}\u{ffff}\u{10000}\u{1f600}]{0,4}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(name, inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value to put somewhere in an entry: what a type check, a range check or the number rules
/// might trip on.
fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(3),
            Just(181),
            Just(100_001),
            Just((1 << 53) - 1),
            Just(1 << 53),
            Just(i64::MIN),
        ]
        .prop_map(Value::from),
        prop_oneof![
            Just(0.5),
            Just(-0.0),
            Just(3.0),
            Just(1e21),
            Just(1e-7),
            Just(359.99)
        ]
        .prop_map(Value::from),
        prop_oneof![
            Just(""),
            Just(" "),
            Just("heard"),
            Just("impact"),
            Just("patrol-08"),
            Just("a"),
            Just("demo"),
            Just("2026-03-16T17:43:00Z"),
            Just("2026-03-16T17:43:00+02:00"),
            Just("pacta.retraction/1"),
            Just("ed25519:AAAA"),
            Just("a b"),
            Just("\u{1}\"\\"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
        Just(json!([])),
        Just(json!([1, 2])),
        Just(json!({})),
        Just(json!({"heard": null})),
    ]
}

/// Every path to a value in `value` (as JSON pointers), containers included.
fn paths(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (name, child) in object {
                let path = format!("{at}/{name}");
                out.push(path.clone());
                paths(child, path, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let path = format!("{at}/{i}");
                out.push(path.clone());
                paths(child, path, out);
            }
        }
        _ => {}
    }
}

proptest! {
    #[test]
    fn canonical_forms_equal_serde_json_canonicalizers(
        members in prop::collection::btree_map(any::<String>(), any_json(), 0..8),
        signature in any_json(),
    ) {
        let mut object: Map<String, Value> = members.into_iter().collect();
        let expected_signed = serde_json_canonicalizer::to_vec(&object).expect("canonical");
        object.insert("signature".to_string(), signature);
        let expected_full = serde_json_canonicalizer::to_vec(&object).expect("canonical");
        let forms = canonical_forms(&object).expect("forms");
        prop_assert_eq!(&forms.full, &expected_full);
        prop_assert_eq!(&forms.signed, &expected_signed);
        prop_assert_eq!(canonical_bytes(&object), Ok(expected_full));
    }

    #[test]
    fn one_pass_tree_reads_what_the_value_reads_with_the_same_canonical_form(
        value in any_json()
    ) {
        let object = json!({"signature": "s", "x": value});
        for text in [object.to_string(), serde_json::to_string_pretty(&object).expect("text")] {
            let strict_value = serde_json::from_str::<StrictValue>(&text);
            let strict_raw = serde_json::from_str::<StrictRaw>(&text);
            prop_assert_eq!(strict_value.is_ok(), strict_raw.is_ok(), "{}", text);
            if let (Ok(StrictValue(Value::Object(object))), Ok(StrictRaw(raw))) =
                (strict_value, strict_raw)
            {
                prop_assert_eq!(signed_form(&raw).expect("form"), reference_signed(&object));
            }
        }
    }

    #[test]
    fn a_changed_entry_gets_the_reference_verdict_error_and_hash(
        which in 0usize..6,
        changes in prop::collection::vec((any::<prop::sample::Index>(), replacement()), 1..3),
        remove in any::<Option<prop::sample::Index>>(),
    ) {
        let entries = [report(), point_report(), action(), objection(), ruling(), retraction()];
        let signers = [PATROL_07, PATROL_07, GUARANTOR_G1, PARTY_A, PANEL_P1, PATROL_07];
        let mut value = entries[which].clone();
        for (at, replacement) in changes {
            let mut all = Vec::new();
            paths(&value, String::new(), &mut all);
            if let Some(target) = value.pointer_mut(&all[at.index(all.len())]) {
                *target = replacement;
            }
        }
        if let (Some(at), Value::Object(object)) = (remove, &mut value) {
            let names: Vec<String> = object.keys().cloned().collect();
            if !names.is_empty() {
                object.remove(&names[at.index(names.len())]);
            }
        }
        // Signed after the change (so the signature holds and the entry's own checks decide),
        // and also the original signature on the changed entry.
        let line = signed_line(&value, &key(signers[which]));
        assert_same_as_reference(&line)?;
        assert_same_as_reference(&respelled(&line))?;
        let original = signed_line(&entries[which], &key(signers[which]));
        let original: Value = serde_json::from_str(&original).expect("JSON");
        if let Value::Object(object) = &mut value {
            object.insert("signature".to_string(), original["signature"].clone());
        }
        assert_same_as_reference(&value.to_string())?;
    }

    #[test]
    fn a_line_with_changed_bytes_gets_the_reference_verdict_error_and_hash(
        which in 0usize..6,
        edits in prop::collection::vec(
            (any::<prop::sample::Index>(), 0usize..3, prop::sample::select(
                br#"{}[]",:0123456789.eE+- \u/nta"#.to_vec())),
            1..4,
        ),
    ) {
        let mut bytes = signed_entries()[which].clone().into_bytes();
        for (at, kind, byte) in edits {
            let at = at.index(bytes.len());
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => {
                    bytes.remove(at);
                }
            }
        }
        if let Ok(text) = String::from_utf8(bytes) {
            assert_same_as_reference(&text)?;
        }
    }
}

#[cfg(feature = "parallel")]
#[test]
fn a_batch_checked_on_every_core_gets_each_lines_reference_verdict() {
    let mut lines = awkward_lines();
    lines.extend(signed_entries());
    let bytes: Vec<Vec<u8>> = lines
        .iter()
        .map(|line| format!("{line}\n").into_bytes())
        .collect();
    let bytes: crate::entry::LineBatch = bytes.iter().map(Vec::as_slice).collect();
    let keys = KeyRing::new(&agreement());
    let batch = LineChecker::new(&agreement()).check_lines(&bytes, 10);
    assert_eq!(batch.len(), lines.len());
    for (i, (text, checked)) in lines.iter().zip(batch).enumerate() {
        let expected = reference_check(&keys, 10 + i, text).map(Checked::into_assessed_form);
        assert_eq!(checked, expected, "{text}");
    }
}

/// Lines whose signatures fail, or pass only under a key other than the signer's first, in
/// every way a batch's shared verification must not change: with the signer's second key,
/// an unlisted key, another signer's key, a changed signature, between valid lines.
#[test]
fn a_batch_verified_at_once_gets_each_lines_reference_verdict() {
    const SECOND_KEY: u8 = 70;
    const UNLISTED: u8 = 71;
    let agreement = agreement_with_monitor_keys(vec![
        public_key_of(&key(PATROL_07)),
        public_key_of(&key(SECOND_KEY)),
    ]);
    let first = signed_line(&report(), &key(PATROL_07));
    let mut changed: Value = serde_json::from_str(&first).expect("a signed line");
    if let Some(signature) = changed.get_mut("signature") {
        let mut text = signature.as_str().unwrap_or_default().to_string();
        text.replace_range(12..13, if &text[12..13] == "A" { "B" } else { "A" });
        *signature = Value::String(text);
    }
    // Lines with nothing to verify among those with, so verdicts taken out of turn show.
    let lines = [
        "not json".to_string(),
        first.clone(),
        String::new(),
        changed.to_string(),
        signed_line(&report(), &key(SECOND_KEY)),
        signed_line(&report(), &key(UNLISTED)),
        "{}".to_string(),
        first,
        signed_line(&report(), &key(PATROL_08)),
        signed_line(&report(), &key(PARTY_A)),
    ];
    let batch: crate::entry::LineBatch = lines.iter().map(String::as_bytes).collect();
    let checker = LineChecker::new(&agreement);
    let keys = KeyRing::new(&agreement);
    let expected: Vec<_> = lines
        .iter()
        .enumerate()
        .map(|(i, text)| reference_check(&keys, 3 + i, text).map(Checked::into_assessed_form))
        .collect();
    let accepted = expected.iter().filter(|checked| checked.is_ok()).count();
    assert_eq!(accepted, 4, "{expected:#?}");
    assert_eq!(checker.check_lines_here(&batch, 3), expected);
    #[cfg(feature = "parallel")]
    assert_eq!(checker.check_lines(&batch, 3), expected);
    // A server's batch: each text's verdict as if verified alone, more lines than are
    // verified together.
    let texts: Vec<String> = std::iter::repeat_n(lines, 8)
        .flatten()
        .chain(awkward_lines())
        .collect();
    let alone: Vec<_> = texts.iter().map(|text| keys.verify_text(text)).collect();
    assert_eq!(keys.verify_texts(texts.iter().map(String::as_str)), alone);
}
