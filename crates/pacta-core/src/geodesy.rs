//! Distances on the Earth, the way the engine measures them.
//!
//! The model is a sphere of mean radius 6371.0088 km (the IUGG mean radius R1 of GRS 80), with
//! haversine great-circle distances. Against the WGS 84 ellipsoid the spherical distance errs
//! by about 0.5% at most: the worst case is a short north-south line, where the ellipsoid's
//! radius of curvature runs from 6335 km at the equator (the sphere is 0.56% long) to 6400 km
//! at the poles (0.45% short); at 48° N, in eastern Ukraine, the error is under 0.01%
//! north-south and 0.3% east-west. That is at most 11 m on a 2 km corroboration radius and
//! 280 m on a 50 km withdrawal zone: inside the uncertainty monitors state for their
//! observations.
//!
//! Segment distances use a local equirectangular projection centred on the query point to
//! find the closest point of the segment, then measure the haversine distance to that point.
//! For segments up to a few hundred kilometres at mid-latitudes the projection moves the
//! closest point by much less than the spherical model's own error.
//!
//! Coordinates are `[longitude, latitude]` in degrees (WGS 84), as in GeoJSON.

#![deny(missing_docs)]

use geo::{Distance, Haversine, Point};

/// The mean Earth radius used for every distance, in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Kilometres per degree of latitude on the sphere (and per degree of longitude at the
/// equator).
pub const KM_PER_DEGREE: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// Great-circle distance in kilometres between two `(lon, lat)` points.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    // geo's default `Haversine` uses the same 6371.0088 km radius, in metres.
    Haversine.distance(Point::new(a.0, a.1), Point::new(b.0, b.1)) / 1000.0
}

/// Longitude difference `to - from` folded into [-180, 180), so segments that cross the
/// antimeridian project correctly.
fn delta_lon(from: f64, to: f64) -> f64 {
    (to - from + 180.0).rem_euclid(360.0) - 180.0
}

/// The closest point of segment `a`–`b` to `p`, as a fraction `t` in [0, 1] along the
/// segment, found in a local equirectangular projection centred on `p`.
pub fn closest_fraction_on_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let scale = p.1.to_radians().cos();
    let ax = delta_lon(p.0, a.0) * scale;
    let ay = a.1 - p.1;
    let bx = delta_lon(p.0, b.0) * scale;
    let by = b.1 - p.1;
    let dx = bx - ax;
    let dy = by - ay;
    let length_sq = dx * dx + dy * dy;
    if length_sq <= 0.0 {
        return 0.0;
    }
    // p is the origin of the projection, so the projection of p onto the segment is -a.d.
    (-(ax * dx + ay * dy) / length_sq).clamp(0.0, 1.0)
}

/// The point at fraction `t` along segment `a`–`b` (linear in longitude and latitude, which
/// is what the local projection assumes).
fn point_on_segment(a: (f64, f64), b: (f64, f64), t: f64) -> (f64, f64) {
    (a.0 + delta_lon(a.0, b.0) * t, a.1 + (b.1 - a.1) * t)
}

/// Distance in kilometres from `p` to the segment `a`–`b`, with the fraction along the
/// segment of the closest point.
pub fn distance_to_segment_km(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> (f64, f64) {
    let t = closest_fraction_on_segment(p, a, b);
    (distance_km(p, point_on_segment(a, b, t)), t)
}

/// Where a point lies relative to a polyline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinePosition {
    /// Distance from the point to the closest point of the line, in kilometres.
    pub distance_km: f64,
    /// Distance along the line from its start to that closest point, in kilometres.
    pub along_km: f64,
}

/// The closest point of a polyline (a sequence of `(lon, lat)` vertices, or several such
/// parts measured one after the other) to `p`: its distance and its position along the line.
/// Ties go to the earlier segment, so the answer does not depend on floating-point noise in
/// the order of evaluation. `None` if the line has no segment.
pub fn position_on_polyline(p: (f64, f64), parts: &[Vec<(f64, f64)>]) -> Option<LinePosition> {
    let mut best: Option<LinePosition> = None;
    let mut travelled = 0.0;
    for part in parts {
        for pair in part.windows(2) {
            let (a, b) = match pair {
                [a, b] => (*a, *b),
                _ => continue,
            };
            let (d, t) = distance_to_segment_km(p, a, b);
            let length = distance_km(a, b);
            if best.is_none_or(|current| d < current.distance_km) {
                best = Some(LinePosition {
                    distance_km: d,
                    along_km: travelled + t * length,
                });
            }
            travelled += length;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude_is_about_111_km() {
        let d = distance_km((30.0, 48.0), (30.0, 49.0));
        assert!((d - 111.195).abs() < 0.01, "{d}");
    }

    #[test]
    fn kyiv_to_kharkiv_matches_the_published_great_circle_distance() {
        // Kyiv (30.5234, 50.4501) to Kharkiv (36.2304, 49.9935): about 409 km.
        let d = distance_km((30.5234, 50.4501), (36.2304, 49.9935));
        assert!((d - 409.0).abs() < 3.0, "{d}");
    }

    #[test]
    fn distance_to_segment_is_perpendicular_in_the_middle() {
        // A north-south segment at lon 30; a point 0.1 degree east at the same latitude.
        let (d, t) = distance_to_segment_km((30.1, 48.5), (30.0, 48.0), (30.0, 49.0));
        let expected = distance_km((30.1, 48.5), (30.0, 48.5));
        assert!((d - expected).abs() < 0.01, "{d} vs {expected}");
        assert!((t - 0.5).abs() < 0.01);
    }

    #[test]
    fn distance_to_segment_beyond_an_end_is_distance_to_that_end() {
        let (d, t) = distance_to_segment_km((30.0, 50.0), (30.0, 48.0), (30.0, 49.0));
        assert_eq!(t, 1.0);
        assert!((d - distance_km((30.0, 50.0), (30.0, 49.0))).abs() < 1e-9);
    }

    #[test]
    fn segments_across_the_antimeridian_are_short() {
        let (d, _) = distance_to_segment_km((180.0, 0.0), (179.9, -0.1), (-179.9, 0.1));
        assert!(d < 0.01, "{d}");
    }

    #[test]
    fn position_along_a_polyline_counts_from_its_start() {
        let line = vec![vec![(30.0, 48.0), (30.0, 49.0), (31.0, 49.0)]];
        let first_leg = distance_km((30.0, 48.0), (30.0, 49.0));
        let p = position_on_polyline((30.5, 49.0), &line).unwrap();
        let second_half = distance_km((30.0, 49.0), (30.5, 49.0));
        assert!(p.distance_km < 0.01);
        assert!((p.along_km - (first_leg + second_half)).abs() < 0.5);
    }

    #[test]
    fn an_empty_polyline_has_no_position() {
        assert_eq!(
            position_on_polyline((30.0, 48.0), &[vec![(30.0, 48.0)]]),
            None
        );
    }
}
