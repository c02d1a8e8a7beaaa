#!/bin/sh
# Figures of the iGniter paper that are not a policy comparison, one
# command each, into results/paper-figs/figNN/: the data (.dat, with how
# and where it was made in its header) beside the figure (PNG and SVG).
#   fig17  the safeguard at run time: P99 per control interval of each
#          workload of experiments/fig17.json (igniter-sg, AlexNet slowed
#          as the paper's GPU showed) and of the same run without the
#          slow-down, against the SLOs, the switch and the paper's AlexNet
#          values marked
#   fig18  GPU share of each of the paper's 12 workloads under each
#          policy's plan (`igniter plan`, experiments/paper-12.json), with
#          the paper's iGniter and FFD+ shares
#   fig21  iGniter's planning time against the number of workloads
#          (tests/bench_plan, the benchmark of `make bench`) beside the
#          paper's; the timings are of this machine, now
#   fig11  the paper's Figs. 11-13 as one scatter: iGniter's model
#          (`igniter accuracy --json --points`) against every measured
#          latency of the authors' 750 V100 pairs, per model, with y = x
#          and +-10 %, and the paper's own predicted/observed points
#   accuracy-cdf  CDF of the absolute error of every predictor on data it
#          was not fitted on: V100 pairs at 40/60 % held out, H100 and
#          H200 held-out pairs and runs of 3 and 4 (`igniter accuracy`)
# Usage: sh scripts/paper-figs.sh [IGNITER_BINARY] \
#            fig11|fig17|fig18|fig21|accuracy-cdf|all
set -eu
bin=${1:-build/igniter}
what=${2:-all}
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
bindir=$(dirname "$bin")
out=results/paper-figs
command -v gnuplot >/dev/null 2>&1 || {
    echo "paper-figs: gnuplot not found (Debian package gnuplot-nox)" >&2
    exit 1
}
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)

# draw NAME [GNUPLOT_EXPR]: scripts/plot-NAME.gp over $out/NAME/NAME.dat,
# PNG and SVG
draw() {
    for term in png svg; do
        gnuplot -e "dat='$out/$1/$1.dat'; out='$out/$1/$1.$term'; term='$term'; ${2:-}" \
            "scripts/plot-$1.gp"
    done
    echo "paper-figs: $out/$1/$1.png, .svg and .dat" >&2
}

fig17() {
    d=$out/fig17
    mkdir -p "$d"
    e=experiments/fig17.json
    # the paper's scenario with the slow-down its GPU showed, and the same
    # run without it (--slowdown none replaces the experiment's)
    "$bin" sim $e --out "$d/run" --quiet
    "$bin" sim $e --slowdown none --out "$d/run-none" --quiet
    python3 - "$d" "$commit" "$bin" $e <<'PY' >"$d/fig17.dat"
import csv, json, sys
d, commit, bin, exp = sys.argv[1:5]
runs = [("run", "with the slow-down"), ("run-none", "without (--slowdown none)")]
names = ["alexnet", "resnet50", "vgg19"]
summ = json.load(open("%s/run/summary.json" % d))
iv = summ["inputs"]["interval_s"]
slo = {w["name"]: w["slo_ms"] for w in summ["workloads"]}
slow = summ.get("slowdowns", [])
rows = {}
for r, _ in runs:
    with open("%s/%s/timeseries.csv" % (d, r)) as f:
        rows[r] = list(csv.DictReader(f))
# the switch: the start of the first interval in which AlexNet's share
# is not the planned one (the safeguard acted at its start, hot)
a = [x for x in rows["run"] if x["workload"] == "alexnet"]
switch = next((float(x["t_s"]) for x in a if x["share_pct"] != a[0]["share_pct"]), -1)
print("# made by scripts/paper-figs.sh fig17, igniter %s:" % commit)
print("# %s sim %s (simulated, deterministic), then the same with" % (bin, exp))
print("# --slowdown none; slow-downs: %s" %
      ", ".join("%s x%g from %g s" % (s["workload"], s["factor"], s["from_s"]) for s in slow))
print("# interval %.6f s (the safeguard's control interval)" % iv)
print("# switch_s %.6f (AlexNet's share changed by the safeguard; -1: never)" % switch)
print("# second (end of the interval) p99_ms share_pct slo_ms; blocks:")
print("# %s" % "; ".join("%d %s %s" % (i * len(names) + j, r, w)
                         for i, (r, _) in enumerate(runs) for j, w in enumerate(names)))
for r, what in runs:
    for w in names:
        print("# %s, %s" % (w, what))
        for x in rows[r]:
            if x["workload"] == w:
                print("%.6f %s %s %g" % (float(x["t_s"]) + iv, x["p99_ms"], x["share_pct"], slo[w]))
        print("\n")
PY
    sw=$(sed -n 's/^# switch_s \([-0-9.]*\).*/\1/p' "$d/fig17.dat")
    fac=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])).get('slowdowns', []); print(' '.join('%g' % x['factor'] for x in s))" "$d/run/summary.json")
    draw fig17 "switch=$sw; factor='$fac'"
}

