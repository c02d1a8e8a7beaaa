#!/bin/sh
# Installs the Debian packages igniter needs to build and test, if missing.
# Called by the Makefile (once per clone) and by .ci/run. Idempotent: when
# every package is present it does nothing and needs no network.
set -eu
# Usage: install-deps.sh [bench|fuzz]   (bench adds what `make bench`
# compares against: SimPy; fuzz adds clang and its libFuzzer runtime for
# `make fuzz` and `make fuzz-smoke`)
PKGS="libgsl-dev libglpk-dev libcjson-dev libcmocka-dev pkg-config gnuplot-nox
      python3 libopenmpi-dev openmpi-bin"
[ "${1:-}" = bench ] && PKGS="$PKGS python3-simpy bc"
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang libclang-rt-dev"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
