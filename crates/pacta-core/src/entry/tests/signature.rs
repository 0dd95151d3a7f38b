use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use serde_json::{json, Value};

use super::{
    agreement, agreement_with_monitor_keys, key, report, report_with, ruling, signed_line,
    GUARANTOR_G1, PANEL_P1, PARTY_A, PATROL_07, PATROL_08,
};
use crate::agreement::model::{PublicKey, Role};
use crate::entry::json::StrictValue;
use crate::entry::{
    authorise, canonical_bytes, canonical_forms, format_public_key, format_signature, parse_entry,
    parse_public_key, parse_signature, public_key_of, sign_entry, signed_message, AuthError,
    KeyRing,
};

fn authorise_line(line: &str) -> Result<Role, AuthError> {
    let parsed = parse_entry(line).expect("entry is valid");
    authorise(&parsed, &agreement())
}

/// Replaces the `signature` member of a signed line.
fn with_signature(line: &str, signature: &str) -> String {
    let mut value: Value = serde_json::from_str(line).expect("JSON");
    value["signature"] = json!(signature);
    value.to_string()
}

#[test]
fn signed_report_verifies_under_its_monitors_key() {
    let line = signed_line(&report(), &key(PATROL_07));
    assert_eq!(authorise_line(&line), Ok(Role::Monitor));
}

#[test]
fn signature_covers_the_object_whatever_its_formatting_and_member_order() {
    let signed = sign_entry(&report(), &key(PATROL_07)).expect("sign");
    let pretty = serde_json::to_string_pretty(&signed).expect("print");
    assert_eq!(authorise_line(&pretty), Ok(Role::Monitor));
}

#[test]
fn signing_replaces_an_existing_signature() {
    let once = sign_entry(&report(), &key(PATROL_08)).expect("sign");
    let twice = sign_entry(&once, &key(PATROL_07)).expect("sign");
    assert_eq!(authorise_line(&twice.to_string()), Ok(Role::Monitor));
}

#[test]
fn changing_one_byte_after_signing_fails_verification() {
    let line = signed_line(&report(), &key(PATROL_07)).replace("\"count\":3", "\"count\":4");
    assert_eq!(
        authorise_line(&line),
        Err(AuthError::BadSignature {
            role: Role::Monitor,
            id: "patrol-07".to_string()
        })
    );
}

#[test]
fn signature_by_another_monitors_key_names_both_monitors() {
    let line = signed_line(&report(), &key(PATROL_08));
    let error = authorise_line(&line).expect_err("wrong key");
    assert_eq!(
        error.to_string(),
        "signed by a key of monitor `patrol-08`, not a key of monitor `patrol-07`"
    );
}

#[test]
fn report_signed_by_a_guarantor_key_is_not_a_monitors() {
    let line = signed_line(&report(), &key(GUARANTOR_G1));
    let error = authorise_line(&line).expect_err("wrong role");
    assert!(error
        .to_string()
        .contains("not a key of monitor `patrol-07`"));
}

#[test]
fn entry_for_another_agreement_is_rejected() {
    let line = signed_line(&report_with(json!({"agreement": "other"})), &key(PATROL_07));
    assert_eq!(
        authorise_line(&line),
        Err(AuthError::WrongAgreement {
            found: "other".to_string(),
            expected: "demo".to_string()
        })
    );
}

#[test]
fn monitor_not_in_the_agreement_is_rejected() {
    let value = report_with(json!({"monitor": "patrol-99"}));
    let line = signed_line(&value, &key(PATROL_07));
    assert_eq!(
        authorise_line(&line),
        Err(AuthError::UnknownSigner {
            role: Role::Monitor,
            id: "patrol-99".to_string()
        })
    );
}

#[test]
fn unsigned_entry_is_rejected() {
    assert_eq!(
        authorise_line(&report().to_string()),
        Err(AuthError::Unsigned)
    );
}

