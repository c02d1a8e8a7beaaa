#!/bin/sh
# `make figures`: runs `igniter compare` on every experiment of
# experiments/ that lists policies, into results/NAME/, and copies its
# figures and tables into experiments/figures/NAME/ (committed, and shown in
# experiments/README.md). Finished runs in results/ are reused.
# Usage: sh scripts/figures.sh [IGNITER_BINARY] [JOBS]
set -eu
bin=${1:-build/igniter}
jobs=${2:-2}
for exp in experiments/*.json; do
    grep -q '"policies"' "$exp" || continue
    name=$(basename "$exp" .json)
    echo "== $name" >&2
    "$bin" compare "$exp" --out "results/$name" --jobs "$jobs"
    mkdir -p "experiments/figures/$name"
    cp "results/$name/figures/"*.png "results/$name/figures/"*.svg \
       "results/$name/summary.csv" "results/$name/figdata/cost.dat" \
       "experiments/figures/$name/"
done
