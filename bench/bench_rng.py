#!/usr/bin/env python3
"""optdyn bench — NumPy's normal generators, the reference that papers' code uses.

Measures ns per standard normal for numpy.random.default_rng().standard_normal(n) (PCG64 with
NumPy's ziggurat) and the legacy numpy.random.randn(n) (MT19937 with the polar Box-Muller method),
calling each with n = --chunk numbers at a time, the way bench_rng fills its buffers.  Each
measurement lasts at least --seconds; the best of --reps is printed.

Output, one line per item, tab-separated, parsed by bench_rng:
    INFO    <text>
    RESULT  <method>    <ns per normal>
Run on its own it is also readable; bench_rng runs it and prints the combined table.
"""
import argparse
import sys
import time


def measure(fill, chunk, seconds, reps):
    """Best-of-reps ns per number; each rep calls fill() enough times to last >= seconds."""
    fill()  # warm-up
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            fill()
        t = time.perf_counter() - t0
        if t >= 0.05:
            break
        calls *= 2
    calls = int(calls * seconds / t * 1.05) + 1
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            fill()
        best = min(best, time.perf_counter() - t0)
    return best / (calls * chunk) * 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunk", type=int, default=1 << 16, help="normals per call (default 65536)")
    ap.add_argument("--seconds", type=float, default=0.5, help="minimum seconds per measurement")
    ap.add_argument("--reps", type=int, default=3, help="measurements; the best is reported")
    args = ap.parse_args()
    try:
        import numpy as np
    except ImportError:
        print("INFO\tnumpy is not importable by %s" % sys.executable)
        return 1

    n = args.chunk
    rng = np.random.default_rng(0x9E3779B97F4A7C15)
    np.random.seed(5489)
    print("INFO\t%s, Python %s, numpy %s" % (sys.executable, sys.version.split()[0], np.__version__))
    sys.stdout.flush()
    methods = [
        ("numpy default_rng().standard_normal(n) (PCG64, ziggurat)",
         lambda: rng.standard_normal(n)),
        ("numpy.random.randn(n) (legacy MT19937, polar Box-Muller)",
         lambda: np.random.randn(n)),
    ]
    for name, fill in methods:
        ns = measure(fill, n, args.seconds, args.reps)
        print("RESULT\t%s\t%.4f" % (name, ns))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
