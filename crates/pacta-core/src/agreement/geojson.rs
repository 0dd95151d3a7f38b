//! Reading zone geometry from GeoJSON (RFC 7946) text, with every problem located by a JSON
//! pointer (and a line and column where the text can be found).
//!
//! Geometry is read from a `serde_json::Value` rather than through the `geojson` crate so that
//! each problem can name the exact member it is about.

use geo::algorithm::validation::{InvalidPolygon, RingRole};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::{
    Coord, Intersects, Line, LineString, MultiLineString, MultiPolygon, Polygon, Relate,
    RemoveRepeatedPoints,
};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, RTreeObject};
use serde_json::Value;

use super::reader::Span;

/// The geometry a GeoJSON file holds: only areas or only lines.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Shape {
    Area(MultiPolygon<f64>),
    Line(MultiLineString<f64>),
}

/// One problem in a GeoJSON file.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Problem {
    /// JSON pointer (RFC 6901) to the offending member; empty for the whole document.
    pub pointer: String,
    /// Byte range of the offending text, when found.
    pub span: Option<Span>,
    pub message: String,
    pub help: Option<String>,
}

/// Collects the polygons and lines of a document.
#[derive(Default)]
struct Collected {
    polygons: Vec<(String, Polygon<f64>)>,
    lines: Vec<LineString<f64>>,
    /// Pointer of the first area and the first line, to explain a mixture.
    first_area: Option<String>,
    first_line: Option<String>,
    problems: Vec<Problem>,
}

impl Collected {
    fn problem(&mut self, pointer: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            pointer: pointer.to_string(),
            span: None,
            message: message.into(),
            help: None,
        });
    }

    fn problem_help(&mut self, pointer: &str, message: impl Into<String>, help: &str) {
        self.problems.push(Problem {
            pointer: pointer.to_string(),
            span: None,
            message: message.into(),
            help: Some(help.to_string()),
        });
    }
}

/// Reads a GeoJSON document (a FeatureCollection, a Feature or a bare geometry) holding only
/// polygons or only lines, with coordinates in WGS 84 range and valid geometry.
pub(crate) fn read_shape(text: &str) -> Result<Shape, Vec<Problem>> {
    let document: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let offset = offset_of(text, e.line(), e.column());
            return Err(vec![Problem {
                pointer: String::new(),
                span: Some(offset..offset),
                message: format!("not valid JSON: {e}"),
                help: None,
            }]);
        }
    };
    let mut collected = Collected::default();
    read_object(&document, "", &mut collected);
    if collected.problems.is_empty() {
        match (collected.first_area.clone(), collected.first_line.clone()) {
            (Some(area), Some(line)) => collected.problem_help(
                &line,
                format!("a line in a file of areas (the first area is at `{area}`)"),
                "a zone is either an area or a line: put them in separate files and zones",
            ),
            (None, None) => collected.problem_help(
                "",
                "the file holds no polygon or line",
                "a zone file needs at least one Polygon, MultiPolygon, LineString or MultiLineString",
            ),
            _ => {}
        }
    }
    if !collected.problems.is_empty() {
        let mut problems = collected.problems;
        for p in &mut problems {
            if p.span.is_none() {
                p.span = locate(text, &p.pointer);
            }
        }
        return Err(problems);
    }
    if collected.first_area.is_some() {
        let polygons = collected.polygons.into_iter().map(|(_, p)| p).collect();
        Ok(Shape::Area(MultiPolygon(polygons)))
    } else {
        Ok(Shape::Line(MultiLineString(collected.lines)))
    }
}

