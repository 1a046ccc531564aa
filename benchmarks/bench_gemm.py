"""The convolutions' matrix products: minigrad's kernels next to NumPy's BLAS and PyTorch.

Run:  python benchmarks/bench_gemm.py [--threads 1] [--repeat 30]

For the six product shapes of examples/mnist_mobilenet.py's convolutions at batch 64 (the stem's
im2col matrix and the five pointwise convolutions: P = N*H*W rows, K input and N output
channels), it times the three products of a training step in float32:

* ``fwd``   ``x (P, K) @ W (K, N)``;
* ``dx``    ``G (P, N) @ W^T (N, K)``;
* ``dW``    ``x^T @ G`` (K, N).

minigrad's are ``minigrad.ops._matmul.matmul`` / ``matmul_tn`` (``kernels/gemm.pyx``); NumPy's
are ``np.matmul`` (its OpenBLAS); PyTorch's ``torch.mm`` (its oneDNN/MKL path), when installed.
Each library is timed in a phase of its own (all of minigrad's, then all of NumPy's, then
PyTorch's), so that one library's idle threads do not spin through the other's timings. Medians
in milliseconds, and the totals per product.
"""
import argparse
import os
import statistics
import sys
import time

if __name__ == "__main__" and "--threads" in sys.argv:
    # BLAS and OpenMP read their thread counts once, at load: set them before NumPy is imported
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _n

import minigrad as mg  # noqa: E402  (first: its OpenMP settings, before NumPy loads BLAS)
import numpy as np  # noqa: E402
from minigrad.ops import _matmul  # noqa: E402

# (P, K, N): the stem's 3x3 im2col on one channel, then the five pointwise convolutions
SHAPES = [(50176, 9, 16), (50176, 16, 32), (12544, 32, 64), (12544, 64, 64), (3136, 64, 128),
          (3136, 128, 128)]
PRODUCTS = ("fwd", "dx", "dW")


def median_ms(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def cases(rng):
    for p, k, n in SHAPES:
        x = rng.standard_normal((p, k), dtype=np.float32)
        w = rng.standard_normal((k, n), dtype=np.float32)
        g = rng.standard_normal((p, n), dtype=np.float32)
        yield (p, k, n), x, w, g


def time_minigrad(x, w, g, repeat):
    wt = np.ascontiguousarray(w.T)
    return [median_ms(lambda: _matmul.matmul(x, w), repeat),
            median_ms(lambda: _matmul.matmul(g, wt), repeat),
            median_ms(lambda: _matmul.matmul_tn(x, g), repeat)]


def time_numpy(x, w, g, repeat):
    y, dx = np.empty((x.shape[0], w.shape[1]), np.float32), np.empty_like(x)
    return [median_ms(lambda: np.matmul(x, w, out=y), repeat),
            median_ms(lambda: np.matmul(g, w.T, out=dx), repeat),
            median_ms(lambda: np.matmul(x.T, g), repeat)]


def time_torch(torch, x, w, g, repeat):
    x, w, g = (torch.from_numpy(a) for a in (x, w, g))
    with torch.no_grad():
        return [median_ms(lambda: torch.mm(x, w), repeat),
                median_ms(lambda: torch.mm(g, w.t()), repeat),
                median_ms(lambda: torch.mm(x.t(), g), repeat)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    mg.set_num_threads(args.threads)
    data = list(cases(np.random.default_rng(0)))
    results = {"minigrad": [time_minigrad(x, w, g, args.repeat) for _, x, w, g in data],
               "numpy": [time_numpy(x, w, g, args.repeat) for _, x, w, g in data]}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)
        results["torch"] = [time_torch(torch, x, w, g, args.repeat) for _, x, w, g in data]
    libs = list(results)
    print(f"float32 products, {args.threads} threads, median of {args.repeat}, ms "
          f"(numpy {np.__version__}" + (f", torch {torch.__version__})" if torch else ")"))
    header = "P x K x N".ljust(18) + "".join(f"{lib + ' ' + prod:>14}" for prod in PRODUCTS
                                               for lib in libs)
    print(header)
    for i, (shape, *_rest) in enumerate(data):
        row = "x".join(map(str, shape)).ljust(18)
        row += "".join(f"{results[lib][i][j]:14.3f}" for j in range(3) for lib in libs)
        print(row)
    totals = "total".ljust(18) + "".join(
        f"{sum(r[j] for r in results[lib]):14.3f}" for j in range(3) for lib in libs)
    print(totals)


if __name__ == "__main__":
    main()
