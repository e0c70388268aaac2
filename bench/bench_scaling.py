#!/usr/bin/env python3
"""optdyn bench — the Chinchilla Approach-3 fit as the replication's notebook does it.

Besiroglu et al. (2024), epoch-research/analyzing-chinchilla, data_analysis.ipynb: read
svg_extracted_data.csv, D = C / (6 N), keep the rows with loss < sorted(loss)[-5], and from every
point of Hoffmann's grid (alpha, beta in {0, 0.5, ..., 2}, e in {-1, ..., 1}, a, b in {0, 5, ...,
25}; 4500 starts) run scipy.optimize.minimize(method="L-BFGS-B") on the sum of Huber losses
(delta 1e-3) of log L - log(exp(a - alpha log N) + exp(b - beta log D) + exp(e)), with SciPy's
default finite-difference gradient; keep the lowest objective among the runs that report success.

Output, tab-separated, parsed by bench_scaling:
    INFO    <text>
    RESULT  <name>  <value>
"""
import argparse
import csv
import itertools
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="svg_extracted_data.csv")
    ap.add_argument("--starts", type=int, default=4500, help="use the first K grid points")
    args = ap.parse_args()
    try:
        import numpy as np
        import scipy
        from scipy.optimize import minimize
    except ImportError:
        print("INFO\tnumpy/scipy are not importable by %s" % sys.executable)
        return 1

    with open(args.data, newline="") as f:
        rows = list(csv.DictReader(f))
    N = np.array([float(r["Model Size"]) for r in rows])
    C = np.array([float(r["Training FLOP"]) for r in rows])
    losses = np.array([float(r["loss"]) for r in rows])
    D = C / (6.0 * N)
    cut = sorted(losses)[-5]
    keep = np.array([i for i in range(len(N)) if losses[i] < cut])
    N, D, losses = N[keep], D[keep], losses[keep]

    def log_sum_exp(a, b, e, alpha, beta, N, D):
        return np.log(np.exp(a - alpha * np.log(N)) + np.exp(b - beta * np.log(D)) + np.exp(e))

    def huber(y_true, y_pred, delta=1e-3):
        diff = y_true - y_pred
        small = np.abs(diff) <= delta
        return np.sum(np.where(small, 0.5 * diff ** 2, delta * (np.abs(diff) - 0.5 * delta)))

    def objective(params, N, D, losses):
        a, b, e, alpha, beta = params
        return huber(np.log(losses), log_sum_exp(a, b, e, alpha, beta, N, D))

    alpha_vals = np.arange(0, 2.5, 0.5)
    beta_vals = np.arange(0, 2.5, 0.5)
    e_vals = np.arange(-1, 1.5, 0.5)
    a_vals = np.arange(0, 30, 5)
    b_vals = np.arange(0, 30, 5)
    grid = list(itertools.product(alpha_vals, beta_vals, e_vals, a_vals, b_vals))[: args.starts]

    print("INFO\t%s, Python %s, numpy %s, scipy %s" % (sys.executable, sys.version.split()[0],
                                                        np.__version__, scipy.__version__))
    print("INFO\t%d rows kept, %d starts" % (len(N), len(grid)))
    sys.stdout.flush()
    np.seterr(all="ignore")
    best, best_x, ok, nfev = np.inf, None, 0, 0
    t0 = time.perf_counter()
    for alpha, beta, e, a, b in grid:
        res = minimize(objective, [a, b, e, alpha, beta], args=(N, D, losses), method="L-BFGS-B")
        nfev += res.nfev
        if res.success:
            ok += 1
            if res.fun < best:
                best, best_x = res.fun, res.x
    seconds = time.perf_counter() - t0
    print("RESULT\tseconds\t%.6f" % seconds)
    print("RESULT\tstarts\t%d" % len(grid))
    print("RESULT\tsuccess\t%d" % ok)
    print("RESULT\tnfev\t%d" % nfev)
    print("RESULT\tobjective\t%.17g" % best)
    for name, v in zip(("a", "b", "e", "alpha", "beta"), best_x):
        print("RESULT\t%s\t%.17g" % (name, v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
