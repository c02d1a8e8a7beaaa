#!/bin/sh
# scripts/matrix-extra-gpu.sh OUT - what the validation matrix's first GPU
# session left out (experiments/validation/README.md, "The matrix"), on GPU
# 0 of a one-GPU machine, in one device call:
#   1. m4 (four instances) under MPS, at the three loads, Poisson and Azure,
#      with the capture's cuDNN choices; if a worker fails with them (as
#      SSD-300's MPS client did in the second campaign), again without
#   2. the A/B of the algorithm file: m3 and m4 at 75 % Poisson with green
#      contexts, with the capture's cuDNN choices and with serve's own search
# Results in OUT/extra.tgz (requests.csv dropped: the device returns few
# files). Run through `scripts/capture-gpu.sh OUT script
# scripts/matrix-extra-gpu.sh OUT`.
set -u
out=$1
w=/tmp/matrix-extra
rm -rf "$w"; mkdir -p "$w"
plans=experiments/validation/matrix/plans
algos=traces/h200/cudnn-algos.txt
export CUDA_VISIBLE_DEVICES=0 VALIDATE_DURATION_S=8 VALIDATE_WARMUP_S=1 \
    VALIDATE_KEEP_GOING=1
nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,clocks.max.sm,power.limit \
    --format=csv > "$w/gpus.csv" 2>&1
# v OUTDIR WHAT ALGOS PLAN...: scripts/validate.sh with an algorithm file
# (none: "")
v() {
    d=$1 what=$2 ac=$3; shift 3
    echo "$(date -u +%FT%TZ) $d $what algos='$ac' $*" >> "$w/steps"
    IGNITER_ALGO_CACHE=$ac timeout -s INT 200 sh scripts/validate.sh \
        "$w/$d" "$what" "$@" >> "$w/$d.log" 2>&1
    echo "$d $what: exit $?" >> "$w/rc"
}
v mps real-mps "$algos" $plans/m4-l50.json $plans/m4-l75.json \
    $plans/m4-l90.json
if grep -q "mps real-mps: exit [^0]" "$w/rc"; then
    mv "$w/mps" "$w/mps-with-algos"
    v mps real-mps "" $plans/m4-l50.json $plans/m4-l75.json \
        $plans/m4-l90.json
fi
VALIDATE_ARRIVALS=poisson v ab-with real "$algos" $plans/m3-l75.json \
    $plans/m4-l75.json
VALIDATE_ARRIVALS=poisson v ab-own real "" $plans/m3-l75.json \
    $plans/m4-l75.json
echo "$(date -u +%FT%TZ) end" >> "$w/steps"
find "$w" -name requests.csv.gz -delete
tar czf "$out/extra.tgz" -C "$w" .
cat "$w/rc"