fig18() {
    d=$out/fig18
    mkdir -p "$d"
    pols="igniter ffd gslice gpulets optimal"
    for p in $pols; do
        "$bin" plan --policy "$p" --profile traces/v100/profile.json \
            --measured traces/v100/measured-colocation.jsonl \
            --workloads experiments/paper-12.json --out "$d/plan-$p.json" \
            >/dev/null
    done
    python3 - "$d" "$commit" $pols <<'PY' >"$d/fig18.dat"
import json, sys
d, commit, pols = sys.argv[1], sys.argv[2], sys.argv[3:]
# The paper's Fig. 18 (its authors' data, Figure18.xlsx; experiments/README.md)
paper_igniter = [30, 7.5, 12.5, 32.5, 45, 15, 60, 75, 37.5, 60, 15, 100]
paper_ffd = [20, 7.5, 12.5, 30, 42.5, 15, 60, 75, 37.5, 57.5, 15, 92.5]
names = [w["name"] for w in json.load(open("experiments/paper-12.json"))["workloads"]]
share, gpus = {}, {}
for p in pols:
    plan = json.load(open("%s/plan-%s.json" % (d, p)))
    gpus[p] = plan["num_gpus"]
    s = dict.fromkeys(names, 0.0)
    for g in plan["gpus"]:
        for w in g["workloads"]:
            s[w["name"]] += w["resource_pct"]
    share[p] = s
print("# made by scripts/paper-figs.sh fig18, igniter %s: igniter plan --policy P" % commit)
print("# --profile traces/v100/profile.json --workloads experiments/paper-12.json")
print("# share of a GPU (%, summed over a workload's instances) per policy;")
print("# paper_*: the paper's Fig. 18 (the authors' Figure18.xlsx)")
print("# gpus " + " ".join("%s=%d" % (p, gpus[p]) for p in pols))
print("# workload " + " ".join(pols) + " paper_igniter paper_ffd")
for i, n in enumerate(names):
    print(n + " " + " ".join("%g" % share[p][n] for p in pols) +
          " %g %g" % (paper_igniter[i], paper_ffd[i]))
PY
    # each policy's colour is its place in the registry, as in every
    # compare figure (scripts/plot-common.gp)
    colours=""
    for p in $pols; do
        colours="$colours $("$bin" policies | awk -v p="$p" '$1 == p { print NR - 1 }')"
    done
    gpus=$(grep '^# gpus' "$d/fig18.dat" | sed 's/^# gpus //')
    draw fig18 "policies='$pols'; colours='$colours'; gpus='$gpus'"
}

fig21() {
    d=$out/fig21
    mkdir -p "$d"
    [ -x "$bindir/tests/bench_plan" ] || make -s "$bindir/tests/bench_plan"
    pin=""
    command -v taskset >/dev/null && pin="taskset -c 0"
    $pin "$bindir/tests/bench_plan" >"$d/bench.txt"
    cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')
    {
        echo "# made by scripts/paper-figs.sh fig21, igniter $commit:"
        echo "# $bindir/tests/bench_plan (make bench), $(date -u '+%Y-%m-%d %H:%M UTC'),"
        echo "# $(uname -srm), ${cpu:-unknown CPU}, $(nproc) cores, one core used"
        echo "# workloads gpus median_ms min_ms peak_mib (this machine)"
        awk '$1 ~ /^[0-9]+$/ { print $1, $2, $3, $4, $5 }' "$d/bench.txt"
        printf '\n\n'
        echo "# workloads time_ms: the paper's Fig. 21 (its machine)"
        echo "10 2.75"
        echo "100 88.5"
        echo "1000 4600"
    } >"$d/fig21.dat"
    draw fig21 "host='$(echo "${cpu:-unknown CPU}" | tr -d "'")'"
}

