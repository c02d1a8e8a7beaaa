#!/bin/sh
# scripts/capture-gpu.sh OUT MODE - on a GPU machine: find cuDNN and cJSON,
# build build/igniter-capture (`make capture`), print the versions, then
#   MODE smoke   bench at batch 1 and 8, and a --quick campaign (minutes)
#   MODE run     the whole campaign into OUT/raw.jsonl (+ OUT/coloc-trace.json)
#   MODE mps     the MPS measurements (igniter-capture mps) into OUT/raw.jsonl
#   MODE bench   igniter-capture bench and scripts/torch-bench.py, same GPU
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

cjson=
if [ ! -f /usr/include/cjson/cJSON.h ]; then
    cjson=/tmp/igniter-cjson
    rm -rf $cjson /tmp/igniter-cjson-deb; mkdir -p $cjson/lib
    for f in .capdeps/libcjson*.deb; do dpkg -x "$f" /tmp/igniter-cjson-deb; done
    cp -r /tmp/igniter-cjson-deb/usr/include $cjson/
    cp -P /tmp/igniter-cjson-deb/usr/lib/x86_64-linux-gnu/libcjson.so* $cjson/lib/
    export LD_LIBRARY_PATH="$cjson/lib:$LD_LIBRARY_PATH"
fi

make -s -j8 capture CUDA_HOME="$cuda" CUDNN_HOME="$cudnn" CJSON_HOME="$cjson" \
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
bench)
    $cap bench --iters 200 > "$out/bench-runner.jsonl"
    python3 scripts/torch-bench.py > "$out/bench-torch.jsonl"
    ;;
*)
    log "unknown mode '$mode' (smoke, run, mps, bench, build)"; exit 2 ;;
esac
