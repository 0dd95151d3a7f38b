//! Zones compiled for fast point queries: the hot path of adjudication.
//!
//! An agreement's zones are compiled once into a [`ZoneIndex`]. Lines and polygon boundaries
//! become segment lists in an R-tree (bounding boxes precomputed), so "within 15 km of the line
//! of contact" costs a box query plus a handful of segment distances instead of a walk over
//! every vertex. Polygons are tested with a bounding box first and `geo`'s point-in-polygon
//! second; a point on a polygon's boundary is inside.
//!
//! Derived zones are evaluated by recursion over their parts (the parser guarantees the
//! references are acyclic; a depth limit guards against an agreement that was not validated).
//! Longitudes are not wrapped at the antimeridian for box queries: agreements on this project
//! lie far from it.

#![deny(missing_docs)]

use std::collections::BTreeMap;

use geo::{BoundingRect, Coord, Intersects, MultiPolygon, Rect};
use rstar::{RTree, RTreeObject, AABB};

use crate::agreement::model::{Agreement, ZoneShape};
use crate::geodesy::{distance_km, distance_to_segment_km, LinePosition, KM_PER_DEGREE};

/// How deeply derived zones may nest; deeper chains are treated as containing nothing.
pub const MAX_ZONE_DEPTH: usize = 32;

/// One segment of a line or polygon ring, with its bounding box for the R-tree.
#[derive(Clone, Debug)]
struct Segment {
    a: (f64, f64),
    b: (f64, f64),
    envelope: AABB<[f64; 2]>,
    /// Position in the line, for deterministic ties.
    index: usize,
    /// Distance along the line from its start to `a`, and the segment's length, in km.
    start_km: f64,
    length_km: f64,
}

impl RTreeObject for Segment {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// Segments indexed by bounding box.
#[derive(Debug)]
struct SegmentSet {
    tree: RTree<Segment>,
}

impl SegmentSet {
    /// Segments of the parts, measured one after the other from the first part's start.
    fn new(parts: &[Vec<(f64, f64)>]) -> SegmentSet {
        let mut segments = Vec::new();
        let mut travelled = 0.0;
        for part in parts {
            for pair in part.windows(2) {
                if let [a, b] = pair {
                    let length_km = distance_km(*a, *b);
                    segments.push(Segment {
                        a: *a,
                        b: *b,
                        envelope: AABB::from_corners([a.0, a.1], [b.0, b.1]),
                        index: segments.len(),
                        start_km: travelled,
                        length_km,
                    });
                    travelled += length_km;
                }
            }
        }
        SegmentSet {
            tree: RTree::bulk_load(segments),
        }
    }

    /// A box that holds every point within `km` of `p`, with a 1% margin for the spherical
    /// model; longitude degrees shrink with the cosine of the highest latitude reached.
    fn query_box(p: (f64, f64), km: f64) -> AABB<[f64; 2]> {
        let dlat = km / KM_PER_DEGREE * 1.01 + 1e-9;
        let cos = (p.1.abs() + dlat).min(89.9).to_radians().cos();
        let dlon = dlat / cos;
        AABB::from_corners([p.0 - dlon, p.1 - dlat], [p.0 + dlon, p.1 + dlat])
    }

    /// Whether any segment passes within `km` of `p`.
    fn any_within(&self, p: (f64, f64), km: f64) -> bool {
        if km.is_nan() || km < 0.0 {
            return false;
        }
        self.tree
            .locate_in_envelope_intersecting(&Self::query_box(p, km))
            .any(|s| distance_to_segment_km(p, s.a, s.b).0 <= km)
    }

