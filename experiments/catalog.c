/* optdyn experiments — every problem catalog of the program, searched by name by the command-line
 * tools (--problem, --model) and by experiments.  A module that adds problems keeps its own
 * NULL-terminated od_problem_entry array in its module and adds one line here. */
#include "experiments/optdyn_experiments.h"
#include "sde/optdyn_sde.h"
#include "spectra/optdyn_spectra.h"

const od_problem_entry *const *const od_problem_catalogs[] = {
    od_core_problems,
    od_sde_problems,
    od_spectra_problems,
    NULL,
};

int od_exp_problem(const char *spec, uint64_t seed, od_problem **out)
{
    return od_problem_from_spec(od_problem_catalogs, spec, seed, out);
}