# The predictors of `igniter accuracy`, in its order: a predictor's
# colour is its place here (plot-common.gp's palette), in both accuracy
# figures.
predictors="igniter no-interference measured-interp measured gpulets-linear learned"

fig11() {
    d=$out/fig11
    mkdir -p "$d"
    "$bin" accuracy --profile traces/v100/profile.json \
        --measured traces/v100/measured-colocation.jsonl --json --points \
        >"$d/accuracy.json"
    python3 - "$d/accuracy.json" "$commit" <<'PY' >"$d/fig11.dat"
import json, sys
acc = json.load(open(sys.argv[1]))
pts = acc["igniter"]["points"]
models = ["alexnet", "resnet50", "vgg19", "ssd"]
# The paper's published points (the iGniter authors' figure data,
# i-Gniter/Experiments/Figure11_SSD.xlsx, Figure12_AlexNet.xlsx,
# Figure12_ResNet.xlsx and Figure13.xlsx of Echozqn/igniter, a fork of
# icloud-ecnu/igniter, commit 579f528): what, observed ms, iGniter's
# prediction ms, gpu-lets+'s prediction ms (NaN: not in that figure).
# Figure11_VGG.xlsx is left out: its columns are headed SLO, gpu-lets+,
# iGniter (no Observed column), so which one is observed cannot be read.
paper = {
    "alexnet": [("fig12 b1", 1.1685, 1.11276, 1.088),
                ("fig12 b3", 1.70531, 1.60474, 1.62344),
                ("fig12 b9", 3.2604, 3.07706, 3.13476),
                ("fig12 b27", 7.98413, 7.67224, 7.77125),
                ("fig13", 3.03983, 2.93209, float("nan"))],
    "resnet50": [("fig12 b1", 3.60838, 3.27303, 3.25615),
                 ("fig12 b3", 5.90199, 5.77595, 5.60757),
                 ("fig12 b9", 13.72813, 13.35119, 13.57908),
                 ("fig12 b27", 37.31092, 36.90237, 37.6004),
                 ("fig13", 10.69731, 10.46216, float("nan"))],
    "vgg19": [("fig13", 22.99922, 23.35053, float("nan"))],
    "ssd": [("fig11 r80", 13.23592, 13.64733, 13.39546),
            ("fig11 r60", 15.575, 16.75948, 15.57127),
            ("fig11 r40", 22.87693, 23.08123, 23.23062),
            ("fig11 r20", 40.58994, 41.45651, 42.38653),
            ("fig13", 33.474, 35.15477, float("nan"))],
}
print("# made by scripts/paper-figs.sh fig11, igniter %s:" % sys.argv[2])
print("# igniter accuracy --profile traces/v100/profile.json --measured")
print("#   traces/v100/measured-colocation.jsonl --json --points (iGniter's")
print("#   model, fitted on the profile only: none of these pairs is its data)")
print("# blocks 0-3, per model (%s): measured_ms predicted_ms" % " ".join(models))
print("# blocks 4-7, the paper's points of the same models: observed_ms")
print("#   igniter_ms gpulets_ms what (the authors' Figure11-13 .xlsx data)")
print("# model latencies mean_err_pct within_10pct_pct paper_points")
for m in models:
    e = [abs(p - o) / o * 100 for n, o, p in pts if n == m]
    print("# stat %s %d %.2f %.1f %d" % (m, len(e), sum(e) / len(e),
          100.0 * sum(x <= 10 for x in e) / len(e), len(paper[m])))
for m in models:
    print("# %s" % m)
    for n, o, p in pts:
        if n == m:
            print("%g %g" % (o, p))
    print("\n")
for m in models:
    print("# paper, %s" % m)
    for what, o, ig, gl in paper[m]:
        print("%g %g %g %s" % (o, ig, gl, what.replace(" ", "_")))
    print("\n")
PY
    rm -f "$d/accuracy.json"
    stats=$(grep '^# stat ' "$d/fig11.dat" | cut -d' ' -f3- | tr '\n' ' ')
    draw fig11 "stats='$stats'"
}

