#!/bin/sh
# `make bench` (part): wall time of a full `igniter compare` of the paper's
# 12 workloads under Poisson arrivals (experiments/paper-12-poisson.json:
# 6 policies x 5 seeds x 10 simulated minutes, measured back end), with
# --jobs 1 and --jobs 2, each from scratch, without figures.
set -eu
bin=${1:-build/igniter}
for jobs in 1 2; do
    out=$(mktemp -d /tmp/igniter-bench-cmp-XXXXXX)
    t0=$(date +%s.%N)
    "$bin" compare experiments/paper-12-poisson.json --out "$out" \
        --jobs "$jobs" --no-figures >/dev/null 2>&1
    t1=$(date +%s.%N)
    runs=$(ls "$out/runs" | wc -l)
    printf 'compare paper-12-poisson, %d runs, --jobs %d: %.2f s wall\n' \
        "$runs" "$jobs" "$(echo "$t1 - $t0" | bc)"
    rm -rf "$out"
done
