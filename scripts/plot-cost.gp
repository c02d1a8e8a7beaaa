# Cost per hour of each policy (mean over seeds, with its 95 % confidence
# interval where there are several seeds): the cost on each bar, the GPUs
# and the SLO violation % of all requests under the policy's name.
load dat.'/meta'
n = words(policies)
width = n * 120 + 200 < 900 ? 900 : n * 120 + 200
height = 560
load 'scripts/plot-common.gp'
set title sprintf('%s: cost per policy (%s%s)', experiment, \
                  seedtext(seeds, seeds_asked), \
                  seeds > 1 ? ', mean and 95 % confidence interval' : '')
set ylabel 'cost ($ per hour)'
set style fill solid 0.85 border -1
set boxwidth 0.6
stats dat.'/cost.dat' using ($2 + $3) nooutput
ymax = exists('STATS_max') && STATS_max > 0 ? STATS_max : 1   # none: no data
set yrange [0:ymax * 1.15]
set xrange [-0.6:n - 0.4]
set xtics scale 0
set bmargin 5
plot dat.'/cost.dat' using 6:(1/0):xtic(sprintf("%s\n%.3g GPU%s\n%s %% violations", \
         stringcolumn(1), $4, $4 == 1 ? '' : 's', pct($5))) notitle, \
     for [i=1:n] '' using 6:($6 == i - 1 ? $2 : 1/0) with boxes \
         lc rgb pcolour(i) notitle, \
     '' using 6:($3 > 0 ? ($2 > $3 ? $2 - $3 : 0) : 1/0):(0):($2 + $3 - \
         ($2 > $3 ? $2 - $3 : 0)) with vectors heads size screen 7.0 / width,90 \
         lc rgb 'black' lw 1.2 notitle, \
     '' using 6:($2 + $3):(sprintf('$%.2f', $2)) with labels \
         offset 0,0.8 notitle
