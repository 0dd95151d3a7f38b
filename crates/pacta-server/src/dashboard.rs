//! The dashboard: one HTML page, its script and style sheet, an offline base layer of oblast
//! boundaries, and the agreement's zones as GeoJSON for the map.
//!
//! Everything is embedded in the binary, so `pacta serve` needs no build step, no CDN and no
//! network. The page reads the public read API (`/v1/assessment`, `/v1/agreements/{id}`, the
//! paged `/v1/incidents`, `/v1/findings` and `/v1/obligations`, `/v1/findings/{id}/proof`) and,
//! from here, the base layer and one dashboard-only document:
//!
//! - `GET /dashboard/zones.geojson`: every zone of the agreement as a GeoJSON Feature.
//!   Derived zones ("within 15 km of the line of contact, on Party A's side") have no
//!   geometry in the agreement file, only a rule the engine evaluates point by point; for
//!   display they are drawn here as buffer polygons built from per-segment capsules on a
//!   local tangent plane, unioned, and cut to the party's area. They are marked
//!   `"approximate": true`: the engine never uses them, it measures geodesic distances.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use geo::{unary_union, BooleanOps, Coord, LineString, MultiLineString, MultiPolygon, Polygon};
use pacta_core::agreement::model::{Agreement, ZoneShape};
use pacta_core::geodesy::KM_PER_DEGREE;
use serde_json::{json, Map, Value};

use crate::problem::Problem;
use crate::state::AppState;

const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const STYLE_CSS: &str = include_str!("../assets/style.css");
/// Oblast boundaries from OpenStreetMap (ODbL, "© OpenStreetMap contributors"), simplified
/// to about 1 km by `assets/simplify_oblasts.py`.
const OBLASTS_GEOJSON: &str = include_str!("../assets/oblasts.geojson");

/// Points on each half circle at the ends of a buffer capsule: a 15 km buffer then deviates
/// from a true circle by at most 15 km * (1 - cos(pi / 2 / 12)), about 130 m.
const HALF_CIRCLE_STEPS: usize = 12;
/// Decimal places kept in zone coordinates: 1e-4 degrees is about 10 m, finer than any
/// screen pixel of the map and small enough to keep the document a few hundred kilobytes.
const COORDINATE_DECIMALS: i32 = 4;
/// Bound on nested unions, intersections and differences; validated agreements are
/// acyclic, this only stops a pathological chain from recursing without limit.
const ZONE_DEPTH_MAX: usize = 16;

/// The dashboard's static files: path, media type, body.
const ASSETS: [(&str, &str, &str); 5] = [
    ("/", "text/html; charset=utf-8", INDEX_HTML),
    ("/dashboard/", "text/html; charset=utf-8", INDEX_HTML),
    (
        "/dashboard/app.js",
        "text/javascript; charset=utf-8",
        APP_JS,
    ),
    ("/dashboard/style.css", "text/css; charset=utf-8", STYLE_CSS),
    (
        "/dashboard/oblasts.geojson",
        "application/geo+json",
        OBLASTS_GEOJSON,
    ),
];

/// The dashboard's routes: `/` (also `/dashboard/`), `/dashboard/app.js`,
/// `/dashboard/style.css`, `/dashboard/oblasts.geojson` and `/dashboard/zones.geojson`.
pub fn routes() -> Router<AppState> {
    ASSETS
        .into_iter()
        .fold(Router::new(), |router, (path, content_type, body)| {
            router.route(path, get(move || async move { asset(content_type, body) }))
        })
        .route("/dashboard/zones.geojson", get(zones))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

async fn zones(State(state): State<AppState>) -> Response {
    let agreement = Arc::clone(state.agreement());
    // The first build takes tens of milliseconds of geometry: keep it off the async workers.
    match tokio::task::spawn_blocking(move || cached_zones(&agreement)).await {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/geo+json"),
            )],
            body,
        )
            .into_response(),
        Err(error) => {
            Problem::internal(format!("building the zones GeoJSON failed: {error}")).into_response()
        }
    }
}

/// Zones documents already built, one per agreement in memory (a process may run several
/// servers, in tests). An entry is found by the agreement's allocation, which its `Weak`
/// keeps from being reused; entries of agreements no longer held are dropped on the next
/// insert.
type ZonesCache = Mutex<Vec<(Weak<Agreement>, Bytes)>>;

fn cached_zones(agreement: &Arc<Agreement>) -> Bytes {
    static CACHE: ZonesCache = Mutex::new(Vec::new());
    let cached = CACHE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(held, _)| held.as_ptr() == Arc::as_ptr(agreement))
        .map(|(_, body)| body.clone());
    if let Some(body) = cached {
        return body;
    }
    // Built without the lock held: two first requests may both build, and both get the same.
    let built = Bytes::from(zones_geojson(agreement).to_string());
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    cache.retain(|(held, _)| held.strong_count() > 0);
    cache.push((Arc::downgrade(agreement), built.clone()));
    built
}