#[test]
fn signature_without_prefix_is_rejected() {
    let line = signed_line(&report(), &key(PATROL_07));
    let bare = with_signature(&line, "AAAA");
    assert!(matches!(
        authorise_line(&bare),
        Err(AuthError::BadSignatureEncoding(_))
    ));
}

/// L, the order of the Ed25519 base point, little-endian.
const ORDER_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

#[test]
fn malleated_signature_with_s_plus_l_is_rejected() {
    let line = signed_line(&report(), &key(PATROL_07));
    let parsed = parse_entry(&line).expect("valid");
    let signature = parse_signature(parsed.entry.signature().expect("signed")).expect("decodes");
    let mut bytes = signature.to_bytes();
    let mut carry = 0u16;
    for (s, l) in bytes[32..].iter_mut().zip(ORDER_L) {
        let sum = u16::from(*s) + u16::from(l) + carry;
        *s = (sum & 0xff) as u8;
        carry = sum >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 32 bytes since S < L < 2^253");
    let malleated = with_signature(&line, &format_signature(&Signature::from_bytes(&bytes)));
    assert!(matches!(
        authorise_line(&malleated),
        Err(AuthError::BadSignature { .. })
    ));
}

/// The identity point, of order 1: a weak key under which R = identity, S = 0 "signs" any
/// message for a lenient verifier.
#[test]
fn small_order_key_is_rejected_although_lenient_verification_accepts_it() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let weak = VerifyingKey::from_bytes(&identity).expect("the identity decodes");
    let mut forged = [0u8; 64];
    forged[0] = 1;
    let forged = Signature::from_bytes(&forged);
    let mut value = report();
    value["signature"] = json!(format_signature(&forged));
    let parsed = parse_entry(&value.to_string()).expect("valid");
    let message = signed_message(&parsed.object).expect("canonical");
    assert!(weak.verify(&message, &forged).is_ok(), "lenient accepts");

    let agreement = agreement_with_monitor_keys(vec![PublicKey(identity)]);
    assert_eq!(
        KeyRing::new(&agreement).authorise(&parsed),
        Err(AuthError::NoKeys {
            role: Role::Monitor,
            id: "patrol-07".to_string()
        })
    );
}

#[test]
fn public_key_text_round_trips() {
    let public = public_key_of(&key(PATROL_07));
    let text = format_public_key(&public);
    assert!(text.starts_with("ed25519:"));
    assert_eq!(parse_public_key(&text), Ok(public));
}

/// RFC 8785 §3.2.2 and §3.2.3: the sample object and its canonical form, which exercises
/// number formatting (ECMAScript shortest round-trip), string escaping and member order.
#[test]
fn canonical_form_matches_rfc_8785_example() {
    let input = r#"{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"#;
    let StrictValue(value) = serde_json::from_str(input).expect("JSON");
    let Value::Object(object) = value else {
        panic!("object expected")
    };
    let expected = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,\
                    0.002,1e-27],\"string\":\"€$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    assert_eq!(
        String::from_utf8(canonical_bytes(&object).expect("canonical")).expect("UTF-8"),
        expected
    );
}

#[test]
fn signed_message_excludes_the_signature_member() {
    let signed = sign_entry(&report(), &key(PATROL_07)).expect("sign");
    let Value::Object(object) = signed else {
        panic!("object expected")
    };
    let message = String::from_utf8(signed_message(&object).expect("canonical")).expect("UTF-8");
    assert!(!message.contains("signature"));
    assert!(message.starts_with("{\"agreement\":\"demo\",\"event\":"));
}

/// U+1F600 is a surrogate pair in UTF-16 (0xD83D ...), so it sorts before U+E000 there,
/// though after it in UTF-8 and in Rust's string order.
#[test]
fn canonical_forms_sort_members_by_utf16_and_match_whole_object_canonicalization() {
    let mut value = report();
    value["\u{E000}"] = json!(1);
    value["\u{1F600}"] = json!(2);
    value["signature"] = json!("ed25519:x");
    let Value::Object(object) = value else {
        panic!("object expected")
    };
    let forms = canonical_forms(&object).expect("canonical");
    assert_eq!(forms.full, canonical_bytes(&object).expect("canonical"));
    let mut unsigned = object.clone();
    unsigned.remove("signature");
    assert_eq!(forms.signed, canonical_bytes(&unsigned).expect("canonical"));
    let text = String::from_utf8(forms.full).expect("UTF-8");
    assert!(text.find('\u{1F600}') < text.find('\u{E000}'), "{text}");
}

