# broken.gp: optdyn figure 'broken', written by optdyn @VERSION@.
# Redraw in this folder with `gnuplot -c broken.gp` (writes broken.png; an output file
# name may be given as the first argument).  Data: risk.tsv

@PREAMBLE@

# ---- the figure ----
od_out = ARGC >= 1 ? ARG1 : 'broken.png'
od_fs = od_fontsize
set terminal pngcairo noenhanced size 900,600 background rgb 'white' font sprintf('%s,%g', od_font, od_fs)
set output od_out
set multiplot layout 1,1 rowsfirst title 'broken' font sprintf(',%g', od_fs * 1.2)

# ---- panel 1 of 1
unset title
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
    'risk.tsv' using 1:5 with lines lt 1 title 'slow'

unset multiplot
set output
