# Cost per hour and SLO violation % against the rate scale, per policy
# (figdata/sweep-rate.dat: policy, rate_scale, cost, its interval,
# violation %, its interval, n; a block per policy after sorting).
load 'scripts/plot-common.gp'
set datafile separator '\t'
set multiplot layout 1,2 title 'Cost and SLO violations against load'
set xlabel 'rate scale'
set ylabel 'cost ($ per hour)'
set yrange [0:*]
pols = system("grep -v '^#' ".dat."/sweep-rate.dat | cut -f1 | uniq | tr '\\n' ' '")
plot for [p in pols] dat.'/sweep-rate.dat' using (strcol(1) eq p ? $2 : NaN):3:4 \
     with yerrorlines title p
set ylabel 'SLO violations (% of requests)'
plot for [p in pols] dat.'/sweep-rate.dat' using (strcol(1) eq p ? $2 : NaN):5:6 \
     with yerrorlines title p
unset multiplot
