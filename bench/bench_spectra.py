#!/usr/bin/env python3
"""optdyn bench — the SciPy/NumPy references for bench_spectra.

(a) top-k eigenvalues of W = X^T X / n given implicitly, with scipy.sparse.linalg.eigsh on a
    LinearOperator (which='LA', tol as given), the way edge-of-stability code calls it;
(b) an SLQ density the way PyHessian does it: one probe at a time, full reorthogonalization
    (one classical Gram-Schmidt pass), numpy.linalg.eigh on T.
X is read from a raw float64 file written by bench_spectra (row-major n-by-d), so both sides see the
same matrix.  Output lines: "RESULT<TAB>name<TAB>seconds<TAB>matvecs<TAB>values (comma-separated)".
"""
import argparse
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--x", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--d", type=int, required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--m", type=int, default=80)
    ap.add_argument("--nv", type=int, default=10)
    ap.add_argument("--dense", required=True, help="raw float64 d-by-d matrix for the SLQ part")
    a = ap.parse_args()
    import numpy as np
    from scipy.sparse.linalg import LinearOperator, eigsh
    print("INFO\tPython %s, numpy %s, scipy %s" % (sys.version.split()[0], np.__version__,
                                                  __import__("scipy").__version__))
    X = np.fromfile(a.x, dtype=np.float64).reshape(a.n, a.d)
    count = [0]

    def mv(v):
        count[0] += 1
        v = np.asarray(v).ravel()
        return X.T @ (X @ v) / a.n

    op = LinearOperator((a.d, a.d), matvec=mv, dtype=np.float64)
    rng = np.random.default_rng(1)
    v0 = rng.standard_normal(a.d)
    t0 = time.perf_counter()
    w = eigsh(op, k=a.k, which="LA", tol=a.tol, v0=v0, return_eigenvectors=False)
    t = time.perf_counter() - t0
    w = np.sort(w)[::-1]
    print("RESULT\teigsh\t%.6f\t%d\t%s" % (t, count[0], ",".join("%.17g" % x for x in w)))
    sys.stdout.flush()

    A = np.fromfile(a.dense, dtype=np.float64).reshape(a.d, a.d)
    t0 = time.perf_counter()
    nodes, weights = [], []
    for l in range(a.nv):
        v = rng.choice([-1.0, 1.0], size=a.d)
        v /= np.linalg.norm(v)
        Q = np.zeros((a.m, a.d))
        alpha = np.zeros(a.m)
        beta = np.zeros(a.m)
        q, qprev, b = v, np.zeros(a.d), 0.0
        for j in range(a.m):
            Q[j] = q
            w = A @ q
            alpha[j] = w @ q
            w = w - alpha[j] * q - b * qprev
            w = w - Q[: j + 1].T @ (Q[: j + 1] @ w)
            b = np.linalg.norm(w)
            beta[j] = b
            qprev, q = q, w / b
        T = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
        ev, U = np.linalg.eigh(T)
        nodes.append(ev)
        weights.append(U[0] ** 2)
    t = time.perf_counter() - t0
    nodes = np.array(nodes)
    print("RESULT\tslq_numpy\t%.6f\t%d\t%.17g,%.17g" % (t, a.m * a.nv, nodes.min(), nodes.max()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
