#!/bin/sh
# Figures of the iGniter paper that are not a policy comparison, one
# command each, into results/paper-figs/figNN/: the data (.dat, with how
# and where it was made in its header) beside the figure (PNG and SVG).
#   fig17  the safeguard at run time: P99 per second of each workload of
#          experiments/safeguard.json (igniter-sg) against its SLO, with
#          the paper's AlexNet values marked
#   fig18  GPU share of each of the paper's 12 workloads under each
#          policy's plan (`igniter plan`, experiments/paper-12.json), with
#          the paper's iGniter and FFD+ shares
#   fig21  iGniter's planning time against the number of workloads
#          (tests/bench_plan, the benchmark of `make bench`) beside the
#          paper's; the timings are of this machine, now
# Usage: sh scripts/paper-figs.sh [IGNITER_BINARY] fig17|fig18|fig21|all
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
    "$bin" sim experiments/safeguard.json --out "$d/run" --quiet
    # one block per workload: second (end of the interval), P99, share, SLO
    {
        echo "# made by scripts/paper-figs.sh fig17, igniter $commit:"
        echo "# $bin sim experiments/safeguard.json (simulated, deterministic)"
        echo "# second p99_ms share_pct slo_ms; one block per workload"
        for w in alexnet resnet50 vgg19; do
            slo=$(grep -o "\"name\": \"$w\", \"model\": \"[a-z0-9]*\", \"slo_ms\": [0-9.]*" \
                  experiments/safeguard.json | sed 's/.*: //')
            echo "# workload $w"
            awk -F, -v w="$w" -v slo="$slo" \
                'NR > 1 && $2 == w { print $1 + 1, $5, $7, slo }' \
                "$d/run/timeseries.csv"
            printf '\n\n'
        done
    } >"$d/fig17.dat"
    draw fig17
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

case $what in
fig17) fig17 ;;
fig18) fig18 ;;
fig21) fig21 ;;
all) fig17; fig18; fig21 ;;
*) echo "paper-figs: expected fig17, fig18, fig21 or all, got '$what'" >&2
   exit 2 ;;
esac
