/* placeholder */
typedef int od_placeholder_figure;
