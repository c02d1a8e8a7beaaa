#!/bin/sh
# Runs every test suite of a build directory (tests/test_*), from the
# repository root, and ends with one summary line "tests: N passed, N failed"
# counting individual tests (a suite that crashes counts as one failure).
# Usage: sh tests/run.sh BUILD_DIR
set -u
build=${1:-build}
export IGNITER_BIN="$build/igniter"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
pass=0
fail=0
failed=""
for t in "$build"/tests/test_*; do
    case "$t" in *.d|*.o) continue ;; esac
    [ -x "$t" ] || continue
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log")
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log")
    pass=$((pass + ${p:-0}))
    if [ "$rc" -ne 0 ]; then
        fail=$((fail + ${f:-1}))
        failed="$failed $(basename "$t")"
    fi
done
echo
[ -n "$failed" ] && echo "failed suites:$failed"
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