fn read_object(value: &Value, pointer: &str, out: &mut Collected) {
    let Some(object) = value.as_object() else {
        out.problem(pointer, "expected a GeoJSON object");
        return;
    };
    let Some(kind) = object.get("type").and_then(Value::as_str) else {
        out.problem(pointer, "a GeoJSON object needs a string member `type`");
        return;
    };
    match kind {
        "FeatureCollection" => match object.get("features").and_then(Value::as_array) {
            Some(features) => {
                for (i, feature) in features.iter().enumerate() {
                    let p = format!("{pointer}/features/{i}");
                    match feature.get("type").and_then(Value::as_str) {
                        Some("Feature") => read_object(feature, &p, out),
                        _ => out.problem(&p, "each member of `features` must be a Feature"),
                    }
                }
            }
            None => out.problem(pointer, "a FeatureCollection needs an array `features`"),
        },
        "Feature" => match object.get("geometry") {
            Some(Value::Null) | None => out.problem(
                pointer,
                "this Feature has no geometry; zone files need a geometry in every feature",
            ),
            Some(geometry) => read_object(geometry, &format!("{pointer}/geometry"), out),
        },
        "GeometryCollection" => match object.get("geometries").and_then(Value::as_array) {
            Some(geometries) => {
                for (i, g) in geometries.iter().enumerate() {
                    read_object(g, &format!("{pointer}/geometries/{i}"), out);
                }
            }
            None => out.problem(pointer, "a GeometryCollection needs an array `geometries`"),
        },
        "Polygon" | "MultiPolygon" | "LineString" | "MultiLineString" => {
            let p = format!("{pointer}/coordinates");
            let Some(coordinates) = object.get("coordinates") else {
                out.problem(pointer, format!("a {kind} needs `coordinates`"));
                return;
            };
            match kind {
                "Polygon" => {
                    out.first_area.get_or_insert_with(|| pointer.to_string());
                    if let Some(polygon) = polygon(coordinates, &p, out) {
                        out.polygons.push((p, polygon));
                    }
                }
                "MultiPolygon" => {
                    out.first_area.get_or_insert_with(|| pointer.to_string());
                    for (i, c) in items(coordinates, &p, out).iter().enumerate() {
                        let pi = format!("{p}/{i}");
                        if let Some(polygon) = polygon(c, &pi, out) {
                            out.polygons.push((pi, polygon));
                        }
                    }
                }
                "LineString" => {
                    out.first_line.get_or_insert_with(|| pointer.to_string());
                    if let Some(line) = line(coordinates, &p, out) {
                        out.lines.push(line);
                    }
                }
                _ => {
                    out.first_line.get_or_insert_with(|| pointer.to_string());
                    for (i, c) in items(coordinates, &p, out).iter().enumerate() {
                        if let Some(line) = line(c, &format!("{p}/{i}"), out) {
                            out.lines.push(line);
                        }
                    }
                }
            }
        }
        "Point" | "MultiPoint" => out.problem_help(
            pointer,
            format!("a {kind} cannot be a zone"),
            "zones are areas (Polygon, MultiPolygon) or lines (LineString, MultiLineString); \
             to cover the surroundings of a point, draw a polygon",
        ),
        other => out.problem(pointer, format!("`{other}` is not a GeoJSON type")),
    }
}

fn items<'v>(value: &'v Value, pointer: &str, out: &mut Collected) -> &'v [Value] {
    match value.as_array() {
        Some(a) => a,
        None => {
            out.problem(pointer, "expected an array");
            &[]
        }
    }
}

/// A `[lon, lat]` position inside WGS 84 range.
fn position(value: &Value, pointer: &str, out: &mut Collected) -> Option<Coord<f64>> {
    let numbers = value
        .as_array()
        .map(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>());
    let (lon, lat) = match numbers {
        Some(Some(n)) if n.len() >= 2 => (*n.first()?, *n.get(1)?),
        _ => {
            out.problem(
                pointer,
                "a position must be an array of two or three numbers: [longitude, latitude]",
            );
            return None;
        }
    };
    let mut ok = true;
    if !(-180.0..=180.0).contains(&lon) {
        out.problem_help(
            pointer,
            format!("longitude {lon} is out of range -180..180"),
            "GeoJSON positions are [longitude, latitude]: check the order and the sign",
        );
        ok = false;
    }
    if !(-90.0..=90.0).contains(&lat) {
        out.problem_help(
            pointer,
            format!("latitude {lat} is out of range -90..90"),
            "GeoJSON positions are [longitude, latitude]: check the order and the sign",
        );
        ok = false;
    }
    ok.then_some(Coord { x: lon, y: lat })
}

