# scripts/plot-matrix.gp - the validation matrix's error per load level
# (experiments/validation/README.md, "The matrix"): from
# scripts/validate-matrix.py table's matrix-summary.csv (`data`), the mean
# over workloads of the simulator's absolute mean-latency error, one panel
# per sharing mechanism, a bar per arrival process and load, its value on
# top; the 5 % goal as a line.
# gnuplot -e "term='svg'; out='F.svg'; data='S.csv'" scripts/plot-matrix.gp
width = 1000; height = 440
load 'scripts/plot-common.gp'
set datafile separator ','
set style fill solid 0.85 border -1
set boxwidth 0.36
set yrange [0:*]
set offsets 0, 0, graph 0.08, 0
set xrange [-0.6:2.6]
set ylabel 'mean latency error (mean over workloads)'
set format y '%g%%'
set xtics ('50%%' 0, '75%%' 1, '90%%' 2)
set xlabel 'load: share of the capacity the measured data predicts'
set key below horizontal
xpos(load, off) = (load == 50 ? 0 : load == 75 ? 1 : 2) + off
set multiplot layout 1,2 title 'Simulator (measured back end, H200 data) against real H200 runs, 8 s each'
do for [mech in 'green mps'] {
    set title (mech eq 'green' ? 'green contexts' : 'MPS, simulated with green-context data')
    plot data using (strcol(1) eq mech && strcol(3) eq 'poisson' ? xpos($2, -0.19) : 1/0):6 \
             with boxes title 'Poisson' lc rgb '#0072B2', \
         '' using (strcol(1) eq mech && strcol(3) eq 'azure' ? xpos($2, 0.19) : 1/0):6 \
             with boxes title 'Azure trace (bursty)' lc rgb '#D55E00', \
         '' using (strcol(1) eq mech ? xpos($2, strcol(3) eq 'azure' ? 0.19 : -0.19) : 1/0):6:(sprintf('%.1f', $6)) \
             with labels offset 0,0.7 notitle, \
         5 with lines dt 2 lc rgb '#444444' title '5% goal'
}
unset multiplot
