#!/usr/bin/env python3
"""optdyn bench — NumPy references for bench_linreg, written the way papers' code does it.

exact: the diagonal second-moment recursion of SGD on linear regression (theory sheet linreg.md §2.2),
    vectorized over the d modes, for a constant step (coefficients computed once) or the step-decay
    schedule (coefficients recomputed every step):
        S = lam @ P;  P = a * P + c * (S + sigma2)
mc: Monte Carlo SGD vectorized over the paths: every step draws a (paths, d) matrix of Gaussian features
    and a label-noise vector, forms the residuals with einsum and updates all paths at once.

Output, tab-separated, parsed by bench_linreg:
    INFO    <text>
    RESULT  <name>  <ns per unit>  <value>  [<se>]
"""
import argparse
import math
import sys
import time


def stepdecay(t, N, S):
    """Multiplier of stepdecay:start=S over N steps: 1 before S, then 2^-l on phases of K steps."""
    if t < S:
        return 1.0
    n = N - S
    K = 1 if n <= 2 else max(1, int(math.floor(n / math.log(n))))
    return 2.0 ** -((t - S) // K + 1)


def exact(np, d, steps, horizon, lr, sigma2, schedule):
    lam = np.arange(1, d + 1, dtype=float) ** -2.0
    P = np.ones(d)
    if schedule == "const":
        a = (1 - lr * lam) ** 2 + lr * lr * lam ** 2
        c = lr * lr * lam
        t0 = time.perf_counter()
        for _ in range(steps):
            S = lam @ P
            P = a * P + c * (S + sigma2)
        dt = time.perf_counter() - t0
    else:
        S0 = horizon // 2
        t0 = time.perf_counter()
        for t in range(steps):
            g = lr * stepdecay(t, horizon, S0)
            S = lam @ P
            P = ((1 - g * lam) ** 2 + g * g * lam ** 2) * P + g * g * lam * (S + sigma2)
        dt = time.perf_counter() - t0
    return dt / (steps * d) * 1e9, 0.5 * float(lam @ P)


def mc(np, d, paths, steps, lr, sigma2, seed):
    rng = np.random.default_rng(seed)
    lam = np.arange(1, d + 1, dtype=float) ** -1.5
    sl = np.sqrt(lam)
    W = np.ones((paths, d))          # w - w*, one row per path
    sigma = math.sqrt(sigma2)
    t0 = time.perf_counter()
    for _ in range(steps):
        X = rng.standard_normal((paths, d)) * sl
        xi = sigma * rng.standard_normal(paths)
        r = np.einsum("pd,pd->p", X, W) - xi
        W -= lr * r[:, None] * X
    dt = time.perf_counter() - t0
    risk = 0.5 * (W * W) @ lam
    return dt / (steps * paths * d) * 1e9, float(risk.mean()), float(risk.std(ddof=1) / math.sqrt(paths))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, default=10000)
    ap.add_argument("--steps", type=int, default=1000, help="steps timed")
    ap.add_argument("--horizon", type=int, default=100000, help="horizon of the step-decay schedule")
    ap.add_argument("--lr", type=float, default=0.3)
    ap.add_argument("--sigma2", type=float, default=0.01)
    ap.add_argument("--paths", type=int, default=1024)
    ap.add_argument("--mc-d", type=int, default=256)
    ap.add_argument("--mc-steps", type=int, default=200)
    ap.add_argument("--mc-lr", type=float, default=0.2)
    ap.add_argument("--what", default="exact,mc")
    args = ap.parse_args()
    try:
        import numpy as np
    except ImportError:
        print("INFO\tnumpy is not importable by %s" % sys.executable)
        return 1
    print("INFO\t%s, Python %s, numpy %s" % (sys.executable, sys.version.split()[0], np.__version__))
    sys.stdout.flush()
    what = args.what.split(",")
    if "exact" in what:
        for sch in ("const", "stepdecay"):
            ns, v = exact(np, args.d, args.steps, args.horizon, args.lr, args.sigma2, sch)
            print("RESULT\texact_%s\t%.6f\t%.17g" % (sch, ns, v))
            sys.stdout.flush()
    if "mc" in what:
        ns, m, se = mc(np, args.mc_d, args.paths, args.mc_steps, args.mc_lr, args.sigma2, 12345)
        print("RESULT\tmc\t%.6f\t%.17g\t%.17g" % (ns, m, se))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
