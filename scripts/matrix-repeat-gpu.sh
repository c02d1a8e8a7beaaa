#!/bin/sh
# scripts/matrix-repeat-gpu.sh OUT STEP - the matrix's green runs again,
# on two chips at once (experiments/validation/README.md, "The same runs
# on other chips"), on a two-GPU machine:
#   STEP 1  the 24 green-context runs of the first matrix (m2, m3, m3v,
#           m4 at 50, 75 and 90 %, Poisson and the Azure trace) on GPU 0
#           and on GPU 1 at the same time: how far apart two chips are
#   STEP 2  the 8 runs at 90 % again on GPU 0 (the same chip, minutes
#           later: how far apart two runs are), and at the same time the
#           MPS runs at 90 % of the MPS capacity (matrix/plans-mps/,
#           Poisson and the Azure trace) on GPU 1
#   STEP 3  step 1's runs on GPU 0 again (two runs of each on one chip),
#           and at the same time the MPS runs at 75 % of the MPS capacity
#           (Poisson) and at 90 % again on GPU 1
# Each half is scripts/matrix-spin-gpu.sh with MATRIX_GPU set; results in
# OUT/PART[-g1].tgz. Run through `scripts/capture-gpu.sh OUT script
# scripts/matrix-repeat-gpu.sh OUT STEP`.
set -u
out=$1 step=$2
all=m2+m3+m3v+m4
case $step in
1)  a=green-$all b=green-$all ;;
2)  a=green90-$all b=cal90-m2w+m3+m3v+m4 ;;
3)  a=green-$all b=cal75-m2w+m3+m3v+m4,cal90-m2w+m3+m3v+m4 ;;
*)  echo "matrix-repeat-gpu: STEP: expected 1, 2 or 3, got '$step'" >&2; exit 2 ;;
esac
MATRIX_GPU=0 sh scripts/matrix-spin-gpu.sh "$out" "$a" &
p0=$!
MATRIX_GPU=1 sh scripts/matrix-spin-gpu.sh "$out" "$b" &
p1=$!
wait $p0; r0=$?
wait $p1; r1=$?
echo "matrix-repeat-gpu: step $step: GPU 0 exit $r0, GPU 1 exit $r1"
[ $r0 = 0 ] && [ $r1 = 0 ]
