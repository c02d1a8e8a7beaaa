#!/bin/sh
# Draws the figures of an `igniter compare` results folder, from the data
# it wrote in DIR/figdata/ (lab/compare.c, figure_data), into
# DIR/figures/ as PNG and SVG; each title names the experiment and its
# seeds, and each policy has the same colour in every figure:
#   cost.{png,svg}        cost per hour per policy (mean, 95 % interval),
#                         its GPUs and violation % of all requests
#   violations.{png,svg}  SLO violation % per workload per policy (mean,
#                         95 % interval), every bar labelled, 0 marked
#   cdf.{png,svg}         latency/SLO tail (1 - CDF, log-log) of all
#                         requests and of each workload (first seed)
#   timeline.{png,svg}    P99 latency (with the SLO) and share over time
#                         of the focus workload (first seed), the warm-up
#                         and the steps of its arrival rate marked
# Usage: sh scripts/plot.sh DIR
set -eu
dir=${1:?usage: plot.sh RESULTS_DIR}
here=$(cd "$(dirname "$0")" && pwd)
command -v gnuplot >/dev/null 2>&1 || {
    echo "plot.sh: gnuplot not found (Debian package gnuplot-nox)" >&2
    exit 1
}
[ -f "$dir/figdata/meta" ] || { echo "plot.sh: no $dir/figdata/meta" >&2; exit 1; }
dir=$(cd "$dir" && pwd)
cd "$here/.."   # the .gp scripts load scripts/plot-common.gp
mkdir -p "$dir/figures"
for fig in cost violations cdf timeline; do
    for term in png svg; do
        gnuplot -e "dat='$dir/figdata'; out='$dir/figures/$fig.$term'; term='$term'" \
            "$here/plot-$fig.gp"
    done
done
