//! Where a report places its event, as one point and a radius that contains it.
//!
//! Distances and destinations are geodesic on the WGS 84 ellipsoid (Karney 2013, through
//! `geo::Geodesic`), accurate to about 15 nanometres: the error of a resolved location is the
//! observer's, never the arithmetic's.

use geo::{Destination, Distance, Geodesic, Point};

use super::types::Location;

/// The bearing half-width assumed when a monitor gives none: a 16-point compass bearing
/// ("SSE", as OSCE patrols wrote them) is 22.5° wide, so ±11.25°.
pub const DEFAULT_BEARING_UNCERTAINTY_DEG: f64 = 11.25;

/// Grid steps per degree that computed centres are snapped to: a step of 1e-7° is at most
/// 1.1 cm.
///
/// Geodesic arithmetic goes through the platform's `sin`, `cos` and `atan2`, which may differ
/// in the last bit between machines; snapping to a grid far coarser than that (and rounding
/// the radius up to a millimetre) makes every machine see the same numbers, which the
/// assessment digest requires.
const GRID_STEPS_PER_DEG: f64 = 1e7;

/// Added to a computed radius so the disc still contains the sector after snapping: half a
/// grid step is at most 0.56 cm on the ground, the radius rounding at most 1 mm.
const GRID_SLACK_M: f64 = 0.01;

/// The grid value nearest `degrees` (dividing last gives the f64 nearest the grid point, so
/// values print short).
fn snap(degrees: f64) -> f64 {
    (degrees * GRID_STEPS_PER_DEG).round() / GRID_STEPS_PER_DEG
}

/// A location reduced to a point and a radius, in metres, within which the event lies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResolvedLocation {
    /// WGS 84 longitude, degrees.
    pub lon: f64,
    /// WGS 84 latitude, degrees.
    pub lat: f64,
    /// Radius in metres of the disc around (`lon`, `lat`) that contains every position the
    /// report allows.
    pub radius_m: f64,
}

/// Resolves a location to a point and an uncertainty radius.
///
/// A point resolves to itself with its stated radius. An observer-relative location resolves
/// to the geodesic destination from the observer, on the bearing, at the middle of the
/// distance range. Its radius covers the whole sector the report allows (the distance range
/// times the bearing's ± half-width, [`DEFAULT_BEARING_UNCERTAINTY_DEG`] when unstated) plus
/// the observer's own uncertainty. The sector's farthest point from the centre is one of its
/// four corners (on a plane the squared distance grows with the angle off the bearing and is
/// convex along the range), so the radius is the largest geodesic distance from the centre to
/// a corner; over the ≤ 100 km ranges entries allow, the Earth's curvature changes this by
/// far less than a metre. The centre is snapped to a 1e-7° grid and the radius grown by a
/// centimetre and rounded up to a millimetre, so the result is the same on every machine.
///
/// Inputs are expected to have passed validation (finite, in range); the function itself
/// never panics.
pub fn resolve_location(location: &Location) -> ResolvedLocation {
    match location {
        Location::Point {
            point: [lon, lat],
            uncertainty_m,
        } => ResolvedLocation {
            lon: *lon,
            lat: *lat,
            radius_m: *uncertainty_m,
        },
        Location::Relative {
            observer: [lon, lat],
            observer_uncertainty_m,
            bearing_deg,
            bearing_uncertainty_deg,
            distance_km: [min_km, max_km],
        } => {
            let observer = Point::new(*lon, *lat);
            let min_m = min_km * 1_000.0;
            let max_m = max_km * 1_000.0;
            let centre = Geodesic.destination(observer, *bearing_deg, (min_m + max_m) / 2.0);
            let half_width = bearing_uncertainty_deg.unwrap_or(DEFAULT_BEARING_UNCERTAINTY_DEG);
            let sector_m = [-half_width, half_width]
                .into_iter()
                .flat_map(|offset| {
                    [min_m, max_m].map(|d| Geodesic.destination(observer, bearing_deg + offset, d))
                })
                .map(|corner| Geodesic.distance(centre, corner))
                .fold(0.0_f64, f64::max);
            let radius_m = sector_m + observer_uncertainty_m.unwrap_or(0.0) + GRID_SLACK_M;
            ResolvedLocation {
                lon: snap(centre.x()),
                lat: snap(centre.y()),
                radius_m: (radius_m * 1_000.0).ceil() / 1_000.0,
            }
        }
    }
}