accuracy_cdf() {
    d=$out/accuracy-cdf
    mkdir -p "$d"
    p=traces/v100/profile.json
    "$bin" accuracy --profile $p --measured traces/v100/measured-colocation.jsonl \
        --hold-out-share 40 --json --points >"$d/v100-pairs.json"
    for g in h100 h200; do
        t=traces/$g
        "$bin" accuracy --profile $t/profile.json --measured $t/measured-heldout.jsonl \
            --train $t/measured-colocation.jsonl --json --points >"$d/$g-pairs.json"
        "$bin" accuracy --profile $t/profile.json --multi $t/colocations-multi.jsonl \
            --train $t/measured-colocation.jsonl --json --points >"$d/$g-multi.json"
    done
    python3 - "$d" "$commit" $predictors <<'PY' >"$d/accuracy-cdf.dat"
import json, sys
d, commit, preds = sys.argv[1], sys.argv[2], sys.argv[3:]
# panels in the figure's order: GPU row, run size column, JSON file
panels = [("V100", 2, "v100-pairs"), ("H100", 2, "h100-pairs"),
          ("H100", 3, "h100-multi"), ("H100", 4, "h100-multi"),
          ("H200", 2, "h200-pairs"), ("H200", 3, "h200-multi"),
          ("H200", 4, "h200-multi")]
print("# made by scripts/paper-figs.sh accuracy-cdf, igniter %s:" % commit)
print("# igniter accuracy --json --points; fitted and judged on:")
print("#   V100: traces/v100/measured-colocation.jsonl --hold-out-share 40")
print("#     (fitted on the 450 pairs at 10/20/50/80/90 %, judged on the 300")
print("#     at 40/60 %)")
print("#   H100, H200: --train traces/G/measured-colocation.jsonl, judged on")
print("#     traces/G/measured-heldout.jsonl (pairs) and")
print("#     traces/G/colocations-multi.jsonl (runs of 3 and 4)")
print("# iGniter's model (igniter, no-interference) is fitted on the")
print("# profile.json of each GPU")
print("# one block per panel and predictor (%s), panels in" % " ".join(preds))
print("# the order of the 'panel' lines: abs_error_pct fraction_at_or_below")
print("# (errors under 0.01 % are drawn at 0.01, the axis' left end)")
for gpu, n, f in panels:
    acc = json.load(open("%s/%s.json" % (d, f)))
    key = lambda p: p if n == 2 else "%s_%d" % (p, n)
    print("# panel %s %d %d %s" % (gpu, n, acc[key(preds[0])]["latencies"],
          " ".join("%.2f" % acc[key(p)]["mean_pct"] for p in preds)))
for gpu, n, f in panels:
    acc = json.load(open("%s/%s.json" % (d, f)))
    for p in preds:
        o = acc[p if n == 2 else "%s_%d" % (p, n)]
        e = sorted(abs(pr - ob) / ob * 100 for _, ob, pr in o["points"])
        print("# %s, runs of %d, %s: %d latencies, mean %.2f %%" %
              (gpu, n, p, len(e), o["mean_pct"]))
        for i, x in enumerate(e):
            print("%.4g %.5f" % (max(x, 0.01), (i + 1) / len(e)))
        print("\n")
PY
    rm -f "$d"/*.json
    panels=$(grep '^# panel ' "$d/accuracy-cdf.dat" | cut -d' ' -f3-5 | tr '\n' ' ')
    means=$(grep '^# panel ' "$d/accuracy-cdf.dat" | cut -d' ' -f6- | tr '\n' ' ')
    draw accuracy-cdf "policies='$predictors'; colours='0 1 2 3 4 5'; panels='$panels'; means='$means'"
}

case $what in
fig11) fig11 ;;
fig17) fig17 ;;
fig18) fig18 ;;
fig21) fig21 ;;
accuracy-cdf) accuracy_cdf ;;
all) fig11; fig17; fig18; fig21; accuracy_cdf ;;
*) echo "paper-figs: expected fig11, fig17, fig18, fig21, accuracy-cdf or all, got '$what'" >&2
   exit 2 ;;
esac