/// A zone's geometry as far as the map is concerned.
enum Shape {
    Areas(MultiPolygon<f64>),
    Lines(MultiLineString<f64>),
}

/// Every zone of `agreement` as a GeoJSON FeatureCollection, in zone-id order.
///
/// Each feature's properties: `id`, `label`, `kind` (`area`, `line`, `within`, `union`,
/// `intersection`, `difference`), `controlled_by` (the party whose area it is, if any),
/// `within_km`, `of` and `inside` for derived zones, `sector` (the indicator sector it
/// delimits, if any), and `approximate` (true when the geometry was computed for display).
pub fn zones_geojson(agreement: &Agreement) -> Value {
    let controlled_by: BTreeMap<&str, &str> = agreement
        .parties
        .iter()
        .filter_map(|(party, p)| p.controls.as_deref().map(|zone| (zone, party.as_str())))
        .collect();
    let sectors: BTreeMap<&str, &str> = agreement
        .indicators
        .sectors
        .iter()
        .map(|s| (s.zone.as_str(), s.id.as_str()))
        .collect();
    let mut features = Vec::new();
    for (id, zone) in &agreement.zones {
        let mut properties = Map::new();
        properties.insert("id".into(), json!(id));
        properties.insert("label".into(), json!(zone.label.as_deref().unwrap_or(id)));
        let (kind, approximate) = match &zone.shape {
            ZoneShape::Area(_) => ("area", false),
            ZoneShape::Line(_) => ("line", false),
            ZoneShape::Within { of, km, inside } => {
                properties.insert("within_km".into(), json!(km));
                properties.insert("of".into(), json!(of));
                properties.insert("inside".into(), json!(inside));
                ("within", true)
            }
            ZoneShape::Union(_) => ("union", true),
            ZoneShape::Intersection(_) => ("intersection", true),
            ZoneShape::Difference(_, _) => ("difference", true),
        };
        properties.insert("kind".into(), json!(kind));
        properties.insert("approximate".into(), json!(approximate));
        properties.insert(
            "controlled_by".into(),
            json!(controlled_by.get(id.as_str())),
        );
        properties.insert("sector".into(), json!(sectors.get(id.as_str())));
        let geometry = shape_of(agreement, id, 0).map_or(Value::Null, |s| geometry_json(&s));
        features.push(json!({"type": "Feature", "properties": properties, "geometry": geometry}));
    }
    json!({"type": "FeatureCollection", "features": features})
}

/// The geometry of zone `id`, resolving derived zones; `None` for an unknown zone, a chain
/// deeper than [`ZONE_DEPTH_MAX`], or a combination the map cannot draw (a union of lines
/// and areas).
fn shape_of(agreement: &Agreement, id: &str, depth: usize) -> Option<Shape> {
    if depth > ZONE_DEPTH_MAX {
        return None;
    }
    let areas = |id: &str| match shape_of(agreement, id, depth + 1) {
        Some(Shape::Areas(polygons)) => Some(polygons),
        _ => None,
    };
    match &agreement.zones.get(id)?.shape {
        ZoneShape::Area(polygons) => Some(Shape::Areas(polygons.clone())),
        ZoneShape::Line(lines) => Some(Shape::Lines(lines.clone())),
        ZoneShape::Within { of, km, inside } => {
            let buffer = match shape_of(agreement, of, depth + 1)? {
                Shape::Lines(lines) => buffer_lines(&lines, *km),
                Shape::Areas(polygons) => {
                    let boundary: MultiLineString<f64> = polygons
                        .iter()
                        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                        .cloned()
                        .collect();
                    polygons.union(&buffer_lines(&boundary, *km))
                }
            };
            let controlled = inside
                .as_ref()
                .and_then(|party| agreement.parties.get(party))
                .and_then(|p| p.controls.as_deref());
            match controlled {
                Some(zone) => Some(Shape::Areas(buffer.intersection(&areas(zone)?))),
                None if inside.is_some() => None,
                None => Some(Shape::Areas(buffer)),
            }
        }
        ZoneShape::Union(parts) => {
            let parts = parts.iter().map(|p| areas(p)).collect::<Option<Vec<_>>>()?;
            Some(Shape::Areas(unary_union(parts.iter())))
        }
        ZoneShape::Intersection(parts) => {
            let (first, rest) = parts.split_first()?;
            let mut result = areas(first)?;
            for part in rest {
                result = result.intersection(&areas(part)?);
            }
            Some(Shape::Areas(result))
        }
        ZoneShape::Difference(a, b) => Some(Shape::Areas(areas(a)?.difference(&areas(b)?))),
    }
}

