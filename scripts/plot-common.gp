# Shared by the plot-*.gp scripts: terminal by `term`, output `out`.
if (term eq 'png') {
    set terminal pngcairo size 900,540 font 'Sans,11' noenhanced
} else {
    set terminal svg size 900,540 font 'Sans,11' noenhanced
}
set output out
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set key top left
