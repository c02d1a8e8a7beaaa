#!/bin/sh
# scripts/h200-derive.sh - derives traces/h200/dense/ (traces/h200/README.md,
# "The denser grid and MPS") from both campaigns: the first (raw.jsonl) and the denser
# grid (grid/raw-dense.jsonl; its anchors, points the first campaign had
# measured, are kept apart in grid/anchors.jsonl and not used). The first
# campaign comes last, so the profile's meta names it.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat traces/h200/grid/raw-dense.jsonl traces/h200/raw.jsonl > "$tmp/raw.jsonl"
${IGNITER:-build/igniter} derive "$tmp/raw.jsonl" --mps traces/h200/grid/raw-mps.jsonl \
    --out traces/h200/dense --gpu H200
