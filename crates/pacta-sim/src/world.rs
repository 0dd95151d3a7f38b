//! The agreement's geography as the simulator uses it: a line of contact measured in
//! kilometres along it, the side each party holds, and points placed by "km along the line,
//! km off it on party P's side".

use pacta_core::agreement::model::{Agreement, ZoneShape};
use pacta_core::geodesy::{distance_km, KM_PER_DEGREE};
use pacta_core::zone::ZoneIndex;

/// Attempts at placing a point inside a zone before giving up on the zone.
const PLACEMENT_TRIES_MAX: usize = 40;

/// One segment of the line with where it starts along the line.
#[derive(Clone, Copy, Debug)]
struct Segment {
    a: (f64, f64),
    b: (f64, f64),
    start_km: f64,
    length_km: f64,
}

/// The line of contact and the parties' sides.
pub struct World {
    pub zones: ZoneIndex,
    segments: Vec<Segment>,
    /// Length of the line, km.
    pub length_km: f64,
    /// Party ids in id order; the first is placed on the left of the line when the agreement
    /// says nothing about control.
    pub parties: Vec<String>,
}

impl World {
    /// The line the simulator acts along: the line that the agreement's `within` zones are
    /// buffers of, else its first line zone, else the diagonal of the bounding box of its
    /// areas, else a 200 km line at 48° N, 37° E (an agreement with no geometry at all).
    pub fn new(agreement: &Agreement) -> World {
        let zones = ZoneIndex::compile(agreement);
        let (segments, length_km) = segments(agreement);
        World {
            zones,
            segments,
            length_km,
            parties: agreement.parties.keys().cloned().collect(),
        }
    }

    /// The point `along_km` along the line and `offset_km` off it (positive to the left of
    /// the direction of travel), on a local equirectangular projection.
    pub fn point(&self, along_km: f64, offset_km: f64) -> (f64, f64) {
        let along = along_km.clamp(0.0, self.length_km);
        let index = self
            .segments
            .partition_point(|s| s.start_km + s.length_km < along)
            .min(self.segments.len().saturating_sub(1));
        let Some(s) = self.segments.get(index) else {
            return (0.0, 0.0);
        };
        let t = ((along - s.start_km) / s.length_km).clamp(0.0, 1.0);
        let (lon, lat) = (s.a.0 + (s.b.0 - s.a.0) * t, s.a.1 + (s.b.1 - s.a.1) * t);
        let scale = lat.to_radians().cos().max(1e-6);
        // Direction of the segment in km, then its left normal.
        let dx = (s.b.0 - s.a.0) * scale * KM_PER_DEGREE;
        let dy = (s.b.1 - s.a.1) * KM_PER_DEGREE;
        let norm = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (nx, ny) = (-dy / norm, dx / norm);
        offset((lon, lat), nx * offset_km, ny * offset_km)
    }

    /// The point `along_km` along the line and `depth_km` from it on `party`'s side: the side
    /// whose point the party controls, else (no control areas) the first party on the left and
    /// the others on the right.
    pub fn on_side(&self, party: &str, along_km: f64, depth_km: f64) -> (f64, f64) {
        let left = self.point(along_km, depth_km);
        if self.zones.party_controlling(left.0, left.1) == Some(party) {
            return left;
        }
        let right = self.point(along_km, -depth_km);
        if self.zones.party_controlling(right.0, right.1) == Some(party) {
            return right;
        }
        if self.parties.first().map(String::as_str) == Some(party) {
            left
        } else {
            right
        }
    }

    /// A point in `zone` on `party`'s side, drawn with `draw` (uniform in [0, 1)) at most
    /// [`PLACEMENT_TRIES_MAX`] times; `None` if no draw landed in the zone.
    pub fn in_zone(
        &self,
        zone: &str,
        party: &str,
        depth_max_km: f64,
        along: [f64; 2],
        draw: &mut dyn FnMut() -> f64,
    ) -> Option<((f64, f64), f64, f64)> {
        for _ in 0..PLACEMENT_TRIES_MAX {
            let along_km = along[0] + (along[1] - along[0]) * draw();
            let depth_km = 0.3 + (depth_max_km - 0.3).max(0.0) * draw();
            let p = self.on_side(party, along_km, depth_km);
            if self.zones.contains(zone, p.0, p.1) {
                return Some((p, along_km, depth_km));
            }
        }
        None
    }
}

/// The length of the line [`World::new`] acts along, km, without compiling the agreement's
/// zones: validation needs only this.
pub fn line_length_km(agreement: &Agreement) -> f64 {
    segments(agreement).1
}

/// The line's segments, each with where it starts along the line, and the line's length.
fn segments(agreement: &Agreement) -> (Vec<Segment>, f64) {
    let mut segments = Vec::new();
    let mut travelled = 0.0;
    for part in &line_parts(agreement) {
        for pair in part.windows(2) {
            if let [a, b] = pair {
                let length_km = distance_km(*a, *b);
                if length_km > 0.0 {
                    segments.push(Segment {
                        a: *a,
                        b: *b,
                        start_km: travelled,
                        length_km,
                    });
                    travelled += length_km;
                }
            }
        }
    }
    (segments, travelled)
}

/// Moves a point by `east_km` and `north_km` on a local equirectangular projection.
pub fn offset(p: (f64, f64), east_km: f64, north_km: f64) -> (f64, f64) {
    let scale = p.1.to_radians().cos().max(1e-6);
    let lat = (p.1 + north_km / KM_PER_DEGREE).clamp(-89.9, 89.9);
    let mut lon = p.0 + east_km / (KM_PER_DEGREE * scale);
    if lon > 180.0 {
        lon -= 360.0;
    } else if lon < -180.0 {
        lon += 360.0;
    }
    (lon, lat)
}

/// The bearing in degrees clockwise from north from `from` to `to`, on the same projection.
pub fn bearing_deg(from: (f64, f64), to: (f64, f64)) -> f64 {
    let scale = from.1.to_radians().cos();
    let east = (to.0 - from.0) * scale;
    let north = to.1 - from.1;
    east.atan2(north).to_degrees().rem_euclid(360.0)
}

fn line_parts(agreement: &Agreement) -> Vec<Vec<(f64, f64)>> {
    let buffered = agreement.zones.values().find_map(|z| match &z.shape {
        ZoneShape::Within { of, .. } => match agreement.zones.get(of).map(|z| &z.shape) {
            Some(ZoneShape::Line(lines)) => Some(lines),
            _ => None,
        },
        _ => None,
    });
    let any_line = agreement.zones.values().find_map(|z| match &z.shape {
        ZoneShape::Line(lines) => Some(lines),
        _ => None,
    });
    if let Some(lines) = buffered.or(any_line) {
        return lines
            .iter()
            .map(|l| l.coords().map(|c| (c.x, c.y)).collect())
            .collect();
    }
    let mut bounds: Option<(f64, f64, f64, f64)> = None;
    for zone in agreement.zones.values() {
        if let ZoneShape::Area(polygons) = &zone.shape {
            for polygon in polygons {
                for c in polygon.exterior().coords() {
                    bounds = Some(match bounds {
                        None => (c.x, c.y, c.x, c.y),
                        Some((x0, y0, x1, y1)) => {
                            (x0.min(c.x), y0.min(c.y), x1.max(c.x), y1.max(c.y))
                        }
                    });
                }
            }
        }
    }
    match bounds {
        Some((x0, y0, x1, y1)) if x1 > x0 || y1 > y0 => vec![vec![(x0, y0), (x1, y1)]],
        _ => vec![vec![(37.0, 48.0), (39.7, 48.0)]],
    }
}
