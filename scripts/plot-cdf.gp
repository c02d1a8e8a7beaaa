# Latency tails normalised by the SLO (first seed): for all requests and
# for each workload, the fraction of requests whose latency/SLO is above x
# (1 - CDF), both axes on a log scale, a dashed line at the SLO (x = 1),
# where a line's height is the violation %. Requests dropped or still late
# at the end count as never served: a line ends level at their fraction,
# out to the right edge. From each run's cdf-fine.csv (cdf.csv's 20
# quantiles for a run that lacks one).
load dat.'/meta'
n = words(policies)
np = words(workloads) + 1                  # "all requests" and each workload
cols = np <= 2 ? np : np <= 4 ? 2 : np <= 9 ? 3 : 4
rows = (np + cols - 1) / cols
width = cols * 340 + 110
height = rows * 280 + 100
# the extent of the data (the points beyond the last completion left out)
stats dat.'/cdf.dat' using ($3 == 0 ? $1 : 1/0):($3 == 0 ? $2 : 1/0) nooutput
xlo = exists('STATS_min_x') ? 10 ** floor(log10(STATS_min_x)) : 0.1
xhi = exists('STATS_max_x') ? 10 ** ceil(log10(STATS_max_x)) : 10
xlo = xlo < 0.1 ? xlo : 0.1                # the SLO well inside
xhi = xhi > 10 ? xhi : 10
ylo = exists('STATS_min_y') ? 10 ** floor(log10(STATS_min_y)) : 1e-3
ylo = ylo < 0.01 ? ylo : 0.01
load 'scripts/plot-common.gp'
# enhanced text for the 10^n tic labels only: every name is noenhanced
set termoption enhanced
set logscale xy
set xrange [xlo:xhi]
set yrange [ylo:1]
# plain numbers while they are short, powers of ten beyond
if (xhi / xlo > 1e4) { set format x '10^{%L}' } else { set format x '%g' }
set format y '10^{%L}'
set grid xtics ytics lc rgb '#e4e4e4'
set xtics font ',9'
set ytics font ',9'
top = 1 - (85.0 + 20 * legend_rows) / height
set multiplot layout rows,cols \
    title sprintf('%s: latency tail per workload (%s)', \
                  experiment, firstseed(seeds, seeds_asked)) noenhanced \
    margins 100.0 / width, 1 - 30.0 / width, 55.0 / height, top \
    spacing 75.0 / width, 85.0 / height
set label 1 'fraction of requests with latency/SLO above x (1 - CDF)' \
    at screen 14.0 / width, screen top / 2 rotate by 90 center noenhanced
legend_y = 1 - 45.0 / height
eval legend
set arrow 1 from 1, graph 0 to 1, graph 1 nohead dt 2 lw 1.5 lc rgb 'black'
set xlabel 'latency / SLO' font ',10' offset 0,0.5
do for [j=0:np - 1] {
    if (j == 0) {
        set title 'all requests' font ',11' noenhanced
    } else {
        set title sprintf('%s (SLO %s ms)', word(workloads, j), \
                          word(slos, j)) font ',11' noenhanced
    }
    plot for [i=1:n] dat.'/cdf.dat' index (i - 1) * np + j using 1:2 \
        with lines lw 2 lc rgb pcolour(i) notitle
    eval legend_off
    unset label 1
}
unset multiplot
