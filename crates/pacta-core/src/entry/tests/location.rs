use crate::entry::types::Location;
use crate::entry::{resolve_location, ResolvedLocation};

#[test]
fn point_resolves_to_itself_with_its_radius() {
    let resolved = resolve_location(&Location::Point {
        point: [37.8, 48.0],
        uncertainty_m: 250.0,
    });
    assert_eq!(
        resolved,
        ResolvedLocation {
            lon: 37.8,
            lat: 48.0,
            radius_m: 250.0
        }
    );
}

/// "1.4–1.6 km SE" from an observer at 48° N, worked by hand with the WGS 84 radii of
/// curvature (exact to centimetres over 1.5 km):
/// M = a(1−e²)/W³ and N = a/W with W = √(1 − e² sin²φ) at the path's mid-latitude φ;
/// Δlat = d cos β / M, Δlon = d sin β / (N cos φ) with β the mid-path azimuth. The radius
/// is the planar sector's farthest corner,
/// √((1.6 cos 11.25° − 1.5)² + (1.6 sin 11.25°)²) = 0.31974 km, plus the observer's 10 m.
#[test]
fn observer_relative_location_resolves_to_mid_distance_on_the_bearing() {
    let resolved = resolve_location(&Location::Relative {
        observer: [37.8, 48.0],
        observer_uncertainty_m: Some(10.0),
        bearing_deg: 135.0,
        bearing_uncertainty_deg: None,
        distance_km: [1.4, 1.6],
    });
    let a = 6_378_137.0_f64;
    let f = 1.0 / 298.257_223_563;
    let e2 = f * (2.0 - f);
    let radii = |phi: f64| {
        let w = (1.0 - e2 * phi.sin().powi(2)).sqrt();
        (a * (1.0 - e2) / w.powi(3), a / w)
    };
    let d = 1_500.0;
    // Gauss's mid-latitude method, iterated: radii at the path's mid-latitude, and the
    // azimuth at mid-path, which turns by half the meridian convergence Δλ sin φ.
    let (mut lat, mut lon) = (48.0_f64, 37.8_f64);
    for _ in 0..3 {
        let phi_mid = ((48.0 + lat) / 2.0).to_radians();
        let (m, n) = radii(phi_mid);
        let beta_mid = 135.0_f64.to_radians() + (lon - 37.8).to_radians() * phi_mid.sin() / 2.0;
        lat = 48.0 + (d * beta_mid.cos() / m).to_degrees();
        lon = 37.8 + (d * beta_mid.sin() / (n * phi_mid.cos())).to_degrees();
    }
    // 1e-7° is about 1 cm at this latitude.
    assert!((resolved.lat - lat).abs() < 1e-7, "{resolved:?} vs {lat}");
    assert!((resolved.lon - lon).abs() < 1e-7, "{resolved:?} vs {lon}");
    assert!(
        (resolved.radius_m - (319.74 + 10.0)).abs() < 0.5,
        "{resolved:?}"
    );
}

#[test]
fn full_circle_bearing_uncertainty_covers_the_point_behind_the_observer() {
    let resolved = resolve_location(&Location::Relative {
        observer: [30.0, 50.0],
        observer_uncertainty_m: None,
        bearing_deg: 0.0,
        bearing_uncertainty_deg: Some(180.0),
        distance_km: [1.0, 3.0],
    });
    // The centre is 2 km north; the farthest allowed point is 3 km south of the observer.
    assert!((resolved.radius_m - 5_000.0).abs() < 5.0, "{resolved:?}");
}

mod properties {
    use proptest::prelude::*;

    use crate::entry::resolve_location;
    use crate::entry::types::Location;
    use geo::{Distance, Geodesic, Point};

    proptest! {
        /// Any location that passes validation resolves to a finite point on the globe
        /// whose disc contains the far end of the reported range on the bearing.
        #[test]
        fn resolved_disc_contains_the_reported_sector(
            lon in -180.0..=180.0_f64,
            lat in -89.0..=89.0_f64,
            bearing in 0.0..360.0_f64,
            half_width in 0.0..=180.0_f64,
            near_km in 0.0..=100.0_f64,
            extra_km in 0.0..=100.0_f64,
            observer_m in 0.0..=1_000.0_f64,
        ) {
            let far_km = (near_km + extra_km).min(100.0);
            let location = Location::Relative {
                observer: [lon, lat],
                observer_uncertainty_m: Some(observer_m),
                bearing_deg: bearing,
                bearing_uncertainty_deg: Some(half_width),
                distance_km: [near_km, far_km],
            };
            let resolved = resolve_location(&location);
            prop_assert!(resolved.lon.is_finite() && (-180.0..=180.0).contains(&resolved.lon));
            prop_assert!(resolved.lat.is_finite() && (-90.0..=90.0).contains(&resolved.lat));
            prop_assert!(resolved.radius_m >= observer_m);
            let centre = Point::new(resolved.lon, resolved.lat);
            for d_km in [near_km, far_km] {
                let end = geo::Destination::destination(
                    &Geodesic, Point::new(lon, lat), bearing, d_km * 1_000.0);
                // 1 mm of slack for floating point.
                prop_assert!(Geodesic.distance(centre, end) <= resolved.radius_m + 1e-3);
            }
        }
    }
}

#[test]
fn resolved_centre_lies_on_the_1e7_degree_grid() {
    let resolved = resolve_location(&Location::Relative {
        observer: [37.8, 48.0],
        observer_uncertainty_m: None,
        bearing_deg: 135.0,
        bearing_uncertainty_deg: None,
        distance_km: [1.4, 1.6],
    });
    for degrees in [resolved.lon, resolved.lat] {
        let steps = degrees * 1e7;
        assert_eq!(steps, steps.round(), "{degrees}");
    }
    assert_eq!(resolved.radius_m * 1e3, (resolved.radius_m * 1e3).round());
}
