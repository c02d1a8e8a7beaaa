# The focus workload over time (first seed): P99 latency of each interval
# (top) and the share its instances hold (bottom), one line per policy.
load 'scripts/plot-common.gp'
set multiplot layout 2,1 title 'Workload '.focus.' over time'
n = words(policies)
set ylabel 'P99 latency (ms)'
set logscale y
set key top left horizontal
plot for [i=0:n-1] dat.'/focus.dat' index i using 1:($2 > 0 ? $2 : 1/0) with lines lw 2 title word(policies, i+1)
unset logscale y
set ylabel 'share (% of a GPU)'
set xlabel 'time (s)'
set yrange [0:*]
unset key
plot for [i=0:n-1] dat.'/focus.dat' index i using 1:3 with steps lw 2 title word(policies, i+1)
unset multiplot
