#!/bin/sh
# scripts/h200-capture.sh OUT - the whole capture campaign on a host with two
# GPUs of one model, in one device call of at most 10 minutes
# (traces/h200/README.md). GPU 0 takes the steps the measured back end is
# fitted from (solo tables and fitting pairs, which must come from one
# chip); GPU 1 the held-out runs and the L2/DRAM counters (ncu). Run through
# `scripts/capture-gpu.sh OUT script scripts/h200-capture.sh OUT`, which
# builds and finds the libraries. Everything ends up in OUT/capture.tgz (the
# device returns few files); the raw files are also kept in /tmp/h200cap for
# a next call on the same machine (scripts/validate-matrix-gpu.sh).
set -u
out=$1
cap=$(pwd)/build/igniter-capture
w=/tmp/h200cap
rm -rf "$w"; mkdir -p "$w/gpu0" "$w/gpu1"
nvidia-smi --query-gpu=index,name,uuid,pci.bus_id,clocks.max.sm,power.limit \
    --format=csv > "$w/gpus.csv" 2>&1
half() {
    g=$1; shift
    date -u +%FT%TZ > "$w/gpu$g/start"
    CUDA_VISIBLE_DEVICES=$g timeout -s INT 530 $cap run --out "$w/gpu$g" "$@" \
        > "$w/gpu$g/log" 2>&1
    echo $? > "$w/gpu$g/rc"
    date -u +%FT%TZ > "$w/gpu$g/end"
}
half 0 --steps meta,overhead,kernels,solo,pair_self,reconfig,copies,coloc &
half 1 --steps meta,heldout,l2 &
wait
rm -f "$w"/gpu*/ncu-*.csv*
gzip -f "$w"/gpu*/coloc-trace.json 2>/dev/null
tar czf "$out/capture.tgz" -C "$w" .
cat "$w/gpu0/rc" "$w/gpu1/rc"
tail -3 "$w/gpu0/log" "$w/gpu1/log"
