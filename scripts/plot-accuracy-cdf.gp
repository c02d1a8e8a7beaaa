# How far each latency predictor is from measured latency on data it was
# not fitted on: the CDF of the absolute percentage error of each
# predictor (one colour each, its place in `igniter accuracy`), a row per
# GPU (V100, H100, H200) and a column per run size (pairs, runs of 3, of
# 4); the V100 data has pairs only. Input: scripts/paper-figs.sh
# accuracy-cdf (accuracy-cdf.dat: a block per panel and predictor);
# `policies` (the predictors), `colours`, `panels` ("GPU size latencies"
# per panel) and `means` (each predictor's mean error per panel) come
# from the command.
width = 1500
height = 1150
load 'scripts/plot-common.gp'
np = words(policies)
npan = words(panels) / 3
pgpu(i) = word(panels, (i - 1) * 3 + 1)
psize(i) = int(word(panels, (i - 1) * 3 + 2))
plat(i) = word(panels, (i - 1) * 3 + 3)
pmean(i, k) = word(means, (i - 1) * np + k)
row(g) = g eq 'V100' ? 0 : g eq 'H100' ? 1 : 2
# measured-interp is drawn last and dashed: on the V100 it is measured
# exactly, and would be hidden under it
kint = 0
do for [k=1:np] { if (word(policies, k) eq 'measured-interp') { kint = k } }
set multiplot title "Absolute error of each latency predictor on data it was not fitted on (igniter accuracy), CDF per GPU and run size\nV100: the authors' pairs at 40/60 % held out; H100, H200: held-out pairs and runs of 3 and 4 of this project's captures (measured-interp dashed)"
legend_y = 1 - 62.0 / height
eval legend
set logscale x
set xrange [0.01:200]
set yrange [0:1]
set xtics ('0.01' 0.01, '0.1' 0.1, '1' 1, '10' 10, '100' 100)
set ytics 0, 0.25, 1
set grid xtics ytics lc rgb '#dddddd'
unset key
pw = 0.84 / 3
ph = 0.66 / 3
do for [i=1:npan] {
    r = row(pgpu(i))
    c = psize(i) - 2
    set lmargin at screen 0.06 + c * (pw + 0.035)
    set rmargin at screen 0.06 + c * (pw + 0.035) + pw
    set tmargin at screen 0.88 - r * (ph + 0.075)
    set bmargin at screen 0.88 - r * (ph + 0.075) - ph
    set title sprintf('%s, %s: %s latencies', pgpu(i), \
        psize(i) == 2 ? 'held-out pairs' : sprintf('runs of %d', psize(i)), plat(i))
    set xlabel (r == 2 ? 'absolute error of the predicted latency (%, log scale)' : '')
    set ylabel (c == 0 ? 'fraction of latencies' : '')
    # the mean of each predictor, in its colour, down the top left (where
    # a CDF of errors has nothing yet)
    set label 30 'mean error:' at graph 0.03, graph 0.93 left font ',10' front
    do for [k=1:np] {
        set label 10 + k sprintf('%s %%', pmean(i, k)) at graph 0.03, graph 0.93 - k * 0.075 \
            left textcolor rgb pcolour(k) font ',10' front
    }
    plot for [k=1:np] dat index (i - 1) * np + k - 1 using 1:(k == kint ? 1/0 : $2) \
             with steps lw 2 lc rgb pcolour(k), \
         dat index (i - 1) * np + kint - 1 using 1:2 with steps lw 2 dt 2 \
             lc rgb pcolour(kint)
    do for [k=1:np] { unset label 10 + k }
    unset label 30
    if (i == 1) { eval legend_off }
}
set label 40 'no runs of 3 or 4 were measured on the V100' at screen 0.06 + 1.5 * pw + 0.035, screen 0.88 - ph / 2 center font ',12'
set title ''
unset xlabel
unset ylabel
unset border
unset tics
unset grid
set lmargin at screen 0.5
set rmargin at screen 0.51
set tmargin at screen 0.5
set bmargin at screen 0.49
plot NaN notitle
unset multiplot
