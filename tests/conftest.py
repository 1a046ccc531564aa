"""Shared hypothesis strategies and helpers for the tests (``from conftest import ...``), and the
``op_kernels`` fixture that runs a test module on the compiled kernels and on their NumPy twins.

Shapes stay tiny on purpose: gradcheck runs two forward passes per input element. Values come
from a NumPy generator seeded by a hypothesis-drawn seed, so a failing example replays exactly.
"""
import os
import shutil
import sys

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 3  # largest axis drawn: 3 x 3 x 3 = 27 elements is already 54 forward passes per input

seeds = st.integers(0, 2**32 - 1)


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=MAX_SIDE):
    """Array shapes, () and shapes holding a 0 or a 1 included."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=MAX_SIDE):
    """Tuples of ``num_shapes`` shapes that broadcast together (size-1 and missing axes included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda b: b.input_shapes)


def uniform(rng, shape, low=-2.0, high=2.0, away_from_zero=False, dtype=np.float64):
    """Values uniform in [low, high]; ``away_from_zero``: magnitudes in [low, high] with random
    signs (for division, and to keep clear of the kink of |x| or relu at 0)."""
    values = rng.uniform(low, high, size=shape)
    if away_from_zero:
        values *= rng.choice([-1.0, 1.0], size=shape)
    return values.astype(dtype)


@pytest.fixture(scope="module", params=["compiled", "reference"])
def op_kernels(request):
    """Run every test of a module twice: on the compiled kernels, then on their NumPy twins.

    Use it with ``pytestmark = pytest.mark.usefixtures("op_kernels")``. For "reference" the ops'
    kernel modules (taken once, at import, from ``minigrad.backend.kernels.get``) are swapped for
    their twins, which is what ``MINIGRAD_KERNELS=reference`` does at import. Module scope: each
    module runs once per kind, not once per test.
    """
    from minigrad.backend import kernels

    if request.param == "compiled":
        if kernels.MODE == "reference":
            pytest.skip("MINIGRAD_KERNELS=reference: the ops run on the twins only")
        yield request.param
        return
    twins = {id(kernels.get(name, "compiled")): kernels.get(name, "reference")
             for name in kernels.NAMES}
    with pytest.MonkeyPatch.context() as patch:
        for module_name, module in list(sys.modules.items()):
            if not module_name.startswith("minigrad.ops") or module is None:
                continue
            for attr, value in list(vars(module).items()):
                if id(value) in twins:
                    patch.setattr(module, attr, twins[id(value)])
        yield request.param

# The fixture generators (tests/make_*.py) run with an oracle installed (Keras 3, tf.keras 2 and
# the TF.js converter): they are scripts, not tests, and importing them for --doctest-modules
# would need those oracles.
collect_ignore_glob = ["make_*.py"]


@pytest.fixture
def each_path():
    """Yields ``use(path)``, which runs the kernels on an instruction-set path from then on, or
    skips the test when this CPU cannot run that path; the import-time path is restored
    afterwards."""
    from minigrad.backend import simd
    before = simd.path()

    def use(path):
        if path not in simd.available():
            pytest.skip(f"this CPU cannot run the {path} kernels")
        simd.set_path(path)

    yield use
    simd.set_path(before)


@pytest.fixture(scope="module")
def keras():
    """Keras 3 as an oracle, on the PyTorch backend (no TensorFlow); the test skips without
    Keras or torch, or when KERAS_BACKEND names another backend (the comparisons read gradients
    through torch)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("the oracle needs Keras 3 on the torch backend (KERAS_BACKEND=torch)")
    return keras


# -- TF.js under Node as an oracle: installed once with ``cd tests/tfjs && npm ci`` ------------------
TFJS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tfjs")
TFJS_MISSING = ("TF.js is not installed for the tests: run 'cd tests/tfjs && npm ci' once "
                "(needs Node.js and the network)")


def tfjs_oracle_missing():
    """Why the TF.js oracle cannot run here (a sentence), or None when it can. The tests never
    install it themselves: the suite must pass without the network."""
    if shutil.which("node") is None:
        return "node is not installed: the TF.js checks need Node.js"
    if not os.path.isdir(os.path.join(TFJS_DIR, "node_modules", "@tensorflow", "tfjs")):
        return TFJS_MISSING
    return None


@pytest.fixture(scope="session")
def node():
    """The path of ``node`` with the pinned TF.js beside the tests, else a skip saying why."""
    reason = tfjs_oracle_missing()
    if reason:
        pytest.skip(reason)
    return shutil.which("node")
