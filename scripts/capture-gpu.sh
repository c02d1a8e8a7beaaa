#!/bin/sh
# scripts/capture-gpu.sh OUT MODE - on a GPU machine: find cuDNN, cJSON,
# GSL and cmocka, build build/igniter and the CUDA parts (`make capture`),
# print the versions, then
#   MODE smoke   bench at batch 1 and 8, and a --quick campaign (minutes)
#   MODE run     the whole campaign into OUT/raw.jsonl (+ OUT/coloc-trace.json)
#   MODE mps     the MPS measurements (igniter-capture mps) into OUT/raw.jsonl
#   MODE bench   igniter-capture bench and scripts/torch-bench.py, same GPU
#   MODE check   igniter-capture check, the test suite with its GPU tests,
#                the runner's fast and reference paths and PyTorch eager
#                at batch 1, 8 and 32
#   MODE verify  igniter-capture check and the test suite with its GPU
#                tests (check without the benchmarks)
#   MODE validate-mps  the same with --mechanism mps (OUT/real-mps)
#   MODE robustness  scripts/robustness-gpu.sh OUT (faults and Ctrl-C)
#   MODE serve   igniter serve with the extra arguments
#   MODE cap     igniter-capture with the extra arguments
#   MODE paths   scripts/runner-paths.sh OUT (what each fast path and each
#                CUPTI setting costs; the ncu time limit)
#   MODE validate  scripts/validate.sh OUT real (igniter serve of every
#                validation plan); extra arguments go to it
#   MODE script  sh SCRIPT ARGS...: a script of several steps (e.g.
#                scripts/h200-capture.sh), with the libraries found here
# Extra arguments go to `igniter-capture run`. cJSON may come as Debian
# packages in .capdeps/ (the GPU machine has no network); cuDNN is looked
# for beside CUDA, in the system and in PyTorch's wheels.
set -eu
out=$1
mode=$2
shift 2
mkdir -p "$out"
log() { echo "capture-gpu: $*" >&2; }

cuda=${CUDA_HOME:-/usr/local/cuda}
cudnn=
for d in "$cuda" /usr /usr/include/x86_64-linux-gnu/.. \
         $(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null || true); do
    for inc in "$d/include" "$d/include/x86_64-linux-gnu"; do
        [ -f "$inc/cudnn.h" ] || continue
        for lib in "$d/lib64" "$d/lib" "$d/lib/x86_64-linux-gnu"; do
            so=$(ls "$lib"/libcudnn.so* 2>/dev/null | head -1)
            [ -n "$so" ] || continue
            cudnn=/tmp/igniter-cudnn
            rm -rf $cudnn; mkdir -p $cudnn/include $cudnn/lib
            ln -s "$inc"/cudnn*.h $cudnn/include/
            for f in "$lib"/libcudnn*.so*; do ln -s "$f" $cudnn/lib/; done
            [ -e $cudnn/lib/libcudnn.so ] || ln -s "$so" $cudnn/lib/libcudnn.so
            export LD_LIBRARY_PATH="$lib:${LD_LIBRARY_PATH:-}"
            log "cuDNN: $inc, $lib"
            break 3
        done
    done
done
[ -n "$cudnn" ] || { log "no cuDNN found"; exit 1; }

# cJSON, GSL, cmocka and GLPK: from the Debian packages in .capdeps/ when the
# system lacks them (gcc reads CPATH and LIBRARY_PATH)
cjson=
deps=/tmp/igniter-deps
if [ ! -f /usr/include/cjson/cJSON.h ] || [ ! -f /usr/include/gsl/gsl_rng.h ] ||
   [ ! -f /usr/include/cmocka.h ] || [ ! -f /usr/include/glpk.h ]; then
    rm -rf $deps; mkdir -p $deps
    for f in .capdeps/*.deb; do dpkg -x "$f" $deps/root; done
    mkdir -p $deps/include $deps/lib
    cp -r $deps/root/usr/include/* $deps/include/
    cp -P $deps/root/usr/lib/x86_64-linux-gnu/*.so* $deps/lib/
    cjson=$deps
    export CPATH="$deps/include:${CPATH:-}"
    export LIBRARY_PATH="$deps/lib:${LIBRARY_PATH:-}"
    export LD_LIBRARY_PATH="$deps/lib:$LD_LIBRARY_PATH"
fi
mkdir -p build && touch build/.deps-ok    # no apt-get here: no network

# another compiler may warn differently: warnings are not errors here
make -s -j16 all WARN="-Wall -Wextra" >&2
make -s -j16 capture CUDA_HOME="$cuda" CUDNN_HOME="$cudnn" CJSON_HOME="$cjson" \
    ${CAP_CPU:+CAP_CPU="$CAP_CPU"} >&2
cap=build/igniter-capture
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit \
    --format=csv >&2 || true
grep -h "define CUDNN_M" $cudnn/include/cudnn_version*.h >&2 || true

case $mode in
smoke)
    $cap bench --batches 1,8 --iters 50
    $cap run --out "$out" --quick "$@"
    ;;
run)
    $cap run --out "$out" "$@"
    ;;
mps)
    $cap mps --out "$out" "$@"
    ;;
build)
    ;;
check)
    $cap check
    make -s test WARN="-Wall -Wextra" >&2
    $cap bench --batches 1,8,32 --iters 200 > "$out/bench-runner.jsonl"
    IGNITER_ATTN_REF=1 $cap bench --batches 1,8,32 --iters 200 |
        sed 's/^{/{"path":"reference",/' >> "$out/bench-runner.jsonl"
    env -u LD_LIBRARY_PATH python3 scripts/torch-bench.py --batches 1,8,32 \
        > "$out/bench-torch.jsonl" || true
    ;;
verify)
    $cap check
    make -s test WARN="-Wall -Wextra" >&2
    ;;
validate)
    sh scripts/validate.sh "$out" real "$@"
    ;;
validate-mps)
    sh scripts/validate.sh "$out" real-mps "$@"
    ;;
serve)
    build/igniter serve "$@"
    ;;
robustness)
    sh scripts/robustness-gpu.sh "$out" "$@"
    ;;
cap)
    $cap "$@"
    ;;
paths)
    sh scripts/runner-paths.sh "$out"
    ;;
script)
    sh "$@"
    ;;
bench)
    $cap bench --iters 200 > "$out/bench-runner.jsonl"
    env -u LD_LIBRARY_PATH python3 scripts/torch-bench.py > "$out/bench-torch.jsonl"
    ;;
*)
    log "unknown mode '$mode' (smoke, run, mps, bench, build)"; exit 2 ;;
esac
