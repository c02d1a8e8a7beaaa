# The paper's Fig. 21: iGniter's planning time against the number of
# workloads, ours (median of repeated plans on one core of this machine,
# tests/bench_plan) beside the paper's (its machine), both axes on log
# scales, each point labelled. Input: scripts/paper-figs.sh fig21
# (fig21.dat: block 0 ours, workloads GPUs median_ms min_ms peak_MiB;
# block 1 the paper's, workloads ms); `host` names this machine.
width = 900
height = 600
load 'scripts/plot-common.gp'
set title sprintf("iGniter's planning time against the number of workloads\nours: %s, median, one core; the paper's: its machine", host)
set logscale xy
set xlabel 'workloads'
set ylabel 'planning time (ms)'
set format y '%g'
set format x '%g'
set xrange [5:200000]
set key top left
msfmt(v) = v < 1 ? sprintf('%.3f ms', v) : v < 1000 ? sprintf('%.3g ms', v) : sprintf('%.3g s', v / 1000)
plot dat index 0 using 1:3 with linespoints pt 7 ps 1.2 lw 2 lc rgb '#D55E00' title 'this code (C)', \
     '' index 0 using 1:3:(msfmt($3)) with labels offset 0,-1.1 font ',10' tc rgb '#D55E00' notitle, \
     '' index 1 using 1:2 with linespoints pt 5 ps 1.2 lw 2 dt 2 lc rgb '#0072B2' title "the paper's", \
     '' index 1 using 1:2:(msfmt($2)) with labels offset 0,1.1 font ',10' tc rgb '#0072B2' notitle
