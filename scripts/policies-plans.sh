#!/bin/sh
# scripts/policies-plans.sh - the plans of experiments/validation/policies/
# (its README): the paper's 12 workloads on the H200 (experiments/
# igniter-plus-h200.json) at 2 and 8 times their rates, planned by
# igniter, igniter-plus (its default 20 % margin and none) and ffd on the
# first H200 campaign (traces/h200/profile.json, measured-colocation.jsonl),
# as policies/README.md's comparison plans them. At x2 igniter-plus with
# no margin makes ffd's plan, so that plan is left out. POLICIES_SCALES
# picks the scales (default "2 8"; "6 10": the power cap's out-of-sample
# check, the same four policies).
set -eu
bin=${IGNITER:-build/igniter}
d=experiments/validation/policies
mkdir -p "$d/plans"
for x in ${POLICIES_SCALES:-2 8}; do
    w=$d/workloads-x$x.json
    python3 - "$x" "$w" <<'PY'
import json, sys
x, out = int(sys.argv[1]), sys.argv[2]
e = json.load(open("experiments/igniter-plus-h200.json"))
ws = [dict(w, rate_rps=w["rate_rps"] * x) for w in e["workloads"]]
with open(out + ".tmp", "w") as f:
    json.dump({"about": "experiments/igniter-plus-h200.json's workloads, "
               "every rate x %d (scripts/policies-plans.sh)" % x,
               "workloads": ws}, f, indent=1)
    f.write("\n")
import os
os.replace(out + ".tmp", out)
PY
    for p in igniter igniter-plus ffd; do
        $bin plan --profile traces/h200/profile.json --workloads "$w" \
            --measured traces/h200/measured-colocation.jsonl --policy $p \
            --out "$d/plans/x$x-$p.json" > /dev/null
    done
    [ $x = 2 ] && continue
    IGNITER_PLUS_MARGIN_PCT=0 $bin plan --profile traces/h200/profile.json \
        --workloads "$w" --measured traces/h200/measured-colocation.jsonl \
        --policy igniter-plus --out "$d/plans/x$x-igniter-plus-m0.json" > /dev/null
done
ls "$d/plans"