/// The points within `km` of `lines`, as the union of one capsule per segment.
fn buffer_lines(lines: &MultiLineString<f64>, km: f64) -> MultiPolygon<f64> {
    let capsules: Vec<Polygon<f64>> = lines
        .iter()
        .flat_map(|line| {
            let coords: Vec<Coord<f64>> = line.coords().copied().collect();
            let pairs: Vec<(Coord<f64>, Coord<f64>)> = if coords.len() == 1 {
                coords.iter().map(|c| (*c, *c)).collect()
            } else {
                coords.windows(2).map(|w| (w[0], w[1])).collect()
            };
            pairs
        })
        .map(|(a, b)| capsule(a, b, km))
        .collect();
    unary_union(capsules.iter())
}

/// The points within `km` of the segment `a`–`b` (lon/lat degrees): a half circle around
/// each end, each laid out in kilometres on the plane tangent at that end and mapped back to
/// degrees, joined by the segment's two sides. The ends are exact to well under one per cent
/// of the width; the sides, straight in degrees, bow by less over segments of tens of km.
fn capsule(a: Coord<f64>, b: Coord<f64>, km: f64) -> Polygon<f64> {
    let km_per_lon = |lat: f64| KM_PER_DEGREE * lat.to_radians().cos().max(1e-6);
    // The segment's heading on the plane tangent at its midpoint.
    let heading = ((b.y - a.y) * KM_PER_DEGREE).atan2((b.x - a.x) * km_per_lon((a.y + b.y) / 2.0));
    let half_turn = std::f64::consts::PI;
    let mut ring = Vec::with_capacity(2 * HALF_CIRCLE_STEPS + 3);
    // Around `b` from the right side of the segment to its left, then around `a` back.
    for (centre, start) in [
        (b, heading - half_turn / 2.0),
        (a, heading + half_turn / 2.0),
    ] {
        let scale = km_per_lon(centre.y);
        for step in 0..=HALF_CIRCLE_STEPS {
            let angle = start + half_turn * step as f64 / HALF_CIRCLE_STEPS as f64;
            ring.push(Coord {
                x: centre.x + km * angle.cos() / scale,
                y: centre.y + km * angle.sin() / KM_PER_DEGREE,
            });
        }
    }
    if let Some(first) = ring.first().copied() {
        ring.push(first);
    }
    Polygon::new(LineString::from(ring), Vec::new())
}

fn round(value: f64) -> f64 {
    let scale = 10f64.powi(COORDINATE_DECIMALS);
    (value * scale).round() / scale
}

fn ring_json(ring: &LineString<f64>) -> Value {
    Value::Array(
        ring.coords()
            .map(|c| json!([round(c.x), round(c.y)]))
            .collect(),
    )
}

fn geometry_json(shape: &Shape) -> Value {
    match shape {
        Shape::Areas(polygons) => {
            let coordinates: Vec<Value> = polygons
                .iter()
                .map(|p| {
                    Value::Array(
                        std::iter::once(p.exterior())
                            .chain(p.interiors())
                            .map(ring_json)
                            .collect(),
                    )
                })
                .collect();
            json!({"type": "MultiPolygon", "coordinates": coordinates})
        }
        Shape::Lines(lines) => {
            let coordinates: Vec<Value> = lines.iter().map(ring_json).collect();
            json!({"type": "MultiLineString", "coordinates": coordinates})
        }
    }
}

#[cfg(test)]
mod tests {
    use pacta_core::geodesy::distance_to_segment_km;

    use super::*;

    #[test]
    fn capsule_outline_lies_at_the_buffer_width_from_its_segment() {
        // About 130 km from south-west to north-east across the demo's line of contact.
        let (a, b) = (Coord { x: 36.0, y: 47.5 }, Coord { x: 37.2, y: 48.4 });
        for km in [15.0, 50.0] {
            for c in capsule(a, b, km).exterior().coords() {
                let (distance, _) = distance_to_segment_km((c.x, c.y), (a.x, a.y), (b.x, b.y));
                assert!(
                    (distance - km).abs() < km * 0.01,
                    "({}, {}) is {distance} km from the segment, not {km}",
                    c.x,
                    c.y
                );
            }
        }
    }

    #[test]
    fn buffer_of_a_polyline_is_one_polygon_containing_the_line() {
        let line = MultiLineString::new(vec![LineString::from(vec![
            (36.0, 47.5),
            (36.5, 47.9),
            (37.2, 48.4),
        ])]);
        let buffer = buffer_lines(&line, 15.0);
        assert_eq!(buffer.0.len(), 1, "the capsules overlap into one polygon");
        for c in line.iter().flat_map(|l| l.coords()) {
            assert!(geo::Contains::contains(&buffer, &geo::Point::from(*c)));
        }
    }
}
