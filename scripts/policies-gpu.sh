#!/bin/sh
# scripts/policies-gpu.sh OUT PARTS - the policies' own plans on a real
# H200 (experiments/validation/policies/README.md): does the GPU agree
# with the simulator's verdict between policies, where they differ?
# PARTS, a comma list of:
#   poisson-X igniter serve (green contexts) of the plans
#             experiments/validation/policies/plans/X-*.json (X: x2, x6,
#             x8 or x10), Poisson arrivals
#   azure     the x8 plans under the Azure trace (rescaled to the rates)
# Runs: 10 s per plan GPU, 2 s warm-up, seed 1; a plan of several GPUs is
# served one plan GPU at a time on the one GPU, each with the same
# arrivals. serve loads (and adds its own choices to) a copy of the
# capture's cuDNN algorithm file (or of POLICIES_ALGOS: an earlier call's
# copy), kept in /tmp/policies/ for later calls
# on the same machine; a run already complete there is not run again, so
# a part cut short by its time limit (POLICIES_PART_S, default 480 s)
# goes on in the next call. Results in OUT/PART.tgz (requests.csv
# dropped: the device returns few files). cuDNN is searched at powers of
# two only (IGNITER_ALGO_COARSE, capture/README.md). nvidia-smi samples
# power, SM clock and the throttle reasons every 100 ms while each plan
# runs (smi-PLAN.csv; validate-policies.py power reads it). Run through
# `scripts/capture-gpu.sh OUT script scripts/policies-gpu.sh OUT PARTS`.
set -u
out=$1 parts=$2
plans=experiments/validation/policies/plans
w=/tmp/policies
mkdir -p "$w"
[ -f "$w/cudnn-algos.txt" ] || cp "${POLICIES_ALGOS:-traces/h200/cudnn-algos.txt}" "$w/cudnn-algos.txt"
nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,clocks.max.sm,power.limit \
    --format=csv > "$w/gpus.csv" 2>&1
for p in $(echo "$parts" | tr ',' ' '); do
    case $p in
    poisson-x2|poisson-x6|poisson-x8|poisson-x10)
             arr=poisson list=$(ls $plans/"${p#poisson-}"-*.json) ;;
    azure)   arr=azure list=$(ls $plans/x8-*.json) ;;
    *) echo "policies-gpu: PARTS: expected poisson-x2, -x6, -x8, -x10 or azure, got '$p'" >&2
       exit 2 ;;
    esac
    d=$w/$p
    mkdir -p "$d"
    cp "$w/gpus.csv" "$d/"
    date -u +%FT%TZ >> "$d/start"
    # one plan at a time, each stamped, so that the log says what the
    # runners' start-up (cuDNN's search at new batches) cost
    # shellcheck disable=SC2086
    IGNITER_ALGO_COARSE=1 IGNITER_ALGO_CACHE=$w/cudnn-algos.txt VALIDATE_ARRIVALS=$arr \
        VALIDATE_DURATION_S=10 VALIDATE_WARMUP_S=2 VALIDATE_KEEP_GOING=1 \
        timeout -s INT -k 30 "${POLICIES_PART_S:-480}" sh -c '
        for plan; do
            echo "$(date -u +%T) $plan"
            nvidia-smi --query-gpu=timestamp,power.draw,clocks.sm,clocks.mem,temperature.gpu,utilization.gpu,clocks_throttle_reasons.active \
                --format=csv,nounits -lms 100 > "$0/smi-$(basename "$plan" .json).csv" 2>&1 &
            smi=$!
            sh scripts/validate.sh "$0" real "$plan" 2>&1
            kill $smi
        done; echo "$(date -u +%T) done"' "$d" $list >> "$d/log" 2>&1
    echo "exit $?" >> "$d/rc"
    date -u +%FT%TZ >> "$d/end"
    cp "$w/cudnn-algos.txt" "$d/"
    tar czf "$out/$p.tgz" --exclude='requests.csv*' -C "$d" .
    echo "$p: $(head -1 "$d/start") - $(tail -1 "$d/end"), $(tail -1 "$d/rc")"
    tail -3 "$d/log"
done
