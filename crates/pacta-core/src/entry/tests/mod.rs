//! Tests of entry reading, signing, authorisation, location resolution and NDJSON reading,
//! over a small agreement with two monitors, a guarantor, a party and a panel member.

mod fast_path;
mod location;
mod ndjson;
mod signature;
mod validate;

use std::collections::BTreeMap;

use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

use crate::agreement::model::{
    Agreement, Guarantor, Monitor, ObservationMode, PanelMember, Party, PublicKey,
};
use crate::entry::{public_key_of, sign_entry};
use crate::time::{Duration, Timestamp};

/// Deterministic test keys: seed bytes all equal to `n`.
pub(super) fn key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}

pub(super) const PATROL_07: u8 = 7;
pub(super) const PATROL_08: u8 = 8;
pub(super) const GUARANTOR_G1: u8 = 21;
pub(super) const PARTY_A: u8 = 31;
pub(super) const PANEL_P1: u8 = 41;

/// The agreement `demo`: monitors `patrol-07` and `patrol-08`, guarantor `g1`, party `a`,
/// panel member `p1`, each with the key of the matching constant.
pub(super) fn agreement() -> Agreement {
    agreement_with_monitor_keys(vec![public_key_of(&key(PATROL_07))])
}

pub(super) fn agreement_with_monitor_keys(patrol_07_keys: Vec<PublicKey>) -> Agreement {
    let monitor = |keys| Monitor {
        organisation: "mission".to_string(),
        keys,
        modes: vec![
            ObservationMode::Patrol,
            ObservationMode::Saw,
            ObservationMode::Heard,
        ],
    };
    Agreement {
        id: "demo".to_string(),
        title: "Demo".to_string(),
        version: 1,
        effective: Timestamp(0),
        until: None,
        objection_window: Duration::hours(72),
        parties: BTreeMap::from([(
            "a".to_string(),
            Party {
                name: "Party A".to_string(),
                controls: None,
                keys: vec![public_key_of(&key(PARTY_A))],
            },
        )]),
        guarantors: BTreeMap::from([(
            "g1".to_string(),
            Guarantor {
                name: "Guarantor 1".to_string(),
                keys: vec![public_key_of(&key(GUARANTOR_G1))],
            },
        )]),
        monitors: BTreeMap::from([
            ("patrol-07".to_string(), monitor(patrol_07_keys)),
            (
                "patrol-08".to_string(),
                monitor(vec![public_key_of(&key(PATROL_08))]),
            ),
        ]),
        panel: BTreeMap::from([(
            "p1".to_string(),
            PanelMember {
                name: "Panelist 1".to_string(),
                keys: vec![public_key_of(&key(PANEL_P1))],
            },
        )]),
        zones: BTreeMap::new(),
        evidence: BTreeMap::new(),
        corroboration: Default::default(),
        attribution: Default::default(),
        commitments: Vec::new(),
        responses: Vec::new(),
        phases: Vec::new(),
        indicators: Default::default(),
        locations: BTreeMap::new(),
    }
}

/// A valid, unsigned report by `patrol-07` with an observer-relative location.
/// A panel ruling upholding objection `a/objection/1`, unsigned.
pub(super) fn ruling() -> Value {
    json!({"schema": "pacta.ruling/1", "id": "p1/ruling/1", "agreement": "demo",
           "panelist": "p1", "objection": "a/objection/1", "decision": "upheld",
           "submitted_at": "2026-03-20T00:00:00Z", "reasons": "The imagery shows another unit."})
}

pub(super) fn report() -> Value {
    json!({
        "schema": "pacta.report/1",
        "id": "patrol-07/2026-03-16/001",
        "agreement": "demo",
        "monitor": "patrol-07",
        "submitted_at": "2026-03-16T18:05:00+02:00",
        "observed": {"start": "2026-03-16T17:42:00+02:00", "end": "2026-03-16T17:44:00+02:00"},
        "location": {
            "observer": [37.7731, 48.0159],
            "observer_uncertainty_m": 10,
            "bearing_deg": 135,
            "distance_km": [1.4, 1.6]
        },
        "event": {"kind": "explosion", "count": 3, "weapon_class": "artillery_ge_100mm",
                  "assessment": "impact"},
        "mode": "heard",
        "media": [{"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}],
        "text": "Three explosions assessed as impacts of artillery rounds, 1.4-1.6 km SE."
    })
}

/// `report()` with `patch` applied at top level (a `null` removes the member).
pub(super) fn report_with(patch: Value) -> Value {
    let mut value = report();
    if let (Value::Object(target), Value::Object(changes)) = (&mut value, patch) {
        for (name, change) in changes {
            if change.is_null() {
                target.remove(&name);
            } else {
                target.insert(name, change);
            }
        }
    }
    value
}

/// `value` signed with `key`, as one line of JSON text.
pub(super) fn signed_line(value: &Value, key: &SigningKey) -> String {
    match sign_entry(value, key) {
        Ok(signed) => signed.to_string(),
        Err(error) => panic!("test entry must be signable: {error}"),
    }
}
