# Latency CDF of all requests per policy (first seed), log latency axis.
load 'scripts/plot-common.gp'
set title 'Latency CDF, all requests'
set xlabel 'latency (ms)'
set ylabel 'fraction of requests'
set logscale x
set yrange [0:1.02]
set key bottom right
n = words(policies)
plot for [i=0:n-1] dat.'/cdf.dat' index i using 1:2 with linespoints pt 7 ps 0.5 lw 2 title word(policies, i+1)
