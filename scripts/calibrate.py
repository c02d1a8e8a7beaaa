#!/usr/bin/env python3
"""scripts/calibrate.py - calibrates the simulator with one real run
(experiments/validation/README.md, "Calibrated with one real run").

  calibrate.py REAL SIM [--json]
      REAL and SIM are the output folders (or their summary.json) of
      `igniter serve` and `igniter sim` of the same plan, arrivals, seed and
      duration. For every workload, the factor by which the real GPU's mean
      batch time exceeds the simulated one (real mean_service_ms / simulated
      mean_service_ms). Prints them as `igniter sim` options (--slowdown
      NAME:FACTOR ...), or with --json as an experiment's "slowdowns" field,
      to simulate the same plan at other loads and arrivals.

A run at moderate load is the one to calibrate from: its batches are the
plan's, and no queue hides the batch times. The factors carry what the
measured data does not know about this plan (a batch size or share never
measured, another chip, the sharing mechanism), as a constant per workload.
Errors name the file and exit 2.
"""
import json
import os
import sys


def die(msg):
    print("calibrate: " + msg, file=sys.stderr)
    sys.exit(2)


def summary(path):
    if os.path.isdir(path):
        path = os.path.join(path, "summary.json")
    try:
        with open(path) as f:
            s = json.load(f)
    except (OSError, ValueError) as e:
        die("%s: %s" % (path, e))
    if not isinstance(s, dict) or not isinstance(s.get("workloads"), list):
        die("%s: expected a summary.json of igniter sim or serve" % path)
    return path, s


def factors(real, sim):
    """{workload name: real / simulated mean batch time}, in the real
    run's order; real and sim are paths (folders or summary.json)."""
    rp, r = summary(real)
    sp, s = summary(sim)
    if not r.get("complete", True):
        die("%s: the run did not complete" % rp)
    sw = {w.get("name"): w for w in s["workloads"]}
    out = {}
    for w in r["workloads"]:
        name = w.get("name")
        x = sw.get(name)
        if x is None:
            die("%s: no workload %s (it is in %s)" % (sp, name, rp))
        a, b = w.get("mean_service_ms"), x.get("mean_service_ms")
        for p, v in ((rp, a), (sp, b)):
            if not isinstance(v, (int, float)) or not v > 0:
                die("%s: workload %s: mean_service_ms: expected a positive "
                    "number, got %r" % (p, name, v))
        out[name] = a / b
    return out


def main(argv):
    args = [a for a in argv[1:] if a != "--json"]
    if len(args) != 2:
        die("usage: calibrate.py REAL SIM [--json]")
    f = factors(args[0], args[1])
    if "--json" in argv:
        print(json.dumps({"slowdowns": [{"workload": k, "factor":
                                         round(v, 4)} for k, v in f.items()]},
                         indent=1))
    else:
        print(" ".join("--slowdown %s:%.4f" % (k, v) for k, v in f.items()))


if __name__ == "__main__":
    main(sys.argv)
