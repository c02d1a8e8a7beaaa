# Cost per hour of each policy: mean over seeds with its 95 % interval,
# the number of GPUs and the SLO violation % of all requests on each bar.
load 'scripts/plot-common.gp'
set title 'Cost per policy'
set ylabel 'cost ($ per hour)'
set style fill solid 0.6 border -1
set boxwidth 0.6
set yrange [0:*]
set offsets 0.6, 0.6, 0, 0
set rmargin 8
plot dat.'/cost.dat' using 0:2:3:xtic(1) with boxerrorbars lc rgb '#4878a8' notitle, \
     '' using 0:($2+$3):(sprintf('%g GPUs, %.1f%% viol.', $4, $5)) with labels offset 0,1 notitle
