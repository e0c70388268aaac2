# ---- optdyn house style (plots/preamble.gp) -------------------------------------------------
# Copied verbatim at the top of every figure script, so a script is self-contained.  The part
# after this template (written by plots/figure.c) sets the terminal, the output and the panels.

# -- data: optdyn TSV tables ---------------------------------------------------------------------
# "# key: value" lines are comments; the first other row holds the column names (columnheaders),
# then one row per record.  A cell "nan" is a missing value: the row is skipped for that series and
# lines join the neighbouring finite points.  "inf" / "-inf" (and any NaN computed in a using
# expression) make the point undefined, which leaves a gap; points that are not positive on a log
# axis are undefined too.
set datafile separator tab
set datafile commentschars '#'
set datafile columnheaders
set datafile missing 'nan'
set encoding utf8

# -- fonts: read by the terminal line (pngcairo and svg sizes are pixels, pdfcairo inches) -------
od_font = 'Sans'
od_fontsize = 11

# -- palette: Okabe & Ito (2008), "Color Universal Design", safe for the common colour-vision
# deficiencies.  Series colour k is linetype k; yellow comes last because it is faint on white.
# Each colour has its own point shape, so series stay apart in grey-scale prints too.
set linetype 1 lc rgb '#0072B2' lw 2 dt solid pt 7  ps 0.9   # blue
set linetype 2 lc rgb '#D55E00' lw 2 dt solid pt 5  ps 0.8   # vermillion
set linetype 3 lc rgb '#009E73' lw 2 dt solid pt 9  ps 1.0   # bluish green
set linetype 4 lc rgb '#CC79A7' lw 2 dt solid pt 13 ps 1.0   # reddish purple
set linetype 5 lc rgb '#E69F00' lw 2 dt solid pt 11 ps 1.0   # orange
set linetype 6 lc rgb '#56B4E9' lw 2 dt solid pt 6  ps 0.9   # sky blue
set linetype 7 lc rgb '#000000' lw 2 dt solid pt 4  ps 0.8   # black
set linetype 8 lc rgb '#C9B400' lw 2 dt solid pt 8  ps 1.0   # yellow (darkened from #F0E442)
set linetype cycle 8

# Heat maps: viridis-like sequential palette (perceptually uniform, colour-blind safe, prints
# monotonically in grey).
set palette defined (0 '#440154', 0.13 '#482878', 0.25 '#3E4A89', 0.38 '#31688E', \
                     0.5 '#26828E', 0.63 '#1F9E89', 0.75 '#35B779', 0.88 '#6DCD59', 1 '#FDE725')
set colorbox vertical user origin graph 1.03, graph 0 size graph 0.035, graph 1 front noborder
set cbtics scale 0.5 out nomirror

# -- frame, tics, grid ---------------------------------------------------------------------------
set border 3 front lt black lw 1
set tics out nomirror scale 0.8, 0.4
set mxtics
set mytics
set grid xtics ytics back lt 1 lc rgb '#DDDDDD' lw 0.8 dt solid
set xtics offset 0, 0.2
set ytics offset 0.2, 0
set format '%g'          # log axes get their labels from the figure part (decades, 2-5 steps)

# -- key (legend): sample on the left, no box, transparent; the driver picks the corner --------
set key inside top right reverse Left noopaque nobox samplen 2.5 spacing 1.15 width 1

# -- fills: bands (od_band_alpha) are translucent so lines and the grid show through; boxes are
# half-tone (od_box_alpha); the default fill stays opaque for the colour box of heat maps
od_band_alpha = 0.22
od_box_alpha = 0.45
set style fill solid 1.0 noborder
set boxwidth 0.85 relative
set bars small
set style textbox opaque noborder margins 1.0, 1.0

# -- reference lines (od_figure_hline / od_figure_vline) and notes ------------------------------
set style arrow 8 nohead back lw 1.3 lc rgb '#555555' dt (12, 7)
od_ref_color = '#444444'
od_note_color = '#222222'

set samples 400
set clip two
# ---- end of the optdyn house style -------------------------------------------------------------
