//! The demo's DEMO-ONLY key files are real Ed25519 keypairs and the agreement lists each
//! public key, so the simulator and scenario tests can sign as every actor.

use std::path::PathBuf;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde_json::Value;

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo")
}

/// `(file name, parsed JSON)` of every key file, sorted by name.
fn key_files() -> Vec<(String, Value)> {
    let mut files: Vec<(String, Value)> = std::fs::read_dir(demo().join("keys"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".key.json"))
                .filter_map(|p| {
                    let text = std::fs::read_to_string(&p).ok()?;
                    let name = p.file_name()?.to_string_lossy().into_owned();
                    Some((name, serde_json::from_str(&text).ok()?))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

#[test]
fn there_is_a_key_for_each_party_guarantor_monitor_and_panel_member() {
    let names: Vec<String> = key_files().into_iter().map(|(name, _)| name).collect();
    assert_eq!(names.len(), 15, "{names:?}");
    for expected in [
        "party-a",
        "g1",
        "g4",
        "imm-uav-1",
        "sensor-net-1",
        "panel-3",
    ] {
        assert!(
            names.contains(&format!("{expected}.key.json")),
            "{expected}"
        );
    }
}

#[test]
fn each_secret_derives_its_stated_public_key() {
    for (name, key) in key_files() {
        let seed: Option<[u8; 32]> = key["secret"]
            .as_str()
            .and_then(|s| BASE64.decode(s).ok())
            .and_then(|bytes| bytes.try_into().ok());
        let derived = seed.map(|seed| {
            let public = SigningKey::from_bytes(&seed).verifying_key();
            format!("ed25519:{}", BASE64.encode(public.as_bytes()))
        });
        assert_eq!(derived.as_deref(), key["public"].as_str(), "{name}");
        assert_eq!(key["algorithm"].as_str(), Some("ed25519"), "{name}");
    }
}

#[test]
fn the_agreement_lists_each_public_key_in_its_owners_table() {
    let text = std::fs::read_to_string(demo().join("agreement.toml")).unwrap_or_default();
    for (name, key) in key_files() {
        let id = key["name"].as_str().unwrap_or_default();
        let public = key["public"].as_str().unwrap_or_default();
        let table = ["parties", "guarantors", "monitors", "panel"]
            .iter()
            .map(|section| {
                // Parties are `a` and `b` in the agreement; their key files are `party-a`, `party-b`.
                let key_id = id.strip_prefix("party-").unwrap_or(id);
                format!("[{section}.{key_id}]")
            })
            .find_map(|header| text.find(&header));
        let listed = table.and_then(|start| {
            let rest = text.get(start..)?;
            let end = rest.get(1..)?.find("\n[").map_or(rest.len(), |n| n + 1);
            rest.get(..end)
        });
        assert!(
            listed.is_some_and(|t| t.contains(public)),
            "{name}: {public} not in the table of `{id}`"
        );
    }
}
