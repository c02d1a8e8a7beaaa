#!/usr/bin/env python3
"""Error of the model on held-out runs of 3 and 4 co-located workloads.

    python3 scripts/multi-error.py PROFILE COLOCATIONS-MULTI.jsonl [IGNITER]

Runs `igniter predict --input` on the runs (colocations-multi.jsonl, written
by `igniter derive`) and prints the absolute percentage error of the
predicted latency against the measured one (mean, median, P90, max), by the
number of co-located workloads, for the model and for no interference (each
workload predicted alone at its share).
"""
import json
import statistics
import subprocess
import sys
import tempfile


def predict(igniter, profile, lines):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as f:
        f.writelines(lines)
        f.flush()
        out = subprocess.run([igniter, "predict", "--profile", profile,
                              "--input", f.name], text=True,
                             capture_output=True, check=True).stdout
    return [json.loads(l)["latency_ms"] for l in out.splitlines()]


def stats(v):
    v = sorted(v)
    p90 = v[min(len(v) - 1, int(0.9 * len(v) + 0.5) - 1)]
    return (f"{len(v):4d} latencies, mean {statistics.fmean(v):6.2f} %, "
            f"median {statistics.median(v):6.2f}, P90 {p90:6.2f}, "
            f"max {v[-1]:6.2f}")


def main():
    profile, path = sys.argv[1], sys.argv[2]
    igniter = sys.argv[3] if len(sys.argv) > 3 else "build/igniter"
    runs = [json.loads(l) for l in open(path) if l.strip()]
    together = [json.dumps({"colocate": r["colocate"]}) + "\n" for r in runs]
    alone = [json.dumps({"colocate": [w]}) + "\n"
             for r in runs for w in r["colocate"]]
    pt = predict(igniter, profile, together)
    pa = [p[0] for p in predict(igniter, profile, alone)]
    err = {}
    k = 0
    for r, p in zip(runs, pt):
        for w, lat in zip(r["colocate"], p):
            m = w["latency_ms"]
            err.setdefault(r["n"], ([], []))
            err[r["n"]][0].append(abs(lat - m) / m * 100)
            err[r["n"]][1].append(abs(pa[k] - m) / m * 100)
            k += 1
    for n in sorted(err):
        print(f"{n} workloads, model:           {stats(err[n][0])}")
        print(f"{n} workloads, no interference: {stats(err[n][1])}")


if __name__ == "__main__":
    main()
