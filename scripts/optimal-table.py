#!/usr/bin/env python3
"""optimal-table.py - each policy's GPUs and cost over the optimum.

Plans the paper's 12 workloads (experiments/paper-12.json) and seeded
random sets with every policy compared, with `optimal` (the exact lower
bound of policies/optimal.c, workloads in Algorithm 1's shape) and with
`optimal` allowed to split workloads into equal instances
(IGNITER_OPTIMAL_SPLITS=64), and prints the Markdown tables of
docs/optimal.md: GPUs per policy, each policy's cost over the optimum, and
the solves.

The random sets draw like the tests' tu_random_workloads (tests/testutil.h),
with Python's own seeded generator (so not the same sets): a model uniform
over AlexNet, ResNet-50, VGG-19 and SSD, an SLO uniform in the model's range
(10-30, 20-80, 40-120, 60-200 ms) and a rate uniform in 50-800 req/s, both
rounded to whole numbers.

Usage: python3 scripts/optimal-table.py [--bin build/igniter]
           [--sizes 8,12,16,20] [--seeds 1,2,3,4,5] [--out DIR]
Run from the repository root. Plans (JSON) are kept in --out (default a
temporary folder, removed).
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

PROFILE = "traces/v100/profile.json"
MEASURED = "traces/v100/measured-colocation.jsonl"
POLICIES = ["igniter", "ffd", "gslice", "gpulets", "exclusive"]
KINDS = [("alexnet", 10, 30), ("resnet50", 20, 80), ("vgg19", 40, 120),
         ("ssd", 60, 200)]


def random_set(n, seed):
    r = random.Random(seed)
    ws = []
    for i in range(n):
        model, lo, hi = KINDS[r.randrange(4)]
        ws.append({"name": "W%d" % (i + 1), "model": model,
                   "slo_ms": round(lo + r.random() * (hi - lo)),
                   "rate_rps": round(50 + r.random() * 750)})
    return ws


def plan(binary, policy, wfile, out, env=None):
    """Runs igniter plan; returns (plan dict, wall seconds)."""
    cmd = [binary, "plan", "--policy", policy, "--workloads", wfile,
           "--profile", PROFILE, "--out", out]
    if policy == "gpulets":
        cmd += ["--measured", MEASURED]
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=e, text=True)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("optimal-table: %s: %s" % (" ".join(cmd), r.stderr.strip()))
    with open(out) as f:
        return json.load(f), dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/igniter")
    ap.add_argument("--sizes", default="8,12,16,20")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="optimal-table-")
    os.makedirs(out, exist_ok=True)
    with open("experiments/paper-12.json") as f:
        sets = [("paper-12", json.load(f)["workloads"])]
    for n in [int(x) for x in a.sizes.split(",")]:
        for s in [int(x) for x in a.seeds.split(",")]:
            sets.append(("random-%d-s%d" % (n, s), random_set(n, s)))
    rows = []
    for name, ws in sets:
        wfile = os.path.join(out, name + ".json")
        with open(wfile, "w") as f:
            json.dump({"workloads": ws}, f, indent=1)
        row = {"set": name, "n": len(ws)}
        for label, env in (("optimal", {}),
                           ("splits", {"IGNITER_OPTIMAL_SPLITS": "64"})):
            p, dt = plan(a.bin, "optimal", wfile,
                         os.path.join(out, "%s.%s.plan.json" % (name, label)),
                         env)
            row[label] = p["num_gpus"]
            row[label + "_s"] = dt
            row[label + "_status"] = p["solve"]["status"]
            row[label + "_bound"] = p["solve"]["lower_bound_gpus"]
            row["price"] = p["price_per_hour"]
            inst, stacked = 0, 0
            for g in p["gpus"]:
                names = [w["name"] for w in g["workloads"]]
                inst += len(names)
                stacked += sum(1 for x in names if names.count(x) > 1)
            row[label + "_inst"] = inst
            row[label + "_stacked"] = stacked
        for pol in POLICIES:
            p, dt = plan(a.bin, pol, wfile,
                         os.path.join(out, "%s.%s.plan.json" % (name, pol)))
            row[pol] = p["num_gpus"]
            row[pol + "_s"] = dt
        rows.append(row)
    if not a.out:
        shutil.rmtree(out)

    cols = ["optimal", "splits"] + POLICIES
    print("GPUs (V100, $%.2f/h each); `optimal`: the optimum, `splits`: the "
          "optimum with equal splits\n" % rows[0]["price"])
    print("| set | workloads | " + " | ".join(cols) + " |")
    print("|---|---:|" + "---:|" * len(cols))
    for r in rows:
        print("| %s | %d | " % (r["set"], r["n"]) +
              " | ".join(str(r[c]) for c in cols) + " |")
    print("\nCost over the optimum (%), per set and the mean over the "
          "random sets\n")
    over = ["splits"] + POLICIES
    print("| set | " + " | ".join(over) + " |")
    print("|---|" + "---:|" * len(over))
    rnd = [r for r in rows if r["set"] != "paper-12"]

    def pct(r, c):
        return 100.0 * (r[c] - r["optimal"]) / r["optimal"]

    for r in rows:
        print("| %s | " % r["set"] +
              " | ".join("%+.0f" % pct(r, c) for c in over) + " |")
    if rnd:
        print("| mean, random sets | " +
              " | ".join("%+.1f" % (sum(pct(r, c) for r in rnd) / len(rnd))
                         for c in over) + " |")
    print("\nSolves: wall time of `igniter plan --policy optimal` (loading "
          "and fitting the profile included), status, proven bound; with "
          "splits also the plan's instances and those beside another of "
          "their workload on a GPU\n")
    print("| set | optimal s | status | bound | splits s | status | bound | "
          "instances | stacked | igniter s |")
    print("|---|---:|---|---:|---:|---|---:|---:|---:|---:|")
    for r in rows:
        print("| %s | %.3f | %s | %g | %.3f | %s | %g | %d | %d | %.3f |" % (
            r["set"], r["optimal_s"], r["optimal_status"], r["optimal_bound"],
            r["splits_s"], r["splits_status"], r["splits_bound"],
            r["splits_inst"], r["splits_stacked"], r["igniter_s"]))


if __name__ == "__main__":
    main()
