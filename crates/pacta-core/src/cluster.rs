//! DBSCAN over great-circle (haversine) distance with a grid index: the clustering kernel
//! measured against scikit-learn in `bench/`.
//!
//! The definition is DBSCAN's (Ester et al. 1996) as scikit-learn implements it, so that the
//! two give the *same labels*, not only the same partition:
//!
//! - a point's neighbourhood is every point (itself included) at angular distance at most
//!   `eps`; a point is *core* when its neighbourhood holds at least `min_samples` points;
//! - core points that are neighbours are in one cluster (the connected components of the
//!   core-neighbour graph);
//! - clusters are numbered 0, 1, ... in the order of their lowest-indexed core point;
//! - a non-core point with core neighbours is a *border* point of the lowest-numbered cluster
//!   among those neighbours (scikit-learn grows one cluster at a time, in that order, and a
//!   border point keeps the first label it gets); a point with no core neighbour is noise.
//!
//! Distances are compared the way scikit-learn's ball tree compares them, as the haversine
//! "reduced distance" `sin²(Δφ/2) + cos φ1 cos φ2 sin²(Δλ/2)` against `sin²(eps/2)`, with the
//! same operations in the same order, so a pair at the boundary falls on the same side in
//! both (they share the platform's `sin` and `cos`).
//!
//! The grid has rows of `eps` in latitude and columns wide enough, at the highest latitude of
//! the input, to hold every neighbour within one column either side; the cost is one pass to
//! find core points (stopping at `min_samples` neighbours) and one over the neighbourhoods of
//! core points, each scanning 3 × 3 cells.

use std::collections::HashMap;
use std::f64::consts::PI;
use std::ops::Range;

use crate::geodesy::EARTH_RADIUS_KM;

/// Cluster labels of DBSCAN, one per input point, in input order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clustering {
    /// The cluster of each point (`None`: noise), numbered from 0 in the order of each
    /// cluster's lowest-indexed core point.
    pub labels: Vec<Option<u32>>,
    /// Whether each point is a core point.
    pub core: Vec<bool>,
    /// The number of clusters.
    pub clusters: u32,
}

/// A point in radians, with the cosine of its latitude computed once.
#[derive(Clone, Copy)]
struct Radians {
    lat: f64,
    lon: f64,
    cos_lat: f64,
}

impl Radians {
    fn of((lon, lat): (f64, f64)) -> Radians {
        let lat = lat.to_radians();
        Radians {
            lat,
            lon: lon.to_radians(),
            cos_lat: lat.cos(),
        }
    }

    /// The haversine reduced distance, `sin²(θ/2)` for the central angle `θ`, computed as
    /// scikit-learn's `HaversineDistance.rdist` does (query point first).
    fn reduced_distance(&self, other: &Radians) -> f64 {
        let sin_lat = (0.5 * (self.lat - other.lat)).sin();
        let sin_lon = (0.5 * (self.lon - other.lon)).sin();
        sin_lat * sin_lat + self.cos_lat * other.cos_lat * sin_lon * sin_lon
    }
}

/// Rows and columns of the grid at most: a tiny radius gets cells larger than it needs (still
/// correct, as cells only have to be at least the radius), and cell keys stay far from
/// overflowing.
const CELLS_PER_AXIS_MAX: i64 = 1 << 24;

/// Points bucketed in cells of a latitude-longitude grid, stored in cell order so that a
/// scan of neighbouring cells reads memory in sequence. Positions in that order are what the
/// kernel works on; `original` maps them back to input indices.
struct Grid {
    rows: i64,
    columns: i64,
    row_height: f64,
    column_width: f64,
    /// The largest latitude difference (radians) two neighbours can have, with a margin.
    reach: f64,
    /// The points in cell order.
    points: Vec<Radians>,
    /// Input index of the point at each position.
    original: Vec<u32>,
    /// Cell key → range of positions. Only looked up, never iterated, so its order reaches no
    /// output.
    cells: HashMap<i64, (u32, u32)>,
}

