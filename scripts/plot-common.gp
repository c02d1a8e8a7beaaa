# Shared by the plot-*.gp scripts: terminal by `term`, output `out`, size
# `width` x `height` where the script sets them (else 900 x 540).
if (!exists('width')) width = 900
if (!exists('height')) height = 540
set encoding utf8
if (term eq 'png') {
    set terminal pngcairo size width,height font 'Sans,11' noenhanced
} else {
    set terminal svg size width,height font 'Sans,11' noenhanced
}
set output out
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set key top left

# One colour per policy, from a fixed palette (Okabe and Ito's
# colour-blind-safe eight, yellow replaced by grey, then brown and
# yellow): a policy's colour is its place in the policy registry, which
# compare writes in figdata/meta (`colours`), so a policy has the same
# colour in every figure of every experiment. pcolour(i): the colour of
# the i-th (from 1) of meta's `policies`.
palette = '#D55E00 #0072B2 #E69F00 #000000 #009E73 #CC79A7 #56B4E9 #999999 #8C510A #F0E442'
pcolour(i) = word(palette, int(word(colours, i)) % words(palette) + 1)
# The seeds behind a figure, for its title: "5 seeds", "3 of 5 seeds".
seedtext(s, asked) = s == asked ? sprintf('%d seed%s', s, s == 1 ? '' : 's') \
                                : sprintf('%d of %d seeds', s, asked)
# What a first-seed figure shows, for its title: "one seed", "the first
# of 5 seeds".
firstseed(s, asked) = asked == 1 ? 'one seed' : sprintf('the first of %d seeds', asked)
# A percentage on a bar: "0" only when it is 0.
pct(v) = v != v ? '' : v == 0 ? '0' : v < 0.01 ? '<0.01' : \
         v < 0.1 ? sprintf('%.2f', v) : v < 10 ? sprintf('%.1f', v) : \
         sprintf('%.0f', v)

# The legend of the policies, across the canvas: `legend_y = Y; eval
# legend` centres it on screen height Y, each entry a sample of the
# policy's colour (a box when legend_box is 1, else a line) and its name:
# one row when it fits the width, else aligned columns (legend_rows rows
# of 20 pixels). gnuplot's own horizontal key wraps long before the edge
# and cannot span a multiplot. It uses labels, arrows and objects 901 on;
# `eval legend_off` removes it (after a multiplot's first panel). Text
# widths are estimated at 7.5 pixels a character (Sans 11).
lg_w(i) = 64 + 7.5 * strlen(word(policies, i))
if (exists('policies')) {
    lg_len = 1
    lg_total = -32
    do for [i=1:words(policies)] {
        lg_len = strlen(word(policies, i)) > lg_len ? strlen(word(policies, i)) : lg_len
        lg_total = lg_total + lg_w(i)
    }
    lg_onerow = lg_total <= width - 40
    lg_entry = 64 + 7.5 * lg_len
    lg_cols = int((width - 40) / lg_entry)
    lg_cols = lg_cols < 1 ? 1 : lg_cols > words(policies) ? words(policies) : lg_cols
    legend_rows = lg_onerow ? 1 : (words(policies) + lg_cols - 1) / lg_cols
}
legend_box = 0
legend = 'lg_x = (width - lg_total) / 2.0; \
do for [i=1:words(policies)] { \
    if (!lg_onerow) { \
        lg_x = (width - lg_cols * lg_entry + 32) / 2.0 + ((i - 1) % lg_cols) * lg_entry \
    }; \
    lg_y = lg_onerow ? legend_y : legend_y - ((i - 1) / lg_cols) * 20.0 / height; \
    if (legend_box) { \
        set object 900 + i rect from screen (lg_x + 2) / width, screen lg_y - 6.0 / height \
            to screen (lg_x + 24) / width, screen lg_y + 6.0 / height \
            fc rgb pcolour(i) fs solid 0.85 border lc rgb "black" front \
    } else { \
        set arrow 900 + i from screen lg_x / width, screen lg_y \
            to screen (lg_x + 26) / width, screen lg_y nohead lw 3 lc rgb pcolour(i) front \
    }; \
    set label 900 + i word(policies, i) at screen (lg_x + 32) / width, screen lg_y \
        left front noenhanced; \
    lg_x = lg_x + lg_w(i) }'
legend_off = 'do for [i=1:words(policies)] { \
    unset label 900 + i; unset arrow 900 + i; unset object 900 + i }'
