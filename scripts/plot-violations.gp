# SLO violation % of each workload (and of all requests) under each
# policy: mean over seeds, with its 95 % confidence interval where there
# are several. Every bar carries its value; a bar of 0 shows as a thin
# sliver in its colour with "0" on it.
load dat.'/meta'
n = words(policies)
ng = words(workloads) + 1                  # the workloads and "all"
slot = 15                                  # pixels per bar: labels fit
width = ng * (n + 1) * slot + 220
width = width < 900 ? 900 : width
height = 600
load 'scripts/plot-common.gp'
# the title at the top of the canvas, the legend under it
set label 2 sprintf('%s: SLO violations per workload (%s%s)', experiment, \
                    seedtext(seeds, seeds_asked), \
                    seeds > 1 ? ', mean and 95 % confidence interval' : '') \
    at screen 0.5, screen 1 - 18.0 / height center
legend_y = 1 - 45.0 / height
legend_box = 1
eval legend
set tmargin at screen 1 - (50.0 + 20 * legend_rows) / height
set ylabel 'requests over the SLO (%)'
stats dat.'/violations.dat' using ($3 + $4) nooutput
ymax = (exists('STATS_max') && STATS_max > 1 ? STATS_max : 1) * 1.18
set yrange [0:ymax]
set xrange [-0.6:ng - 0.4]
set xtics scale 0
bw = 0.84 / n
x(i) = $1 + (i - 1 - (n - 1) / 2.0) * bw
# the 95 % interval, within [0, 100]
lo(m, ci) = m > ci ? m - ci : 0
hi(m, ci) = m + ci < 100 ? m + ci : 100
set boxwidth bw
set style fill solid 0.85 border -1
# "all" is not a workload: a line sets it apart
set arrow 1 from ng - 1.5, graph 0 to ng - 1.5, graph 1 nohead dt 3 \
    lc rgb '#888888'
plot dat.'/violations.dat' index 0 using 1:(1/0):xtic(2) notitle, \
     for [i=1:n] '' index i - 1 using (x(i)):3 with boxes \
         lc rgb pcolour(i) notitle, \
     for [i=1:n] '' index i - 1 \
         using (x(i)):($3 == 0 ? 0 : 1/0):(x(i) - bw / 2):(x(i) + bw / 2):(0):(ymax / 150) \
         with boxxyerror lc rgb pcolour(i) notitle, \
     for [i=1:n] '' index i - 1 \
         using (x(i)):($4 > 0 ? lo($3, $4) : 1/0):(0):(hi($3, $4) - lo($3, $4)) \
         with vectors heads size screen 5.0 / width,90 lc rgb 'black' \
         notitle, \
     for [i=1:n] '' index i - 1 using (x(i)):($3 + $4):(pct($3)) \
         with labels rotate by 90 left offset 0,0.3 font ',8' notitle
