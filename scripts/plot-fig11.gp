# The paper's Figs. 11-13 as one scatter: iGniter's model against every
# measured latency of the authors' 750 co-located V100 pairs (both
# members of each), one panel per model, log-log, with y = x and the
# +-10 % band; over them the paper's own points (Figs. 11-13: observed
# against iGniter's and gpu-lets+'s predictions). Input: scripts/
# paper-figs.sh fig11 (fig11.dat: blocks 0-3 the pairs per model, 4-7 the
# paper's points); `stats` ("model latencies mean% within10% npaper ..."
# per model) comes from the command. Colours: the accuracy figures' own,
# a predictor's place in `igniter accuracy` (igniter 1st, gpulets-linear
# 5th, plot-common.gp's palette).
width = 1200
height = 1000
load 'scripts/plot-common.gp'
names = 'alexnet resnet50 vgg19 ssd'
c_ig = word(palette, 1)
c_gl = word(palette, 5)
st(m, k) = word(stats, (m - 1) * 5 + k)
set multiplot layout 2,2 title "iGniter's model against measured latency, V100: the authors' 750 co-located pairs (MPS), both members of each\nand the paper's published points (Figs. 11-13); log-log, grey band: within 10 % of measured" \
    margins 0.07, 0.98, 0.06, 0.9 spacing 0.08, 0.09
# the key in the first panel's empty bottom right (under the diagonal)
set key inside bottom right box opaque samplen 1.5 width 1 spacing 1.1 font ',10'
set logscale xy
ticks = "('0.5' 0.5, '1' 1, '2' 2, '5' 5, '10' 10, '20' 20, '50' 50, '100' 100, '200' 200)"
eval 'set xtics '.ticks
eval 'set ytics '.ticks
set grid xtics ytics lc rgb '#dddddd'
set xlabel 'measured latency (ms)'
set ylabel 'predicted latency (ms)'
set size ratio -1
do for [m=1:4] {
    set title sprintf('%s: %s latencies, mean error %s %%, %s %% within 10 %%', \
        word(names, m), st(m, 2), st(m, 3), st(m, 4))
    stats dat index m - 1 using 1:2 nooutput
    lo = (STATS_min_x < STATS_min_y ? STATS_min_x : STATS_min_y) / 1.25
    hi = (STATS_max_x > STATS_max_y ? STATS_max_x : STATS_max_y) * 1.25
    set xrange [lo:hi]
    set yrange [lo:hi]
    if (m > 1) { unset key }
    plot '+' using 1:(0.9 * $1):(1.1 * $1) with filledcurves fc rgb '#e4e4e4' \
             title 'within 10 %', \
         x with lines lc rgb '#555555' dt 2 title 'y = x', \
         dat index m - 1 using 1:2 with points pt 7 ps 0.45 lc rgb c_ig \
             title "iGniter's model, here", \
         dat index m + 3 using 1:2 with points pt 9 ps 1.8 lc rgb 'black' \
             notitle, \
         dat index m + 3 using 1:2 with points pt 9 ps 1.3 lc rgb c_ig \
             title "paper: iGniter", \
         dat index m + 3 using 1:($3 == $3 ? $3 : 1/0) with points pt 13 ps 1.8 \
             lc rgb 'black' notitle, \
         dat index m + 3 using 1:($3 == $3 ? $3 : 1/0) with points pt 13 ps 1.3 \
             lc rgb c_gl title "paper: gpu-lets+"
}
unset multiplot
