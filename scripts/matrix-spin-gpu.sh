#!/bin/sh
# scripts/matrix-spin-gpu.sh OUT PARTS - the validation matrix's third GPU
# session (experiments/validation/README.md, "The wake cost"), on GPU 0,
# in parts that each fit a device call of at most 10 minutes (PARTS: a
# comma list of)
#   points     solo at the matrix plans' own points (24, 40, 56 and 72 SMs,
#              batches 3, 6, 12 and 24; the capture's other campaigns left
#              them out on purpose): how much of the simulator's error is
#              the interpolation between measured batches
#   spin-P     MPS runs (serve --mechanism mps) of the matrix's plans of
#              the comma-free list P (m3+m3v: plans m3 and m3v), Poisson,
#              at 50, 75 and 90 %, the workers spinning on their input
#              between batches (the default since this session)
#   azure-P    the same under the Azure trace, at 75 and 90 %
#   block-P    MPS runs of P at 50 and 90 % Poisson with the workers'
#              old blocking read (IGNITER_WORKER_WAIT=block): the A/B on
#              the same chip
#   cal90-P    MPS runs of the plans of matrix/plans-mps/ (at 90 % of the
#              capacity that the calibrated simulation predicts under MPS:
#              scripts/validate-matrix.py plans --mps --calibration),
#              Poisson and the Azure trace
#   cal75-P    the same at 75 %, Poisson
#   alone-P    MPS runs of each workload of the 75 % plans of P alone
#              (matrix/plans-alone/T-l75-W.json: validate-matrix.py alone),
#              Poisson: serve's MPS batch against the capture's MPS solo
#   galone-P   the same with green contexts
#   green-P    green-context runs of the matrix's plans of P at 50, 75 and
#              90 %, Poisson and the Azure trace: the first matrix's runs
#              again, on another chip (experiments/validation/README.md,
#              "The same runs on other chips")
#   green90-P  the same at 90 % only
#   samealgo-P the plans' own points measured as in part points, the
#              capture adding its cuDNN choices for them to a copy of the
#              algorithm file; then green runs of P at 75 and 90 %, Poisson
#              and the Azure trace, serve loading that copy: capture and
#              serve on the same kernels at the plans' batches
#              (experiments/validation/README.md, "The same kernels")
# Every part loads the first campaign's cuDNN algorithm choices
# (traces/h200/cudnn-algos.txt). Runs: 8 s, 1 s warm-up, seed 1, as the
# matrix's others. Results in OUT/PART.tgz (requests.csv dropped: the
# device returns few files); they stay in /tmp/matrix3/PART for a later
# call on the same machine. MATRIX_PART_S: the time limit of a part of
# runs (default 300 s). Run through `scripts/capture-gpu.sh OUT script
# scripts/matrix-spin-gpu.sh OUT PARTS`. MATRIX_GPU: the GPU to run on
# (default 0); another than 0 works in /tmp/matrix3-gN and names its
# results PART-gN.tgz, so that two of these can run at once on two GPUs
# (scripts/matrix-repeat-gpu.sh).
set -u
out=$1 parts=$2
cap=$(pwd)/build/igniter-capture
plans=experiments/validation/matrix/plans
algos=traces/h200/cudnn-algos.txt
gpu=${MATRIX_GPU:-0}
w=/tmp/matrix3 sfx=
[ "$gpu" = 0 ] || w=/tmp/matrix3-g$gpu sfx=-g$gpu
mkdir -p "$w"
nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,clocks.max.sm,power.limit \
    --format=csv > "$w/gpus.csv" 2>&1
