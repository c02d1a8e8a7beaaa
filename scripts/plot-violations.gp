# SLO violation % of each workload under each policy (mean over seeds).
load 'scripts/plot-common.gp'
set title 'SLO violations per workload'
set ylabel 'requests over the SLO (%)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set boxwidth 0.9
set yrange [0:*]
set key outside top center horizontal
set xtics rotate by -30
n = words(policies)
plot for [i=2:n+1] dat.'/violations.dat' using i:xtic(1) title columnhead(i)
