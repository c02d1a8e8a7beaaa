# The focus workload over time (first seed): P99 latency of each interval
# (top, log scale, its SLO dashed) and the share of a GPU its instances
# hold (bottom), one line per policy; the warm-up shaded, and a dotted
# line at each step of its arrival rate (a schedule) with the factor.
load dat.'/meta'
n = words(policies)
width = 1000
height = 680
load 'scripts/plot-common.gp'
top = 1 - (85.0 + 20 * legend_rows) / height
set multiplot layout 2,1 \
    title sprintf('%s: workload %s over time (SLO %g ms; %s)', \
                  experiment, focus, focus_slo, firstseed(seeds, seeds_asked)) \
    margins 100.0 / width, 0.97, 60.0 / height, top spacing 0, 0.06
legend_y = 1 - 45.0 / height
eval legend
set style textbox opaque noborder
set object 1 rect from 0, graph 0 to warmup, graph 1 behind \
    fc rgb '#ececec' fs solid noborder
set label 1 'warm-up' at 0, graph 1 offset 0,0.6 left \
    font ',9' tc rgb '#777777'
do for [k=1:words(steps)] {
    set arrow 10 + k from word(steps, k) + 0, graph 0 \
        to word(steps, k) + 0, graph 1 nohead dt 3 lw 1.5 lc rgb '#444444' front
    set label 10 + k sprintf('rate ×%s', word(factors, k)) \
        at word(steps, k) + 0, graph 1 offset 0,0.6 center font ',10'
}
set label 2 sprintf('SLO %g ms', focus_slo) at graph 0.995, first focus_slo \
    right offset 0,0.7 front boxed font ',10'
set xrange [0:*]
set ylabel 'P99 latency (ms)'
set logscale y
set format x ''
plot for [i=1:n] dat.'/focus.dat' index i - 1 \
         using 1:($2 > 0 ? $2 : 1/0) with lines lw 2 lc rgb pcolour(i) \
         notitle, \
     focus_slo with lines dt 2 lw 2 lc rgb 'black' notitle
eval legend_off
unset logscale y
unset label
set format x '%g'
set ylabel 'share (% of a GPU)'
set xlabel 'time (s)'
set yrange [0:*]
plot for [i=1:n] dat.'/focus.dat' index i - 1 using 1:3 with steps lw 2 \
         lc rgb pcolour(i) notitle
unset multiplot
