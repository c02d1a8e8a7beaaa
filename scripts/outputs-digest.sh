#!/bin/sh
# scripts/outputs-digest.sh OUT [BIN] - every output a refactor must keep
# byte-identical, run into OUT and listed as one SHA-256 per file in
# OUT/digest.txt: the demo, every experiment of experiments/ (`igniter sim`
# of the file, and `igniter compare` of those listing policies, with their
# figures' data), the validation's simulations (validate.sh sim),
# `igniter derive` of every shipped raw capture, and the plan of every
# policy for the paper's 12 workloads. Compare two trees' digests with
# diff. OUTPUTS_QUICK=1 skips compare (the slowest part). The lines of
# summary.json that name the commit and the program's hash are left out.
set -eu
out=$1
bin=${2:-build/igniter}
mkdir -p "$out/sim" "$out/compare" "$out/plans" "$out/derive"
out=$(cd "$out" && pwd)
jobs=$(nproc 2>/dev/null || echo 2)

"$bin" sim experiments/paper-example.json --out "$out/demo" > "$out/demo.txt"
for exp in experiments/*.json; do
    grep -q '"axes"' "$exp" && continue    # a sweep, not an experiment
    name=$(basename "$exp" .json)
    echo "outputs: sim $name" >&2
    "$bin" sim "$exp" --out "$out/sim/$name" --duration-s 70 --warmup-s 5 \
        > "$out/sim/$name.txt" 2>/dev/null || echo "exit $?" >> "$out/sim/$name.txt"
    [ "${OUTPUTS_QUICK:-0}" = 1 ] && continue
    grep -q '"policies"' "$exp" || continue
    echo "outputs: compare $name" >&2
    "$bin" compare "$exp" --out "$out/compare/$name" --jobs "$jobs" \
        > "$out/compare/$name.txt" 2>/dev/null
done
for pol in $("$bin" policies | awk 'NR>1 && $1 != "" {print $1}'); do
    "$bin" plan --profile traces/v100/profile.json --policy "$pol" \
        --measured traces/v100/measured-colocation.jsonl \
        --workloads experiments/paper-12.json --out "$out/plans/$pol.json" \
        > "$out/plans/$pol.txt" 2>&1 || echo "exit $?" >> "$out/plans/$pol.txt"
done
IGNITER=$bin VALIDATE_DURATION_S=10 sh scripts/validate.sh "$out/validate" sim \
    2>/dev/null
for raw in $(find traces -name 'raw.jsonl'); do
    d=$(dirname "$raw")
    mkdir -p "$out/derive/$d"
    # a raw file that is not a whole capture (traces/h200/points/) is
    # refused: its message is an output too
    "$bin" derive "$raw" --out "$out/derive/$d" --gpu H100 --price 12.29 \
        > "$out/derive/$d.txt" 2>&1 || echo "exit $?" >> "$out/derive/$d.txt"
done
cd "$out"
# the output folder's own name is not part of the outputs, nor the commit
# and the hash of the program that wrote them
find . -name '*.txt' ! -name digest.txt -exec sed -i "s|$out|OUT|g" {} +
find . -name summary.json -exec sed -i '/^  "commit": /d; /"input_hash": /d' {} +
find . -type f ! -name digest.txt ! -name '*.png' | LC_ALL=C sort |
    xargs sha256sum > digest.txt
echo "outputs: $(wc -l < digest.txt) files in $out/digest.txt" >&2
