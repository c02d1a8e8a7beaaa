#!/bin/sh
# scripts/policies-power-gpu.sh OUT - power and SM clock of the GPU while
# it serves plan GPU 0 of three x8 plans of experiments/validation/
# policies/ (Poisson, 10 s, 2 s warm-up, seed 1, as policies-gpu.sh):
# x8-ffd and x8-igniter-plus-m0 (four instances on 120 SMs, batch times
# 10-11 % longer than the simulator's) and x8-igniter-plus (three on 120,
# within 3 %). nvidia-smi samples every 100 ms into OUT/power/RUN.csv;
# serve loads experiments/validation/policies/results/cudnn-algos.txt
# (searched at powers of two, IGNITER_ALGO_COARSE). Results in
# OUT/power.tgz. Run through `scripts/capture-gpu.sh OUT script
# scripts/policies-power-gpu.sh OUT`.
set -u
out=$1
w=/tmp/policies-power
rm -rf "$w"; mkdir -p "$w"
cp experiments/validation/policies/results/cudnn-algos.txt "$w/"
nvidia-smi --query-gpu=index,name,uuid,power.limit,clocks.max.sm \
    --format=csv > "$w/gpus.csv" 2>&1
for p in x8-ffd x8-igniter-plus-m0 x8-igniter-plus; do
    nvidia-smi --query-gpu=timestamp,power.draw,clocks.sm,clocks.mem,temperature.gpu,utilization.gpu,clocks_throttle_reasons.active \
        --format=csv,nounits -lms 100 > "$w/$p.csv" 2>&1 &
    smi=$!
    IGNITER_ALGO_COARSE=1 IGNITER_ALGO_CACHE=$w/cudnn-algos.txt \
        timeout -s INT -k 20 120 build/igniter serve \
        --plan experiments/validation/policies/plans/$p.json --gpu 0 \
        --duration-s 10 --warmup-s 2 --seed 1 --arrivals poisson --quiet \
        --out "$w/$p" > "$w/$p.log" 2>&1
    echo "$p: exit $?" >> "$w/rc"
    kill $smi
done
find "$w" -name 'requests.csv*' -delete
tar czf "$out/power.tgz" -C "$w" .
cat "$w/rc"
