#!/bin/sh
# Draws the figures of an `igniter sweep` results folder from the data its
# gather wrote in DIR/figdata/, into DIR/figures/ as PNG and SVG:
#   sweep-rate.{png,svg}    cost per hour and SLO violation % against the
#                           rate scale, one line per policy (means over
#                           every other axis and the seeds, 95 % intervals)
#   sweep-pareto.{png,svg}  cost against violation %, a point per policy,
#                           a panel per workload set: the cost/SLO Pareto
#                           view
# A figure whose axes the sweep lacks (no rate_scale, no policy) is skipped.
# Usage: sh scripts/plot-sweep.sh DIR
set -eu
dir=${1:?usage: plot-sweep.sh RESULTS_DIR}
here=$(cd "$(dirname "$0")" && pwd)
command -v gnuplot >/dev/null 2>&1 || {
    echo "plot-sweep.sh: gnuplot not found (Debian package gnuplot-nox)" >&2
    exit 1
}
[ -f "$dir/figdata/sweep-meta" ] || {
    echo "plot-sweep.sh: no $dir/figdata/sweep-meta (run the gather)" >&2
    exit 1
}
dir=$(cd "$dir" && pwd)
cd "$here/.."   # the .gp scripts load scripts/plot-common.gp
. "$dir/figdata/sweep-meta"
mkdir -p "$dir/figures"
for fig in rate pareto; do
    eval "have=\$$fig"
    [ "$have" = 1 ] || continue
    for term in png svg; do
        gnuplot -e "dat='$dir/figdata'; out='$dir/figures/sweep-$fig.$term'; term='$term'" \
            "$here/plot-sweep-$fig.gp"
    done
done