export CUDA_VISIBLE_DEVICES="$gpu"
begin() {
    d=$w/$1
    rm -rf "$d"; mkdir -p "$d"
    cp "$w/gpus.csv" "$d/"
    nvidia-smi -i "$gpu" --query-gpu=index,uuid --format=csv,noheader \
        > "$d/gpu" 2>&1
    date -u +%FT%TZ > "$d/start"
}
end() {
    date -u +%FT%TZ > "$d/end"
    find "$d" -name 'requests.csv*' -delete
    tar czf "$out/$(basename "$d" | tr + _)$sfx.tgz" -C "$d" .
    echo "$(basename "$d"): $(cat "$d/start") - $(cat "$d/end")"
    cat "$d/rc" 2>/dev/null
}
# validate_into ALGOS WAIT SECONDS WHAT PLAN...: scripts/validate.sh WHAT
# (real-mps or real) of the plans into the part's folder $d, serve loading
# the algorithm file ALGOS, the workers' wait WAIT; $d/log, $d/rc
validate_into() {
    ac=$1 wait=$2 t=$3 what=$4
    shift 4
    IGNITER_WORKER_WAIT=$wait IGNITER_ALGO_CACHE=$ac \
        VALIDATE_DURATION_S=8 VALIDATE_WARMUP_S=1 VALIDATE_KEEP_GOING=1 \
        timeout -s INT "$t" sh scripts/validate.sh "$d" "$what" "$@" \
        > "$d/log" 2>&1
    echo "exit $?" > "$d/rc"
}
# serve_plans PART WAIT SECONDS WHAT PLAN...: validate_into a part of its
# own, on the first campaign's algorithm file
serve_plans() {
    part=$1
    shift
    begin "$part"
    validate_into "$algos" "$@"
    end
}
# plan_list LOADS PLANLIST [PLANDIR]: the plans of PLANLIST (+ between
# names) at the loads
plan_list() {
    for p in $(echo "$2" | tr '+' ' '); do
        for l in $1; do echo "${3:-$plans}/$p-l$l.json"; done
    done
}
# serve PART WAIT SECONDS LOADS PLANLIST [PLANDIR]: MPS runs of the plans
# of PLANLIST at the loads; SERVE_WHAT=real: green
serve() {
    # the plans' paths hold no blank: one argument each
    # shellcheck disable=SC2046
    serve_plans "$1" "$2" "$3" "${SERVE_WHAT:-real-mps}" \
        $(plan_list "$4" "$5" "${6:-}")
}
# capture_points LOG RC PREFIX: every model alone at the matrix plans' own points
# into $d, on a copy of the algorithm file that the capture adds its
# choices to ($d/cudnn-algos.txt)
capture_points() {
    cp $algos "$d/cudnn-algos.txt"
    IGNITER_ALGO_CACHE=$d/cudnn-algos.txt timeout -s INT 200 "$cap" run \
        --steps meta,solo --solo-sms 24,40,56,72 --batches 3,6,12,24 \
        --out "$d" > "$d/$1" 2>&1
    echo "$3exit $?" > "$d/$2"
}
# alone_plans PLANLIST: the plans of one workload of PLANLIST's 75 % plans
alone_plans() {
    for p in $(echo "$1" | tr '+' ' '); do ls "$plans-alone/$p"-l75-*.json; done
}
for p in $(echo "$parts" | tr ',' ' '); do
    case $p in
    points)
        begin points
        capture_points log rc ""
        end ;;
    spin-*)  VALIDATE_ARRIVALS=poisson serve "$p" spin "${MATRIX_PART_S:-300}" "50 75 90" "${p#spin-}" ;;
    azure-*) VALIDATE_ARRIVALS=azure serve "$p" spin "${MATRIX_PART_S:-300}" "75 90" "${p#azure-}" ;;
    block-*) VALIDATE_ARRIVALS=poisson serve "$p" block "${MATRIX_PART_S:-300}" "50 90" "${p#block-}" ;;
    cal90-*) serve "$p" spin "${MATRIX_PART_S:-300}" 90 "${p#cal90-}" "$plans-mps" ;;
    cal75-*) VALIDATE_ARRIVALS=poisson serve "$p" spin "${MATRIX_PART_S:-300}" 75 "${p#cal75-}" "$plans-mps" ;;
    samealgo-*)
        begin "$p"
        capture_points capture.log capture-rc "capture "
        cp "$d/cudnn-algos.txt" "$d/points-algos.txt"
        # shellcheck disable=SC2046
        validate_into "$d/cudnn-algos.txt" spin "${MATRIX_PART_S:-300}" real \
            $(plan_list "75 90" "${p#samealgo-}")
        end ;;
    green-*) SERVE_WHAT=real serve "$p" spin "${MATRIX_PART_S:-400}" "50 75 90" "${p#green-}" ;;
    green90-*) SERVE_WHAT=real serve "$p" spin "${MATRIX_PART_S:-300}" 90 "${p#green90-}" ;;
    alone-*)
        # the plans' paths hold no blank: one argument each
        # shellcheck disable=SC2046
        VALIDATE_ARRIVALS=poisson serve_plans "$p" spin "${MATRIX_PART_S:-300}" \
            real-mps $(alone_plans "${p#alone-}") ;;
    galone-*)
        # shellcheck disable=SC2046
        VALIDATE_ARRIVALS=poisson serve_plans "$p" spin "${MATRIX_PART_S:-300}" \
            real $(alone_plans "${p#galone-}") ;;
    *)  echo "matrix-spin-gpu: PARTS: expected points, spin-P, azure-P, block-P, cal90-P, cal75-P, alone-P, galone-P, green-P, green90-P or samealgo-P, got '$p'" >&2
        exit 2 ;;
    esac
done
