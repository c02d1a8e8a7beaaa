#!/usr/bin/env python3
"""scripts/mps-runs-fit.py MEASURED RANDOM_TEMPLATES RANDOM_COLOC
                           [TEMPLATES2 COLOC2]
What the MPS correction misses in runs of three and four, and one term
that would take it (experiments/validation/README.md, "MPS runs nobody
chose").

MEASURED: a measured-colocation.jsonl with its measured-mps.jsonl beside
it; the correction is used without its runs term (a copy with runs_k
taken out), and, in the last column, as derived (its own k, fitted by
igniter derive on the runs its MPS records held). RANDOM_TEMPLATES: validate-matrix.py random-templates' file;
RANDOM_COLOC: scripts/mps-coloc-gpu.sh's mps-coloc.jsonl of their plans
(each member "alone" and all "together", always busy). For every member:
the measured slow-down (together over alone) and the one the MPS-corrected
measured back end predicts (igniter sim, every workload saturated:
co-located batch time over the member's batch time alone, both through
validate-matrix.py plans --mps). Fits k of
    slow-down x (1 + k (n - 2) log2(32 / batch) / 5)
(n: workloads in the run) by least squares on the runs of 3, and prints
the slow-down error, absolute and signed, without and with it: on the
runs of 3 (in sample), of 4, and, given TEMPLATES2 and COLOC2, on those
(a held-out set: the validation matrix's plans, as results-alone/
mps-coloc.jsonl timed them, or more random runs), pairs apart. Errors name the file and exit 2."""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def die(msg):
    print("mps-runs-fit: " + msg, file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die("%s: %s" % (path, e))


def capacity(measured, templates, d, name):
    """{(template, model): batch_ms} under MPS for templates (a dict)."""
    t = os.path.join(d, name + ".json")
    with open(t, "w") as f:
        json.dump(templates, f)
    out = os.path.join(d, name)
    r = subprocess.run([sys.executable, os.path.join(HERE,
                                                     "validate-matrix.py"),
                        "plans", "--mps", measured, out, t],
                       capture_output=True, text=True)
    if r.returncode:
        die("validate-matrix.py plans: " + r.stderr.strip())
    with open(os.path.join(out, "capacity.csv"), newline="") as f:
        return {(x["template"], x["model"]): float(x["batch_ms"])
                for x in csv.DictReader(f)}


def without_term(measured, d):
    """A copy of MEASURED and its measured-mps.jsonl without runs_k."""
    src = os.path.dirname(os.path.abspath(measured))
    out = os.path.join(d, "data")
    os.makedirs(out)
    for name in (os.path.basename(measured), "measured-mps.jsonl"):
        try:
            with open(os.path.join(src, name)) as f:
                lines = f.read().split("\n")
        except OSError as e:
            die("%s: %s" % (os.path.join(src, name), e))
        if name == "measured-mps.jsonl":
            head = json.loads(lines[0])
            head.pop("runs_k", None)
            head.pop("run_points", None)
            lines[0] = json.dumps(head)
        with open(os.path.join(out, name), "w") as f:
            f.write("\n".join(lines))
    return os.path.join(out, os.path.basename(measured))


def members(measured, tpath, cpath, d, tag):
    """(n, batch, measured slow-down, predicted slow-down) per member."""
    doc = load(tpath)
    solo = dict(doc)
    solo["templates"] = {"%s-%s" % (k, m[0]): [m]
                         for k, v in doc["templates"].items() for m in v}
    co = capacity(measured, doc, d, tag + "-co")
    so = capacity(measured, solo, d, tag + "-solo")
    win = {}
    try:
        with open(cpath) as f:
            for n, line in enumerate(f, 1):
                try:
                    j = json.loads(line)
                    win[(j["plan"].rsplit("-l", 1)[0], j["run"],
                         j["model"])] = j["mean_ms"]
                except (ValueError, KeyError) as e:
                    die("%s:%d: %s" % (cpath, n, e))
    except OSError as e:
        die("%s: %s" % (cpath, e))
    rows = []
    for k, v in doc["templates"].items():
        for m, b, _ in v:
            a, g = win.get((k, "alone", m)), win.get((k, "together", m))
            if a is None or g is None:
                continue
            rows.append((len(v), b, g / a,
                         co[(k, m)] / so[("%s-%s" % (k, m), m)]))
    if not rows:
        die("%s: no member of %s timed alone and together" % (cpath, tpath))
    return rows


# the runs term's f and its least-squares k, as model/mps.c's
# mdl_mps_runs_feature and fit_runs compute them (derive fits on every run;
# here on the runs of 3 alone, to judge the others)
def feat(n, b):
    return max(0, n - 2) * math.log2(32.0 / min(max(b, 1), 32)) / 5


def err(rows, k):
    e = [100.0 * (p * (1 + k * feat(n, b)) - y) / y for n, b, y, p in rows]
    return (len(e), sum(map(abs, e)) / len(e), sum(e) / len(e))


def main(argv):
    if len(argv) not in (4, 6):
        die("usage: mps-runs-fit.py MEASURED RANDOM_TEMPLATES RANDOM_COLOC "
            "[TEMPLATES2 COLOC2]")
    with tempfile.TemporaryDirectory() as d:
        bare = without_term(argv[1], d)
        r = members(bare, argv[2], argv[3], d, "random")
        x = members(bare, argv[4], argv[5], d, "matrix") \
            if len(argv) == 6 else []
        rs = members(argv[1], argv[2], argv[3], d, "random-derived")
        xs = members(argv[1], argv[4], argv[5], d, "matrix-derived") \
            if len(argv) == 6 else []
    r3 = [m for m in r if m[0] == 3]
    if not r3:
        die("%s: no run of 3 to fit on" % argv[3])
    num = sum((y / p - 1) * feat(n, b) for n, b, y, p in r3)
    den = sum(feat(n, b) ** 2 for n, b, y, p in r3)
    k = num / den if den > 0 else 0.0
    name2 = os.path.basename(argv[4]) if len(argv) == 6 else ""
    print("k = %.4f (fitted here on the random runs of 3)" % k)
    print("| members | n | slow-down error, abs / signed: without the runs "
          "term | k fitted on the runs of 3 | as derived |")
    print("|---|---|---|---|---|")
    sets = [("random runs of 3", r3, [m for m in rs if m[0] == 3]),
            ("random runs of 4", [m for m in r if m[0] == 4],
             [m for m in rs if m[0] == 4]),
            ("held out (%s), pairs" % name2, [m for m in x if m[0] == 2],
             [m for m in xs if m[0] == 2]),
            ("held out (%s), 3 and 4" % name2, [m for m in x if m[0] > 2],
             [m for m in xs if m[0] > 2])]
    for name, rows, derived in sets:
        if rows:
            print("| %s | %d | %.2f / %+.2f %% | %.2f / %+.2f %% | %.2f / "
                  "%+.2f %% |" % ((name,) + err(rows, 0) + err(rows, k)[1:] +
                                  err(derived, 0)[1:]))


if __name__ == "__main__":
    main(sys.argv)
