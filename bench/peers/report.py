"""Reads one run's results (bench/run writes them: limits.json, stages-N.json, peers-N.json,
machine.json) and prints the figures, the ratios against the peers and limits, and the
targets of issue 5 met or not, as Markdown.

Usage: report.py RESULTS_DIR
"""

import json
import sys
from pathlib import Path

MIB_PER_GIB = 1024.0


def load(path):
    with open(path) as f:
        return json.load(f)


def fmt(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    if isinstance(x, int):
        return f"{x:,}"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def bound_of(s, verify_all):
    """The verification bound's rate for a size: measured beside its replays where the
    harness did (since run 6; the median of one measurement after each replay in run 7; the
    bound beside the replay of median ratio since run 8), else the run's limits."""
    return s["measures"].get("bound", {}).get("verify_strict_per_s", verify_all)


def replay_over_bound(s, verify_all):
    """Replay time over the verification bound: since run 8 the harness's median of each
    replay against the bound measured beside it, else the median replay over the bound."""
    measured = s["measures"].get("bound", {}).get("replay_over_bound")
    if measured is not None:
        return measured
    return s["measures"]["replay"]["seconds"] / (s["entries"] / bound_of(s, verify_all))


def pacta_verifier_ratio(s):
    """Replay time over the bound of Pacta's own strict verification (`StrictKey`, since run
    9), the median of each replay against it; None before."""
    return s["measures"].get("bound_pacta_verifier", {}).get("replay_over_bound")


def bound_range(s, verify_all):
    """'bound (min-max)' in seconds, the range over every measurement, where it was
    measured more than once."""
    n = s["entries"]
    bound = n / bound_of(s, verify_all)
    rates = s["measures"].get("bound", {}).get("verify_strict_per_s_measured", [])
    if len(rates) < 2:
        return bound
    return f"{fmt(bound)} ({fmt(n / max(rates))}-{fmt(n / min(rates))})"


def replay_range(s):
    """'median (min-max, N runs)' of a size's full replays, or the one time."""
    r = s["measures"].get("replays")
    if not r or r["count"] < 2:
        return fmt(s["measures"]["replay"]["seconds"])
    return f"{fmt(r['median_seconds'])} ({fmt(min(r['seconds']))}-{fmt(max(r['seconds']))}, {r['count']} runs)"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in row) + " |" for row in rows]
    return "\n".join(out)


