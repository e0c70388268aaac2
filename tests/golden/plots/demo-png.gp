# demo.gp: optdyn figure 'SGD on a quadratic: exact risk against Monte Carlo', written by optdyn @VERSION@.
# Redraw in this folder with `gnuplot -c demo.gp` (writes demo.png; an output file
# name may be given as the first argument).  Data: risk.tsv loss.tsv

@PREAMBLE@

# ---- the figure ----
od_out = ARGC >= 1 ? ARG1 : 'demo.png'
od_fs = od_fontsize
set terminal pngcairo noenhanced size 1120,450 background rgb 'white' font sprintf('%s,%g', od_font, od_fs)
set output od_out
set multiplot layout 1,2 rowsfirst title 'SGD on a quadratic: exact risk against Monte Carlo' font sprintf(',%g', od_fs * 1.2)

# ---- panel 1 of 2
set title 'risk, log-log'
set xlabel 'step t'
set ylabel 'excess risk'
set logscale x 10
set autoscale xfix
set xrange [*:*]
set xtics autofreq
set format x ''
set xtics add ('1' 1, '10' 10, '100' 100, '1000' 1000)
set logscale y 10
set autoscale y
set yrange [0.01:*]
set ytics autofreq
set format y ''
set ytics add ('0.01' 0.01, '0.02' 0.02, '0.05' 0.050000000000000003, '0.1' 0.10000000000000001, '0.2' 0.20000000000000001, '0.5' 0.5, '1' 1)
set offsets graph 0.002, graph 0.002, 0, 0
unset arrow
unset label
set arrow from graph 0, first 0.012500000000000001 to graph 1, first 0.012500000000000001 as 8
set label 'stationary risk 0.0125' at graph 0.99, first 0.012500000000000001 right offset 0, 0.6 tc rgb od_ref_color front
set arrow from first 37.200000000000003, graph 0 to first 37.200000000000003, graph 1 as 8
set label 't* = 37.2' at first 37.200000000000003, graph 0.98 right rotate by 90 offset -1.1, 0 tc rgb od_ref_color front
set key inside bottom left vertical opaque
unset colorbox
unset cblabel
# log y: band edges that are not positive are drawn at 0.0216763, the lowest value shown
plot \
    'risk.tsv' using 1:(od_lo = $3 - 2*$4, od_lo <= 0 ? 0.021676310144395066 : od_lo):($3 + 2*$4) with filledcurves lt 1 fs transparent solid od_band_alpha noborder title 'Monte Carlo mean +- 2 SE', \
    'risk.tsv' using 1:2 with lines lt 2 title 'exact', \
    'risk.tsv' using 1:3 with lines lt 1 lw 1.2 notitle, \
    'risk.tsv' using 1:5 with lines lt 3 dt 2 title '1/sqrt(t) schedule'

# ---- panel 2 of 2
set title 'loss, linear axes'
set xlabel 'step'
set ylabel 'loss'
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
set label 'batch 8, lr 0.05' at graph 0.02, graph 0.97 left offset 0, -0.00 tc rgb od_note_color front boxed
set key inside top right vertical noopaque
unset colorbox
unset cblabel
plot \
    'loss.tsv' using 1:4 with lines lt 1 title 'SDE', \
    'loss.tsv' using 1:2:($2 - 2*$3):($2 + 2*$3) with yerrorbars lt 2 lw 1.2 title 'SGD, 64 paths'

unset multiplot
set output
