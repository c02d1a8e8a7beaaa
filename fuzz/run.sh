#!/bin/sh
# Runs libFuzzer harnesses one after another (the Makefile's `fuzz` and
# `fuzz-smoke`), each for SECONDS on its seed corpus and dictionary, and
# prints one line per harness with libFuzzer's final counts.
#
#   sh fuzz/run.sh BUILD_DIR SECONDS BUILD_DIR/fuzz_NAME ...
#   sh fuzz/run.sh --check CC      exit 0 when CC links -fsanitize=fuzzer
#
# A harness's new inputs go to BUILD_DIR/corpus/NAME (the committed seeds
# in fuzz/corpus/NAME are only read), a finding to BUILD_DIR/crashes/, its
# log to BUILD_DIR/logs/NAME.log. Exit status 1 when any harness found
# something (crash, leak, sanitizer report, broken promise, timeout).
set -u

if [ "${1:-}" = --check ]; then
    cc=${2:-clang}
    d=$(mktemp -d)
    trap 'rm -rf "$d"' EXIT
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
        '{ (void)d; (void)n; return 0; }' >"$d/t.c"
    "$cc" -fsanitize=fuzzer,address,undefined -o "$d/t" "$d/t.c" \
        >/dev/null 2>&1
    exit $?
fi

build=$1
seconds=$2
shift 2
mkdir -p "$build/crashes" "$build/logs"
failed=""
for bin in "$@"; do
    name=$(basename "$bin" | sed 's/^fuzz_//')
    corpus="$build/corpus/$name"
    mkdir -p "$corpus"
    dict=""
    [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
    log="$build/logs/$name.log"
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: one using
    # 2 GiB is a finding too (the machines have 2 cores and little memory)
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/crashes/$name-" \
        $dict "$corpus" "fuzz/corpus/$name" >"$log" 2>&1
    rc=$?
    final=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -n 1)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    printf '%-11s %s runs; %s\n' "$name" "${runs:-?}" \
        "$(echo "$final" | sed 's/^#[0-9]*[[:space:]]*[A-Z]*[[:space:]]*//')"
    if [ "$rc" -ne 0 ]; then
        failed="$failed $name"
        echo "  $name: exit $rc; see $log and $build/crashes/:" >&2
        grep -E 'ERROR|SUMMARY|broken promise|runtime error' "$log" |
            head -n 5 >&2
    fi
done
if [ -n "$failed" ]; then
    echo "fuzz: findings in:$failed" >&2
    exit 1
fi
echo "fuzz: $# harnesses, ${seconds} s each, no finding"
