#!/bin/sh
# `make figures`: runs `igniter compare` on every experiment of
# experiments/ that lists policies, into results/NAME/ (tables, figure data
# and figures), and the example sweep into results/sweep-example/. Finished
# runs in results/ are reused while their inputs and the program are the
# same. `make figures-commit` then copies the figures and tables into
# experiments/figures/NAME/ (committed, shown in experiments/README.md),
# so that the committed figures are always ones this code made; with
# them the paper's other figures that `make figures` draws after this
# (scripts/paper-figs.sh, results/paper-figs/NAME/ into
# experiments/figures/NAME/: figNN and accuracy-cdf).
# Usage: sh scripts/figures.sh [IGNITER_BINARY] [JOBS] [commit]
set -eu
bin=${1:-build/igniter}
jobs=${2:-2}
commit=${3:-}
for exp in experiments/*.json; do
    grep -q '"policies"' "$exp" || continue
    name=$(basename "$exp" .json)
    echo "== $name" >&2
    if [ -z "$commit" ]; then
        "$bin" compare "$exp" --out "results/$name" --jobs "$jobs"
        continue
    fi
    [ -f "results/$name/summary.csv" ] || {
        echo "figures: results/$name is missing: run make figures first" >&2
        exit 1
    }
    mkdir -p "experiments/figures/$name"
    cp "results/$name/figures/"*.png "results/$name/figures/"*.svg \
       "results/$name/summary.csv" "results/$name/figdata/cost.dat" \
       "experiments/figures/$name/"
done
if [ -z "$commit" ]; then
    echo "== sweep-example" >&2
    "$bin" sweep experiments/sweep-example.json --out results/sweep-example \
        --jobs "$jobs" --quiet
elif [ -f results/sweep-example/gather-summary.csv ]; then
    mkdir -p experiments/figures/sweep-example
    cp results/sweep-example/figures/*.png results/sweep-example/figures/*.svg \
       results/sweep-example/gather-summary.csv \
       experiments/figures/sweep-example/
fi
# the paper's other figures (scripts/paper-figs.sh): data beside figure
if [ -n "$commit" ]; then
    for d in results/paper-figs/*/; do
        d=${d%/}
        [ -f "$d/$(basename "$d").dat" ] || continue
        mkdir -p "experiments/figures/$(basename "$d")"
        cp "$d/"*.png "$d/"*.svg "$d/"*.dat "experiments/figures/$(basename "$d")/"
    done
fi
