"""The staged batch norms (minigrad/ops/fused.py) next to the ops they replace, on the blocks of
examples/mnist_mobilenet.py.

    python benchmarks/bench_fused.py [--batch 64] [--threads 2] [--repeat 21] [--cold]

For each block's two convolutions it times one forward and one backward (every gradient) of
``batch_norm_depthwise_conv2d`` / ``batch_norm_pointwise_conv2d`` and of what the plan runs
without them, ``batch_norm_train(..., activation="relu6")`` then the convolution, alternately, and
prints the medians in milliseconds, their ratio (below 1: the fused op is faster) and the sums.
The two give the same bits (tests/test_ops_fused.py); what differs is that the fused op never
writes the batch norm's output, and computes the map twice (forward, and the kernel gradient)
instead of once. With ``--cold`` a 64 MB buffer is written before every timed run, so that the
arrays start in memory rather than in the cache, as inside a training step.
"""
import argparse
import os
import statistics
import sys
import time

if __name__ == "__main__" and "--threads" in sys.argv:
    os.environ["OMP_NUM_THREADS"] = sys.argv[sys.argv.index("--threads") + 1]

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402

# (H, C, stride) of the depthwise convolutions and (H, Cin, Cout) of the 1x1 ones
DEPTHWISE = [(28, 16, 1), (28, 32, 2), (14, 64, 1), (14, 64, 2), (7, 128, 1)]
POINTWISE = [(28, 16, 32), (14, 32, 64), (14, 64, 64), (7, 64, 128), (7, 128, 128)]


def _cases(batch, rng):
    """(label, fused step, unfused step) for every convolution of the model."""
    def make(shape, kernel_shape, fused_op, conv, settings):
        x = mg.Tensor((3 * rng.standard_normal(shape) + 1).astype(np.float32), requires_grad=True)
        kernel = mg.Tensor(rng.standard_normal(kernel_shape).astype(np.float32), requires_grad=True)
        gamma = mg.Tensor(np.ones(shape[3], np.float32), requires_grad=True)
        beta = mg.Tensor(np.zeros(shape[3], np.float32), requires_grad=True)

        seed = []   # dL/dy, made once (a fresh multi-megabyte array would cost page faults)

        def backward(y):
            if not seed:
                seed.append(np.ones(y.shape, np.float32))
            y.backward(seed[0])

        def fused():
            backward(fused_op(x, gamma, beta, kernel, activation="relu6", **settings)[0])

        def unfused():
            a = mg.ops.batch_norm_train(x, gamma, beta, activation="relu6")[0]
            backward(conv(a, kernel, **settings))
        return fused, unfused

    for h, c, s in DEPTHWISE:
        yield (f"dw {batch}x{h}x{h}x{c} s{s}",
               *make((batch, h, h, c), (3, 3, c, 1), mg.ops.batch_norm_depthwise_conv2d,
                     mg.ops.depthwise_conv2d, {"strides": s, "padding": "same"}))
    for h, cin, cout in POINTWISE:
        yield (f"1x1 {batch}x{h}x{h}x{cin}->{cout}",
               *make((batch, h, h, cin), (1, 1, cin, cout), mg.ops.batch_norm_pointwise_conv2d,
                     mg.ops.conv2d, {}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--cold", action="store_true", help="arrays start in memory, not cache")
    args = parser.parse_args()
    mg.set_num_threads(args.threads)
    scratch = np.zeros(16 << 20, np.float32) if args.cold else None
    print(f"{'convolution':28s} {'fused':>8s} {'unfused':>8s} {'ratio':>6s}   (ms, median of "
          f"{args.repeat}, {args.threads} threads{', cold' if args.cold else ''})")
    totals = [0.0, 0.0]
    for label, fused, unfused in _cases(args.batch, np.random.default_rng(0)):
        times = [[], []]
        for step in (fused, unfused):
            step()                                       # warm-up: buffers, plans
        for _ in range(args.repeat):
            for i, step in enumerate((fused, unfused)):  # alternately: noise falls on both
                if scratch is not None:
                    scratch += 1.0
                t = time.perf_counter()
                step()
                times[i].append(time.perf_counter() - t)
        f, u = (1000 * statistics.median(ts) for ts in times)
        totals[0] += f
        totals[1] += u
        print(f"{label:28s} {f:8.3f} {u:8.3f} {f / u:6.2f}")
    print(f"{'sum':28s} {totals[0]:8.3f} {totals[1]:8.3f} {totals[0] / totals[1]:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
