# Cost against SLO violation %, a point per policy, one series per
# workload set (figdata/sweep-pareto.dat: workload set, policy, cost, its
# interval, violation %, its interval, n): lower left is better.
load 'scripts/plot-common.gp'
set datafile separator '\t'
set title 'Cost against SLO violations (means over seeds and other axes)'
set xlabel 'SLO violations (% of requests)'
set ylabel 'cost ($ per hour)'
set yrange [0:*]
set xrange [0:*]
sets = system("grep -v '^#' ".dat."/sweep-pareto.dat | cut -f1 | uniq | tr '\\n' ' '")
plot for [w in sets] dat.'/sweep-pareto.dat' \
         using (strcol(1) eq w ? $5 : NaN):3:6:4 with xyerrorbars title w, \
     for [w in sets] '' using (strcol(1) eq w ? $5 : NaN):3:2 with labels \
         offset 1,0.7 left notitle
