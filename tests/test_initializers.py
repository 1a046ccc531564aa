"""Initializers: distributions (with fans computed as Keras does), seeds, configs and names."""
import json
import math
import pathlib

import numpy as np
import pytest

from minigrad import initializers as init

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "tfjs"
TRUNC = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


# -- fans ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape, fans", [
    ((), (1, 1)),
    ((7,), (7, 7)),
    ((20, 30), (20, 30)),
    ((3, 3, 16, 32), (144, 288)),          # Conv2D kernel (kh, kw, c_in, c_out)
    ((3, 3, 8, 2), (72, 18)),              # DepthwiseConv2D kernel (kh, kw, C, M), as Keras
    ((5, 4, 2, 3), (40, 60)),
    ((2, 3, 4, 5, 6), (120, 144)),         # Conv3D
])
def test_compute_fans_matches_keras(shape, fans):
    assert init.compute_fans(shape) == fans


# -- distributions ---------------------------------------------------------------------------
def test_random_normal_moments():
    w = init.RandomNormal(mean=0.3, stddev=0.2, seed=1)((200, 500))
    assert w.shape == (200, 500) and w.dtype == np.float32
    assert abs(w.mean() - 0.3) < 0.005
    assert abs(w.std() / 0.2 - 1) < 0.02


def test_random_uniform_bounds_and_moments():
    w = init.RandomUniform(minval=-0.3, maxval=0.7, seed=2)((100_000,))
    assert w.min() >= -0.3 and w.max() <= 0.7
    assert abs(w.mean() - 0.2) < 0.01
    assert abs(w.std() / (1 / math.sqrt(12)) - 1) < 0.02


def test_truncated_normal_honours_bound_and_moments():
    w = init.TruncatedNormal(mean=1.0, stddev=0.5, seed=3)((100_000,), dtype="float64")
    assert w.dtype == np.float64
    assert np.all(np.abs(w - 1.0) <= 2 * 0.5)
    assert abs(w.mean() - 1.0) < 0.01
    assert abs(w.std() / (0.5 * TRUNC) - 1) < 0.02
    # redrawn, not clipped: ~0.23% of draws within 0.02 stddev of the bound (clipping: ~4.8%)
    assert np.mean(np.abs(w - 1.0) > 0.99) < 0.005


CONV = (3, 3, 64, 128)       # fan_in 576, fan_out 1152, fan_avg 864
FANS = {"fan_in": 576, "fan_out": 1152, "fan_avg": 864}


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_variance_is_scale_over_fan(mode, distribution):
    scale = 3.0
    w = init.VarianceScaling(scale=scale, mode=mode, distribution=distribution, seed=4)(CONV)
    target = math.sqrt(scale / FANS[mode])
    assert abs(w.mean()) < 0.01 * target
    assert abs(w.std() / target - 1) < 0.02
    if distribution == "truncated_normal":
        assert np.abs(w).max() <= 2 * target / TRUNC * (1 + 1e-6)
    elif distribution == "uniform":
        assert np.abs(w).max() <= math.sqrt(3) * target * (1 + 1e-6)
    else:
        assert np.abs(w).max() > 2.5 * target  # the tails are kept


@pytest.mark.parametrize("cls, scale, fan, bound", [
    (init.GlorotNormal, 1.0, "fan_avg", "normal"),
    (init.GlorotUniform, 1.0, "fan_avg", "uniform"),
    (init.HeNormal, 2.0, "fan_in", "normal"),
    (init.HeUniform, 2.0, "fan_in", "uniform"),
    (init.LecunNormal, 1.0, "fan_in", "normal"),
    (init.LecunUniform, 1.0, "fan_in", "uniform"),
])
def test_presets_use_keras_parameters(cls, scale, fan, bound):
    w = cls(seed=5)(CONV)
    target = math.sqrt(scale / FANS[fan])
    assert abs(w.std() / target - 1) < 0.02
    limit = math.sqrt(3) * target if bound == "uniform" else 2 * target / TRUNC
    assert np.abs(w).max() <= limit * (1 + 1e-6)
    assert isinstance(cls(), init.VarianceScaling)


def test_depthwise_kernel_fans():
    # (kh, kw, C, M) = (5, 5, 64, 4): fan_in = 64 * 25 = 1600, fan_out = 4 * 25 = 100
    w = init.GlorotUniform(seed=6)((5, 5, 64, 4))
    assert abs(w.std() / math.sqrt(2 / 1700) - 1) < 0.03
    w = init.HeNormal(seed=7)((5, 5, 64, 4))
    assert abs(w.std() / math.sqrt(2 / 1600) - 1) < 0.03


def test_tfjs_normal_distribution_reads_as_truncated_normal():
    vs = init.VarianceScaling(mode="fanAvg", distribution="normal", seed=8)
    assert (vs.mode, vs.distribution) == ("fan_avg", "truncated_normal")
    assert init.VarianceScaling(distribution="truncatedNormal").distribution == "truncated_normal"


