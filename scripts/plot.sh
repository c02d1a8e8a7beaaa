#!/bin/sh
# Draws the figures of an `igniter compare` results folder, from the data
# it wrote in DIR/figdata/, into DIR/figures/ as PNG and SVG:
#   cost.{png,svg}        cost per hour per policy (mean, 95 % interval)
#   violations.{png,svg}  SLO violation % per workload per policy
#   cdf.{png,svg}         latency CDF of all requests per policy (first seed)
#   timeline.{png,svg}    P99 latency and share over time of the focus
#                         workload per policy (first seed)
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
. "$dir/figdata/meta"
mkdir -p "$dir/figures"
for fig in cost violations cdf timeline; do
    for term in png svg; do
        gnuplot -e "dat='$dir/figdata'; out='$dir/figures/$fig.$term'; term='$term'; policies='$policies'; focus='$focus'" \
            "$here/plot-$fig.gp"
    done
done
