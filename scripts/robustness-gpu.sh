#!/bin/sh
# scripts/robustness-gpu.sh OUT [STEPS] - on a GPU machine, after
# `scripts/capture-gpu.sh OUT build` (which sets up the libraries): the
# faults igniter serve and igniter-capture must survive, each reported as
# a line "robustness: ..." with the exit status and what was left behind.
#   1. igniter serve interrupted (SIGINT) mid-run: 130, results kept,
#      "complete": false, no process or GPU memory left
#   2. a plan needing a model the runner lacks: 2, a message, no files
#   3. shares the device cannot give: 2, a message, no files
#   4. the GPU out of memory (another process holds it): 1, a message
#   5. igniter-capture mps interrupted: 130, no MPS daemon left
#   6. igniter serve --mechanism mps, one worker killed (SIGKILL) mid-run:
#      1, results kept, marked incomplete with the worker named, no
#      worker or MPS daemon left
# STEPS: which of them (default "1 2 3 4 5 6").
set -u
out=$1
steps=${2:-1 2 3 4 5 6}
mkdir -p "$out"
ig=build/igniter
cap=build/igniter-capture
plans=experiments/validation/plans
say() { echo "robustness: $*"; }
left() {
    say "  GPU processes left: $(nvidia-smi --query-compute-apps=pid \
        --format=csv,noheader | wc -l); MPS daemons left: \
$(ps -eo comm | grep -c '^nvidia-cuda-mps' || true) (by process name), \
pipe folders left: $(ls -d /tmp/igniter-mps-* 2>/dev/null | wc -l)"
}

on() { case " $steps " in *" $1 "*) return 0 ;; esac; return 1; }

if on 1; then
timeout --preserve-status -s INT 15 $ig serve --plan $plans/example-igniter.json \
    --duration-s 60 --out "$out/sigint" --quiet 2> "$out/sigint.err"
say "1. serve, SIGINT after 15 s: exit $?; $(tail -1 "$out/sigint.err")"
say "  $(grep -o '"complete": [a-z]*' "$out/sigint/summary.json") \
$(grep -o '"stopped": "[^"]*"' "$out/sigint/summary.json") \
$(ls "$out/sigint" | tr '\n' ' ')"
left
fi

if on 2; then
sed 's/"model": "vgg19"/"model": "bert_base"/' $plans/example-igniter.json \
    > "$out/bad-model.json"
$ig serve --plan "$out/bad-model.json" --out "$out/bad-model" --quiet
say "2. unknown model: exit $?; files: $(ls "$out/bad-model" 2>/dev/null | wc -l)"
fi

if on 3; then

sed 's/"resource_pct": [0-9.e-]*/"resource_pct": 33/' \
    $plans/example-igniter.json > "$out/bad-share.json"
$ig serve --plan "$out/bad-share.json" --out "$out/bad-share" --quiet
say "3. shares of 3 x 33 %: exit $?; files: $(ls "$out/bad-share" 2>/dev/null | wc -l)"
fi

if on 4; then

env -u LD_LIBRARY_PATH python3 -c 'import torch, time
free, total = torch.cuda.mem_get_info()
x = torch.empty(free - (256 << 20), dtype=torch.uint8, device="cuda")
print("hog holds", x.numel() >> 20, "MiB", flush=True)
time.sleep(40)' &
hog=$!
sleep 15
$ig serve --plan $plans/w12-ffd.json --duration-s 5 --out "$out/oom" \
    --quiet 2> "$out/oom.err"
say "4. out of memory: exit $?; $(tail -1 "$out/oom.err")"
kill $hog 2>/dev/null; wait $hog 2>/dev/null
left
fi

if on 5; then

timeout --preserve-status -s INT 8 $cap mps --out "$out/mps" --models alexnet \
    > "$out/mps.log" 2>&1
say "5. igniter-capture mps, SIGINT after 8 s: exit $?; $(tail -1 "$out/mps.log")"
sleep 1
left
fi

if on 6; then
$ig serve --plan $plans/example-igniter.json --mechanism mps \
    --duration-s 40 --out "$out/crash" --quiet 2> "$out/crash.err" &
srv=$!
sleep 25
pkill -9 -f "igniter-capture worker --model vgg19"
wait $srv
say "6. serve --mechanism mps, the vgg19 worker killed: exit $?; \
$(tail -1 "$out/crash.err")"
say "  $(grep -o '"complete": [a-z]*' "$out/crash/summary.json") \
$(grep -o '"stopped": "[^"]*"' "$out/crash/summary.json")"
say "  workers left: $(pgrep -c -x igniter-capture || true)"
left
fi
