"""Per-op overhead of the autograd engine, beside PyTorch's in the same run.

A chain of small ops on a tiny tensor spends almost all of its time in the engine (making nodes and
tensors, walking the graph), not in arithmetic, so it measures what every op of a network pays on
top of its NumPy work. The chain is ``steps`` times ``y = y * a + b`` (two ops each), then
``y.sum().backward()``; time per op = (forward + backward) / (2 * steps), the median (and the
best) of ``repeats`` runs. Two variants: ``a`` and ``b`` are tensors that require grad (weights),
or Python numbers (constants such as ``0.5 * x``).

    python benchmarks/bench_engine.py                  # 1000 steps, shape (4,), 21 repeats
    python benchmarks/bench_engine.py --steps 5000 --shape 16 16 --repeats 41
    python benchmarks/bench_engine.py --profile        # cProfile of the minigrad chain, top 25

The machine is shared and noisy: compare numbers from one run (minigrad and torch alternate, run
by run, so both see the same load), and prefer more repeats to a longer chain.
"""
import argparse
import functools
import statistics
import sys
import time

import numpy as np

import minigrad as mg


def chain(lib, x0, a, b, steps, weights):
    """Forward and backward of the chain; ``lib`` makes tensors (``mg.Tensor`` or a torch
    wrapper). ``weights``: a and b are leaf tensors that require grad, else Python numbers."""
    x = lib(x0, requires_grad=True)
    if weights:
        a, b = lib(a, requires_grad=True), lib(b, requires_grad=True)
    else:
        a, b = float(a.flat[0]), float(b.flat[0])
    y = x
    for _ in range(steps):
        y = y * a + b
    y.sum().backward()
    return x.grad


def us_per_op(runs, steps, repeats):
    """Run each function of ``runs`` ``repeats`` times, interleaved (so that a burst of load
    hits all alike), after one warm-up each; (median, best) microseconds per op of each."""
    for run in runs.values():
        run()
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    per_op = 1e6 / (2 * steps)
    return {name: (statistics.median(t) * per_op, min(t) * per_op) for name, t in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="chain length / 2")
    parser.add_argument("--shape", type=int, nargs="*", default=[4], help="tensor shape")
    parser.add_argument("--repeats", type=int, default=21, help="timed runs (median kept)")
    parser.add_argument("--profile", action="store_true", help="cProfile the minigrad chain")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    shape = tuple(args.shape)
    x0 = rng.uniform(-1, 1, shape).astype(np.float32)
    # a just below 1: values and gradients stay well inside float32's normal range (a gradient
    # that decays into subnormals makes every multiplication many times slower, on both sides)
    a = rng.uniform(0.999, 1.0, shape).astype(np.float32)
    b = rng.uniform(-1e-3, 1e-3, shape).astype(np.float32)

    runs = {}
    for weights, label in ((True, "tensors"), (False, "numbers")):
        runs["minigrad", label] = functools.partial(chain, mg.Tensor, x0, a, b, args.steps, weights)

    if args.profile:
        import cProfile
        import pstats
        run = runs["minigrad", "tensors"]
        run()
        profiler = cProfile.Profile()
        profiler.runcall(run)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)  # tiny tensors: threads only add overhead

        def torch_tensor(data, requires_grad):
            return torch.tensor(data, requires_grad=requires_grad)

        for weights, label in ((True, "tensors"), (False, "numbers")):
            runs["torch", label] = functools.partial(chain, torch_tensor, x0, a, b, args.steps,
                                                     weights)
        for label in ("tensors", "numbers"):  # same chain, same gradient
            np.testing.assert_allclose(runs["minigrad", label](), runs["torch", label]().numpy(),
                                       rtol=1e-4, atol=1e-6)

    print(f"chain of {2 * args.steps} ops (y = y * a + b) on shape {shape}, forward + backward, "
          f"median of {args.repeats}; minigrad {mg.__version__}, "
          f"{'torch ' + torch.__version__ if torch else 'torch not installed'}")
    us = us_per_op(runs, args.steps, args.repeats)
    print("us/op: median (best)")
    for label in ("tensors", "numbers"):
        median, best = us["minigrad", label]
        line = f"a, b {label}: minigrad {median:6.2f} ({best:5.2f})"
        if torch is not None:
            t_median, t_best = us["torch", label]
            line += (f"   torch {t_median:6.2f} ({t_best:5.2f})   minigrad/torch "
                     f"{median / t_median:.2f}x ({best / t_best:.2f}x)")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
