#!/usr/bin/env python3
"""optdyn bench — Adam and its SDE as an ensemble of paths in NumPy, the reference for bench_sde.

The way papers' code simulates many paths: arrays of shape (paths, d), one vectorised update per
step.  Problem: f = 1/2 sum lambda_i x_i^2 with gradient noise N(0, s^2 I) (batch 1), x0 = 1.
Adam is torch's (bias-corrected, eps outside the root); its SDE (Malladi et al. 2022, sde.md §3.3) is
integrated by Euler–Maruyama with h = eta^2 in the same order as optdyn (drift of X from the old
m and u).  Each run reports the wall time and the mean over paths of ||x||^2 averaged over the
second half of the steps, with its SE across paths, so bench_sde can check that both
implementations simulate the same law.

Output lines (tab-separated): INFO <text> | RESULT <name> <seconds> <mean> <se> <cpu seconds>
"""
import argparse
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=10000)
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--s", type=float, default=1.0)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--eps", type=float, default=1e-8)
    args = ap.parse_args()
    try:
        import numpy as np
    except ImportError:
        print("INFO\tnumpy is not importable by %s" % sys.executable)
        return 1
    print("INFO\t%s, numpy %s" % (sys.executable, np.__version__))
    P, d, K, lr, s = args.paths, args.d, args.steps, args.lr, args.s
    b1, b2, eps = args.beta1, args.beta2, args.eps
    lam = np.logspace(0, 1, d)            # lambda_i = 10^(i/(d-1))
    rng = np.random.default_rng(12345)

    def report(name, t, c, acc):
        acc = acc / (K - K // 2)
        print("RESULT\t%s\t%.6f\t%.10g\t%.4g\t%.6f" % (name, t, acc.mean(), acc.std(ddof=1) / np.sqrt(P), c))
        sys.stdout.flush()

    # discrete Adam
    t0, c0 = time.perf_counter(), time.process_time()
    x = np.ones((P, d)); m = np.zeros((P, d)); v = np.zeros((P, d)); acc = np.zeros(P)
    for k in range(K):
        g = lam * x + s * rng.standard_normal((P, d))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh = m / (1 - b1 ** (k + 1))
        vh = v / (1 - b2 ** (k + 1))
        x = x - lr * mh / (np.sqrt(vh) + eps)
        if k + 1 > K // 2:
            acc += (x * x).sum(axis=1)
    report("adam discrete (NumPy)", time.perf_counter() - t0, time.process_time() - c0, acc)

    # Adam SDE, Euler-Maruyama, h = eta^2, B = 1 (sigma0 = eta, eps0 = eps eta)
    h = lr * lr; c1 = (1 - b1) / h; c2 = (1 - b2) / h; s0 = lr; e0 = eps * lr
    t0, c0 = time.perf_counter(), time.process_time()
    X = np.ones((P, d)); M = np.zeros((P, d)); U = np.zeros((P, d)); acc = np.zeros(P)
    for n in range(K):
        t = n * h
        g1 = -np.expm1(-c1 * t); g2 = -np.expm1(-c2 * t)
        z = rng.standard_normal((P, d))
        if g1 > 0:
            dX = -(np.sqrt(g2) / g1) * M / (s0 * np.sqrt(U) + e0 * np.sqrt(g2)) * h
        else:
            dX = 0.0
        M = M + c1 * (lam * X - M) * h + c1 * s0 * s * np.sqrt(h) * z
        U = U + c2 * (s * s - U) * h
        X = X + dX
        if n + 1 > K // 2:
            acc += (X * X).sum(axis=1)
    report("adam SDE, EM (NumPy)", time.perf_counter() - t0, time.process_time() - c0, acc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
