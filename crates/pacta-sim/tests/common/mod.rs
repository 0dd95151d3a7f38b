//! The demo agreement and its DEMO-ONLY monitor keys, for the integration tests.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use pacta_core::agreement::model::Agreement;
use pacta_core::agreement::{parse_agreement, SourceLoader};
use pacta_sim::MonitorKeys;

struct Dir(PathBuf);

impl SourceLoader for Dir {
    fn load(&self, relative_path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(relative_path)).map_err(|e| e.to_string())
    }
}

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo")
}

/// The parsed demo agreement.
pub fn demo_agreement() -> Agreement {
    let dir = demo_dir();
    let text = std::fs::read_to_string(dir.join("agreement.toml")).expect("demo agreement");
    match parse_agreement("agreement.toml", &text, &Dir(dir)) {
        Ok(parsed) => parsed.agreement,
        Err(_) => panic!("the demo agreement does not parse"),
    }
}

/// The demo monitors' signing keys.
pub fn demo_keys(agreement: &Agreement) -> MonitorKeys {
    let mut keys = MonitorKeys::new();
    for monitor in agreement.monitors.keys() {
        let path = demo_dir().join("keys").join(format!("{monitor}.key.json"));
        let text = std::fs::read_to_string(&path).expect("demo key file");
        let json: serde_json::Value = serde_json::from_str(&text).expect("key JSON");
        let secret = json["secret"].as_str().expect("secret");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(secret)
            .expect("base64");
        let seed: [u8; 32] = bytes.try_into().expect("32 bytes");
        keys.insert(monitor.clone(), SigningKey::from_bytes(&seed));
    }
    keys
}
