#!/usr/bin/env python3
"""scripts/mps-coloc-raw.py COLOC > RAW - scripts/mps-coloc-gpu.sh's
windows as raw MPS records for `igniter derive --mps`: one "coloc" record
("mech":"mps", "set":"mps") per plan, its members the "together" windows,
each with its own "alone" window's mean as alone_ms (the runs term of the
MPS correction, model/model.h), in the file's order; start_skew_ms, the
spread of the together windows' starts. A plan whose members were not all
timed alone and together is an error naming it. Errors exit 2."""
import json
import sys

FIELDS = ("model", "batch", "active_thread_pct", "share_pct", "iters",
          "mean_ms", "p50_ms", "p99_ms", "std_ms", "gpu_ms")


def die(msg):
    print("mps-coloc-raw: " + msg, file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) != 2:
        die("usage: mps-coloc-raw.py COLOC > RAW")
    plans, order = {}, []
    try:
        with open(argv[1]) as f:
            for n, line in enumerate(f, 1):
                try:
                    j = json.loads(line)
                    key = (j["plan"], j["run"], j["model"])
                    j["mean_ms"], j["pct"], j["batch"]
                except (ValueError, KeyError) as e:
                    die("%s:%d: %s" % (argv[1], n, e))
                if j["run"] not in ("alone", "together"):
                    die("%s:%d: run: expected alone or together, got %r" %
                        (argv[1], n, j["run"]))
                if j["plan"] not in plans:
                    plans[j["plan"]] = {}
                    order.append(j["plan"])
                plans[j["plan"]][key[1:]] = j
    except OSError as e:
        die("%s: %s" % (argv[1], e))
    out = []
    for p in order:
        w = plans[p]
        together = [j for (r, _), j in w.items() if r == "together"]
        alone = {m: j for (r, m), j in w.items() if r == "alone"}
        if len(together) < 2 or set(alone) != {j["model"] for j in together}:
            die("%s: plan %s: expected every member timed alone and "
                "together, got %d alone and %d together" % (
                    argv[1], p, len(alone), len(together)))
        mem = []
        for j in together:
            x = {"model": j["model"], "batch": j["batch"],
                 "active_thread_pct": round(j["pct"], 4),
                 "share_pct": round(j["pct"], 4)}
            for k in FIELDS[4:]:
                if k in j:
                    x[k] = j[k]
            x["alone_ms"] = alone[j["model"]]["mean_ms"]
            mem.append(x)
        t0 = [j["t0"] for j in together if "t0" in j]
        rec = {"kind": "coloc", "mech": "mps", "set": "mps", "n": len(mem),
               "members": mem}
        if len(t0) == len(together):
            rec["start_skew_ms"] = round((max(t0) - min(t0)) * 1e3, 3)
        out.append(json.dumps(rec, separators=(",", ":")))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv)