impl Grid {
    fn new(points: &[Radians], eps: f64) -> Grid {
        // A neighbour is at most `eps` away in latitude (the central angle bounds the
        // latitude difference); the margin absorbs rounding in the cell arithmetic.
        let reach = eps * (1.0 + 1e-9) + 1e-15;
        let rows = ((PI / reach).floor() as i64).clamp(1, CELLS_PER_AXIS_MAX);
        let row_height = PI / rows as f64;
        // In longitude, sin(Δλ/2) ≤ sin(eps/2) / sqrt(cos φ1 cos φ2) ≤ sin(eps/2) / c with c
        // the smallest cos φ of the input (lowered by the latitude reach).
        let max_abs_lat = points.iter().map(|p| p.lat.abs()).fold(0.0_f64, f64::max);
        let min_cos = (max_abs_lat + reach).min(PI / 2.0).cos();
        let ratio = (0.5 * reach).sin() / min_cos;
        let columns = if min_cos <= 0.0 || ratio >= 1.0 {
            1
        } else {
            let lon_reach = 2.0 * ratio.asin() * (1.0 + 1e-9);
            ((2.0 * PI / lon_reach).floor() as i64).clamp(1, CELLS_PER_AXIS_MAX)
        };
        let column_width = 2.0 * PI / columns as f64;
        let mut grid = Grid {
            rows,
            columns,
            row_height,
            column_width,
            reach,
            points: Vec::new(),
            original: Vec::new(),
            cells: HashMap::new(),
        };
        let mut keyed: Vec<(i64, u32)> = points
            .iter()
            .enumerate()
            .map(|(i, p)| (grid.key(grid.cell(p)), i as u32))
            .collect();
        keyed.sort_unstable();
        let mut start = 0usize;
        while let Some(&(key, _)) = keyed.get(start) {
            let end = start + keyed[start..].partition_point(|(k, _)| *k == key);
            grid.cells.insert(key, (start as u32, end as u32));
            start = end;
        }
        grid.original = keyed.into_iter().map(|(_, i)| i).collect();
        grid.points = grid.original.iter().map(|&i| points[i as usize]).collect();
        grid
    }

    fn cell(&self, p: &Radians) -> (i64, i64) {
        let row = (((p.lat + PI / 2.0) / self.row_height).floor() as i64).clamp(0, self.rows - 1);
        let lon = (p.lon + PI).rem_euclid(2.0 * PI);
        let column = ((lon / self.column_width).floor() as i64).clamp(0, self.columns - 1);
        (row, column)
    }

    fn key(&self, (row, column): (i64, i64)) -> i64 {
        row * self.columns + column
    }

    /// The position ranges of the 3 × 3 cells around the point at position `at`, its own cell
    /// first (where a core point finds its neighbours soonest); columns wrap around the
    /// antimeridian; each cell once; missing cells are empty ranges.
    fn around(&self, at: usize) -> [Range<usize>; 9] {
        let mut out: [Range<usize>; 9] = Default::default();
        let Some(p) = self.points.get(at) else {
            return out;
        };
        let (row, column) = self.cell(p);
        let mut columns = [column - 1, column, column + 1].map(|c| c.rem_euclid(self.columns));
        columns.sort_unstable();
        let mut slots = out.iter_mut();
        if let (Some(&(start, end)), Some(slot)) =
            (self.cells.get(&self.key((row, column))), slots.next())
        {
            *slot = start as usize..end as usize;
        }
        for r in (row - 1).max(0)..=(row + 1).min(self.rows - 1) {
            for (k, c) in columns.iter().enumerate() {
                if (k > 0 && columns.get(k - 1) == Some(c)) || (r, *c) == (row, column) {
                    continue;
                }
                if let (Some(&(start, end)), Some(slot)) =
                    (self.cells.get(&self.key((r, *c))), slots.next())
                {
                    *slot = start as usize..end as usize;
                }
            }
        }
        out
    }

