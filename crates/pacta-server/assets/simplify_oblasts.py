"""Simplify the OSM oblast boundaries (ODbL) into a small display layer for the dashboard.

Douglas-Peucker on each ring with a tolerance of 0.01 degrees (about 1 km), coordinates
rounded to 3 decimals; keeps only the English name and ISO 3166-2 code."""
import json, sys

def dp(points, eps):
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        i, j = stack.pop()
        ax, ay = points[i]; bx, by = points[j]
        dx, dy = bx - ax, by - ay
        norm = (dx * dx + dy * dy) ** 0.5
        best, idx = -1.0, -1
        for k in range(i + 1, j):
            px, py = points[k]
            if norm == 0:
                d = ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
            else:
                d = abs(dy * px - dx * py + bx * ay - by * ax) / norm
            if d > best:
                best, idx = d, k
        if idx >= 0 and best > eps:
            keep[idx] = True
            stack.append((i, idx)); stack.append((idx, j))
    return [p for p, k in zip(points, keep) if k]

src, dst = sys.argv[1], sys.argv[2]
data = json.load(open(src))
features = []
for f in data["features"]:
    g = f["geometry"]
    polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
    out = []
    for poly in polys:
        rings = []
        for ring in poly:
            r = [[round(x, 3), round(y, 3)] for x, y in dp(ring, 0.01)]
            if len(r) >= 4:
                rings.append(r)
        if rings:
            out.append(rings)
    p = f["properties"]
    features.append({"type": "Feature",
                     "properties": {"name": p.get("name:en") or p.get("name"), "iso3166_2": p.get("iso3166-2")},
                     "geometry": {"type": "MultiPolygon", "coordinates": out}})
features.sort(key=lambda f: f["properties"]["iso3166_2"] or "")
json.dump({"type": "FeatureCollection",
           "attribution": "© OpenStreetMap contributors (ODbL), via EugeneBorshch/ukraine_geojson @ 6533810; simplified",
           "features": features}, open(dst, "w"), separators=(",", ":"))
