//! The dashboard as `pacta demo` serves it over real HTTP on an ephemeral loopback port: its
//! routes, its offline assets and the zones GeoJSON with the derived zones.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

// The server tests' HTTP client (no proxy, whole-body reads).
#[path = "../../pacta-server/tests/common/http.rs"]
mod http;
use http::{agent, Response};

/// A `pacta demo` child process serving on 127.0.0.1; killed when dropped.
struct Demo {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Demo {
    /// Starts a short demo (seven days) and waits for it to print its URL.
    fn start() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_pacta"))
            .args(["demo", "--listen", "127.0.0.1:0", "--days", "7", "--data"])
            .arg(dir.path().join("data"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("pacta runs");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut demo = Demo {
            child,
            base: String::new(),
            _dir: dir,
        };
        demo.base = loop {
            let line = lines
                .next()
                .expect("the demo exited before printing its dashboard URL")
                .unwrap();
            if let Some(url) = line.strip_prefix("dashboard: ") {
                break url.trim_end_matches('/').to_owned();
            }
        };
        // Keep draining standard output so the demo never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        demo
    }

    /// Status, content type and body of `GET path`.
    fn get(&self, path: &str) -> (u16, String, String) {
        let response = agent().get(&format!("{}{path}", self.base)).call().unwrap();
        let Response {
            status,
            content_type,
            body,
        } = Response::read(response);
        (status, content_type, body)
    }
}

#[test]
fn dashboard_routes_answer_200_with_their_content_types() {
    let demo = Demo::start();
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/style.css", "text/css; charset=utf-8"),
        ("/dashboard/oblasts.geojson", "application/geo+json"),
        ("/dashboard/zones.geojson", "application/geo+json"),
    ] {
        let (status, actual, body) = demo.get(path);
        assert_eq!(status, 200, "GET {path}");
        assert_eq!(actual, content_type, "GET {path}");
        assert!(!body.is_empty(), "GET {path} is empty");
    }
}

#[test]
fn dashboard_loads_nothing_from_outside_the_server() {
    let demo = Demo::start();
    let (_, _, html) = demo.get("/");
    assert!(html.contains("src=\"/dashboard/app.js\""));
    assert!(html.contains("href=\"/dashboard/style.css\""));
    for (path, body) in [
        ("/", html),
        ("/dashboard/app.js", demo.get("/dashboard/app.js").2),
    ] {
        for remote in [
            "src=\"http",
            "href=\"http",
            "fetch(\"http",
            "url(http",
            "//cdn",
        ] {
            assert!(
                !body.contains(remote),
                "{path} refers to a remote resource: {remote}"
            );
        }
    }
    let (_, _, oblasts) = demo.get("/dashboard/oblasts.geojson");
    let oblasts: Value = serde_json::from_str(&oblasts).unwrap();
    assert!(oblasts["attribution"]
        .as_str()
        .unwrap()
        .contains("© OpenStreetMap contributors"));
    assert_eq!(oblasts["features"].as_array().unwrap().len(), 25);
}

#[test]
fn zones_geojson_draws_the_derived_zones_as_approximate_polygons() {
    let demo = Demo::start();
    let (_, _, body) = demo.get("/dashboard/zones.geojson");
    let parsed: geojson::GeoJson = body.parse().expect("valid GeoJSON");
    let geojson::GeoJson::FeatureCollection(collection) = parsed else {
        panic!("not a FeatureCollection");
    };
    let feature = |id: &str| {
        collection
            .features
            .iter()
            .find(|f| f.property("id").and_then(|v| v.as_str()) == Some(id))
            .unwrap_or_else(|| panic!("no zone `{id}`"))
    };
    for id in [
        "dmz",
        "dmz_a",
        "dmz_b",
        "artillery_exclusion_a",
        "artillery_exclusion_b",
        "armour_exclusion_a",
        "armour_exclusion_b",
    ] {
        let zone = feature(id);
        assert_eq!(
            zone.property("kind").and_then(|v| v.as_str()),
            Some("within"),
            "{id}"
        );
        assert_eq!(
            zone.property("approximate"),
            Some(&Value::Bool(true)),
            "{id}"
        );
        let geometry = zone
            .geometry
            .as_ref()
            .unwrap_or_else(|| panic!("{id} has no geometry"));
        assert!(
            matches!(&geometry.value, geojson::Value::MultiPolygon(p) if !p.is_empty()),
            "{id} is not a non-empty MultiPolygon"
        );
    }
    let line = feature("contact_line");
    assert!(matches!(
        line.geometry.as_ref().map(|g| &g.value),
        Some(geojson::Value::MultiLineString(_))
    ));
    assert_eq!(line.property("approximate"), Some(&Value::Bool(false)));
    assert_eq!(
        feature("a-controlled")
            .property("controlled_by")
            .and_then(|v| v.as_str()),
        Some("a")
    );
}