fn positions(value: &Value, pointer: &str, out: &mut Collected) -> Option<Vec<Coord<f64>>> {
    let before = out.problems.len();
    let coords: Vec<Coord<f64>> = items(value, pointer, out)
        .iter()
        .enumerate()
        .filter_map(|(i, v)| position(v, &format!("{pointer}/{i}"), out))
        .collect();
    (out.problems.len() == before).then_some(coords)
}

fn line(value: &Value, pointer: &str, out: &mut Collected) -> Option<LineString<f64>> {
    let coords = positions(value, pointer, out)?;
    if coords.len() < 2 {
        out.problem(pointer, "a line needs at least two positions");
        return None;
    }
    Some(LineString(coords))
}

fn ring(value: &Value, pointer: &str, out: &mut Collected) -> Option<LineString<f64>> {
    let coords = positions(value, pointer, out)?;
    if coords.len() < 4 {
        out.problem_help(
            pointer,
            format!(
                "a polygon ring needs at least four positions, found {}",
                coords.len()
            ),
            "a ring is closed: its last position repeats the first",
        );
        return None;
    }
    if coords.first() != coords.last() {
        out.problem_help(
            pointer,
            "this polygon ring is not closed",
            "repeat the first position at the end of the ring",
        );
        return None;
    }
    Some(LineString(coords))
}

fn polygon(value: &Value, pointer: &str, out: &mut Collected) -> Option<Polygon<f64>> {
    let rings = items(value, pointer, out);
    if rings.is_empty() {
        out.problem(pointer, "a polygon needs at least an exterior ring");
        return None;
    }
    let before = out.problems.len();
    let mut read: Vec<LineString<f64>> = rings
        .iter()
        .enumerate()
        .filter_map(|(i, r)| ring(r, &format!("{pointer}/{i}"), out))
        .collect();
    if out.problems.len() != before || read.is_empty() {
        return None;
    }
    let exterior = read.remove(0);
    let polygon = Polygon::new(exterior, read);
    let errors = polygon_errors(&polygon);
    if errors.is_empty() {
        return Some(polygon);
    }
    for error in errors {
        out.problem_help(
            pointer,
            format!("invalid polygon: {error}"),
            "rings must not cross themselves or each other, and holes must lie inside the exterior",
        );
    }
    None
}

/// Why a polygon is invalid, by the rules of geo's `Validation` (simple rings, holes inside
/// the exterior, rings meeting at most at points), with the rings' self-intersection found
/// through an R*-tree of their segments. geo compares every pair of segments, which took
/// 42 s for one 16,000-vertex ring in a debug build; detailed zone files are that large.
fn polygon_errors(polygon: &Polygon<f64>) -> Vec<InvalidPolygon> {
    let mut errors = Vec::new();
    let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
    for (index, ring) in rings.enumerate() {
        let role = match index {
            0 => RingRole::Exterior,
            _ => RingRole::Interior(index - 1),
        };
        if ring.remove_repeated_points().0.len() < 4 {
            errors.push(InvalidPolygon::TooFewPointsInRing(role));
        }
        if ring_crosses_itself(ring) {
            errors.push(InvalidPolygon::SelfIntersection(role));
        }
    }
    let exterior = Polygon::new(polygon.exterior().clone(), Vec::new());
    let holes: Vec<Polygon<f64>> = polygon
        .interiors()
        .iter()
        .map(|ring| Polygon::new(ring.clone(), Vec::new()))
        .collect();
    for (first, hole) in holes.iter().enumerate() {
        let with_exterior = exterior.relate(hole.exterior());
        if !with_exterior.is_contains() {
            errors.push(InvalidPolygon::InteriorRingNotContainedInExteriorRing(
                RingRole::Interior(first),
            ));
        }
        if with_exterior.get(CoordPos::OnBoundary, CoordPos::Inside) == Dimensions::OneDimensional {
            errors.push(InvalidPolygon::IntersectingRingsOnALine(
                RingRole::Exterior,
                RingRole::Interior(first),
            ));
        }
        for (second, other) in holes.iter().enumerate().skip(first + 1) {
            let between = hole.relate(other);
            let (one, two) = (RingRole::Interior(first), RingRole::Interior(second));
            if between.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                errors.push(InvalidPolygon::IntersectingRingsOnAnArea(one, two));
            }
            if between.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional
            {
                errors.push(InvalidPolygon::IntersectingRingsOnALine(one, two));
            }
        }
    }
    errors
}

