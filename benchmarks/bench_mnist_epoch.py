"""Seconds per MNIST epoch: minigrad vs PyTorch (NCHW and channels_last), same model, same run.

    python benchmarks/bench_mnist_epoch.py                  # one full epoch each (60,000 images)
    python benchmarks/bench_mnist_epoch.py --images 6400    # a tenth, scaled up to an epoch

The model is examples/mnist_mobilenet.py's; PyTorch gets the same layers (BatchNorm momentum
0.01 = Keras's 0.99, eps 1e-3), batch 64, Adam, the same thread count. Each timing runs in a
process of its own (``--worker``): two OpenMP runtimes (minigrad's libgomp, PyTorch's) and their
thread settings in one process disturb each other. The machine is shared and noisy: each framework
runs ``--repeats`` times, interleaved, and the median is reported, with the ratio.

"torch channels_last, tuned malloc" is PyTorch at its best here: the same run with glibc told to
keep freed memory (``MALLOC_MMAP_THRESHOLD_=1000000000 MALLOC_TRIM_THRESHOLD_=100000000000``), so
that PyTorch stops faulting in fresh pages for its activations every step. minigrad's buffer pool
does that for minigrad, so this is the fair comparison of the two engines.
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_example():
    path = os.path.join(HERE, os.pardir, "examples", "mnist_mobilenet.py")
    spec = importlib.util.spec_from_file_location("mnist_mobilenet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_minigrad(example, x, y, batch_size, threads):
    import minigrad as mg
    mg.set_num_threads(threads)
    model = example.build_model()
    model.compile(optimizer=mg.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.train_on_batch(x[:batch_size], y[:batch_size])  # build and warm up
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, shuffle=True)
    return time.perf_counter() - start


def torch_model(torch, example):
    nn = torch.nn

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    stem = 16
    mods = [nn.Conv2d(1, stem, 3, padding=1, bias=False), bn(stem), nn.ReLU6()]
    c = stem
    for filters, stride in example.BLOCKS:
        mods += [nn.Conv2d(c, c, 3, stride=stride, padding=1, groups=c, bias=False), bn(c), nn.ReLU6(),
                 nn.Conv2d(c, filters, 1, bias=False), bn(filters), nn.ReLU6()]
        c = filters
    mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10)]
    return nn.Sequential(*mods)


def time_torch(torch, example, x, y, batch_size, threads, channels_last):
    torch.set_num_threads(threads)
    model = torch_model(torch, example)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y)

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb.contiguous(memory_format=fmt)), yb)
        loss.backward()
        opt.step()

    step(xt[:batch_size], yt[:batch_size])
    start = time.perf_counter()
    perm = torch.randperm(len(xt))
    for i in range(0, len(xt), batch_size):
        idx = perm[i:i + batch_size]
        step(xt[idx], yt[idx])
    return time.perf_counter() - start


def run_worker(name, args):
    """Time one framework in this process; print the seconds for the images timed.

    PyTorch is imported before the example (which imports minigrad): ``import minigrad`` puts its
    OpenMP settings in the environment (``minigrad/backend/openmp_env.py``), and PyTorch's own
    OpenMP runtime must start with the user's environment, as installed, not with minigrad's."""
    torch = None
    if name != "minigrad":
        try:
            import torch
        except ImportError:
            sys.exit(3)
    example = _load_example()
    (x, y), _ = example.load_mnist(args.images)
    if torch is None:
        seconds = time_minigrad(example, x, y, args.batch_size, args.threads)
    else:
        seconds = time_torch(torch, example, x, y, args.batch_size, args.threads,
                             channels_last="channels_last" in name)
    print(seconds)


# glibc keeps freed memory instead of returning it to the system (read at process start)
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "1000000000", "MALLOC_TRIM_THRESHOLD_": "100000000000"}
TORCH_RUNS = ["torch NCHW", "torch channels_last", "torch channels_last, tuned malloc"]


def time_in_subprocess(name, args):
    """Seconds for the images timed, from a fresh process; None when torch is not installed."""
    command = [sys.executable, os.path.abspath(__file__), "--worker", name,
               "--images", str(args.images), "--batch-size", str(args.batch_size),
               "--threads", str(args.threads)]
    env = dict(os.environ)
    if name.endswith("tuned malloc"):
        env.update(TUNED_MALLOC)
    if name == "minigrad":  # what `import minigrad` before NumPy sets, as in the examples
        env.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode == 3 and name != "minigrad":
        return None
    if done.returncode != 0:
        raise RuntimeError(f"the {name} worker failed:\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=60000, help="images to time (scaled to 60,000)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--worker", choices=["minigrad"] + TORCH_RUNS,
                        help=argparse.SUPPRESS)   # internal: time one framework, print seconds
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args)
        return

    images = min(args.images, 60000)
    scale = 60000 / images
    names = ["minigrad"] + ([] if args.no_torch else list(TORCH_RUNS))
    results = {}
    for _ in range(args.repeats):
        for name in list(names):  # interleaved, so a noisy minute hurts every framework alike
            seconds = time_in_subprocess(name, args)
            if seconds is None:
                print(f"{name}: torch is not installed, skipped", file=sys.stderr)
                names.remove(name)
                continue
            results.setdefault(name, []).append(seconds * scale)
    print(f"one MNIST epoch (60,000 images, batch {args.batch_size}, Adam, {args.threads} threads), "
          f"median of {args.repeats}, timed on {images} images, each run in its own process:")
    base = statistics.median(results["minigrad"])
    for name, times in results.items():
        t = statistics.median(times)
        runs = ", ".join(f"{v:.1f}" for v in times)
        print(f"  {name:<34} {t:7.1f} s/epoch   {t / base:5.2f}x minigrad's time   (runs: {runs})")


if __name__ == "__main__":
    main()
