/* placeholder: filled in by the foundation work */
typedef int od_placeholder_problem;
