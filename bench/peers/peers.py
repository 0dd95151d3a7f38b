"""The peers of Pacta's clustering kernel and zone checks, on the inputs the Rust harness
wrote for one size (see bench/src/bin/harness.rs), measured in this process:

- scikit-learn DBSCAN(metric='haversine', algorithm='ball_tree') on the same points (latitude
  and longitude in radians, the bits Pacta's kernel used) with the same eps and min_samples,
  and whether its labels are identical to Pacta's, label for label;
- shapely: distance from every point to the line of contact, and dwithin (the zone check:
  within the zone's distance of the line), in a local equirectangular projection in km, since
  shapely is planar.

Prints one JSON object. Usage:

    peers.py --dir DIR --size N --eps-km 0.5 --min-samples 5 --zone-km 15 [--skip-dbscan]
"""

import argparse
import json
import math
import resource
import time

import numpy as np
import shapely
import sklearn
from sklearn.cluster import DBSCAN

# The sphere Pacta measures on (pacta_core::geodesy::EARTH_RADIUS_KM): eps in radians is
# eps_km divided by it, on both sides.
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180.0


def peak_mib():
    """This process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def canonical(labels):
    """Labels renumbered by first appearance (noise stays -1): equal for equal partitions."""
    out = np.full(labels.shape, -1, dtype=np.int64)
    seen = {}
    for i, label in enumerate(labels.tolist()):
        if label >= 0:
            out[i] = seen.setdefault(label, len(seen))
    return out


def dbscan(args, points):
    pacta = np.fromfile(f"{args.dir}/labels-{args.size}.i32", dtype="<i4")
    model = DBSCAN(
        eps=args.eps_km / EARTH_RADIUS_KM,
        min_samples=args.min_samples,
        metric="haversine",
        algorithm="ball_tree",
    )
    started = time.perf_counter()
    labels = model.fit(points).labels_
    seconds = time.perf_counter() - started
    same_labels = labels.shape == pacta.shape and bool(np.array_equal(labels, pacta))
    same_partition = same_labels or (
        labels.shape == pacta.shape
        and bool(np.array_equal(canonical(labels), canonical(pacta)))
    )
    return {
        "seconds": seconds,
        "peak_mib": peak_mib(),
        "clusters": int(labels.max()) + 1 if labels.size else 0,
        "noise": int((labels == -1).sum()),
        "core": int(model.core_sample_indices_.size),
        "identical_labels": same_labels,
        "identical_partition": same_partition,
        "points_labelled_differently": int((labels != pacta).sum()) if labels.shape == pacta.shape else None,
    }


def zones(args, points):
    with open(f"{args.dir}/line.json") as f:
        parts = json.load(f)
    pacta_within = np.fromfile(f"{args.dir}/within-{args.size}.u8", dtype=np.uint8).astype(bool)
    # An equirectangular projection at the line's mean latitude, in km: shapely is planar.
    lat0 = math.radians(float(np.mean([lat for part in parts for _, lat in part])))
    kx = KM_PER_DEGREE * math.cos(lat0)
    line = shapely.MultiLineString(
        [[(lon * kx, lat * KM_PER_DEGREE) for lon, lat in part] for part in parts]
    )
    lat = np.degrees(points[:, 0])
    lon = np.degrees(points[:, 1])
    geoms = shapely.points(lon * kx, lat * KM_PER_DEGREE)
    started = time.perf_counter()
    distance = shapely.distance(geoms, line)
    distance_seconds = time.perf_counter() - started
    shapely.prepare(line)
    started = time.perf_counter()
    within = shapely.dwithin(geoms, line, args.zone_km)
    within_seconds = time.perf_counter() - started
    return {
        "distance_seconds": distance_seconds,
        "dwithin_seconds": within_seconds,
        "mean_distance_km": float(distance.mean()) if distance.size else 0.0,
        "within": int(within.sum()),
        "verdicts_equal_to_pacta": float((within == pacta_within).mean()) if within.size else 1.0,
        "line_vertices": sum(len(p) for p in parts),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--eps-km", type=float, required=True)
    parser.add_argument("--min-samples", type=int, required=True)
    parser.add_argument("--zone-km", type=float, required=True)
    parser.add_argument("--skip-dbscan", action="store_true")
    args = parser.parse_args()
    points = np.fromfile(f"{args.dir}/points-{args.size}.f64", dtype="<f8").reshape(-1, 2)
    out = {
        "size": args.size,
        "versions": {
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "shapely": shapely.__version__,
            "geos": shapely.geos_version_string,
        },
        "zones": zones(args, points),
    }
    out["dbscan"] = None if args.skip_dbscan else dbscan(args, points)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