/// Whether two segments of a ring meet anywhere but where one ends and the next begins.
/// Only segments whose bounding boxes overlap are compared: O(n log n) for any ring that
/// does not fold many segments over one spot.
fn ring_crosses_itself(ring: &LineString<f64>) -> bool {
    let segments: Vec<Line<f64>> = ring.lines().collect();
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = segments
        .iter()
        .enumerate()
        .map(|(index, segment)| GeomWithData::new(segment_box(segment), index))
        .collect();
    let index = RTree::bulk_load(boxes);
    segments.iter().enumerate().any(|(i, segment)| {
        index
            .locate_in_envelope_intersecting(&segment_box(segment).envelope())
            .filter(|candidate| candidate.data > i)
            .filter_map(|candidate| segments.get(candidate.data))
            .any(|other| {
                // Consecutive segments share a vertex by construction (as do the first and
                // last of a closed ring); that meeting is the ring, not a crossing.
                segment.start != other.end
                    && segment.end != other.start
                    && segment.intersects(other)
            })
    })
}

fn segment_box(segment: &Line<f64>) -> Rectangle<[f64; 2]> {
    Rectangle::from_corners(
        [segment.start.x, segment.start.y],
        [segment.end.x, segment.end.y],
    )
}

/// Byte offset of a 1-based line and column as `serde_json` reports them.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = text.get(line_start..).unwrap_or("");
    let within: usize = rest
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    (line_start + within).min(text.len())
}

/// The byte range of the value at JSON `pointer` in `text` (which is known to be valid
/// JSON). Returns `None` if the pointer does not resolve.
pub(crate) fn locate(text: &str, pointer: &str) -> Option<Span> {
    let bytes = text.as_bytes();
    let mut at = skip_ws(bytes, 0);
    let segments: Vec<String> = if pointer.is_empty() {
        Vec::new()
    } else {
        pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect()
    };
    for segment in segments {
        at = child(bytes, at, &segment)?;
    }
    let end = skip_value(bytes, at)?;
    Some(at..end)
}