    /// Whether the points at positions `a` and `b` are neighbours: reduced distance at most
    /// `limit`. The latitude test first is exact (see `reach`) and spares the sines.
    fn near(&self, a: usize, b: usize, limit: f64) -> bool {
        let (p, q) = (&self.points[a], &self.points[b]);
        (p.lat - q.lat).abs() <= self.reach && p.reduced_distance(q) <= limit
    }
}

/// Union-find over point indices, with path halving and union by index (the smaller index
/// becomes the root, which the numbering does not rely on but keeps roots stable).
struct Components(Vec<u32>);

impl Components {
    fn find(&mut self, mut i: u32) -> u32 {
        loop {
            let parent = self.0[i as usize];
            if parent == i {
                return i;
            }
            let grand = self.0[parent as usize];
            self.0[i as usize] = grand;
            i = grand;
        }
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (low, high) = (ra.min(rb), ra.max(rb));
            self.0[high as usize] = low;
        }
    }
}

/// DBSCAN of `(lon, lat)` points in degrees with neighbourhood radius `eps_km` (great-circle,
/// on the sphere of [`EARTH_RADIUS_KM`]) and `min_samples` points (itself included) to make a
/// core point. A radius that is not a positive number, or `min_samples` of 0 treated as 1,
/// follow scikit-learn: with `eps_km` not positive no point has a neighbour but itself.
///
/// # Panics
///
/// If there are more than `u32::MAX` points.
pub fn dbscan(points: &[(f64, f64)], eps_km: f64, min_samples: usize) -> Clustering {
    let n = points.len();
    assert!(u32::try_from(n).is_ok(), "DBSCAN of more than 2^32 points");
    let min_samples = min_samples.max(1);
    let pts: Vec<Radians> = points.iter().map(|p| Radians::of(*p)).collect();
    let eps = if eps_km.is_nan() {
        0.0
    } else {
        eps_km.max(0.0) / EARTH_RADIUS_KM
    };
    let half = (0.5 * eps).sin();
    let limit = half * half;
    let grid = Grid::new(&pts, eps);
    drop(pts);

    // Everything below works on positions in cell order; `grid.original` maps back.
    // Core points: stop counting at `min_samples`.
    let mut core = vec![false; n];
    for (at, is_core) in core.iter_mut().enumerate() {
        let mut count = 0usize;
        'cells: for cell in grid.around(at) {
            for other in cell {
                if grid.near(at, other, limit) {
                    count += 1;
                    if count >= min_samples {
                        break 'cells;
                    }
                }
            }
        }
        *is_core = count >= min_samples;
    }

    // Clusters: components of the core-neighbour graph. A neighbour already in the same
    // component is skipped before its distance is computed (most are, inside a cluster).
    let mut components = Components((0..n as u32).collect());
    for at in 0..n {
        if !core[at] {
            continue;
        }
        let mut root = components.find(at as u32);
        for cell in grid.around(at) {
            for other in cell {
                if other > at
                    && core[other]
                    && components.find(other as u32) != root
                    && grid.near(at, other, limit)
                {
                    components.union(at as u32, other as u32);
                    root = components.find(at as u32);
                }
            }
        }
    }

    // Cluster numbers in the order of each cluster's lowest-indexed (input order) core point.
    let mut position = vec![0u32; n];
    for (at, &i) in grid.original.iter().enumerate() {
        position[i as usize] = at as u32;
    }
    let mut label_of_root: Vec<Option<u32>> = vec![None; n];
    let mut labels: Vec<Option<u32>> = vec![None; n];
    let mut clusters = 0u32;
    for &at in &position {
        let at = at as usize;
        if !core[at] {
            continue;
        }
        let root = components.find(at as u32) as usize;
        let label = *label_of_root[root].get_or_insert_with(|| {
            clusters += 1;
            clusters - 1
        });
        labels[at] = Some(label);
    }

    // Border points: the lowest-numbered cluster among their core neighbours.
    for at in 0..n {
        if core[at] {
            continue;
        }
        let mut best: Option<u32> = None;
        for cell in grid.around(at) {
            for other in cell {
                if let (true, Some(label)) = (core[other], labels[other]) {
                    if best.is_none_or(|b| label < b) && grid.near(at, other, limit) {
                        best = Some(label);
                    }
                }
            }
        }
        labels[at] = best;
    }

    // Back to input order.
    let labels = position.iter().map(|&at| labels[at as usize]).collect();
    let core = position.iter().map(|&at| core[at as usize]).collect();
    Clustering {
        labels,
        core,
        clusters,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A point `east_km` east and `north_km` north of (37 E, 48 N), approximately.
    fn at(east_km: f64, north_km: f64) -> (f64, f64) {
        let km_per_lon = crate::geodesy::KM_PER_DEGREE * 48f64.to_radians().cos();
        (
            37.0 + east_km / km_per_lon,
            48.0 + north_km / crate::geodesy::KM_PER_DEGREE,
        )
    }

    /// DBSCAN by definition, over every pair, with the labelling rule of the module docs.
    fn brute_force(points: &[(f64, f64)], eps_km: f64, min_samples: usize) -> Clustering {
        let n = points.len();
        let pts: Vec<Radians> = points.iter().map(|p| Radians::of(*p)).collect();
        let half = (0.5 * eps_km / EARTH_RADIUS_KM).sin();
        let near = |i: usize, j: usize| pts[i].reduced_distance(&pts[j]) <= half * half;
        let core: Vec<bool> = (0..n)
            .map(|i| (0..n).filter(|&j| near(i, j)).count() >= min_samples.max(1))
            .collect();
        let mut labels: Vec<Option<u32>> = vec![None; n];
        let mut clusters = 0;
        for seed in 0..n {
            if !core[seed] || labels[seed].is_some() {
                continue;
            }
            let mut stack = vec![seed];
            labels[seed] = Some(clusters);
            while let Some(i) = stack.pop() {
                for j in 0..n {
                    if core[j] && labels[j].is_none() && near(i, j) {
                        labels[j] = Some(clusters);
                        stack.push(j);
                    }
                }
            }
            clusters += 1;
        }
        for i in 0..n {
            if !core[i] {
                labels[i] = (0..n)
                    .filter(|&j| core[j] && near(i, j))
                    .filter_map(|j| labels[j])
                    .min();
            }
        }
        Clustering {
            labels,
            core,
            clusters,
        }
    }

    #[test]
    fn an_isolated_point_is_noise() {
        let c = dbscan(&[at(0.0, 0.0), at(0.5, 0.0), at(10.0, 0.0)], 1.0, 2);
        assert_eq!(c.labels, vec![Some(0), Some(0), None]);
        assert_eq!(c.clusters, 1);
    }

    #[test]
    fn two_groups_far_apart_are_two_clusters_numbered_by_first_core_point() {
        let points = [at(20.0, 0.0), at(0.0, 0.0), at(20.3, 0.0), at(0.3, 0.0)];
        let c = dbscan(&points, 1.0, 2);
        assert_eq!(c.labels, vec![Some(0), Some(1), Some(0), Some(1)]);
        assert_eq!(c.clusters, 2);
    }

    #[test]
    fn a_border_point_joins_its_core_neighbours_cluster_without_being_core() {
        // 0, 1, 2 are core (three within 1 km); 3 is within 1 km of 2 only.
        let points = [at(0.0, 0.0), at(0.4, 0.0), at(0.8, 0.0), at(1.7, 0.0)];
        let c = dbscan(&points, 1.0, 3);
        assert_eq!(c.core, vec![true, true, true, false]);
        assert_eq!(c.labels, vec![Some(0), Some(0), Some(0), Some(0)]);
    }

    #[test]
    fn a_border_point_between_two_clusters_takes_the_lower_numbered_one() {
        // Two clusters of three on either side of a point that is within reach of one core
        // point of each but is itself not core (two neighbours plus itself < 4).
        let points = [
            at(-1.8, 0.0), // 0: a core point of the western cluster, listed first: cluster 0
            at(1.8, 0.0),
            at(2.2, 0.0),
            at(2.6, 0.0),
            at(0.0, 0.0), // 4: the border point, 1.8 km from each cluster
            at(-2.2, 0.0),
            at(-2.6, 0.0),
            at(-3.0, 0.0),
        ];
        let c = dbscan(&points, 1.9, 4);
        assert!(!c.core[4]);
        assert_eq!(c.labels[4], c.labels[0]);
        assert_eq!(c.labels[0], Some(0));
        assert_eq!(c.labels[1], Some(1));
    }

    #[test]
    fn a_border_point_does_not_chain_two_clusters() {
        let points = [
            at(0.0, 0.0),
            at(0.5, 0.0),
            at(1.4, 0.0),
            at(2.3, 0.0),
            at(2.8, 0.0),
        ];
        let c = dbscan(&points, 1.0, 2);
        // 2 is within 1 km of 1 and 3, so every point is core and all chain: one cluster.
        assert_eq!(c.clusters, 1);
        let c = dbscan(&points, 1.0, 3);
        // With 3 needed, 0 and 4 lack neighbours; 1, 2 and 3 are core and chain.
        assert_eq!(c.core, vec![false, true, true, true, false]);
        assert_eq!(c.clusters, 1);
    }

    #[test]
    fn min_samples_of_one_makes_every_point_a_cluster_or_member() {
        let c = dbscan(&[at(0.0, 0.0), at(50.0, 0.0)], 1.0, 1);
        assert_eq!(c.labels, vec![Some(0), Some(1)]);
    }

    #[test]
    fn points_across_the_antimeridian_are_neighbours() {
        let c = dbscan(&[(179.999, 10.0), (-179.999, 10.0)], 1.0, 2);
        assert_eq!(c.labels, vec![Some(0), Some(0)]);
    }

    #[test]
    fn no_points_give_no_clusters() {
        let c = dbscan(&[], 1.0, 2);
        assert_eq!(c.clusters, 0);
        assert!(c.labels.is_empty());
    }

    #[test]
    fn a_radius_that_is_not_a_number_leaves_each_point_alone() {
        let c = dbscan(&[at(0.0, 0.0), at(0.0, 0.0)], f64::NAN, 2);
        // Two identical points are at distance 0 ≤ 0: still neighbours.
        assert_eq!(c.labels, vec![Some(0), Some(0)]);
        let c = dbscan(&[at(0.0, 0.0), at(0.1, 0.0)], f64::NAN, 2);
        assert_eq!(c.labels, vec![None, None]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn the_grid_gives_the_brute_force_labels(
            points in prop::collection::vec((-3.0f64..3.0, -3.0f64..3.0), 0..120),
            eps_km in 0.05f64..2.0,
            min_samples in 1usize..6,
        ) {
            let points: Vec<(f64, f64)> = points.into_iter().map(|(e, n)| at(e, n)).collect();
            prop_assert_eq!(dbscan(&points, eps_km, min_samples), brute_force(&points, eps_km, min_samples));
        }

        #[test]
        fn the_grid_gives_the_brute_force_labels_near_the_poles_and_antimeridian(
            points in prop::collection::vec((-180.0f64..180.0, 80.0f64..90.0), 0..60),
            eps_km in 1.0f64..400.0,
            min_samples in 1usize..4,
        ) {
            prop_assert_eq!(dbscan(&points, eps_km, min_samples), brute_force(&points, eps_km, min_samples));
        }
    }
}
