"""Forward + backward time of minigrad's NN ops on MobileNet-on-MNIST sizes, next to PyTorch.

Run:  python benchmarks/bench_nn_ops.py [--repeat 30] [--batch 64] [--threads N] [--only conv]
          [--stat median|min] [--clock wall|cpu]

Every case times one forward and one backward: the gradients a training step needs (the stem
convolution never needs the gradient of the image; an image input that needs one stands for an
activation of the layer before, so its gradient is passed on, not stored). It prints the median in
milliseconds, PyTorch's median in NCHW and in channels_last, and the ratio minigrad / best PyTorch
(below 1: minigrad is faster). Both libraries run in the same process, on the same thread count,
float32. On a shared, busy machine ``--threads 1 --clock cpu`` gives the steadiest comparison.
"""
import argparse
import os
import statistics
import sys
import time

if __name__ == "__main__" and "--threads" in sys.argv:
    # BLAS reads its thread count once, at import: set it before NumPy is imported
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _n

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.ops.activation import gelu, relu6  # noqa: E402
from minigrad.ops.conv import conv2d  # noqa: E402
from minigrad.ops.linalg import bias_add  # noqa: E402
from minigrad.ops.normalization import batch_norm, batch_norm_train  # noqa: E402
from minigrad.ops.pooling import avg_pool2d, global_avg_pool2d, max_pool2d  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the table still shows minigrad's times
    torch = None


def _time_ms(steps, repeat, stat, clock, warmup=3):
    """Milliseconds of each step (median, or min with ``--stat min``). The steps run round-robin,
    so that noise from other processes falls on all of them alike. ``clock`` is wall time, or the
    CPU time of the process (``--clock cpu``: not inflated while another process has the core;
    with several threads it adds up every thread's time, spinning included)."""
    for step in steps:
        for _ in range(warmup):
            step()
    times = [[] for _ in steps]
    for _ in range(repeat):
        for step, ts in zip(steps, times):
            t0 = clock()
            step()
            ts.append(clock() - t0)
    reduce = min if stat == "min" else statistics.median
    return [1000 * reduce(ts) for ts in times]


