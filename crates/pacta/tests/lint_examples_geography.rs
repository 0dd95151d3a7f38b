//! The demo's illustrative line of contact is what its README says it is: settlements in
//! front-line order, each traceable to a UCDP GED row whose coordinates it uses.

use std::path::PathBuf;

use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn contact_line() -> Value {
    let path = repo().join("examples/demo/zones/contact-line.geojson");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn feature(line: &Value) -> &Value {
    &line["features"][0]
}

fn coordinates(line: &Value) -> Vec<(f64, f64)> {
    feature(line)["geometry"]["coordinates"]
        .as_array()
        .map(|points| {
            points
                .iter()
                .filter_map(|p| Some((p[0].as_f64()?, p[1].as_f64()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn vertices(line: &Value) -> Vec<Value> {
    feature(line)["properties"]["vertices"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn line_has_between_25_and_40_settlement_vertices() {
    let line = contact_line();
    let points = coordinates(&line);
    assert!((25..=40).contains(&points.len()), "{}", points.len());
    assert_eq!(vertices(&line).len(), points.len());
}

#[test]
fn line_is_labelled_illustrative_with_ucdp_attribution() {
    let line = contact_line();
    let properties = &feature(&line)["properties"];
    let status = properties["status"].as_str().unwrap_or_default();
    let attribution = properties["attribution"].as_str().unwrap_or_default();
    assert!(status.contains("ILLUSTRATIVE") && status.contains("Not an official line"));
    assert!(attribution.contains("UCDP") && attribution.contains("CC BY 4.0"));
    assert!(attribution.contains("Sundberg & Melander 2013"));
}

#[test]
fn line_runs_from_kharkiv_oblast_to_kherson_oblast() {
    let line = contact_line();
    let names: Vec<String> = vertices(&line)
        .iter()
        .filter_map(|v| v["settlement"].as_str().map(str::to_string))
        .collect();
    assert_eq!(names.first().map(String::as_str), Some("Dvorichna"));
    assert_eq!(names.last().map(String::as_str), Some("Hola Prystan"));
    for town in [
        "Kupiansk",
        "Siversk",
        "Chasiv Yar",
        "Toretsk",
        "Pokrovsk",
        "Huliaipole",
    ] {
        assert!(names.iter().any(|n| n == town), "{town} missing");
    }
}

/// Splits one CSV record starting at `text`, honouring double quotes.
fn csv_record(text: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            ('\n', false) => break,
            ('\r', false) => {}
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Runs where the shared data exists (CI); the file itself is not shipped.
#[test]
fn each_vertex_uses_the_coordinates_of_its_ucdp_row() {
    let path =
        repo().join("../shared/data/ucdp-ged/UCDP-Ukraine_2014-2023_cp1252_commit-b858735.csv");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipped: {} not present", path.display());
        return;
    };
    // Windows-1252: every byte the fields compared here use is ASCII.
    let text = String::from_utf8_lossy(&bytes);
    let header = csv_record(&text);
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(id_col), Some(lat_col), Some(lon_col), Some(place_col)) = (
        column("id"),
        column("latitude"),
        column("longitude"),
        column("where_coordinates"),
    ) else {
        panic!("unexpected UCDP header: {header:?}");
    };
    let line = contact_line();
    let points = coordinates(&line);
    for (vertex, (lon, lat)) in vertices(&line).iter().zip(points) {
        let id = vertex["ucdp_id"].as_u64().unwrap_or(0);
        let start = text
            .find(&format!("\n{id},"))
            .unwrap_or_else(|| panic!("UCDP row {id} not found"));
        let row = csv_record(text.get(start + 1..).unwrap_or_default());
        let field = |i: usize| row.get(i).cloned().unwrap_or_default();
        assert_eq!(field(id_col), id.to_string());
        assert_eq!(
            field(place_col),
            vertex["ucdp_where_coordinates"]
                .as_str()
                .unwrap_or_default()
        );
        assert_eq!(field(lat_col).parse::<f64>().ok(), Some(lat), "row {id}");
        assert_eq!(field(lon_col).parse::<f64>().ok(), Some(lon), "row {id}");
    }
}