def main():
    results = Path(sys.argv[1])
    machine = load(results / "machine.json")
    limits = load(results / "limits.json")
    runs = []
    for path in sorted(results.glob("stages-*.json"), key=lambda p: int(p.stem.split("-")[1])):
        size = int(path.stem.split("-")[1])
        peers_path = results / f"peers-{size}.json"
        runs.append((load(path), load(peers_path) if peers_path.exists() else None))

    verify_all = limits["ed25519_verify_strict_per_s"]["all_cores"]
    verify_one = limits["ed25519_verify_strict_per_s"]["one_core"]
    print(f"## Run of {machine['started']}\n")
    print(f"Command: `{machine['command']}`  ")
    print(f"Machine: {machine['nproc']} cores, {machine['model']}, {machine['memory']}; "
          f"load average before each size in the tables.\n")
    print("### Limits (one Ed25519 strict verification / SHA-256 per signed message of "
          f"{limits['message_bytes']} bytes; load {machine['load_limits']})\n")
    print(table(
        ["measure", "one core /s", f"{limits['cores']} cores /s"],
        [
            ["Ed25519 verify_strict", verify_one, verify_all],
            *([["Pacta's strict verification (StrictKey, groups of 64)", limits["pacta_strict_verify_per_s"]["one_core"],
                limits["pacta_strict_verify_per_s"]["all_cores"]]]
              if "pacta_strict_verify_per_s" in limits else []),
            ["SHA-256 of one message", limits["sha256_messages_per_s"]["one_core"],
             limits["sha256_messages_per_s"]["all_cores"]],
            ["SHA-256 MB/s", limits["sha256_mb_per_s"]["one_core"], limits["sha256_mb_per_s"]["all_cores"]],
        ],
    ))

    print("\n### Pacta's stages (seconds; peak resident MiB during the stage)\n")
    rows = []
    for s, _ in runs:
        m = s["measures"]
        st = m["assess"]["stages"]
        rows.append([
            s["size"], s["load"], m["generate"]["seconds"], m["verify"]["seconds"],
            st.get("corroborate"), st.get("attribute", 0) + st.get("adjudicate", 0),
            m["assess"]["seconds"], m["digest"]["seconds"], replay_range(s),
            m["replay"].get("cpu_seconds"),
            m["generate"]["peak_mib"], m.get("replays", {}).get("peak_mib_max", m["replay"]["peak_mib"]),
        ])
    print(table(
        ["reports", "load", "generate", "verify", "corroborate", "attribute+adjudicate",
         "assess (all stages)", "digest", "full replay", "replay CPU s", "peak MiB generate",
         "peak MiB replay (largest of the replays)"],
        rows,
    ))

    print("\n### Growth: microseconds per report (constant = linear)\n")
    rows = []
    for s, _ in runs:
        m = s["measures"]
        st = m["assess"]["stages"]
        per = 1e6 / s["entries"]
        rows.append([
            s["size"], m["generate"]["seconds"] * per, m["verify"]["seconds"] * per,
            st.get("corroborate", 0) * per, (st.get("attribute", 0) + st.get("adjudicate", 0)) * per,
            st.get("respond", 0) * per, m["digest"]["seconds"] * per, m["replay"]["seconds"] * per,
            m["cluster"]["seconds"] * per,
        ])
    print(table(
        ["reports", "generate", "verify", "corroborate", "attribute+adjudicate", "respond",
         "digest", "full replay", "DBSCAN"],
        rows,
    ))

    print("\n### Against the limits and the peers\n")
    rows = []
    for s, p in runs:
        n = s["entries"]
        bound = n / bound_of(s, verify_all)
        replay = s["measures"]["replay"]["seconds"]
        cluster = s["measures"]["cluster"]["seconds"]
        contains = s["measures"]["zone_contains"]["seconds"]
        distance = s["measures"]["zone_distance"]["seconds"]
        d = p and p.get("dbscan")
        z = p and p["zones"]
        rows.append([
            s["size"], s["load"], n / replay, bound_range(s, verify_all),
            replay_over_bound(s, verify_all), pacta_verifier_ratio(s),
            cluster, d and d["seconds"], d and d["seconds"] / cluster,
            d and d["identical_labels"], d and d["peak_mib"],
            contains, z and min(z["distance_seconds"], z["dwithin_seconds"]),
            z and min(z["distance_seconds"], z["dwithin_seconds"]) / contains,
            distance, z and z["distance_seconds"], z and z["distance_seconds"] / distance,
        ])
    print(table(
        ["reports", "load", "replay reports/s", "verify bound s (beside the median ratio; range of all)", "replay / bound (median)",
         "replay / bound of Pacta's verifier (median)",
         "Pacta DBSCAN s", "sklearn DBSCAN s", "speed-up", "identical labels",
         "sklearn process peak MiB",
         "Pacta zone check s", "shapely best s", "speed-up",
         "Pacta distance s", "shapely distance s", "speed-up"],
        rows,
    ))

    print("\n### Workload\n")
    rows = []
    for s, p in runs:
        c = s["cluster"]
        d = p and p.get("dbscan")
        z = p and p["zones"]
        rows.append([
            s["size"], s["generated"]["days"], s["file_bytes"] / 1e6, s["signed_bytes_mean"],
            s["counts"]["incidents"], s["counts"]["findings"], s["counts"]["obligations"],
            c["clusters"], c["core"], c["noise"], d and d["clusters"],
            s["zone"]["within"], z and z["within"],
            z and f"{z['verdicts_equal_to_pacta']:.5f}",
        ])
    print(table(
        ["reports", "days", "NDJSON MB", "signed bytes/report", "incidents", "findings",
         "obligations", "DBSCAN clusters", "core", "noise", "sklearn clusters",
         "within zone (Pacta)", "(shapely)", "zone verdicts equal"],
        rows,
    ))

    print("\n### Targets\n")
    by_size = {s["size"]: (s, p) for s, p in runs}
    million = by_size.get(1_000_000)
    lines = []
    if million:
        s, p = million
        d = p and p.get("dbscan")
        if d:
            x = d["seconds"] / s["measures"]["cluster"]["seconds"]
            ok = x >= 20 and d["identical_labels"]
            lines.append(f"- clustering kernel >= 20x scikit-learn at 10^6, identical partition: "
                         f"{'MET' if ok else 'NOT MET'} ({x:.1f}x, identical labels: {fmt(d['identical_labels'])})")
        z = p and p["zones"]
        if z:
            x = min(z["distance_seconds"], z["dwithin_seconds"]) / s["measures"]["zone_contains"]["seconds"]
            lines.append(f"- zone checks >= 3x shapely: {'MET' if x >= 3 else 'NOT MET'} ({x:.1f}x at 10^6)")
        r = replay_over_bound(s, verify_all)
        tighter = pacta_verifier_ratio(s)
        lines.append(f"- full replay of 10^6 within 1.25x of the verification bound (verify_strict): "
                     f"{'MET' if r <= 1.25 else 'NOT MET'} ({r:.2f}x"
                     + (f"; {tighter:.2f}x the bound of Pacta's own strict verification" if tighter else "")
                     + ")")
        replay_peak = s["measures"].get("replays", {}).get("peak_mib_max", s["measures"]["replay"]["peak_mib"])
        peak = max(replay_peak, s["measures"]["generate"]["peak_mib"])
        lines.append(f"- under 1 GiB at 10^6: {'MET' if peak < MIB_PER_GIB else 'NOT MET'} "
                     f"(peak {peak:.0f} MiB)")
    else:
        lines.append("- 10^6 was not run: the targets at 10^6 are not assessed")
    sizes = sorted(by_size)
    if len(sizes) >= 2:
        small, large = by_size[sizes[-2]][0], by_size[sizes[-1]][0]
        growth = (large["measures"]["replay"]["seconds"] / small["measures"]["replay"]["seconds"]) / (
            large["entries"] / small["entries"])
        lines.append(f"- growth of full replay from {small['size']:,} to {large['size']:,}: "
                     f"{growth:.2f}x linear (1.00 = linear)")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
