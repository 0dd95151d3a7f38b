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
/// far less than a metre.
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
            ResolvedLocation {
                lon: centre.x(),
                lat: centre.y(),
                radius_m: sector_m + observer_uncertainty_m.unwrap_or(0.0),
            }
        }
    }
}
