# kinds.gp: optdyn figure 'every series kind', written by optdyn @VERSION@.
# Redraw in this folder with `gnuplot -c kinds.gp` (writes kinds.png; an output file
# name may be given as the first argument).  Data: surface.tsv density.tsv

@PREAMBLE@

# ---- the figure ----
od_out = ARGC >= 1 ? ARG1 : 'kinds.png'
od_fs = od_fontsize
set terminal pngcairo noenhanced size 1120,870 background rgb 'white' font sprintf('%s,%g', od_font, od_fs)
set output od_out
set multiplot layout 2,2 rowsfirst title 'every series kind' font sprintf(',%g', od_fs * 1.2)

# ---- panel 1 of 4
set title 'heat map'
set xlabel 'learning rate'
set ylabel 'batch size'
unset logscale x
set autoscale xfix
set xrange [*:*]
set xtics autofreq
set format x '%g'
unset logscale y
set autoscale yfix
set yrange [*:*]
set ytics autofreq
set format y '%g'
set offsets 0, 0, 0, 0
unset arrow
unset label
unset key
set colorbox
set autoscale cbfix
set cbrange [*:3.5]
set cblabel 'final loss'
plot \
    'surface.tsv' using 1:2:3 with image notitle

# ---- panel 2 of 4
set title 'boxes and steps'
unset xlabel
unset ylabel
unset logscale x
set autoscale x
set xrange [*:*]
set xtics autofreq
set format x '%g'
unset logscale y
set autoscale y
set yrange [*:*]
set ytics autofreq
set format y '%g'
set offsets 0, 0, 0, 0
unset arrow
unset label
set key inside top right vertical noopaque
unset colorbox
unset cblabel
plot \
    'density.tsv' using 1:2 with boxes lt 1 lw 1.2 fs transparent solid od_box_alpha border title 'Lanczos histogram', \
    'density.tsv' using 1:3 with histeps lt 2 title 'Marchenko-Pastur'

# ---- panel 3 of 4
set title 'points and linespoints'
unset xlabel
unset ylabel
unset logscale x
set autoscale x
set xrange [*:*]
set xtics autofreq
set format x '%g'
unset logscale y
set autoscale y
set yrange [*:*]
set ytics autofreq
set format y '%g'
set offsets 0, 0, 0, 0
unset arrow
unset label
set key outside right top vertical noopaque
unset colorbox
unset cblabel
plot \
    'density.tsv' using 1:2 every 2 with points lt 1 title 'samples', \
    'density.tsv' using 1:3 with linespoints lt 4 title 'law'

# ---- panel 4 of 4
set title 'key below'
unset xlabel
unset ylabel
unset logscale x
set autoscale x
set xrange [*:*]
set xtics autofreq
set format x '%g'
unset logscale y
set autoscale y
set yrange [*:*]
set ytics autofreq
set format y '%g'
set offsets 0, 0, 0, 0
unset arrow
unset label
set key below center horizontal noopaque
unset colorbox
unset cblabel
plot \
    'density.tsv' using 1:3 with lines lt 1 title 'law'

unset multiplot
set output
