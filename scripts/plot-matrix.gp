# scripts/plot-matrix.gp - the validation matrix's error per load level
# (experiments/validation/README.md, "The matrix"): from
# scripts/validate-matrix.py table's matrix-summary.csv (`data`), the mean
# over workloads of the simulator's absolute mean-latency error, one panel
# per sharing mechanism; per load, four bars: Poisson and the Azure trace,
# each simulated from the measured data alone (predicted) and calibrated
# with one real run at 50 % (scripts/calibrate.py); the value on top, a
# log scale (the errors span 0.2 % to hundreds), the 5 % goal as a line.
# The MPS panel's "predicted" is the green-context data (the MPS
# correction's rows are in the table only).
# mechs: the panels (default 'green mps'; 'mps' for a folder of MPS runs
# only); loads: the x axis's words (default: of the capacity the measured
# data predicts).
# gnuplot -e "term='svg'; out='F.svg'; data='S.csv'" scripts/plot-matrix.gp
if (!exists('mechs')) mechs = 'green mps'
if (!exists('loads')) loads = 'load, as a share of the capacity the measured data predicts'
width = words(mechs) > 1 ? 1200 : 700; height = 520
load 'scripts/plot-common.gp'
set datafile separator ','
set style fill solid 0.85 border -1
set boxwidth 0.18
set logscale y
set yrange [0.1:3000]
set xrange [-0.6:2.6]
set ylabel 'mean latency error over workloads' offset 1,0
set format y '%g%%'
set xtics ('50%%' 0, '75%%' 1, '90%%' 2)
set xlabel loads offset 0,0.5
set key below horizontal maxrows 2 width -2 spacing 1.1
xpos(load, off) = (load == 50 ? 0 : load == 75 ? 1 : 2) + off
# the bar of (arrivals, simulation): its offset in a load's group
off(arr, sd) = (arr eq 'poisson' ? -0.3 : 0.1) + (sd eq 'calibrated' ? 0.2 : 0)
pick(mech, arr, sd) = strcol(1) eq mech && strcol(3) eq arr && strcol(13) eq sd
set tmargin 4
set multiplot layout 1,words(mechs) title 'Simulator (measured back end, traces/h200/dense) against real H200 runs, 8 s each; log scale' offset 0,-0.5
do for [mech in mechs] {
    set title (mech eq 'green' ? 'green contexts' : 'MPS (predicted: green-context data)')
    plot data using (pick(mech, 'poisson', 'green') ? xpos($2, off('poisson', 'green')) : 1/0):6 \
             with boxes title 'Poisson, predicted' lc rgb '#0072B2', \
         '' using (pick(mech, 'poisson', 'calibrated') ? xpos($2, off('poisson', 'calibrated')) : 1/0):6 \
             with boxes title 'Poisson, calibrated' lc rgb '#56B4E9', \
         '' using (pick(mech, 'azure', 'green') ? xpos($2, off('azure', 'green')) : 1/0):6 \
             with boxes title 'Azure trace, predicted' lc rgb '#D55E00', \
         '' using (pick(mech, 'azure', 'calibrated') ? xpos($2, off('azure', 'calibrated')) : 1/0):6 \
             with boxes title 'Azure trace, calibrated' lc rgb '#E69F00', \
         '' using ((strcol(13) eq 'green' || strcol(13) eq 'calibrated') && strcol(1) eq mech ? \
                   xpos($2, off(strcol(3), strcol(13))) : 1/0):($6 * 1.35):(pct($6)) \
             with labels font ',9' notitle, \
         5 with lines dt 2 lc rgb '#444444' title '5% goal'
}
unset multiplot