    /// The closest point of the segments to `p`: its distance and its position along the
    /// line. Ties go to the earlier segment, as in [`crate::geodesy::position_on_polyline`].
    ///
    /// Searches boxes of growing radius: once the closest segment in a box is within the
    /// box's radius, no segment outside the box can be closer, so the answer is exact.
    fn closest(&self, p: (f64, f64)) -> Option<LinePosition> {
        // 1 km, growing fourfold, reaches beyond half the Earth's circumference by the 9th.
        let mut km = 1.0;
        for _ in 0..9 {
            let mut best: Option<(f64, usize, f64)> = None;
            for s in self
                .tree
                .locate_in_envelope_intersecting(&Self::query_box(p, km))
            {
                let (d, t) = distance_to_segment_km(p, s.a, s.b);
                if best.is_none_or(|(bd, bi, _)| d < bd || (d == bd && s.index < bi)) {
                    best = Some((d, s.index, s.start_km + t * s.length_km));
                }
            }
            if let Some((distance_km, _, along_km)) = best.filter(|(d, _, _)| *d <= km) {
                return Some(LinePosition {
                    distance_km,
                    along_km,
                });
            }
            km *= 4.0;
        }
        None
    }
}

#[derive(Debug)]
enum CompiledZone {
    Area {
        bbox: Option<Rect<f64>>,
        polygons: MultiPolygon<f64>,
        boundary: SegmentSet,
    },
    Line {
        segments: SegmentSet,
    },
    Within {
        of: String,
        km: f64,
        /// The zone of the controlling party's area, resolved at compile time; `Some(None)`
        /// when the party names no area, so nothing is inside it.
        inside: Option<Option<String>>,
    },
    Union(Vec<String>),
    Intersection(Vec<String>),
    Difference(String, String),
}

/// An agreement's zones, ready for point queries.
#[derive(Debug)]
pub struct ZoneIndex {
    zones: BTreeMap<String, CompiledZone>,
    /// `(party, zone)` for every party that names the area it controls, in party-id order.
    controls: Vec<(String, String)>,
}

fn rings_of(polygons: &MultiPolygon<f64>) -> Vec<Vec<(f64, f64)>> {
    let mut rings = Vec::new();
    for polygon in polygons {
        rings.push(polygon.exterior().coords().map(|c| (c.x, c.y)).collect());
        for interior in polygon.interiors() {
            rings.push(interior.coords().map(|c| (c.x, c.y)).collect());
        }
    }
    rings
}

impl ZoneIndex {
    /// Compiles every zone of the agreement.
    pub fn compile(agreement: &Agreement) -> ZoneIndex {
        let mut zones = BTreeMap::new();
        for (id, zone) in &agreement.zones {
            let compiled = match &zone.shape {
                ZoneShape::Area(polygons) => CompiledZone::Area {
                    bbox: polygons.bounding_rect(),
                    polygons: polygons.clone(),
                    boundary: SegmentSet::new(&rings_of(polygons)),
                },
                ZoneShape::Line(lines) => {
                    let parts: Vec<Vec<(f64, f64)>> = lines
                        .iter()
                        .map(|l| l.coords().map(|c| (c.x, c.y)).collect())
                        .collect();
                    CompiledZone::Line {
                        segments: SegmentSet::new(&parts),
                    }
                }
                ZoneShape::Within { of, km, inside } => CompiledZone::Within {
                    of: of.clone(),
                    km: *km,
                    inside: inside.as_ref().map(|party| {
                        agreement
                            .parties
                            .get(party)
                            .and_then(|p| p.controls.clone())
                    }),
                },
                ZoneShape::Union(parts) => CompiledZone::Union(parts.clone()),
                ZoneShape::Intersection(parts) => CompiledZone::Intersection(parts.clone()),
                ZoneShape::Difference(a, b) => CompiledZone::Difference(a.clone(), b.clone()),
            };
            zones.insert(id.clone(), compiled);
        }
        let controls = agreement
            .parties
            .iter()
            .filter_map(|(id, p)| p.controls.clone().map(|z| (id.clone(), z)))
            .collect();
        ZoneIndex { zones, controls }
    }

    /// Whether the point `(lon, lat)` lies in zone `zone`. An unknown zone contains nothing.
    pub fn contains(&self, zone: &str, lon: f64, lat: f64) -> bool {
        self.contains_at(zone, (lon, lat), 0)
    }

    fn contains_at(&self, zone: &str, p: (f64, f64), depth: usize) -> bool {
        if depth > MAX_ZONE_DEPTH {
            return false;
        }
        let Some(compiled) = self.zones.get(zone) else {
            return false;
        };
        match compiled {
            CompiledZone::Area { bbox, polygons, .. } => area_contains(bbox, polygons, p),
            // A line has no area: a point is "in" it only if it lies on it.
            CompiledZone::Line { segments, .. } => segments.any_within(p, 0.0),
            CompiledZone::Within { of, km, inside } => {
                let in_side = match inside {
                    None => true,
                    Some(None) => false,
                    Some(Some(area)) => self.contains_at(area, p, depth + 1),
                };
                in_side && self.near_at(of, p, *km, depth + 1)
            }
            CompiledZone::Union(parts) => parts.iter().any(|z| self.contains_at(z, p, depth + 1)),
            CompiledZone::Intersection(parts) => {
                !parts.is_empty() && parts.iter().all(|z| self.contains_at(z, p, depth + 1))
            }
            CompiledZone::Difference(a, b) => {
                self.contains_at(a, p, depth + 1) && !self.contains_at(b, p, depth + 1)
            }
        }
    }

