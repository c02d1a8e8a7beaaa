#!/bin/sh
# scripts/h200-derive.sh - derives traces/h200/dense/ (traces/h200/README.md,
# "The denser grid and MPS") from both campaigns: the first (raw.jsonl) and the denser
# grid (grid/raw-dense.jsonl; its anchors, points the first campaign had
# measured, are kept apart in grid/anchors.jsonl and not used). The first
# campaign comes last, so the profile's meta names it.
# The MPS correction (measured-mps.jsonl) takes its solo points from the
# dense MPS campaign (grid/raw-mps-dense.jsonl: every green-context size's
# thread percentage) and its pairs from both MPS pair campaigns
# (grid/raw-mps.jsonl's, 50:50 and 25:75, and grid/raw-mps-pairs.jsonl's);
# grid/raw-mps.jsonl's own solo points (10, 25, 50, 75 and 100 %, another
# chip) are left out, as the denser ones replace them. Its runs term comes
# from grid/raw-mps-runs.jsonl: 12 random runs of 3 and 4, each member
# with its own window alone (scripts/mps-coloc-raw.py of
# experiments/validation/matrix/results-random/mps-coloc.jsonl). The power
# model (measured-power.json) comes from power/raw.jsonl, as traces/h200/'s.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat traces/h200/grid/raw-dense.jsonl traces/h200/raw.jsonl > "$tmp/raw.jsonl"
grep '"kind":"coloc"' traces/h200/grid/raw-mps.jsonl > "$tmp/mps.jsonl"
cat traces/h200/grid/raw-mps-pairs.jsonl traces/h200/grid/raw-mps-dense.jsonl \
    traces/h200/grid/raw-mps-runs.jsonl >> "$tmp/mps.jsonl"
${IGNITER:-build/igniter} derive "$tmp/raw.jsonl" --mps "$tmp/mps.jsonl" \
    --power traces/h200/power/raw.jsonl --out traces/h200/dense --gpu H200
