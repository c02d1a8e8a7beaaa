#!/bin/sh
# Installs the Debian packages igniter needs to build and test, if missing.
# Called by the Makefile (once per clone) and by .ci/run. Idempotent: when
# every package is present it does nothing and needs no network. Needs
# apt-get and root or sudo to install; without apt it only checks (below).
set -eu
# Usage: install-deps.sh [bench|fuzz]   (bench adds what `make bench`
# compares against: SimPy; fuzz adds clang and its libFuzzer runtime for
# `make fuzz` and `make fuzz-smoke`)
PKGS="libgsl-dev libglpk-dev libcjson-dev libcmocka-dev pkg-config gnuplot-nox
      python3 libopenmpi-dev openmpi-bin"
[ "${1:-}" = bench ] && PKGS="$PKGS python3-simpy bc"
[ "${1:-}" = fuzz ] && PKGS="$PKGS clang libclang-rt-dev"
# Without Debian's package tools (another distribution, macOS with
# Homebrew, a cluster's modules), nothing is installed: the build goes on
# when a test program compiles and links against the libraries, else this
# names what to install (README.md, "Dependencies").
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    [ -n "${1:-}" ] && {
        echo "install-deps: no apt here: for 'make $1' install by hand: $(echo $PKGS)" >&2
        exit 0
    }
    t=$(mktemp -d)
    trap 'rm -rf "$t"' EXIT
    cat >"$t/c.c" <<'C'
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <glpk.h>
#include <gsl/gsl_rng.h>
int main(void) { return gsl_rng_default == 0 || !cJSON_Version() || !glp_version(); }
C
    if ${CC:-cc} ${CPPFLAGS:-} "$t/c.c" -o "$t/c" ${LDFLAGS:-} -lglpk -lgsl -lgslcblas \
           -lcjson -lcmocka -lm 2>"$t/err"; then
        exit 0
    fi
    why=$(head -1 "$t/err")
    echo "install-deps: no apt here, and a program using GSL, GLPK, cJSON and" >&2
    echo "cmocka does not build${why:+ ($why)}: install them (README.md, Dependencies)" >&2
    exit 1
fi
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
