#!/bin/sh
# scripts/bench-sweep.sh [CELLS] - how fast a sweep runs here: CELLS cells
# (default 200) of the paper's 12 workloads, 60 s simulated each, measured
# back end (one cell per seed), with --jobs 1, --jobs 2 and, where built,
# mpirun -n 2; prints cells per second and the speed-ups. The cells are
# run into a fresh folder each time (no cell is reused).
set -eu
cells=${1:-200}
bin=${IGNITER:-build/igniter}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
seeds=$(seq -s, 1 "$cells")
cat > "$tmp/sweep.json" <<JSON
{"base": "$(pwd)/experiments/paper-12.json",
 "axes": {"seed": [$seeds], "duration_s": [60], "warmup_s": [5],
          "arrivals": [{"kind": "poisson"}]}}
JSON
rate() {   # cells/s from the summary line of a run
    sed -n 's/.*(\([0-9.]*\) cells\/s.*/\1/p' "$1"
}
"$bin" sweep "$tmp/sweep.json" --out "$tmp/j1" --jobs 1 --quiet \
    --no-figures > "$tmp/j1.txt"
"$bin" sweep "$tmp/sweep.json" --out "$tmp/j2" --jobs 2 --quiet \
    --no-figures > "$tmp/j2.txt"
r1=$(rate "$tmp/j1.txt")
r2=$(rate "$tmp/j2.txt")
echo "sweep of $cells cells (12 workloads, 60 s simulated, measured back end):"
head -1 "$tmp/j1.txt"
head -1 "$tmp/j2.txt"
echo "speed-up --jobs 2 / --jobs 1: $(echo "scale=2; $r2 / $r1" | bc)"
if [ -x "${bin}-mpi" ] && command -v mpirun >/dev/null 2>&1; then
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        mpirun -n 2 --oversubscribe "${bin}-mpi" "$tmp/sweep.json" \
        --out "$tmp/mpi" --quiet > "$tmp/mpi.txt" 2>/dev/null
    rm=$(rate "$tmp/mpi.txt")
    head -1 "$tmp/mpi.txt"
    echo "speed-up mpirun -n 2 / --jobs 1: $(echo "scale=2; $rm / $r1" | bc)"
fi
cmp -s "$tmp/j1/gather.csv" "$tmp/j2/gather.csv" &&
    echo "gathered tables of --jobs 1 and --jobs 2: identical"
