"""minigrad.backend.kernels: one NumPy twin per kernel module, with the kernels' names and
arguments, and the MINIGRAD_KERNELS switch that runs the library on the twins."""
import inspect
import os
import subprocess
import sys

import pytest

import minigrad as mg
from minigrad.backend import kernels


def _public_functions(module):
    """The functions a module defines itself (not the helpers it imports)."""
    return {name: value for name, value in vars(module).items()
            if not name.startswith("_") and callable(value) and not inspect.isclass(value)
            and getattr(value, "__module__", None) == module.__name__}


@pytest.mark.parametrize("name", kernels.NAMES)
def test_every_kernel_has_a_twin_with_its_name_and_arguments(name):
    compiled = _public_functions(kernels.get(name, "compiled"))
    twins = _public_functions(kernels.get(name, "reference"))
    assert compiled, name
    assert sorted(twins) == sorted(compiled)
    for function in compiled:
        assert (list(inspect.signature(twins[function]).parameters) ==
                list(inspect.signature(compiled[function]).parameters)), function


def test_twins_are_one_module_per_kernel_module():
    here = os.path.dirname(kernels.__file__)
    pyx = sorted(f[:-4] for f in os.listdir(here) if f.endswith(".pyx"))
    twins = sorted(f[:-3] for f in os.listdir(os.path.join(here, "reference"))
                   if f.endswith(".py") and not f.startswith("_"))
    # openmp.pyx reports how the build went; it computes nothing, so it has no twin
    assert twins == [name for name in pyx if name != "openmp"] == sorted(kernels.NAMES)


def test_get_refuses_unknown_names_and_modes():
    with pytest.raises(ValueError, match=r"get: name must be one of 'batchnorm', .* got 'conv'"):
        kernels.get("conv")
    with pytest.raises(ValueError,
                       match=r"get: mode must be 'compiled' or 'reference', got 'fast'"):
        kernels.get("pooling", "fast")


def _run(code, value):
    env = dict(os.environ, MINIGRAD_KERNELS=value)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


def test_minigrad_kernels_reference_runs_the_ops_on_the_twins():
    code = ("import numpy as np, minigrad as mg\n"
            "from minigrad.ops import activation, depthwise, normalization, pooling\n"
            "print(mg.build_info()['kernels'], depthwise._kernels.__name__, pooling._pool.__name__,"
            " normalization._bn.__name__, activation._ew.__name__)\n"
            "x = mg.Tensor(np.ones((1, 4, 4, 2)), requires_grad=True)\n"
            "y = mg.ops.depthwise_conv2d(x, np.ones((3, 3, 2, 1)), padding='same')\n"
            "mg.ops.relu6(mg.ops.max_pool2d(y, 2)).sum().backward()\n"
            "print(y.numpy()[0, 1, 1, 0], x.grad.sum())\n")
    result = _run(code, "reference")
    assert result.returncode == 0, result.stderr
    mode, *modules = result.stdout.split("\n")[0].split()
    assert mode == "reference"
    assert modules == [f"minigrad.backend.kernels.reference.{name}"
                       for name in ("depthwise", "pooling", "batchnorm", "elementwise")]
    assert result.stdout.split("\n")[1] == "9.0 0.0"   # relu6 clips 9 to 6: no gradient passes


def test_minigrad_kernels_is_checked_when_minigrad_is_imported():
    result = _run("import minigrad", "refrence")
    assert result.returncode != 0
    assert ("ValueError: MINIGRAD_KERNELS must be 'compiled' or 'reference', got 'refrence'"
            in result.stderr)


def test_the_default_is_the_compiled_kernels():
    if os.environ.get("MINIGRAD_KERNELS", "").strip().lower() == "reference":
        pytest.skip("this run was started with MINIGRAD_KERNELS=reference")
    assert kernels.MODE == "compiled" and mg.build_info()["kernels"] == "compiled"
    from minigrad.ops import depthwise
    assert depthwise._kernels is kernels.get("depthwise", "compiled")
