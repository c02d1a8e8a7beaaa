#!/bin/sh
# scripts/validate-matrix-gpu.sh OUT RAW... - the validation matrix's real
# runs on a host with two GPUs of one model (experiments/validation/README.md,
# "The matrix"), in one device call of at most 10 minutes: derives the
# measured data from the capture's raw files RAW (default /tmp/h200cap/gpu*/
# raw.jsonl, left by scripts/h200-capture.sh on the same machine), makes the
# plans (scripts/validate-matrix.py plans), then serves every plan under
# Poisson and the Azure trace, green contexts on GPU 0 and MPS on GPU 1 at
# the same time. Each serve loads the capture's cuDNN algorithm choices, so
# that it runs the kernels the capture timed. Results in OUT/matrix.tgz.
# Run through `scripts/capture-gpu.sh OUT script scripts/validate-matrix-gpu.sh
# OUT`.
set -u
out=$1; shift
w=/tmp/matrix
rm -rf "$w"; mkdir -p "$w"
raw=${*:-$(ls /tmp/h200cap/gpu*/raw.jsonl 2>/dev/null)}
[ -n "$raw" ] || { echo "validate-matrix-gpu: no raw capture files" >&2; exit 3; }
# shellcheck disable=SC2086
cat $raw > "$w/raw.jsonl"
build/igniter derive "$w/raw.jsonl" --out "$w/data" --gpu H200 \
    > "$w/derive.log" 2>&1 || { cat "$w/derive.log"; tar czf "$out/matrix.tgz" -C "$w" .; exit 1; }
python3 scripts/validate-matrix.py plans "$w/data/measured-colocation.jsonl" \
    "$w/plans" || exit 1
algos=$(ls /tmp/h200cap/gpu0/cudnn-algos.txt 2>/dev/null)
for g in 0 1; do
    [ -n "$algos" ] && cp "$algos" "$w/algos-gpu$g.txt"
done
run() {
    g=$1 what=$2
    IGNITER_ALGO_CACHE=$w/algos-gpu$g.txt CUDA_VISIBLE_DEVICES=$g \
    VALIDATE_DURATION_S=${MATRIX_DURATION_S:-8} VALIDATE_WARMUP_S=1 \
        VALIDATE_KEEP_GOING=1 timeout -s INT 500 sh scripts/validate.sh "$w/res" "$what" \
        "$w"/plans/*.json > "$w/$what.log" 2>&1
    echo "$what: exit $?" >> "$w/rc"
}
date -u +%FT%TZ > "$w/start"
run 0 real &
run 1 real-mps &
wait
date -u +%FT%TZ > "$w/end"
find "$w/res" -name requests.csv.gz -delete
tar czf "$out/matrix.tgz" -C "$w" .
cat "$w/rc"
ls "$w/res/real" "$w/res/real-mps" 2>/dev/null | wc -l
