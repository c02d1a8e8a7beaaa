#!/usr/bin/env python3
"""scripts/compose-bias.py DATA... - the signed error of the measured back
end's composition on a capture's held-out runs of 3 and 4, and what one
factor on its slow-down, fitted on the runs of 3, does to the runs of 4
(experiments/validation/README.md, "The same runs on other chips").

DATA is a capture folder of igniter derive (profile.json,
measured-colocation.jsonl, colocations-multi.jsonl). For each, `igniter
accuracy --multi --train --json --points` gives every member's measured
latency, the `measured` prediction (solo x (1 + E), E the composed
slow-down) and the `no-interference` one (solo). Prints, for runs of 3
and 4, the mean absolute and the mean signed error in %; then c, the
least-squares factor on E over the runs of 3 (prediction solo x (1 +
c E)), and the runs of 4's errors with c and with 1 + 2 (c - 1) (the
factor growing with the number of partners). Errors name the file and
exit 2."""
import json
import os
import subprocess
import sys

IGNITER = os.environ.get("IGNITER", "build/igniter")


def die(msg):
    print("compose-bias: " + msg, file=sys.stderr)
    sys.exit(2)


def members(d):
    """{3: [(measured, predicted, solo)], 4: [...]} of capture folder d."""
    args = [IGNITER, "accuracy", "--profile", d + "/profile.json", "--multi",
            d + "/colocations-multi.jsonl", "--train",
            d + "/measured-colocation.jsonl", "--json", "--points"]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        die("%s: %s" % (d, r.stderr.strip()))
    a = json.loads(r.stdout)
    out = {}
    for n in (3, 4):
        m, z = a.get("measured_%d" % n), a.get("no-interference_%d" % n)
        if not m or not z:
            die("%s: no runs of %d" % (d, n))
        out[n] = [(x[1], x[2], y[2]) for x, y in zip(m["points"],
                                                    z["points"])]
    return out


def errs(rows, c):
    """mean |error| and mean signed error, %, with factor c on E"""
    e = [(s * (1 + c * (p / s - 1)) - y) / y * 100 for y, p, s in rows]
    return sum(map(abs, e)) / len(e), sum(e) / len(e)


def main(argv):
    if len(argv) < 2:
        die("usage: compose-bias.py DATA...")
    rows = []
    for d in argv[1:]:
        r = members(d)
        # least squares of (s (1 + c E) - y) / y over the runs of 3
        num = sum((y - s) / y * (p - s) / y for y, p, s in r[3])
        den = sum(((p - s) / y) ** 2 for y, p, s in r[3])
        c = num / den if den > 0 else 1.0
        rows.append((d,) + errs(r[3], 1) + (c,) + errs(r[4], 1) +
                    errs(r[4], c) + errs(r[4], 1 + 2 * (c - 1)))
    print("| data | runs of 3: abs / signed | c | runs of 4: abs / signed "
          "| with c | with 1 + 2 (c - 1) |")
    print("|---|---|---|---|---|---|")
    for x in rows:
        print("| %s | %.2f / %+.2f %% | %.3f | %.2f / %+.2f %% | %.2f / %+.2f"
              " %% | %.2f / %+.2f %% |" % x)

if __name__ == "__main__":
    main(sys.argv)
