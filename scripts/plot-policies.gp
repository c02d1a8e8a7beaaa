# scripts/plot-policies.gp - the policies' plans on a real H200 against the
# simulator (experiments/validation/policies/README.md): per plan, its
# SLO violations on the GPU (both runs where there are two) and simulated,
# with the band of `igniter sim --sensitivity PCT` as whiskers; one panel
# per arrival process. Reads scripts/validate-policies.py's band-PCT.csv
# (`band`) and policies.csv (`runs`).
# gnuplot -e "term='svg'; out='F.svg'; band='R/band-10.csv'; runs='R/policies.csv'" scripts/plot-policies.gp
width = 1100; height = 520
load 'scripts/plot-common.gp'
set datafile separator ','
plans = 'x2-igniter x2-igniter-plus x2-ffd x8-igniter x8-igniter-plus x8-igniter-plus-m0 x8-ffd'
# a run's plan ("x8-ffd" of "x8-ffd-poisson"), its place on the x axis
plan(run, arr) = run[1:strstrt(run, '-'.arr) - 1]
pos(run, arr) = strstrt(run, '-'.arr) == 0 ? 1/0 : \
    sum [i = 1:words(plans)] (word(plans, i) eq plan(run, arr) ? i : 0)
set xrange [0.4:7.6]
set xtics ('x2 igniter' 1, 'x2 igniter-plus' 2, 'x2 ffd' 3, 'x8 igniter' 4, \
           'x8 igniter-plus' 5, 'x8 igniter-plus, no margin' 6, 'x8 ffd' 7) \
    rotate by -25 offset -1,0
set ylabel 'SLO violations, % of requests'
set format y '%g%%'
set style fill solid 0.85 border -1
set boxwidth 0.3
set key top left
set bmargin 8
set tmargin 4
set multiplot layout 1,2 title 'Policies at 2 and 8 times the paper''s rates: a real H200 against the simulator (traces/h200/dense)'
do for [arr in 'poisson azure'] {
    set title (arr eq 'poisson' ? 'Poisson arrivals' : 'the Azure trace')
    if (arr eq 'poisson') { set yrange [0:30] } else { set yrange [30:100] }
    plot band using (pos(strcol(1), arr) - 0.16):5 with boxes \
             title 'real (first run)' lc rgb '#0072B2', \
         runs using (pos(strcol(1), arr) - 0.16):(strcol(7) eq '' ? 1/0 : $7) \
             with points pt 7 ps 0.8 lc rgb '#000000' title 'real (second run)', \
         band using (pos(strcol(1), arr) + 0.16):2 with boxes \
             title 'simulated' lc rgb '#D55E00', \
         band using (pos(strcol(1), arr) + 0.16):2:3:4 with yerrorbars \
             pt -1 lc rgb '#000000' title 'simulated, batches shorter .. longer', \
         band using (pos(strcol(1), arr) - 0.16):($5 + (arr eq 'poisson' ? 0.6 : 1.5)):(pct($5)) \
             with labels font ',9' notitle
    unset key
}
unset multiplot