@pytest.mark.parametrize("shape, gain", [((64, 32), 1.0), ((32, 64), 2.0), ((3, 3, 4, 16), 0.5),
                                         ((16, 16), 1.0)])
def test_orthogonal(shape, gain):
    w = init.Orthogonal(gain=gain, seed=9)(shape, dtype="float64")
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(len(gram)), atol=1e-10)


def test_identity_and_constants():
    np.testing.assert_array_equal(init.Identity(gain=2.0)((2, 3)), [[2, 0, 0], [0, 2, 0]])
    np.testing.assert_array_equal(init.Constant(0.5)((2, 2)), np.full((2, 2), 0.5, np.float32))
    assert init.Zeros()((3,), dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(init.Ones()((2,), dtype="float64"), [1.0, 1.0])
    assert init.Zeros()(()).shape == ()


# -- seeds -----------------------------------------------------------------------------------
RANDOM = [init.RandomNormal, init.RandomUniform, init.TruncatedNormal, init.VarianceScaling,
          init.GlorotNormal, init.GlorotUniform, init.HeNormal, init.HeUniform,
          init.LecunNormal, init.LecunUniform, init.Orthogonal]


@pytest.mark.parametrize("cls", RANDOM)
def test_seeded_repeats_unseeded_does_not(cls):
    seeded = cls(seed=42)
    np.testing.assert_array_equal(seeded((6, 5)), seeded((6, 5)))
    np.testing.assert_array_equal(seeded((6, 5)), cls(seed=42)((6, 5)))
    assert not np.array_equal(seeded((6, 5)), cls(seed=43)((6, 5)))
    unseeded = cls()
    assert not np.array_equal(unseeded((6, 5)), unseeded((6, 5)))


def test_set_random_seed_makes_unseeded_draws_reproducible():
    init.set_random_seed(123)
    first = [init.GlorotUniform()((4, 4)), init.RandomNormal()((3,))]
    init.set_random_seed(123)
    second = [init.GlorotUniform()((4, 4)), init.RandomNormal()((3,))]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    init.set_random_seed(None)


# -- names, configs, round trips -------------------------------------------------------------
ALIASES = {
    "zeros": init.Zeros, "ones": init.Ones, "constant": init.Constant,
    "random_normal": init.RandomNormal, "random_uniform": init.RandomUniform,
    "truncated_normal": init.TruncatedNormal, "glorot_normal": init.GlorotNormal,
    "glorot_uniform": init.GlorotUniform, "he_normal": init.HeNormal, "he_uniform": init.HeUniform,
    "lecun_normal": init.LecunNormal, "lecun_uniform": init.LecunUniform,
    "variance_scaling": init.VarianceScaling, "orthogonal": init.Orthogonal,
    "identity": init.Identity,
    # TF.js identifiers and class names
    "glorotNormal": init.GlorotNormal, "glorotUniform": init.GlorotUniform,
    "heNormal": init.HeNormal, "heUniform": init.HeUniform, "leCunNormal": init.LecunNormal,
    "leCunUniform": init.LecunUniform, "LeCunUniform": init.LecunUniform,
    "randomNormal": init.RandomNormal, "randomUniform": init.RandomUniform,
    "truncatedNormal": init.TruncatedNormal, "varianceScaling": init.VarianceScaling,
    "VarianceScaling": init.VarianceScaling, "GlorotUniform": init.GlorotUniform,
    # Keras's short aliases
    "normal": init.RandomNormal, "uniform": init.RandomUniform, "one": init.Ones, "zero": init.Zeros,
}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_get_every_name(name):
    obj = init.get(name)
    assert type(obj) is ALIASES[name]
    assert init.deserialize(name).get_config() == obj.get_config()


EXAMPLES = [init.Zeros(), init.Ones(), init.Constant(value=-1.5),
            init.RandomNormal(mean=1.0, stddev=0.1, seed=3), init.RandomUniform(-1, 2, seed=None),
            init.TruncatedNormal(stddev=2.0, seed=0),
            init.VarianceScaling(scale=0.5, mode="fan_out", distribution="uniform", seed=11),
            init.GlorotNormal(seed=1), init.GlorotUniform(), init.HeNormal(), init.HeUniform(seed=2),
            init.LecunNormal(), init.LecunUniform(), init.Orthogonal(gain=3.0, seed=4),
            init.Identity(gain=0.5)]


@pytest.mark.parametrize("obj", EXAMPLES, ids=lambda o: type(o).__name__)
def test_serialize_round_trip(obj):
    entry = init.serialize(obj)
    assert entry["class_name"] == type(obj).__name__
    entry = json.loads(json.dumps(entry))          # JSON-ready
    back = init.deserialize(entry)
    assert type(back) is type(obj) and back.get_config() == obj.get_config()
    assert type(obj).from_config(obj.get_config()).get_config() == obj.get_config()
    assert init.get(obj) is obj


def test_keras_config_keys():
    assert init.GlorotUniform(seed=3).get_config() == {"seed": 3}
    assert init.VarianceScaling().get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None}
    assert init.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert init.RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert init.TruncatedNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert init.Orthogonal().get_config() == {"gain": 1.0, "seed": None}
    assert init.Constant().get_config() == {"value": 0.0}
    assert init.get(init.HeNormal).get_config() == {"seed": None}  # a class gives an instance