    /// Whether `p` lies within `km` of zone `zone`'s geometry (distance zero inside an area).
    ///
    /// Exact for areas, lines and unions. For a buffer of a buffer the side restriction of
    /// the inner zone is not applied, and for intersections and differences the answer is
    /// "within `km` of every part" and "within `km` of the first part": the agreement language
    /// documents buffers of lines and areas; these derived cases are conservative supersets.
    fn near_at(&self, zone: &str, p: (f64, f64), km: f64, depth: usize) -> bool {
        if depth > MAX_ZONE_DEPTH {
            return false;
        }
        let Some(compiled) = self.zones.get(zone) else {
            return false;
        };
        match compiled {
            CompiledZone::Area {
                bbox,
                polygons,
                boundary,
            } => area_contains(bbox, polygons, p) || boundary.any_within(p, km),
            CompiledZone::Line { segments, .. } => segments.any_within(p, km),
            CompiledZone::Within { of, km: inner, .. } => {
                self.near_at(of, p, km + inner, depth + 1)
            }
            CompiledZone::Union(parts) => parts.iter().any(|z| self.near_at(z, p, km, depth + 1)),
            CompiledZone::Intersection(parts) => {
                !parts.is_empty() && parts.iter().all(|z| self.near_at(z, p, km, depth + 1))
            }
            CompiledZone::Difference(a, _) => self.near_at(a, p, km, depth + 1),
        }
    }

    /// The party whose controlled area contains the point: the first in party-id order if
    /// areas overlap (they should not), `None` if none does.
    pub fn party_controlling(&self, lon: f64, lat: f64) -> Option<&str> {
        self.controls
            .iter()
            .find(|(_, zone)| self.contains(zone, lon, lat))
            .map(|(party, _)| party.as_str())
    }

    /// Where the point lies relative to the line that zone `zone` is made of: its distance
    /// from the line and its position along it (km from the line's first vertex). A buffer
    /// zone (`within`) answers for its underlying line. `None` if the zone is not a line.
    pub fn position_along(&self, zone: &str, lon: f64, lat: f64) -> Option<LinePosition> {
        let mut current = zone;
        for _ in 0..=MAX_ZONE_DEPTH {
            match self.zones.get(current)? {
                CompiledZone::Line { segments } => return segments.closest((lon, lat)),
                CompiledZone::Within { of, .. } => current = of,
                _ => return None,
            }
        }
        None
    }
}

fn area_contains(bbox: &Option<Rect<f64>>, polygons: &MultiPolygon<f64>, p: (f64, f64)) -> bool {
    let Some(rect) = bbox else {
        return false;
    };
    let (min, max) = (rect.min(), rect.max());
    if p.0 < min.x || p.0 > max.x || p.1 < min.y || p.1 > max.y {
        return false;
    }
    polygons.intersects(&Coord { x: p.0, y: p.1 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    /// A north-south segment at lon 37 from lat 47 to 49.
    fn segment() -> SegmentSet {
        SegmentSet::new(&[vec![(37.0, 47.0), (37.0, 49.0)]])
    }

    #[test]
    fn a_segment_is_within_a_distance_just_above_the_perpendicular_one() {
        // 0.1 degree of longitude at lat 48 is about 7.44 km.
        assert!(segment().any_within((37.1, 48.0), 7.5));
        assert!(!segment().any_within((37.1, 48.0), 7.4));
    }

    #[test]
    fn the_indexed_position_along_a_line_matches_a_walk_over_every_segment() {
        let parts = vec![
            vec![(35.6, 47.1), (36.3, 47.45), (36.9, 47.9), (37.4, 48.3)],
            vec![(37.7, 48.8), (38.1, 49.4)],
        ];
        let set = SegmentSet::new(&parts);
        for i in 0..60 {
            let p = (
                35.0 + 0.06 * f64::from(i),
                47.0 + 0.045 * f64::from(i % 7) * 2.0,
            );
            let indexed = set.closest(p);
            let walked = crate::geodesy::position_on_polyline(p, &parts);
            assert_eq!(indexed, walked, "at {p:?}");
        }
    }

    #[test]
    fn far_points_still_find_the_closest_segment() {
        let far = segment().closest((10.0, 10.0));
        let walked =
            crate::geodesy::position_on_polyline((10.0, 10.0), &[vec![(37.0, 47.0), (37.0, 49.0)]]);
        assert!(far.is_some());
        assert_eq!(far, walked);
    }

    #[test]
    fn a_negative_or_undefined_distance_reaches_nothing() {
        assert!(!segment().any_within((37.0, 48.0), -1.0));
        assert!(!segment().any_within((37.0, 48.0), f64::NAN));
    }

    #[test]
    fn a_point_outside_the_bounding_box_is_outside_the_area() {
        let square = MultiPolygon::new(vec![polygon![
            (x: 35.0, y: 47.0), (x: 37.0, y: 47.0), (x: 37.0, y: 49.0), (x: 35.0, y: 49.0)
        ]]);
        let bbox = square.bounding_rect();
        assert!(area_contains(&bbox, &square, (36.0, 48.0)));
        assert!(!area_contains(&bbox, &square, (38.0, 48.0)));
        assert!(!area_contains(&None, &square, (36.0, 48.0)));
    }
}
