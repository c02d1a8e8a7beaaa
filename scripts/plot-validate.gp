# Simulator against the real GPU (scripts/validate.sh OUT figures):
#   dat  OUT/figdata, out prefix, term png|svg
#   runs the runs whose CDF is drawn (one figure each)
load 'scripts/plot-common.gp'
set output out.'-cdf.'.term
set multiplot layout 1, words(runs)
set logscale x
set yrange [0:1.02]
set key bottom right
set xlabel 'latency (ms)'
set ylabel 'fraction of requests'
do for [r in runs] {
    set key title r
    plot dat.'/cdf-'.r.'.dat' index 0 using 1:2 with linespoints pt 7 ps 0.5 lw 2 lc rgb '#000000' title 'real H100', \
         '' index 1 using 1:2 with linespoints pt 6 ps 0.5 lw 2 lc rgb '#1f77b4' title 'sim, measured', \
         '' index 2 using 1:2 with linespoints pt 4 ps 0.5 lw 2 lc rgb '#d62728' title 'sim, model'
}
unset multiplot
set output out.'-error.'.term
unset logscale x
set xrange [0:*]
set yrange [*:*]
set xlabel 'workload (grouped by run, in the order of table.csv)'
set ylabel 'simulated - real (% of real)'
set title 'Measured back end: error of the mean and P99, per workload'
set key top right
set xtics () 
plot dat.'/err.dat' using 1:4 with impulses lw 4 lc rgb '#1f77b4' title 'mean', \
     '' using ($1+0.3):5 with impulses lw 4 lc rgb '#ff7f0e' title 'P99', \
     0 with lines lc rgb '#888888' notitle
set output out.'-fidelity.'.term
set key notitle
set title 'Mean absolute error over workloads, per run'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.1:*]
set xrange [*:*]
set ylabel '% (log scale)'
set xlabel ''
set xtics rotate by -30 scale 0
set key top left
plot dat.'/fidelity.dat' using 2:xtic(1) title 'measured: mean', '' using 3 title 'measured: P99', \
     '' using 4 title 'model: mean', '' using 5 title 'model: P99'