#[test]
fn typed_entry_signs_and_reads_back_equal() {
    let entry = parse_entry(&report().to_string()).expect("valid").entry;
    let signed = sign_entry(&entry, &key(PATROL_07)).expect("sign");
    let parsed = parse_entry(&signed.to_string()).expect("valid");
    assert_eq!(authorise(&parsed, &agreement()), Ok(Role::Monitor));
    let mut read_back = parsed.entry;
    if let crate::entry::types::Entry::Report(report) = &mut read_back {
        report.signature = None;
    }
    assert_eq!(read_back, entry);
}

#[test]
fn signature_by_an_unlisted_key_says_it_is_not_the_monitors() {
    let line = signed_line(&report(), &key(99));
    let error = authorise_line(&line).expect_err("unlisted key");
    assert!(
        error
            .to_string()
            .starts_with("not signed by a key of monitor `patrol-07`"),
        "{error}"
    );
}

fn action() -> Value {
    json!({"schema": "pacta.action/1", "id": "g1/consult/1", "agreement": "demo",
           "guarantor": "g1", "obligation": "consult/f1/g1", "action": "consultations",
           "taken_at": "2026-03-19T00:00:00Z", "submitted_at": "2026-03-19T01:00:00Z"})
}

fn objection() -> Value {
    json!({"schema": "pacta.objection/1", "id": "a/objection/1", "agreement": "demo",
           "party": "a", "finding": "f1", "submitted_at": "2026-03-19T00:00:00Z",
           "grounds": "Our unit was not there."})
}

#[test]
fn each_entry_kind_is_authorised_under_its_signers_role() {
    let cases = [
        (action(), GUARANTOR_G1, Role::Guarantor),
        (objection(), PARTY_A, Role::Party),
        (ruling(), PANEL_P1, Role::Panel),
    ];
    for (value, signer, role) in cases {
        assert_eq!(authorise_line(&signed_line(&value, &key(signer))), Ok(role));
    }
}

#[test]
fn action_signed_by_a_party_key_is_not_the_guarantors() {
    let error = authorise_line(&signed_line(&action(), &key(PARTY_A))).expect_err("wrong role");
    assert_eq!(
        error.to_string(),
        "signed by a key of party `a`, not a key of guarantor `g1`"
    );
}

#[test]
fn ruling_by_someone_not_on_the_panel_is_rejected() {
    let mut value = ruling();
    value["panelist"] = json!("g1");
    let error = authorise_line(&signed_line(&value, &key(GUARANTOR_G1))).expect_err("not panel");
    assert_eq!(
        error,
        AuthError::UnknownSigner {
            role: Role::Panel,
            id: "g1".to_string()
        }
    );
}

#[test]
fn report_claiming_a_mode_its_monitor_is_not_registered_for_is_rejected() {
    // patrol-07 is registered for patrol, saw and heard: a UAV claim could pass an evidence
    // standard's "UAV alone" rule that its observations cannot meet.
    let line = signed_line(&report_with(json!({"mode": "uav"})), &key(PATROL_07));
    assert!(matches!(
        authorise_line(&line),
        Err(AuthError::ModeNotRegistered { ref monitor, ref mode, .. })
            if monitor == "patrol-07" && mode == "uav"
    ));
}

#[test]
fn report_attributing_to_a_party_not_in_the_agreement_is_rejected() {
    let patch = json!({"attribution": {"party": "zz", "basis": "said so"}});
    let line = signed_line(&report_with(patch), &key(PATROL_07));
    assert_eq!(
        authorise_line(&line),
        Err(AuthError::UnknownParty {
            party: "zz".to_string()
        })
    );
}
