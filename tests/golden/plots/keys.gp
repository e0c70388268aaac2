# keys.gp: optdyn figure, written by optdyn @VERSION@.
# Redraw in this folder with `gnuplot -c keys.gp` (writes keys.png; an output file
# name may be given as the first argument).  Data: curves.tsv

@PREAMBLE@

# ---- the figure ----
od_out = ARGC >= 1 ? ARG1 : 'keys.png'
od_fs = od_fontsize
set terminal pngcairo noenhanced size 1120,420 background rgb 'white' font sprintf('%s,%g', od_font, od_fs)
set output od_out
set multiplot layout 1,2 rowsfirst

# ---- panel 1 of 2
unset title
unset xlabel
unset ylabel
set logscale x 10
set autoscale xfix
set xrange [*:*]
set xtics autofreq
set format x ''
set xtics add ('10¹' 10, '10²' 100, '10³' 1000, '10⁴' 10000, '10⁵' 100000, '10⁶' 1000000, '10⁷' 10000000, '10⁸' 100000000)
unset logscale y
set autoscale y
set yrange [*:*]
set ytics autofreq
set format y '%g'
set offsets graph 0.002, graph 0.002, 0, 0
unset arrow
unset label
set key inside top left vertical noopaque
unset colorbox
unset cblabel
plot \
    'curves.tsv' using 1:2 with lines lt 1 title 'accuracy'

# ---- panel 2 of 2
unset title
unset xlabel
unset ylabel
set logscale x 10
set autoscale xfix
set xrange [*:*]
set xtics autofreq
set format x ''
set xtics add ('10¹' 10, '10²' 100, '10³' 1000, '10⁴' 10000, '10⁵' 100000, '10⁶' 1000000, '10⁷' 10000000, '10⁸' 100000000)
set logscale y 10
set autoscale y
set yrange [*:*]
set ytics autofreq
set format y ''
set ytics add ('0.001' 0.001, '0.01' 0.01, '0.1' 0.10000000000000001, '1' 1, '10' 10)
set offsets graph 0.002, graph 0.002, 0, 0
unset arrow
unset label
set key inside top right vertical noopaque
unset colorbox
unset cblabel
plot \
    'curves.tsv' using 1:3 with lines lt 1 title 'loss'

unset multiplot
set output
