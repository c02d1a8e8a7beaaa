# scripts/plot-chips.gp - the simulator beside the floor real GPUs set
# (experiments/validation/README.md, "The same runs on other chips"):
# from scripts/validate-matrix.py floor's CSV (`data`), one panel per
# arrival process; per load, three bars: the mean over chips of the
# simulator's mean latency error predicted from the measured data alone,
# the same calibrated with one real run at 50 %, and the mean over pairs of
# chips of one real chip against another; whiskers from the least to the
# largest; a log scale, the 5 % goal as a line.
# mech: the mechanism (default 'green').
# gnuplot -e "term='svg'; out='F.svg'; data='floor.csv'" scripts/plot-chips.gp
if (!exists('mech')) mech = 'green'
width = 1100; height = 500
load 'scripts/plot-common.gp'
set datafile separator ','
set style fill solid 0.85 border -1
set boxwidth 0.22
set logscale y
set yrange [0.05:100]
set xrange [-0.6:2.6]
set ylabel 'mean latency error over workloads' offset 1,0
set format y '%g%%'
set xtics ('50%%' 0, '75%%' 1, '90%%' 2)
set xlabel 'load, as a share of the capacity the measured data predicts' offset 0,0.5
set key below horizontal maxrows 2 width -2
xpos(load, off) = (load == 50 ? 0 : load == 75 ? 1 : 2) + off
off(k) = k eq 'predicted' ? -0.25 : k eq 'calibrated' ? 0 : 0.25
pick(arr, k) = strcol(1) eq mech && strcol(3) eq arr && strcol(4) eq k
set tmargin 4
set bmargin 9
set multiplot layout 1,2 title 'Simulator (measured back end, traces/h200/dense) against real H200s, and real H200s against each other; log scale' offset 0,-0.5
do for [arr in 'poisson azure'] {
    set title (arr eq 'poisson' ? 'Poisson arrivals (the 50 % calibrated bar is in sample)' : 'the Azure trace')
    if (arr eq 'azure') { unset key }
    plot data using (pick(arr, 'predicted') ? xpos($2, off('predicted')) : 1/0):6 \
             with boxes title 'simulated from the data alone' lc rgb '#D55E00', \
         '' using (pick(arr, 'calibrated') ? xpos($2, off('calibrated')) : 1/0):6 \
             with boxes title 'calibrated with one real run at 50 %' lc rgb '#0072B2', \
         '' using (pick(arr, 'real-vs-real') ? xpos($2, off('real-vs-real')) : 1/0):6 \
             with boxes title 'one real chip against another' lc rgb '#999999', \
         '' using (strcol(1) eq mech && strcol(3) eq arr ? xpos($2, off(strcol(4))) : 1/0):6:7:8 \
             with yerrorbars pt -1 lc rgb '#000000' notitle, \
         '' using (strcol(1) eq mech && strcol(3) eq arr ? xpos($2, off(strcol(4))) : 1/0):($8 * 1.3):(sprintf('%.1f%%', $6)) \
             with labels font ',9' notitle, \
         5 with lines dt 2 lc rgb '#444444' title '5% goal'
}
unset multiplot
