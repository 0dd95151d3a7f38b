//! The simulator on an agreement that is not the demo: no controlled areas, one line, two
//! monitors, keys made up for the test; and the scenario format documented in
//! `docs/simulation.md`.

use ed25519_dalek::SigningKey;
use pacta_core::agreement::{parse_agreement, SourceLoader};
use pacta_core::entry::{format_public_key, public_key_of, read_entries};
use pacta_sim::truth::TrueKind;
use pacta_sim::{simulate, MonitorKeys, ScenarioConfig};

struct Inline;

impl SourceLoader for Inline {
    fn load(&self, relative_path: &str) -> Result<String, String> {
        match relative_path {
            "line.geojson" => Ok(r#"{"type": "LineString",
                "coordinates": [[30.0, 50.0], [30.5, 50.3], [31.2, 50.4]]}"#
                .to_string()),
            other => Err(format!("no file {other}")),
        }
    }
}

#[test]
fn an_agreement_without_controlled_areas_gets_verifiable_reports() {
    let sensor = SigningKey::from_bytes(&[7; 32]);
    let patrol = SigningKey::from_bytes(&[9; 32]);
    let text = format!(
        r#"
format = 1
id = "tiny"
title = "Tiny"
effective = "2026-01-01T00:00:00Z"
objection_window = "24h"

[parties.north]
name = "North"

[parties.south]
name = "South"

[monitors.ears]
organisation = "acoustics"
keys = ["{}"]
modes = ["sensor"]

[monitors.walkers]
organisation = "mission"
keys = ["{}"]
modes = ["patrol", "heard", "saw"]

[zones.line]
geojson = "line.geojson"

[evidence.two]
min_reports = 2
min_independent_monitors = 2

[[commitment]]
id = "no-fire"
text = "No fire."
binds = ["north", "south"]
prohibits = {{ kind = ["explosion", "burst"] }}
evidence = "two"
severity = "serious"
"#,
        format_public_key(&public_key_of(&sensor)),
        format_public_key(&public_key_of(&patrol)),
    );
    let agreement = match parse_agreement("tiny.toml", &text, &Inline) {
        Ok(parsed) => parsed.agreement,
        Err(d) => panic!("{d:?}"),
    };
    let keys: MonitorKeys = [
        ("ears".to_string(), sensor),
        ("walkers".to_string(), patrol),
    ]
    .into_iter()
    .collect();
    let config = ScenarioConfig {
        days: 5,
        ..ScenarioConfig::default()
    };
    let sim = simulate(&agreement, &config, &keys, 11).unwrap();
    assert!(!sim.reports.is_empty());
    let (accepted, errors) = read_entries(&sim.reports.join("\n"), &agreement);
    assert!(errors.is_empty(), "{:?}", errors.first());
    assert_eq!(accepted.len(), sim.reports.len());
    for e in &sim.truth.events {
        let expected: &[&str] = if e.kind == TrueKind::Fire {
            &["no-fire"]
        } else {
            &[]
        };
        let breached: Vec<&str> = e.breaches.iter().map(|b| b.commitment.as_str()).collect();
        assert_eq!(breached, expected, "{}", e.id);
    }
}

#[test]
fn an_empty_scenario_file_is_the_default_scenario() {
    assert_eq!(
        ScenarioConfig::from_toml("").unwrap(),
        ScenarioConfig::default()
    );
}
