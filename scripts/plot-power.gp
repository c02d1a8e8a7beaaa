# scripts/plot-power.gp - the power term on a real H200
# (experiments/validation/policies/README.md, "The power term"): for each
# plan that saves a GPU, at 6, 8 and 10 times the paper's rates under
# Poisson, its SLO violations on the GPU (both runs) beside the
# simulator's without the power term, with it (the first chip's power
# model) and with the second chip's. Reads scripts/validate-policies.py's
# policies.csv by column name.
# gnuplot -e "term='svg'; out='F.svg'; runs='R/policies.csv'" scripts/plot-power.gp
width = 960; height = 500
load 'scripts/plot-common.gp'
set datafile separator ','
set datafile columnheaders
plans = 'x6-ffd x6-igniter-plus-m0 x8-ffd x8-igniter-plus-m0 x10-ffd x10-igniter-plus-m0'
pos(run) = sum [i = 1:words(plans)] (word(plans, i).'-poisson' eq run ? i : 0)
at(run, d) = pos(run) == 0 ? 1/0 : pos(run) + d
val(c) = strcol(c) eq '' ? 1/0 : column(c)
set xrange [0.4:6.6]
set xtics ("x6 ffd" 1, "x6 igniter-plus\nno margin" 2, "x8 ffd" 3, \
           "x8 igniter-plus\nno margin" 4, "x10 ffd" 5, \
           "x10 igniter-plus\nno margin" 6)
set ylabel 'SLO violations, % of requests'
set format y '%g%%'
set yrange [0:65]
set style fill solid 0.85 border -1
set boxwidth 0.18
set key top left
set bmargin 5
set title 'The plans at the power cap: a real H200 against the simulator (Poisson)'
plot runs using (at(strcol('run'), -0.3)):(val('real_viol_pct')) with boxes \
         title 'real (first run)' lc rgb '#0072B2', \
     runs using (at(strcol('run'), -0.3)):(val('again_viol_pct')) with points \
         pt 7 ps 0.8 lc rgb '#000000' title 'real (second run)', \
     runs using (at(strcol('run'), -0.1)):(val('first_viol_pct')) with boxes \
         title 'simulated, no power term' lc rgb '#999999', \
     runs using (at(strcol('run'), 0.1)):(val('power_viol_pct')) with boxes \
         title 'simulated, power term (first chip)' lc rgb '#D55E00', \
     runs using (at(strcol('run'), 0.3)):(val('power-b_viol_pct')) with boxes \
         title 'simulated, power term (second chip)' lc rgb '#E69F00'
