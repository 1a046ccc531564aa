"""The instruction-set paths of the depthwise, matrix-product and batch-norm kernels
(``minigrad.backend.simd``): every path this CPU supports computes what the NumPy twin computes,
bit-identically for any thread count within the path, and equal to 1e-5 across paths; the choice
is made at import, reported by ``build_info``, and can be forced with ``MINIGRAD_SIMD``."""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.backend import simd
from minigrad.backend.kernels import depthwise as fast
from minigrad.backend.kernels.reference import depthwise as ref
from test_depthwise_kernels import KERNELS, make_case, run, run_backward

CASES = [
    # MobileNet's 3x3 at stride 1 and 2, channel counts with full, half and scalar parts
    dict(n=2, h=14, w=14, c=35, m=1, kernel=(3, 3), strides=(1, 1), dilation=(1, 1),
         padding="same"),
    dict(n=2, h=15, w=13, c=24, m=1, kernel=(3, 3), strides=(2, 2), dilation=(1, 1),
         padding="same"),
    # depth multiplier, dilation, a 5x5 window (more taps than an AVX2 block holds)
    dict(n=1, h=11, w=12, c=11, m=3, kernel=(5, 5), strides=(1, 2), dilation=(2, 1),
         padding="valid"),
]


def test_the_fastest_supported_path_is_chosen_and_reported():
    available = simd.available()
    assert available[0] == "base" and set(available) <= {"base", "avx2", "avx512"}
    if "MINIGRAD_SIMD" not in os.environ:
        assert simd.path() == available[-1]
    info = mg.build_info()
    assert info["simd"] == simd.path() and info["simd_available"] == available


@pytest.mark.parametrize("path", ["base", "avx2", "avx512"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_path_matches_the_numpy_twin_for_any_thread_count(each_path, path, dtype):
    each_path(path)
    assert simd.path() == path
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for cfg in CASES:
        calls, geometry = make_case(np.random.default_rng(3), dtype=dtype, **cfg)
        for name in KERNELS:
            results = [run(fast, name, calls, geometry, threads) for threads in (1, 2, 3)]
            assert np.array_equal(results[0], results[1]) and \
                np.array_equal(results[0], results[2]), f"{path} {name}: thread counts differ"
            want = run(ref, name, calls, geometry, 1)
            # sums of hundreds of float32 products: cancellation makes small elements of the
            # kernel gradient relatively inexact, so the tolerance scales with the largest
            np.testing.assert_allclose(results[0], want, rtol=tol,
                                       atol=tol * np.abs(want).max(), err_msg=f"{path} {name}")
        fused = [run_backward(fast, calls, geometry, threads) for threads in (1, 3)]
        assert all(np.array_equal(a, b) for a, b in zip(*fused)), f"{path}: backward"


def test_the_paths_agree_to_1e_5(each_path):
    calls, geometry = make_case(np.random.default_rng(5), dtype=np.float32, **CASES[0])
    results = {}
    for path in simd.available():
        each_path(path)
        results[path] = [run(fast, name, calls, geometry, 2) for name in KERNELS]
    for path, outs in results.items():
        for name, got, want in zip(KERNELS, outs, results["base"]):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max(),
                                       err_msg=f"{path} vs base: {name}")


def test_build_info_says_no_path_runs_under_the_numpy_twins():
    code = "import minigrad as mg; print(mg.build_info()['simd'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "MINIGRAD_KERNELS": "reference"}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"


def test_an_unknown_or_unsupported_path_is_refused(each_path):
    with pytest.raises(ValueError, match="simd path must be one of.*'sse9'"):
        simd.set_path("sse9")
    assert simd.path() in simd.available()


def _import_with(value):
    env = {**os.environ, "MINIGRAD_SIMD": value}
    code = "import minigrad as mg; print(mg.build_info()['simd'])"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)


def test_minigrad_simd_forces_a_path_at_import():
    done = _import_with("base")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "base"
    done = _import_with("neon9")
    assert done.returncode != 0
    assert "MINIGRAD_SIMD must be one of" in done.stderr and "'neon9'" in done.stderr


def _batchnorm_results(module, x, g, vectors, bounds, threads):
    """Every batch-norm kernel of ``module`` (compiled or twin) on one case."""
    a, b, d, center, scale, shift = vectors
    c = x.shape[1]
    mean, var, sg, sgx = (np.empty(c) for _ in range(4))
    y, gx = np.empty_like(x), np.empty_like(x)
    module.moments(x, mean, var, threads)
    module.backward_sums(x, g, mean, center, scale, shift, *bounds, sg, sgx, threads)
    module.normalize(x, center, scale, shift, *bounds, y, threads)
    module.normalize_backward(g, x, center, scale, shift, *bounds, a, b, d, gx, threads)
    return mean, var, sg, sgx, y, gx


@pytest.mark.parametrize("path", ["base", "avx2", "avx512"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_paths_match_the_twin_for_any_thread_count(each_path, path, dtype):
    from minigrad.backend.kernels import batchnorm as bn_fast
    from minigrad.backend.kernels.reference import batchnorm as bn_ref
    each_path(path)
    assert simd._module_paths()["batchnorm"] == path
    rng = np.random.default_rng(6)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)
    # channels: full vectors, a remainder, more than one 256-channel chunk; rows: blocks of 256
    # and of 4 with remainders
    for p, c in [(1031, 16), (603, 35), (37, 300)]:
        x = (rng.standard_normal((p, c)) * 3 + 5).astype(dtype)
        g = rng.standard_normal((p, c)).astype(dtype)
        vectors = [rng.standard_normal(c).astype(dtype) for _ in range(6)]
        for bounds in [(-np.inf, np.inf), (0.0, 6.0)]:
            runs = [_batchnorm_results(bn_fast, x, g, vectors, bounds, t) for t in (1, 2, 3)]
            for run_ in runs[1:]:
                assert all(np.array_equal(u, v) for u, v in zip(runs[0], run_)), \
                    f"{path} {(p, c)}: thread counts differ"
            for ours, twin in zip(runs[0], _batchnorm_results(bn_ref, x, g, vectors, bounds, 1)):
                np.testing.assert_allclose(ours, twin, **tol, err_msg=f"{path} {(p, c)}")
