#!/usr/bin/env python3
"""optdyn bench — the NumPy/SciPy reference for bench_stability (part a, d = 50, dense T).

Builds the same dense mean-square operator the way a paper's script would,
    T = I - eta (kron(H, I) + kron(I, H)) + eta^2 [(1 + beta - alpha) kron(H, H) + (alpha/n) sum_i kron(H_i, H_i)],
from the per-sample Hessians written by bench_stability (raw float64, n blocks of d-by-d), then
  (1) rho(T) at one eta with scipy.linalg.eigvals (all d^2 eigenvalues), at a small eta with
      scipy.linalg.eigvalsh (T is symmetric: rho = its largest eigenvalue), and
  (2) the threshold eta* by the same grid + bisection as optdyn, rho by power iteration (T @ x, warm-started
      from the previous vector, stopped when the estimate changes by < tol relative).
Output lines: "RESULT<TAB>name<TAB>seconds<TAB>count<TAB>value".
"""
import argparse
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--h", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--d", type=int, required=True)
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--eta", type=float, required=True, help="eta for the eigvals comparison")
    ap.add_argument("--eta-small", type=float, default=None, help="small eta for the eigvalsh comparison")
    ap.add_argument("--grid", type=int, default=64)
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--rho-tol", type=float, default=1e-12)
    a = ap.parse_args()
    import numpy as np
    import scipy
    import scipy.linalg
    print("INFO\tPython %s, numpy %s, scipy %s" % (sys.version.split()[0], np.__version__, scipy.__version__))
    n, d, B = a.n, a.d, a.batch
    Hs = np.fromfile(a.h, dtype=np.float64).reshape(n, d, d)
    H = Hs.mean(axis=0)
    I = np.eye(d)
    alpha, beta = 1.0 / B, 0.0                     # sampling with replacement
    t0 = time.perf_counter()
    K = sum(np.kron(h, h) for h in Hs) / n
    L = np.kron(H, I) + np.kron(I, H)
    Qm = (1 + beta - alpha) * np.kron(H, H) + alpha * K
    tb = time.perf_counter() - t0
    print("RESULT\tbuild\t%.6f\t%d\t0" % (tb, n))
    sys.stdout.flush()

    def T(eta):
        return np.eye(d * d) - eta * L + eta * eta * Qm

    t0 = time.perf_counter()
    ev = scipy.linalg.eigvals(T(a.eta))
    te = time.perf_counter() - t0
    print("RESULT\teigvals\t%.6f\t1\t%.17g" % (te, np.abs(ev).max()))
    sys.stdout.flush()

    if a.eta_small is not None:                     # T is symmetric: eigvalsh, largest eigenvalue
        t0 = time.perf_counter()
        evs = scipy.linalg.eigvalsh(T(a.eta_small))
        ts = time.perf_counter() - t0
        print("RESULT\teigvalsh\t%.6f\t1\t%.17g" % (ts, evs[-1]))
        sys.stdout.flush()

    lam1 = np.linalg.eigvalsh(H)[-1]
    x = np.eye(d).ravel() / np.sqrt(d)
    count = [0]

    def rho(eta):
        nonlocal x
        M = T(eta)
        prev = np.nan
        for it in range(20000):
            y = M @ x
            count[0] += 1
            r = np.linalg.norm(y)
            x = y / r
            if abs(r - prev) <= a.rho_tol * r:
                break
            prev = r
        return r

    t0 = time.perf_counter()
    top = 2.0 / lam1
    etas = [top * j / a.grid for j in range(1, a.grid + 2)]
    sides = []
    star = np.nan
    for j, eta in enumerate(etas):
        s = rho(eta) >= 1.0
        if j > 0 and s != sides[-1] and np.isnan(star):
            lo, hi = etas[j - 1], eta
            while hi - lo > a.tol * hi:
                mid = 0.5 * (lo + hi)
                if (rho(mid) >= 1.0) == sides[-1]:
                    lo = mid
                else:
                    hi = mid
            star = 0.5 * (lo + hi)
        sides.append(s)
    tt = time.perf_counter() - t0
    print("RESULT\tthreshold\t%.6f\t%d\t%.17g" % (tt, count[0], star))
    return 0


if __name__ == "__main__":
    sys.exit(main())
