# inject.gp: optdyn figure ''."'".'; system("touch pwned"); print '."'".'', written by optdyn @VERSION@.
# Redraw in this folder with `gnuplot -c inject.gp` (writes inject.png; an output file
# name may be given as the first argument).  Data: risk.tsv

@PREAMBLE@

# ---- the figure ----
od_out = ARGC >= 1 ? ARG1 : 'inject.png'
od_fs = od_fontsize
set terminal pngcairo noenhanced size 900,600 background rgb 'white' font sprintf('%s,%g', od_font, od_fs)
set output od_out
set multiplot layout 1,1 rowsfirst title ''."'".'; system("touch pwned"); print '."'".'' font sprintf(',%g', od_fs * 1.2)

# ---- panel 1 of 1
set title 'x'."'".'system('."'".'touch pwned'."'".')#'
set xlabel '`touch pwned` @evil \'."'".' \'
set ylabel '"; system("touch pwned") ; "'
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
set arrow from graph 0, first 0.29999999999999999 to graph 1, first 0.29999999999999999 as 8
set label ''."'".');system('."'".'touch pwned'."'".');('."'".'' at graph 0.99, first 0.29999999999999999 right offset 0, 0.6 tc rgb od_ref_color front
set label ''."'".'set output '."'".'pwned'."'".'' at graph 0.02, graph 0.97 left offset 0, -0.00 tc rgb od_note_color front boxed
set key inside top right vertical noopaque
unset colorbox
unset cblabel
plot \
    'risk.tsv' using 1:2 with lines lt 1 title ''."'".'; system("touch pwned"); print '."'".''

unset multiplot
set output
