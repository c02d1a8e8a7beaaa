# The paper's Fig. 18: the share of a GPU each of the 12 workloads gets in
# each policy's plan (summed over its instances), one bar per policy in
# its compare colour, and the paper's iGniter and FFD+ shares as hatched
# bars beside them. Input: scripts/paper-figs.sh fig18 (fig18.dat: a row
# per workload, a column per policy, then the paper's iGniter and FFD+);
# `policies`, `colours` and `gpus` ("name=N ...") come from the command.
n = words(policies)
width = 1450
height = 600
load 'scripts/plot-common.gp'
set title 'paper-12: GPU share per workload in each policy'."'".'s plan (V100; plans only, no simulation)'
set ylabel 'share of a GPU (%)'
set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:110]

set ytics 0,20,100
set xtics scale 0
set key below center horizontal maxrows 1 width -1 samplen 2
set bmargin 4
# "igniter (6 GPUs)" from gpus = "igniter=6 ffd=5 ..."
gpuof(i) = word(gpus, i)[strstrt(word(gpus, i), '=') + 1:]
label(i) = sprintf('%s (%s GPU%s)', word(policies, i), gpuof(i), gpuof(i) eq '1' ? '' : 's')
plot for [i=1:n] dat using (column(i + 1)):xtic(1) lc rgb pcolour(i) title label(i), \
     dat using n + 2 fs pattern 4 lc rgb pcolour(1) title "paper's iGniter", \
     dat using n + 3 fs pattern 5 lc rgb pcolour(2) title "paper's FFD+"
