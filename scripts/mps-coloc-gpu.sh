#!/bin/sh
# scripts/mps-coloc-gpu.sh OUT PLAN... - the capture's own timing of a
# plan's co-location under MPS (experiments/validation/README.md, "MPS
# from the data alone"), on GPU 0: for every PLAN, each workload's batch
# alone and then all of them at once, each an `igniter-capture infer`
# client at the plan's thread percentage, always busy, timed over 1 s
# (the same clients as igniter-capture mps, and their cuDNN search of
# their own). Tells whether serve's co-located MPS workers slow each other
# as much as always-busy clients do at the same batches and shares.
# Writes OUT/mps-coloc.jsonl: the clients' JSON lines with "plan", "run"
# (alone or together) and "pct" in front; OUT/gpus.csv; and OUT/raw-mps-
# runs.jsonl, the same as raw MPS records with each member's window alone
# (scripts/mps-coloc-raw.py: `igniter derive --mps` fits the MPS
# correction's runs term on the runs of three or more). Run through
# `scripts/capture-gpu.sh OUT script scripts/mps-coloc-gpu.sh OUT PLAN...`.
# A plan is read as validate-matrix.py writes them (one field a line).
set -u
out=$1
shift
cap=$(pwd)/build/igniter-capture
d=$(mktemp -d /tmp/mps-coloc.XXXXXX)
mkdir -p "$out"
nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,clocks.max.sm,power.limit \
    --format=csv > "$out/gpus.csv" 2>&1
export CUDA_VISIBLE_DEVICES=0 CUDA_MPS_PIPE_DIRECTORY="$d" \
    CUDA_MPS_LOG_DIRECTORY="$d" CUDA_DEVICE_MAX_CONNECTIONS=2
nvidia-cuda-mps-control -d || { echo "mps-coloc: no MPS daemon" >&2; exit 1; }
trap 'echo quit | nvidia-cuda-mps-control' EXIT
# client PLAN RUN PCT MODEL BATCH START: one timed window, a JSON line
client() {
    CUDA_MPS_ACTIVE_THREAD_PERCENTAGE=$3 "$cap" infer --json --model "$4" \
        --batches "$5" --iters 50 --sms 1000 --start-at "$6" --seconds 1 |
        sed "s/^{/{\"plan\":\"$1\",\"run\":\"$2\",\"pct\":$3,/"
}
for plan in "$@"; do
    name=$(basename "$plan" .json)
    # model batch pct, a line per workload
    members=$(awk -F': ' '/"model"/ { gsub(/[",]/, "", $2); m = $2 }
        /"batch"/ { gsub(/,/, "", $2); b = $2 }
        /"resource_pct"/ { gsub(/,/, "", $2); print m, b, $2 }' "$plan")
    echo "$members" | while read -r m b p; do
        client "$name" alone "$p" "$m" "$b" 0 >> "$out/mps-coloc.jsonl"
    done
    at=$(($(date +%s) + 10))
    echo "$members" | {
        i=0
        while read -r m b p; do
            client "$name" together "$p" "$m" "$b" "$at" > "$d/together.$i" &
            i=$((i + 1))
        done
        wait
    }
    cat "$d"/together.* >> "$out/mps-coloc.jsonl"
    rm -f "$d"/together.*
    echo "mps-coloc: $name: $(grep -c "\"plan\":\"$name\"" "$out/mps-coloc.jsonl") windows"
done
if python3 "$(dirname "$0")/mps-coloc-raw.py" "$out/mps-coloc.jsonl" \
        > "$d/raw"; then
    mv "$d/raw" "$out/raw-mps-runs.jsonl"
else
    echo "mps-coloc: no raw-mps-runs.jsonl (a member not timed alone and together)" >&2
fi
