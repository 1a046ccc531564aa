"""Two builds of the depthwise kernels side by side: is a change to depthwise.pyx faster?

Run:  cp minigrad/backend/kernels/depthwise.cpython-*.so /tmp/before.so     # the build to beat
      (edit, then python setup.py build_ext --inplace)
      python benchmarks/bench_depthwise_ab.py /tmp/before.so \
          minigrad/backend/kernels/depthwise.cpython-*.so
                                              [--op fwd|grad_in|grad_k|bwd] [--threads 1,2] [--warm]
                                              [--simd base,avx512]

On a shared, noisy machine two separate benchmark runs differ by more than most changes gain.
This script loads both builds into one process (each ``.so`` under a module name of its own) and
calls them alternately on the same arrays, so noise falls on both alike, then prints the median
of each and their ratio. It also checks that both give the same bits. Two copies of one build
with ``--simd base,avx512`` compare its instruction-set paths (``minigrad.backend.simd``).

By default a 64 MB buffer is written before every call (``--warm`` leaves it out), so each call
finds x, G and the outputs in memory rather than in the caches, as inside a network.
``--op bwd`` times ``depthwise_backward`` where both builds have it, else grad_input followed by
grad_kernel.
"""
import argparse
import importlib.util
import os
import statistics
import sys
import time
import types

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from minigrad.ops.geometry import conv_geometry  # noqa: E402

# (N, C, H, W, stride, depth multiplier): 3x3 'same'
SHAPES = [(64, 32, 28, 28, 1, 1), (64, 64, 28, 28, 2, 1), (64, 128, 14, 14, 1, 1),
          (64, 256, 7, 7, 1, 1), (64, 32, 28, 28, 1, 2)]


def load(path, tag):
    """The extension at ``path`` as a module of its own (its init function is PyInit_depthwise,
    so the module's last name must be ``depthwise``). Its package ``tag`` finds the rest of the
    kernels' package (``from .depthwise_plan import ...``) in minigrad/backend/kernels/."""
    package = types.ModuleType(tag)
    package.__path__ = [os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                                     "minigrad", "backend", "kernels")]
    sys.modules[tag] = package
    spec = importlib.util.spec_from_file_location(f"{tag}.depthwise", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def call(module, op, arrays, geometry, threads):
    x, kernel, grad, out, grad_x, grad_kernel = arrays
    if op == "fwd":
        module.depthwise_forward(x, kernel, out, *geometry, threads)
    elif op == "grad_in":
        module.depthwise_grad_input(grad, kernel, grad_x, *geometry, threads)
    elif op == "grad_k":
        module.depthwise_grad_kernel(x, grad, grad_kernel, *geometry, threads)
    elif hasattr(module, "depthwise_backward"):
        module.depthwise_backward(x, kernel, grad, grad_x, grad_kernel, *geometry, threads)
    else:
        module.depthwise_grad_input(grad, kernel, grad_x, *geometry, threads)
        module.depthwise_grad_kernel(x, grad, grad_kernel, *geometry, threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builds", nargs=2, help="two depthwise extension modules (.so)")
    parser.add_argument("--op", choices=["fwd", "grad_in", "grad_k", "bwd"], default="fwd")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--warm", action="store_true", help="do not evict the caches")
    parser.add_argument("--simd", metavar="A,B", help="instruction-set path of each build, e.g. "
                        "base,avx512 (builds with runtime dispatch; default: each one's best)")
    args = parser.parse_args()
    modules = [load(path, f"build{i}") for i, path in enumerate(args.builds)]
    if args.simd:
        for module, path in zip(modules, args.simd.split(",")):
            module._set_simd_path(path.strip())
    evict = None if args.warm else np.zeros(16 << 20, dtype=np.float32)
    rng = np.random.default_rng(0)
    names = [os.path.basename(p) + (f" ({m._simd_path()})" if hasattr(m, "_simd_path") else "")
             for p, m in zip(args.builds, modules)]
    print(f"{args.op}, {'warm' if args.warm else 'cold'} caches, median ms of {args.repeat}: "
          f"A = {names[0]}, B = {names[1]}")
    for n, c, h, w, s, m in SHAPES:
        (oh, ow), (pt, _), (pl, _) = conv_geometry((h, w), (3, 3), (s, s), (1, 1), "same")
        x = rng.standard_normal((n, h, w, c), dtype=np.float32)
        kernel = rng.standard_normal((3, 3, c, m), dtype=np.float32)
        grad = rng.standard_normal((n, oh, ow, c * m), dtype=np.float32)
        geometry = (s, s, 1, 1, pt, pl)
        results = []
        for module in modules:  # also warms both up
            arrays = (x, kernel, grad, np.empty_like(grad), np.empty_like(x),
                      np.empty_like(kernel))
            call(module, args.op, arrays, geometry, 1)
            written = {"fwd": (3,), "grad_in": (4,), "grad_k": (5,), "bwd": (4, 5)}[args.op]
            results.append([arrays[i] for i in written])
        same = all(np.array_equal(a, b) for a, b in zip(*results))
        arrays = (x, kernel, grad, np.empty_like(grad), np.empty_like(x), np.empty_like(kernel))
        for threads in [int(t) for t in args.threads.split(",")]:
            times = [[], []]
            for _ in range(args.repeat):
                for i, module in enumerate(modules):
                    if evict is not None:
                        np.add(evict, 1.0, out=evict)
                    t0 = time.perf_counter()
                    call(module, args.op, arrays, geometry, threads)
                    times[i].append(time.perf_counter() - t0)
            a, b = (1000 * statistics.median(t) for t in times)
            print(f"{n}x{c}x{h}x{w} s{s} M{m} thr{threads}: A {a:7.3f}  B {b:7.3f}  A/B {a / b:5.2f}"
                  f"  {'same bits' if same else 'DIFFERENT BITS'}", flush=True)


if __name__ == "__main__":
    main()
