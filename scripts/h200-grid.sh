#!/bin/sh
# scripts/h200-grid.sh OUT PARTS - the second H200 campaign (traces/h200/
# README.md, "The denser grid and MPS"), on GPU 0, in parts that each fit a
# device call of at most 10 minutes (PARTS: a comma list of)
#   sizes    solo at the green-context sizes the first campaign skipped
#            (every multiple of 8 SMs up to 112) and at 64 SMs again
#            (anchors against the first campaign), batches 1, 2, 4, 5, 8,
#            10, 16, 20, 32
#   batches  solo at the first campaign's other sizes, at the new batches
#            5, 10 and 20
#   mps      the MPS campaign (igniter-capture mps), alone on the GPU
#   mps-own  the same, every client with cuDNN's own choices of algorithm
#            (with the first campaign's, ssd300's client at 25 % of the
#            threads failed: CUDNN_STATUS_BAD_PARAM at layer reg0, batch 4)
#   mps-dense-a, mps-dense-b, mps-dense-c  MPS solo at the thread
#            percentage of every green-context size (8 to 120 SMs of 132,
#            and 100 %), batches 1-32 with the matrix's 3, 6, 12 and 24 left
#            out, as mps-own (each client's own cuDNN search); a: alexnet,
#            resnet50; b: vgg19, vit_b16; c: ssd300 (the MPS campaign's five
#            percentages leave the correction interpolating between 10, 25
#            and 50 %, where it misses serve's MPS batch times by 5-21 %,
#            experiments/validation/README.md, "The wake cost")
#   mps-pairs  MPS pairs of every two models at batch 8, the threads split
#            as 16:48, 48:16, 32:64 and 64:32 SMs of 132 (the MPS campaign
#            had 50:50 and 25:75 only), as mps-own
# GRID_T, when set, replaces every part's time limit in seconds (a part
# stopped early keeps what it measured: models run one after another)
# Every part starts from the first campaign's cuDNN algorithm choices
# (traces/h200/cudnn-algos.txt), so a point measured twice runs the same
# kernels. The batches 3, 6, 12 and 24 of the validation matrix are left
# out on purpose: its plans stay off the measured grid in batch.
# Run through `scripts/capture-gpu.sh OUT script scripts/h200-grid.sh OUT
# PARTS`; each part ends up in OUT/PART.tgz, and stays in /tmp/h200grid/PART
# for a later call on the same machine.
set -u
out=$1 parts=$2
cap=$(pwd)/build/igniter-capture
w=/tmp/h200grid
mkdir -p "$w"
nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,clocks.max.sm,power.limit \
    --format=csv > "$w/gpus.csv" 2>&1
# step PART SECONDS ARGS...: one igniter-capture command on GPU 0, stopped
# with Ctrl-C after SECONDS (what was measured is kept); its log, exit
# status and times in /tmp/h200grid/PART
step() {
    d=$w/$1 t=${GRID_T:-$2} ac=$w/$1/cudnn-algos.txt; shift 2
    [ "$1" = own ] && { ac=; shift; }
    rm -rf "$d"; mkdir -p "$d"
    cp traces/h200/cudnn-algos.txt "$d/"
    cp "$w/gpus.csv" "$d/"
    date -u +%FT%TZ > "$d/start"
    CUDA_VISIBLE_DEVICES=0 IGNITER_ALGO_CACHE=$ac \
        timeout -s INT "$t" "$cap" "$@" --out "$d" > "$d/log" 2>&1
    echo $? > "$d/rc"
    date -u +%FT%TZ > "$d/end"
    tar czf "$out/$(basename "$d").tgz" -C "$d" .
    echo "$(basename "$d"): exit $(cat "$d/rc"), $(cat "$d/start") - $(cat "$d/end")"
    tail -2 "$d/log"
}
for p in $(echo "$parts" | tr ',' ' '); do
    case $p in
    sizes)   step sizes 450 run --steps meta,solo \
                 --solo-sms 24,40,56,64,72,80,88,104,112 \
                 --batches 1,2,4,5,8,10,16,20,32 ;;
    batches) step batches 150 run --steps meta,solo \
                 --solo-sms 8,16,32,48,96,120,1000 --batches 5,10,20 ;;
    mps)     step mps 380 mps ;;
    mps-own) step mps-own 450 own mps ;;
    mps-dense-a|mps-dense-b|mps-dense-c)
        case $p in
        *a) models=alexnet,resnet50 ;;
        *b) models=vgg19,vit_b16 ;;
        *)  models=ssd300 ;;
        esac
        step "$p" 450 own mps --steps solo --models "$models" \
            --mps-pcts "$(awk 'BEGIN { for (s = 8; s <= 120; s += 8)
                printf "%.4f,", 100 * s / 132; printf "100" }')" \
            --batches 1,2,4,5,8,10,16,20,32 ;;
    mps-pairs)
        step mps-pairs 480 own mps --steps pairs --mps-splits "$(awk 'BEGIN {
            split("16:48 48:16 32:64 64:32", s, " ")
            for (i = 1; i <= 4; i++) { split(s[i], ab, ":")
                printf "%s%.4f:%.4f", (i > 1 ? "," : ""), 100 * ab[1] / 132,
                    100 * ab[2] / 132 } }')" ;;
    *)       echo "h200-grid: PARTS: expected sizes, batches, mps, mps-own, mps-dense-a/b/c or mps-pairs, got '$p'" >&2
             exit 2 ;;
    esac
done
