"""Two checkouts of minigrad, timed alternately in fresh processes: is a change slower?

    python benchmarks/bench_ab.py /path/to/before /path/to/after --rounds 7

Each round runs, for each tree in turn (so both see the same load), one process that times
(a) the engine: ``benchmarks/bench_engine.py``'s chain (``y = y * a + b``, with a and b weights,
then Python numbers), microseconds per op, median of 21 runs; (b) a training step of examples/mnist_mobilenet.py's model, batch 64,
Adam, 2 threads: milliseconds per ``train_on_batch``, median of 30 steps after 5 of warm-up.
Reported: the median over rounds of each tree's numbers, and after/before. The trees must be
built in place (``python setup.py build_ext --inplace``); nothing is imported from the current
environment's minigrad.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

WORKER = r'''
import importlib.util, json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import minigrad as mg
import numpy as np
assert mg.__file__.startswith(sys.argv[1]), mg.__file__
mg.set_num_threads(2)

def chain(steps=1000, weights=True):
    x = mg.Tensor(np.ones(4), requires_grad=True)
    a, b = mg.Tensor(np.ones(4), requires_grad=True), mg.Tensor(np.ones(4), requires_grad=True)
    if not weights:
        a, b = 1.0, 0.5
    y = x
    for _ in range(steps):
        y = y * a + b
    y.sum().backward()

chain()
engine, numbers = [], []
for _ in range(21):
    t = time.perf_counter(); chain(); engine.append((time.perf_counter() - t) * 1e6 / 2000)
    t = time.perf_counter(); chain(weights=False); numbers.append((time.perf_counter() - t) * 1e6 / 2000)

spec = importlib.util.spec_from_file_location("ex", sys.argv[1] + "/examples/mnist_mobilenet.py")
ex = importlib.util.module_from_spec(spec); spec.loader.exec_module(ex)
mg.initializers.set_random_seed(0)
model = ex.build_model()
model.compile(optimizer=mg.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
rng = np.random.default_rng(0)
x = rng.random((64, 28, 28, 1), dtype=np.float32); y = rng.integers(0, 10, 64)
for _ in range(5):
    model.train_on_batch(x, y)
steps = []
for _ in range(30):
    t = time.perf_counter(); model.train_on_batch(x, y); steps.append((time.perf_counter() - t) * 1e3)
print(json.dumps({"engine_us": statistics.median(engine), "engine_numbers_us": statistics.median(numbers),
                  "step_ms": statistics.median(steps)}))
'''


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    trees = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    results = {name: [] for name in trees}
    env = dict(os.environ, OMP_NUM_THREADS="2", PYTHONDONTWRITEBYTECODE="1")
    for r in range(args.rounds):
        for name, path in trees.items():
            out = subprocess.run([sys.executable, "-c", WORKER, path], capture_output=True,
                                 text=True, env=env, cwd="/", check=True).stdout
            results[name].append(json.loads(out.strip().splitlines()[-1]))
            print(f"round {r + 1} {name}: {results[name][-1]}", flush=True)
    for key, unit in (("engine_us", "us/op"), ("engine_numbers_us", "us/op"), ("step_ms", "ms/step")):
        med = {n: statistics.median(d[key] for d in results[n]) for n in trees}
        print(f"{key}: before {med['before']:.3f} {unit}, after {med['after']:.3f} {unit}, "
              f"after/before {med['after'] / med['before']:.3f}")


if __name__ == "__main__":
    main()
