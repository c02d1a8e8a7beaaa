#!/bin/sh
# scripts/validate.sh OUT WHAT [PLAN...] - the simulator against the real GPU.
#
# For every plan of experiments/validation/plans/ (or the ones named) and
# every arrival process (Poisson at the plan's rates; the Azure trace,
# rescaled to them):
#   WHAT real   igniter serve on this machine's GPU     -> OUT/real/RUN/
#   WHAT real-mps  the same with --mechanism mps         -> OUT/real-mps/RUN/
#   WHAT sim    igniter sim, measured and model back ends on the H100 data
#               (VALIDATE_DATA)
#                                                        -> OUT/sim-measured/RUN/,
#                                                           OUT/sim-model/RUN/
#               and, for each MPS real run (OUT/real-mps/RUN/), the measured
#               back end with --mechanism mps when the data has its MPS
#               correction (VALIDATE_DATA/measured-mps.jsonl, igniter derive)
#                                                        -> OUT/sim-measured-mps/RUN/
#               and, with VALIDATE_POWER (a measured-power.json), the
#               measured back end with that power model (--power)
#                                                        -> OUT/sim-measured-power/RUN/
#   WHAT table  scripts/validate-table.py: OUT/table.csv, OUT/fidelity.csv,
#               OUT/figdata/, and the figures (gnuplot, scripts/plot-validate.gp)
#               OUT/figures/validation-{cdf,error,fidelity}.svg
# RUN is PLAN-ARRIVALS. Same seed, duration and warm-up everywhere
# (VALIDATE_DURATION_S, default 20; VALIDATE_WARMUP_S, default 2).
# VALIDATE_ARRIVALS: which arrivals (default "poisson azure");
# VALIDATE_DATA: the capture folder sim reads (default traces/h100/first);
# VALIDATE_FIGURE_RUNS: the runs whose latency CDFs the figure draws.
# A run whose summary.json says "complete": true is not run again.
# VALIDATE_KEEP_GOING=1: a failed real run does not stop the others.
set -eu
out=$1
what=$2
shift 2
dur=${VALIDATE_DURATION_S:-20}
warm=${VALIDATE_WARMUP_S:-2}
bin=${IGNITER:-build/igniter}
# by default the capture experiments/validation/results was simulated on
# (traces/h100/first/README.md); a capture with another runner needs real
# runs with that runner too
data=${VALIDATE_DATA:-traces/h100/first}
profile=$data/profile.json
measured=$data/measured-colocation.jsonl
plans=${*:-$(ls experiments/validation/plans/*.json)}
mkdir -p "$out"

done_ok() { grep -q '"complete": true' "$1/summary.json" 2>/dev/null; }

for plan in $plans; do
    name=$(basename "$plan" .json)
    for arr in ${VALIDATE_ARRIVALS:-poisson azure}; do
        spec=poisson
        [ $arr = azure ] && spec=replay:traces/azure/azure-llm-2023-code.csv:loop
        run=$name-$arr
        common="--plan $plan --duration-s $dur --warmup-s $warm --seed 1 \
                --arrivals $spec --trace 2000 --quiet"
        case $what in
        real|real-mps)
            d=$out/$what/$run
            mech=green
            [ $what = real-mps ] && mech=mps
            done_ok "$d" && continue
            mkdir -p "$d"
            echo "validate: serve $run" >&2
            # shellcheck disable=SC2086
            if ! $bin serve $common --mechanism $mech --out "$d" \
                    2> "$d/serve.log"; then
                echo "validate: serve $run failed:" >&2
                cat "$d/serve.log" >&2
                [ -n "${VALIDATE_KEEP_GOING:-}" ] || exit 1
            fi
            ;;
        sim)
            for be in measured model; do
                d=$out/sim-$be/$run
                mkdir -p "$d"
                # the measured back end needs no profile, whose limits
                # (its colocated_pct) are the model's, not the plan's
                prof="--profile $profile"
                [ $be = measured ] && prof=
                # the model back end refuses a plan past its profile's
                # limits (colocated_pct): that run is left out
                # shellcheck disable=SC2086
                if ! $bin sim $common $prof --backend $be \
                        --measured $measured --out "$d"; then
                    [ $be = model ] || exit 1
                    rm -rf "$d"
                fi
            done
            if [ -n "${VALIDATE_POWER:-}" ]; then
                d=$out/sim-measured-power/$run
                mkdir -p "$d"
                # shellcheck disable=SC2086
                $bin sim $common --backend measured --power "$VALIDATE_POWER" \
                    --measured $measured --out "$d"
            fi
            # the MPS real runs against the MPS-corrected data; without
            # it their table falls back to the green simulation and says so
            if [ -d "$out/real-mps/$run" ]; then
                if [ -f "$data/measured-mps.jsonl" ]; then
                    d=$out/sim-measured-mps/$run
                    mkdir -p "$d"
                    # shellcheck disable=SC2086
                    $bin sim $common --backend measured --mechanism mps \
                        --measured $measured --out "$d"
                else
                    echo "validate: $run: no $data/measured-mps.jsonl;" \
                        "its MPS run is compared with the green simulation" >&2
                fi
            fi
            ;;
        table)
            ;;
        *)
            echo "validate: WHAT: expected real, real-mps, sim or table, got '$what'" >&2
            exit 2 ;;
        esac
    done
done
if [ "$what" = table ]; then
    python3 scripts/validate-table.py "$out"
    [ -d "$out/real-mps" ] && python3 scripts/validate-table.py "$out" real-mps
    mkdir -p "$out/figures"
    gnuplot -e "dat='$out/figdata'; out='$out/figures/validation'; term='svg'; \
runs='${VALIDATE_FIGURE_RUNS:-w12-igniter-poisson w12-igniter-azure coloc4-azure}'" \
        scripts/plot-validate.gp
    rm -f "$out/figures/validation"   # plot-common.gp's first output
fi
