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

      When both folders hold a trace (REAL/trace.json.gz or trace.json, as
      serve writes it and the validation scripts gzip it; SIM/trace.json,
      `igniter sim --trace 2000`), two numbers per workload from the
      batches instead (fit): the factor from the batches started back to
      back (in the real trace within BACK_TO_BACK_US of the previous
      batch's end on the same instance, in the simulated one at that very
      instant), real mean time over simulated mean time with the simulated
      means taken at the real batches' sizes; and the wake cost, what a
      real batch that started on an idle instance takes more than one
      started back to back, per batch size with at least MIN_BATCHES of
      each, averaged over the sizes weighted by their idle batches (0 when
      negative or no size has enough). Printed as --slowdown NAME:F --wake
      NAME:US; --json adds "wakes".

A run at moderate load is the one to calibrate from: its batches are the
plan's, and no queue hides the batch times. The factors carry what the
measured data does not know about this plan (a batch size or share never
measured, another chip, the sharing mechanism), as a constant per workload.
Errors name the file and exit 2.
"""
import gzip
import json
import os
import sys

BACK_TO_BACK_US = 20.0   # a real batch starting this soon after the last
MIN_BATCHES = 10         # per batch size, of each kind, for a wake cost


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


def batches_of(path, per_instance=False):
    """{workload: [(start us, duration us, batch), ...]} of a trace
    (gzipped when its name ends in .gz); with per_instance the keys are
    (workload, gpu, instance), one per thread of the trace."""
    try:
        op = gzip.open if path.endswith(".gz") else open
        with op(path, "rt") as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        die("%s: %s" % (path, e))
    names, out = {}, {}
    for e in d.get("traceEvents", []):
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[(e["pid"], e["tid"])] = e["args"]["name"].split(" (")[0]
    for e in d.get("traceEvents", []):
        if e.get("ph") == "X":
            w = names.get((e["pid"], e["tid"]), "?")
            key = (w, e["pid"], e["tid"]) if per_instance else w
            out.setdefault(key, []).append((e["ts"], e["dur"],
                                            e["args"]["batch"]))
    return out


def trace_in(path):
    """The trace beside a run's summary.json, or None."""
    d = path if os.path.isdir(path) else os.path.dirname(path) or "."
    for name in ("trace.json.gz", "trace.json"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return None


def split(path, real):
    """{workload: ({batch: [idle-start us]}, {batch: [back-to-back us]})}
    of a trace: a batch is back to back when it starts within
    BACK_TO_BACK_US (real) or at the very instant (simulated; times are
    whole ns printed as us with 3 decimals) of its instance's previous
    batch's end; the first batch of an instance starts idle."""
    out = {}
    for (w, _, _), bs in batches_of(path, per_instance=True).items():
        idle, b2b = out.setdefault(w, ({}, {}))
        bs.sort()
        prev_end = None
        for t, d, b in bs:
            gap = None if prev_end is None else t - prev_end
            if real:
                back = gap is not None and gap <= BACK_TO_BACK_US
            else:
                back = gap is not None and round(gap * 1e3) == 0
            (b2b if back else idle).setdefault(b, []).append(d)
            prev_end = t + d
    return out


def mean(xs):
    return sum(xs) / len(xs)


def fit(real, sim):
    """({workload: factor}, {workload: wake us}) of real and sim (paths:
    folders or summary.json): from the batches when both runs have a
    trace, else the factors of factors() and no wake cost ({}). A workload
    whose real trace has no back-to-back batch of a size the simulated one
    ran keeps factors()'s factor."""
    f = factors(real, sim)
    rt, st = trace_in(real), trace_in(sim)
    if not rt or not st:
        return f, {}
    r, s = split(rt, True), split(st, False)
    wakes = {}
    for w in f:
        ridle, rb2b = r.get(w, ({}, {}))
        sidle, sb2b = s.get(w, ({}, {}))
        num = den = 0.0
        for b, xs in rb2b.items():
            # the simulated time at that size: its back-to-back batches,
            # else all of them (a plain simulation has no wake cost)
            ys = sb2b.get(b) or sidle.get(b)
            if ys:
                num += sum(xs)
                den += len(xs) * mean(ys)
        if den > 0:
            f[w] = num / den
        diff = n = 0.0
        for b, xs in ridle.items():
            ys = rb2b.get(b, [])
            if len(xs) >= MIN_BATCHES and len(ys) >= MIN_BATCHES:
                diff += len(xs) * (mean(xs) - mean(ys))
                n += len(xs)
        wakes[w] = max(0.0, diff / n) if n else 0.0
    return f, wakes


def main(argv):
    args = [a for a in argv[1:] if a != "--json"]
    if len(args) != 2:
        die("usage: calibrate.py REAL SIM [--json]")
    f, wk = fit(args[0], args[1])
    if "--json" in argv:
        j = {"slowdowns": [{"workload": k, "factor": round(v, 4)}
                           for k, v in f.items()]}
        if wk:
            j["wakes"] = [{"workload": k, "us": round(v, 1)}
                          for k, v in wk.items()]
        print(json.dumps(j, indent=1))
    else:
        print(" ".join("--slowdown %s:%.4f" % (k, v) +
                       (" --wake %s:%.1f" % (k, wk[k]) if k in wk else "")
                       for k, v in f.items()))


if __name__ == "__main__":
    main(sys.argv)
