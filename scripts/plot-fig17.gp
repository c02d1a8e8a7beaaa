# The paper's Fig. 17, the safeguard at run time: P99 latency of each
# second of each workload of experiments/safeguard.json (top, its SLO
# dashed in its colour) and the share of a GPU its instances hold (bottom:
# a step is the safeguard switching it), with the paper's AlexNet values
# marked (15.6 ms in second 1; 9.6 ms after the switch). Input:
# scripts/paper-figs.sh fig17 (fig17.dat: a block per workload of second,
# P99 ms, share %, SLO ms).
width = 1000
height = 700
load 'scripts/plot-common.gp'
names = 'alexnet resnet50 vgg19'
wcol(i) = word('#D55E00 #0072B2 #009E73', i)
set multiplot layout 2,1 title "safeguard: P99 per second against the SLO, and share of a GPU\nigniter-sg on the motivation example, constant arrivals, measured V100 back end, one simulated run" \
    margins 0.09, 0.97, 0.09, 0.86 spacing 0, 0.07
set key at screen 0.5, screen 0.905 center top horizontal maxrows 1 samplen 2 width 1
set xrange [0.5:*]
set ylabel 'P99 latency (ms)'
set yrange [0:70]
set format x ''
set object 1 circle at 1, 15.6 size char 0.6 fs solid fc rgb 'black' front
set label 1 "paper, AlexNet second 1: 15.6 ms" at 1, 15.6 offset 1.2,0.9 left font ',10'
set arrow 2 from 2, 9.6 to graph 1, first 9.6 nohead dt 3 lw 2 lc rgb 'black'
set label 2 "paper, AlexNet after the switch: 9.6 ms" at graph 0.99, first 9.6 right offset 0,-0.9 font ',10'
plot for [i=1:3] dat index i - 1 using 1:2 with linespoints pt 7 ps 0.5 lw 2 \
         lc rgb wcol(i) title word(names, i).' P99', \
     for [i=1:3] dat index i - 1 using 1:4 with lines dt 2 lw 1.5 \
         lc rgb wcol(i) title word(names, i).' SLO'
unset object 1
unset label
unset arrow
unset key
set format x '%g'
set xlabel 'second of the run'
set ylabel 'share (% of a GPU)'
set yrange [0:*]
plot for [i=1:3] dat index i - 1 using 1:3 with steps lw 2 lc rgb wcol(i) notitle
unset multiplot
