#!/bin/sh
# scripts/serve-runtime-gpu.sh OUT - on a GPU machine, through
#   scripts/capture-gpu.sh OUT script scripts/serve-runtime-gpu.sh OUT
# (which builds build/igniter and build/libigniter-gpu.so and finds the
# libraries): `igniter serve` with a runtime hook on GPU 0, so that its
# changes are made on the real GPU (serve/gpu.cu, srv_device.reconfigure).
#
# The workloads of experiments/safeguard.json planned on the H200 profile
# (three instances of 6.1 % each), their rate five times higher from 6 s
# on: ResNet-50 then violates its SLO and igniter-sg raises its share
# (hot) at about 9 s, as `igniter sim` of the same says (sim-model/). Runs,
# 20 s each, on GPU 0:
#   sg-green/     igniter-sg, green contexts
#   gslice-green/ GSLICE+ (its shares go down on slack, up on violations)
#   sg-mps/       igniter-sg, MPS (a new worker per change)
# Each has summary.json ("serve": {"runtime": ...}), timeseries.csv,
# reconfig.csv (every change: time, instance, old and new share and batch,
# device_ms = the GPU's time to make it, ready_s = when the instance served
# again) and the rest of serve's files; a run that fails leaves its
# stderr in its .log. Everything goes into one file, OUT/serve-runtime.tgz
# (the GPU machine returns at most 8 files), with OUT/summary.txt beside
# it: each run's exit status and reconfig.csv.
set -u
out=$1
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/serve-runtime
rm -rf "$work"
mkdir -p "$work"
bin=build/igniter
exp=experiments/safeguard.json
common="--profile traces/h200/profile.json --arrivals schedule:0=1,6=5 \
--duration-s 20 --interval-s 1"

# what the simulator says of the same (no GPU needed)
$bin sim $exp $common --backend model --out "$work/sim-model" \
    > "$work/sim-model.log" 2>&1
echo "sim-model: exit $?" > "$out/summary.txt"

run() {    # NAME MECHANISM POLICY-EXPERIMENT
    name=$1
    mech=$2
    e=$3
    nvidia-smi --query-gpu=name,utilization.gpu,memory.used --format=csv \
        > "$work/$name.gpu-before.txt" 2>&1 || true
    $bin serve "$e" $common --mechanism "$mech" --out "$work/$name" \
        > "$work/$name.log" 2>&1
    rc=$?
    echo "$name: exit $rc" >> "$out/summary.txt"
    if [ -f "$work/$name/reconfig.csv" ]; then
        cat "$work/$name/reconfig.csv" >> "$out/summary.txt"
    else
        grep "^igniter serve" "$work/$name.log" | tail -5 >> "$out/summary.txt"
    fi
}

# GSLICE+: the same workloads, planned by gslice (an experiment of ours,
# in OUT, naming the same files by absolute path)
root=$(pwd)
sed -e "s|\"policy\": \"igniter-sg\"|\"policy\": \"gslice\"|" \
    -e "s|\.\./traces/|$root/traces/|g" $exp > "$work/gslice.json"

# SERVE_RUNTIME_RUNS: which of the three (default all)
for r in ${SERVE_RUNTIME_RUNS:-sg-green gslice-green sg-mps}; do
    case $r in
    sg-green)     run sg-green green $exp ;;
    gslice-green) run gslice-green green "$work/gslice.json" ;;
    sg-mps)       run sg-mps mps $exp ;;
    *)            echo "serve-runtime-gpu: SERVE_RUNTIME_RUNS: expected sg-green, gslice-green or sg-mps, got '$r'" >&2
                  exit 2 ;;
    esac
done

tar czf "$out/serve-runtime.tgz" -C "$out" serve-runtime
rm -rf "$work"
cat "$out/summary.txt"
