# The paper's Fig. 17 reproduced, the safeguard at run time:
# experiments/fig17.json (igniter-sg on the motivation example, AlexNet's
# batches slowed by the factor the paper's GPU showed) beside the same
# run without the slow-down. Top: AlexNet's P99 per control interval in
# both runs against its SLO, the safeguard's switch and the paper's values
# (15.6 ms in second 1; 9.6 ms after the switch). Middle: ResNet-50's and
# VGG-19's P99 in both runs against their SLOs. Bottom: the share of a GPU
# each workload holds (a step is the safeguard switching it). Input:
# scripts/paper-figs.sh fig17 (fig17.dat: blocks 0-2 the slowed run's
# alexnet, resnet50, vgg19, 3-5 the same without the slow-down; columns
# second, P99 ms, share %, SLO ms); switch (s, -1: none) and factor from
# the command line.
width = 1000
height = 900
load 'scripts/plot-common.gp'
wcol(i) = word('#D55E00 #0072B2 #009E73', i)
set multiplot layout 3,1 title sprintf("safeguard at run time (the paper's Fig. 17): igniter-sg on the motivation example, constant arrivals, measured V100 back end\nsolid: AlexNet's batches x%s (the slow-down the paper's GPU showed); dashed: the same run without it", factor) \
    margins 0.08, 0.97, 0.07, 0.9 spacing 0, 0.06
set xrange [0:*]
set format x ''
set key bottom right samplen 2

# AlexNet
set ylabel 'AlexNet P99 (ms)'
set yrange [0:20]
if (switch >= 0) {
    set arrow 1 from switch, graph 0 to switch, graph 1 nohead dt 2 lw 1.5 lc rgb '#555555'
    set label 1 sprintf('safeguard switch, t = %.2f s', switch) at switch, graph 0.08 offset 0.6,0 left font ',10'
}
set object 2 circle at 1, 15.6 size char 0.6 fs solid fc rgb 'black' front
set label 2 "paper, second 1: 15.6 ms" at 1, 15.6 offset 1.2,0.9 left font ',10'
set arrow 3 from 2, 9.6 to graph 1, first 9.6 nohead dt 3 lw 2 lc rgb 'black'
set label 3 "paper, after the switch: 9.6 ms" at graph 0.99, first 9.6 right offset 0,-0.9 font ',10'
plot dat index 0 using 1:2 with linespoints pt 7 ps 0.5 lw 2 lc rgb wcol(1) title 'with the slow-down', \
     dat index 3 using 1:2 with linespoints pt 6 ps 0.5 lw 1.5 dt 2 lc rgb wcol(1) title 'without', \
     dat index 0 using 1:4 with lines dt 4 lw 1.5 lc rgb 'black' title 'SLO 15 ms'
unset object 2
unset label
unset arrow 3

# ResNet-50 and VGG-19
set ylabel 'P99 (ms)'
set yrange [0:70]
if (switch >= 0) {
    set arrow 1 from switch, graph 0 to switch, graph 1 nohead dt 2 lw 1.5 lc rgb '#555555'
}
plot for [i=2:3] dat index i - 1 using 1:2 with linespoints pt 7 ps 0.4 lw 2 lc rgb wcol(i) \
         title word('alexnet resnet50 vgg19', i), \
     for [i=2:3] dat index i + 2 using 1:2 with lines dt 2 lw 1.5 lc rgb wcol(i) notitle, \
     for [i=2:3] dat index i - 1 using 1:4 with lines dt 4 lw 1 lc rgb wcol(i) \
         title word('alexnet resnet50 vgg19', i).' SLO'

# shares (a row holds the plan of the interval that ends at its x: fsteps)
set format x '%g'
set xlabel 'second of the run (end of each control interval)'
set ylabel 'share (% of a GPU)'
set yrange [0:45]
set key top right maxrows 1 horizontal
plot for [i=1:3] dat index i - 1 using 1:3 with fsteps lw 2 lc rgb wcol(i) \
         title word('alexnet resnet50 vgg19', i), \
     for [i=1:3] dat index i + 2 using 1:3 with fsteps lw 1.5 dt 2 lc rgb wcol(i) notitle
unset multiplot
