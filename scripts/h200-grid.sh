#!/bin/sh
# scripts/h200-grid.sh OUT - the second H200 campaign (traces/h200/README.md,
# "The denser grid and MPS"), in one device call of at most 10 minutes on a
# host with two H200s:
#   GPU 1  solo at the green-context sizes the first campaign skipped (every
#          multiple of 8 SMs up to 112) and 64 SMs again (anchors against the
#          first campaign), at batches 1, 2, 4, 5, 8, 10, 16, 20, 32
#   GPU 0  solo at the first campaign's other sizes at the new batches 5, 10
#          and 20; then the MPS campaign (igniter-capture mps), alone on it
# Both start from the first campaign's cuDNN algorithm choices
# (traces/h200/cudnn-algos.txt), so a point measured twice runs the same
# kernels. The batches 3, 6, 12 and 24 of the validation matrix are left
# out on purpose: its plans stay off the measured grid in batch.
# Run through `scripts/capture-gpu.sh OUT script scripts/h200-grid.sh OUT`;
# everything ends up in OUT/grid.tgz.
set -u
out=$1
cap=$(pwd)/build/igniter-capture
w=/tmp/h200grid
rm -rf "$w"; mkdir -p "$w/gpu0" "$w/gpu1" "$w/mps"
for d in gpu0 gpu1; do cp traces/h200/cudnn-algos.txt "$w/$d/"; done
nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,clocks.max.sm,power.limit \
    --format=csv > "$w/gpus.csv" 2>&1
# step DIR GPU SECONDS ARGS...: one igniter-capture command on GPU, stopped
# with Ctrl-C after SECONDS (what was measured is kept); its log, exit
# status and times in DIR
step() {
    d=$1 g=$2 t=$3; shift 3
    date -u +%FT%TZ >> "$w/$d/start"
    CUDA_VISIBLE_DEVICES=$g timeout -s INT "$t" "$cap" "$@" \
        >> "$w/$d/log" 2>&1
    echo $? >> "$w/$d/rc"
    date -u +%FT%TZ >> "$w/$d/end"
}
step gpu1 1 480 run --out "$w/gpu1" --steps meta,solo \
    --solo-sms 24,40,56,64,72,80,88,104,112 --batches 1,2,4,5,8,10,16,20,32 &
( step gpu0 0 120 run --out "$w/gpu0" --steps meta,solo \
      --solo-sms 8,16,32,48,96,120,1000 --batches 5,10,20
  # the MPS clients run the kernels the green-context points ran
  cp "$w/gpu0/cudnn-algos.txt" "$w/mps/"
  IGNITER_ALGO_CACHE=$w/mps/cudnn-algos.txt step mps 0 340 mps --out "$w/mps" ) &
wait
tar czf "$out/grid.tgz" -C "$w" .
for d in gpu0 gpu1 mps; do echo "$d rc: $(cat $w/$d/rc | tr '\n' ' ')"; tail -2 "$w/$d/log"; done
