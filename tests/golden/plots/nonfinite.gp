# nonfinite.gp: optdyn figure 'rows that are not finite', written by optdyn @VERSION@.
# Redraw in this folder with `gnuplot -c nonfinite.gp` (writes nonfinite.png; an output file
# name may be given as the first argument).  Data: diverging.tsv

@PREAMBLE@

# ---- the figure ----
od_out = ARGC >= 1 ? ARG1 : 'nonfinite.png'
od_fs = od_fontsize
set terminal pngcairo noenhanced size 1120,450 background rgb 'white' font sprintf('%s,%g', od_font, od_fs)
set output od_out
set multiplot layout 1,2 rowsfirst title 'rows that are not finite' font sprintf(',%g', od_fs * 1.2)

# ---- panel 1 of 2
unset title
unset xlabel
unset ylabel
unset logscale x
set autoscale x
set xrange [*:*]
set xtics autofreq
set format x '%g'
set logscale y 10
set autoscale y
# a yrange bound that is not positive is automatic on a log axis
set yrange [*:*]
set ytics autofreq
set format y ''
set ytics add ('0.1' 0.10000000000000001, '0.2' 0.20000000000000001, '0.3' 0.30000000000000004, '0.5' 0.5, '1' 1)
set offsets 0, 0, 0, 0
unset arrow
unset label
# horizontal line at nan not drawn (not a positive finite number)
# horizontal line at -2 not drawn (not a positive finite number)
# vertical line at inf not drawn (not a finite number)
set key inside top right vertical noopaque
unset colorbox
unset cblabel
# series 3 (lines of diverging.tsv) has no point that can be drawn: left out
# log y: band edges that are not positive are drawn at 0.112377, the lowest value shown
plot \
    'diverging.tsv' using 1:(od_lo = $2 - 2*$3, od_lo <= 0 ? 0.11237746519642325 : od_lo):($2 + 2*$3) with filledcurves lt 1 fs transparent solid od_band_alpha noborder title 'band', \
    'diverging.tsv' using 1:2 with lines lt 1 title 'loss'

# ---- panel 2 of 2
set title 'nothing finite'
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
unset key
unset colorbox
unset cblabel
# series 1 (lines of diverging.tsv) has no point that can be drawn: left out
set label 'no finite data to show' at graph 0.5, graph 0.5 center tc rgb od_note_color front
set xrange [1:10]
set yrange [1:10]
unset key
plot NaN notitle

unset multiplot
set output