class _Activation(mg.Function):
    """Stands in for the layer before: passes x through, and drops the gradient that reaches it
    (in a network, x is an activation, not a leaf whose .grad the engine must store)."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return None


def _mg_step(fn, inputs, grad_flags):
    """fwd + bwd closure: fresh Tensors wrap the same arrays each call (as a training step).
    The output gradient is made once, outside the timing (in a network it is the next layer's)."""
    def tensors():
        ts = []
        for a, g in zip(inputs, grad_flags):
            t = mg.Tensor._from_op(a, None)
            t.requires_grad = g
            ts.append(_Activation.apply(t) if g and a.ndim == 4 else t)
        return ts

    seed = np.ones_like(fn(*tensors()).data)

    def step():
        fn(*tensors()).backward(seed)
    return step


def _torch_step(fn, inputs, grad_flags, channels_last):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    ts = []
    for a, g in zip(inputs, grad_flags):
        t = torch.from_numpy(np.ascontiguousarray(a))
        if t.ndim == 4:
            t = t.contiguous(memory_format=fmt)
        ts.append(t.requires_grad_(g))
    seed = torch.ones_like(fn(*ts))

    def step():
        for t in ts:
            t.grad = None
        fn(*ts).backward(seed)
    return step


def _nchw(a):
    return a.transpose(0, 3, 1, 2)


def cases(n, rng):
    """(name, minigrad fn, NHWC inputs, grad flags, torch fn, torch NCHW inputs)."""
    f32 = np.float32

    def img(h, w, c):
        return rng.standard_normal((n, h, w, c)).astype(f32)

    out = []
    for h, cin, cout in [(28, 32, 64), (14, 64, 128), (7, 128, 128)]:
        x, k = img(h, h, cin), (rng.standard_normal((1, 1, cin, cout)) * 0.1).astype(f32)
        out.append((f"conv 1x1 {h}x{h}x{cin}->{cout}", lambda x, k: conv2d(x, k), [x, k],
                    [True, True], lambda x, k: F.conv2d(x, k), [_nchw(x), k.transpose(3, 2, 0, 1)]))
    for s in (1, 2):
        x, k = img(28, 28, 1), (rng.standard_normal((3, 3, 1, 32)) * 0.3).astype(f32)
        pad = (1, 1, 1, 1) if s == 1 else (0, 1, 0, 1)   # TF 'same': the odd pixel bottom/right
        out.append((f"conv 3x3 s{s} same 28x28x1->32", lambda x, k, s=s: conv2d(x, k, s, "same"),
                    [x, k], [False, True],
                    lambda x, k, s=s, pad=pad: F.conv2d(F.pad(x, pad), k, stride=s),
                    [_nchw(x), k.transpose(3, 2, 0, 1)]))
    x, k = img(14, 14, 32), (rng.standard_normal((3, 3, 32, 32)) * 0.1).astype(f32)
    out.append(("conv 3x3 s1 same 14x14x32->32", lambda x, k: conv2d(x, k, 1, "same"), [x, k],
                [True, True], lambda x, k: F.conv2d(x, k, padding=1),
                [_nchw(x), k.transpose(3, 2, 0, 1)]))
    x, b = img(28, 28, 32), rng.standard_normal(32).astype(f32)
    out.append(("bias_add 28x28x32", bias_add, [x, b], [True, True],
                lambda x, b: x + b.view(1, -1, 1, 1), [_nchw(x), b]))
    gamma, beta = rng.standard_normal(32).astype(f32), rng.standard_normal(32).astype(f32)
    out.append(("batch_norm train 28x28x32", lambda x, g, b: batch_norm_train(x, g, b, 1e-3)[0],
                [x, gamma, beta], [True, True, True],
                lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-3),
                [_nchw(x), gamma, beta]))
    out.append(("bn train + relu6 op 28x28x32",
                lambda x, g, b: relu6(batch_norm_train(x, g, b, 1e-3)[0]),
                [x, gamma, beta], [True, True, True],
                lambda x, g, b: F.relu6(F.batch_norm(x, None, None, g, b, training=True, eps=1e-3)),
                [_nchw(x), gamma, beta]))
    out.append(("bn train relu6 fused 28x28x32",
                lambda x, g, b: batch_norm_train(x, g, b, 1e-3, activation="relu6")[0],
                [x, gamma, beta], [True, True, True],
                lambda x, g, b: F.relu6(F.batch_norm(x, None, None, g, b, training=True, eps=1e-3)),
                [_nchw(x), gamma, beta]))
    # the exact (erf form) gelu: elementwise like relu6, but erf costs far more than a clip
    out.append(("gelu 28x28x32", gelu, [x], [True], lambda x: F.gelu(x), [_nchw(x)]))
    mean, var = rng.standard_normal(32).astype(f32), rng.uniform(0.5, 2, 32).astype(f32)
    out.append(("batch_norm infer 28x28x32",
                lambda x, g, b: batch_norm(x, g, b, mean, var, 1e-3), [x, gamma, beta],
                [True, True, True],
                lambda x, g, b: F.batch_norm(x, torch.from_numpy(mean), torch.from_numpy(var), g, b,
                                             training=False, eps=1e-3),
                [_nchw(x), gamma, beta]))
    out.append(("max_pool 2x2 s2 28x28x32", lambda x: max_pool2d(x, 2), [x], [True],
                lambda x: F.max_pool2d(x, 2), [_nchw(x)]))
    out.append(("avg_pool 2x2 s2 28x28x32", lambda x: avg_pool2d(x, 2), [x], [True],
                lambda x: F.avg_pool2d(x, 2), [_nchw(x)]))
    out.append(("max_pool 3x3 s2 same 28x28x32", lambda x: max_pool2d(x, 3, 2, "same"), [x],
                [True], lambda x: F.max_pool2d(F.pad(x, (0, 1, 0, 1), value=-np.inf), 3, 2),
                [_nchw(x)]))
    x7 = img(7, 7, 128)
    out.append(("global_avg_pool 7x7x128", global_avg_pool2d, [x7], [True],
                lambda x: x.mean(dim=(2, 3)), [_nchw(x7)]))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    parser.add_argument("--stat", choices=["median", "min"], default="median")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for minigrad, BLAS and torch (default: minigrad's setting)")
    args = parser.parse_args()
    if args.threads:
        mg.set_num_threads(args.threads)
    threads = mg.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"batch {args.batch}, float32, {threads} threads, numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch is not None else ", torch not installed"))
    title = f"case (fwd+bwd, {args.stat} {args.clock} ms)"
    print(f"{title:34s} {'minigrad':>9s} {'torch':>9s} {'torch_cl':>9s} {'ratio':>6s}")
    rng = np.random.default_rng(0)
    for name, fn, inputs, flags, tfn, tinputs in cases(args.batch, rng):
        if args.only not in name:
            continue
        steps = [_mg_step(fn, inputs, flags)]
        if torch is not None:
            steps += [_torch_step(tfn, tinputs, flags, cl) for cl in (False, True)]
        times = _time_ms(steps, args.repeat, args.stat,
                         time.process_time if args.clock == "cpu" else time.perf_counter)
        if torch is None:
            print(f"{name:34s} {times[0]:9.3f}")
            continue
        ours, nchw, cl = times
        print(f"{name:34s} {ours:9.3f} {nchw:9.3f} {cl:9.3f} {ours / min(nchw, cl):6.2f}")

if __name__ == "__main__":
    main()