def test_keras3_entry_with_module_keys():
    entry = {"module": "keras.initializers", "class_name": "HeUniform", "config": {"seed": 7},
             "registered_name": None}
    assert init.deserialize(entry).get_config() == {"seed": 7}


def _entries(node, suffix):
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith(suffix) and isinstance(value, dict):
                yield value
            yield from _entries(value, suffix)
    elif isinstance(node, list):
        for value in node:
            yield from _entries(value, suffix)


def test_every_initializer_in_the_tfjs_fixtures_loads():
    files = sorted(FIXTURES.glob("*/model.json"))
    assert files, f"the TF.js fixtures committed under {FIXTURES} are missing"
    entries = [e for f in files for e in _entries(json.loads(f.read_text()), "_initializer")]
    assert entries
    for entry in entries:
        obj = init.deserialize(entry)
        assert obj((3, 3, 4, 2)).shape == (3, 3, 4, 2)
        assert init.deserialize(init.serialize(obj)).get_config() == obj.get_config()
    vs = init.deserialize({"class_name": "VarianceScaling", "config": {
        "distribution": "normal", "mode": "fan_avg", "scale": 1, "seed": None}})
    assert vs.get_config() == {"scale": 1.0, "mode": "fan_avg", "distribution": "truncated_normal",
                               "seed": None}


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown initializer 'glorot_uniformm'.*GlorotUniform.*"
                                         r"HeNormal.*VarianceScaling"):
        init.get("glorot_uniformm")
    with pytest.raises(ValueError, match="unknown initializer 'Nope'"):
        init.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="could not interpret initializer identifier 3"):
        init.get(3)


# -- validation ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: init.RandomNormal(stddev=-1), ValueError,
     r"RandomNormal: stddev must be a finite non-negative number, got -1"),
    (lambda: init.TruncatedNormal(stddev=-0.5), ValueError,
     r"TruncatedNormal: stddev must be a finite non-negative number, got -0.5"),
    (lambda: init.RandomNormal(mean="0"), TypeError, r"RandomNormal: mean must be a finite number"),
    (lambda: init.RandomUniform(minval=1, maxval=0), ValueError,
     r"RandomUniform: minval must not exceed maxval, got minval=1 > maxval=0"),
    (lambda: init.VarianceScaling(scale=0), ValueError,
     r"VarianceScaling: scale must be a finite positive number, got 0"),
    (lambda: init.VarianceScaling(mode="fan_sum"), ValueError,
     r"VarianceScaling: mode must be one of 'fan_in', 'fan_out', 'fan_avg', got 'fan_sum'"),
    (lambda: init.VarianceScaling(distribution="cauchy"), ValueError,
     r"VarianceScaling: distribution must be one of .*truncated_normal.*, got 'cauchy'"),
    (lambda: init.GlorotUniform(seed=-1), ValueError,
     r"GlorotUniform: seed must be None or a non-negative integer, got -1"),
    (lambda: init.HeNormal(seed=1.5), TypeError,
     r"HeNormal: seed must be None or a non-negative integer, got 1.5"),
    (lambda: init.Constant(value=float("nan")), ValueError,
     r"Constant: value must be a finite number, got nan"),
    (lambda: init.Orthogonal(gain=None), TypeError, r"Orthogonal: gain must be a finite number"),
    (lambda: init.GlorotUniform.from_config({"seed": None, "scale": 2}), TypeError,
     r"GlorotUniform.from_config: unknown config key\(s\) \['scale'\]"),
])
def test_constructor_validation(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("call, error, message", [
    (lambda: init.Orthogonal()((5,)), ValueError, r"Orthogonal: the shape must have rank >= 2, got \(5,\)"),
    (lambda: init.Identity()((2, 2, 2)), ValueError, r"Identity: the shape must have rank 2"),
    (lambda: init.GlorotUniform()((3, -1)), ValueError,
     r"GlorotUniform: shape must be a tuple of non-negative integers, got \(3, -1\)"),
    (lambda: init.Zeros()("ab"), TypeError,
     r"Zeros: shape must be a tuple of non-negative integers, got 'ab'"),
    (lambda: init.RandomNormal()((2,), dtype="int32"), TypeError,
     r"RandomNormal: dtype must be a float dtype, got int32"),
    (lambda: init.Ones()((2,), dtype="nonsense"), TypeError, r"Ones: dtype must be a NumPy dtype"),
])
def test_call_validation(call, error, message):
    with pytest.raises(error, match=message):
        call()