fn skip_ws(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// Position just past the string starting at `at` (which holds `"`).
fn skip_string(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// Position just past the value starting at `at`.
fn skip_value(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => skip_string(bytes, at),
        open @ (b'{' | b'[') => {
            let close = if *open == b'{' { b'}' } else { b']' };
            let mut i = skip_ws(bytes, at + 1);
            if bytes.get(i) == Some(&close) {
                return Some(i + 1);
            }
            loop {
                if *open == b'{' {
                    i = skip_string(bytes, i)?;
                    i = skip_ws(bytes, i);
                    if bytes.get(i) != Some(&b':') {
                        return None;
                    }
                    i = skip_ws(bytes, i + 1);
                }
                i = skip_value(bytes, i)?;
                i = skip_ws(bytes, i);
                match bytes.get(i)? {
                    b',' => i = skip_ws(bytes, i + 1),
                    b if *b == close => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        _ => {
            let mut i = at;
            while bytes
                .get(i)
                .is_some_and(|b| !matches!(b, b',' | b']' | b'}') && !b.is_ascii_whitespace())
            {
                i += 1;
            }
            Some(i)
        }
    }
}

/// Start of the member `segment` of the object or array starting at `at`.
fn child(bytes: &[u8], at: usize, segment: &str) -> Option<usize> {
    match bytes.get(at)? {
        b'{' => {
            let mut i = skip_ws(bytes, at + 1);
            loop {
                if bytes.get(i) != Some(&b'"') {
                    return None;
                }
                let key_end = skip_string(bytes, i)?;
                let key = std::str::from_utf8(bytes.get(i + 1..key_end - 1)?).ok()?;
                i = skip_ws(bytes, key_end);
                if bytes.get(i) != Some(&b':') {
                    return None;
                }
                i = skip_ws(bytes, i + 1);
                if key == segment {
                    return Some(i);
                }
                i = skip_ws(bytes, skip_value(bytes, i)?);
                if bytes.get(i) != Some(&b',') {
                    return None;
                }
                i = skip_ws(bytes, i + 1);
            }
        }
        b'[' => {
            let index: usize = segment.parse().ok()?;
            let mut i = skip_ws(bytes, at + 1);
            for _ in 0..index {
                i = skip_ws(bytes, skip_value(bytes, i)?);
                if bytes.get(i) != Some(&b',') {
                    return None;
                }
                i = skip_ws(bytes, i + 1);
            }
            Some(i)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str =
        r#"{"type":"Polygon","coordinates":[[[30,48],[31,48],[31,49],[30,49],[30,48]]]}"#;

    #[test]
    fn a_polygon_reads_as_an_area() {
        assert!(matches!(read_shape(SQUARE), Ok(Shape::Area(m)) if m.0.len() == 1));
    }

    #[test]
    fn a_feature_collection_of_lines_reads_as_a_line() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[30,48],[31,48.5]]}}]}"#;
        assert!(matches!(read_shape(text), Ok(Shape::Line(m)) if m.0.len() == 1));
    }

    #[test]
    fn latitude_out_of_range_is_located_by_pointer() {
        let text = r#"{"type":"LineString","coordinates":[[30,48],[31,98]]}"#;
        let problems = read_shape(text).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].pointer, "/coordinates/1");
        let span = problems[0].span.clone().unwrap();
        assert_eq!(&text[span], "[31,98]");
    }

    #[test]
    fn a_bow_tie_polygon_is_rejected_as_self_intersecting() {
        let text =
            r#"{"type":"Polygon","coordinates":[[[30,48],[31,49],[31,48],[30,49],[30,48]]]}"#;
        let problems = read_shape(text).unwrap_err();
        assert!(
            problems[0].message.contains("self-intersection"),
            "{problems:?}"
        );
    }

    #[test]
    fn json_syntax_errors_carry_a_position() {
        let problems = read_shape("{\n  \"type\": \n}").unwrap_err();
        assert_eq!(problems[0].span, Some(13..13));
    }

    /// A closed ring of `n` positions around a circle of radius 1 degree.
    fn circle(n: usize) -> LineString<f64> {
        let mut coords: Vec<Coord<f64>> = (0..n)
            .map(|i| {
                let angle = i as f64 / n as f64 * std::f64::consts::TAU;
                Coord {
                    x: 37.0 + angle.cos(),
                    y: 48.0 + angle.sin(),
                }
            })
            .collect();
        coords.push(coords[0]);
        LineString(coords)
    }

    #[test]
    fn a_ring_of_twenty_thousand_positions_is_checked_quickly() {
        let polygon = Polygon::new(circle(20_000), Vec::new());
        let started = std::time::Instant::now();
        assert!(polygon_errors(&polygon).is_empty());
        // geo's pairwise check takes minutes here in a debug build.
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn a_ring_touching_itself_at_a_vertex_is_self_intersecting() {
        let ring = LineString::from(vec![
            (0., 0.),
            (2., 0.),
            (1., 1.),
            (2., 2.),
            (0., 2.),
            (1., 1.),
            (0., 0.),
        ]);
        assert_eq!(
            polygon_errors(&Polygon::new(ring, Vec::new())),
            [InvalidPolygon::SelfIntersection(RingRole::Exterior)]
        );
    }

    mod same_verdict_as_geo {
        use super::*;
        use geo::Validation;
        use proptest::prelude::*;

        fn ring() -> impl Strategy<Value = LineString<f64>> {
            // Few small integer positions, so that crossings, shared vertices and collinear
            // overlaps are common.
            prop::collection::vec((0i8..5, 0i8..5), 3..8).prop_map(|points| {
                let mut coords: Vec<Coord<f64>> = points
                    .into_iter()
                    .map(|(x, y)| Coord {
                        x: f64::from(x),
                        y: f64::from(y),
                    })
                    .collect();
                coords.push(coords[0]);
                LineString(coords)
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// The indexed check reports exactly what geo's `Validation` reports.
            #[test]
            fn on_random_polygons(exterior in ring(), holes in prop::collection::vec(ring(), 0..3)) {
                let polygon = Polygon::new(exterior, holes);
                prop_assert_eq!(polygon_errors(&polygon), polygon.validation_errors());
            }
        }
    }
}
