#!/bin/sh
# scripts/runner-paths.sh OUT - on a GPU machine, after `make capture`
# (run it as `sh scripts/capture-gpu.sh OUT paths`): what each of the
# runner's fast paths and each CUPTI setting costs, on the same GPU.
#   OUT/paths-runner.jsonl  igniter-capture bench, batch 1, 8, 32, tagged
#                           "path": fast (default), no-direct
#                           (IGNITER_CONV_DIRECT=0), no-fuse
#                           (IGNITER_CONV_FUSE=0), reference; and "round"
#   OUT/paths-torch.jsonl   PyTorch eager at the same batches, 3 rounds
#                           alternating with the runner's
#   OUT/overhead.jsonl      the campaign's overhead step (latency plain,
#                           with NVML, with CUPTI kernel records)
#   OUT/kernels.jsonl       the campaign's kernels step (CUPTI records)
#   OUT/paths.log           igniter-capture check (the paths agree); cuDNN's search for VGG-19 at batch 1 (each
#                           layer's candidates, the direct kernel's time,
#                           the fused call's answer) and the ncu time-limit
#                           test: the l2 step with --ncu-timeout 3, then
#                           whether any ncu process is left
set -u
out=$1
cap=build/igniter-capture
log=$out/paths.log
: > "$log"
tag() { sed "s/^{/{$1,/"; }

{ date -u; lscpu | grep 'Model name'; nproc; uptime
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm \
      --format=csv; } >> "$log" 2>&1
echo "== igniter-capture check" >> "$log"
$cap check >> "$log" 2>&1
echo "check exit $?" >> "$log"
echo "== find log, vgg19 batch 1" >> "$log"
IGNITER_CAPTURE_FIND_LOG=1 $cap infer --model vgg19 --batch 1 --iters 20 \
    >> "$log" 2>&1

: > "$out/paths-runner.jsonl"
: > "$out/paths-torch.jsonl"
# rounds alternate the paths and PyTorch, so that a slow spell of the
# host moves them alike; the tables take the median of the rounds
for round in 1 2 3; do
    for p in fast no-direct no-fuse reference; do
        case $p in
        fast) env= ;;
        no-direct) env=IGNITER_CONV_DIRECT=0 ;;
        no-fuse) env=IGNITER_CONV_FUSE=0 ;;
        reference) env=IGNITER_ATTN_REF=1 ;;
        esac
        env $env $cap bench --batches 1,8,32 --iters 200 2>> "$log" |
            tag "\"path\":\"$p\",\"round\":$round" \
            >> "$out/paths-runner.jsonl"
    done
    env -u LD_LIBRARY_PATH python3 scripts/torch-bench.py --batches 1,8,32 \
        2>> "$log" | tag "\"round\":$round" >> "$out/paths-torch.jsonl"
done

rm -rf /tmp/ov
$cap run --out /tmp/ov --steps meta,overhead,kernels >> "$log" 2>&1
grep '"kind":"overhead"' /tmp/ov/raw.jsonl > "$out/overhead.jsonl"
grep '"kind":"kernels"' /tmp/ov/raw.jsonl > "$out/kernels.jsonl"

echo "== ncu time limit: l2 step, alexnet, --ncu-timeout 3" >> "$log"
rm -rf /tmp/ov
t0=$(date +%s)
$cap run --out /tmp/ov --steps meta,l2 --models alexnet --ncu-timeout 3 \
    >> "$log" 2>&1
echo "exit $?, $(( $(date +%s) - t0 )) s" >> "$log"
grep '"kind":"note"\|"kind":"l2"\|"kind":"step"' /tmp/ov/raw.jsonl >> "$log"
sleep 1
echo "ncu processes left: $(pgrep -x ncu | wc -l)" >> "$log"
ps -eo pid,stat,comm | grep -i 'ncu\|igniter' >> "$log" || true
exit 0
