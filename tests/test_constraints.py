"""Constraints: Keras 3's formulas on numpy arrays, configs, names and validation."""
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad import constraints as C

EPS = 1e-7


def keras_norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def test_max_norm_hand_computed():
    w = np.array([[3.0, 0.3], [4.0, 0.4]], dtype=np.float32)   # column norms 5 and 0.5
    out = C.MaxNorm(max_value=2, axis=0)(w)
    assert out.dtype == np.float32 and out.shape == w.shape
    np.testing.assert_allclose(out[:, 0], [3 * 2 / (5 + EPS), 4 * 2 / (5 + EPS)], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], [0.3 * 0.5 / (0.5 + EPS), 0.4 * 0.5 / (0.5 + EPS)], rtol=1e-6)


@pytest.mark.parametrize("axis", [0, 1, [0, 1, 2], -1, None])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_constraints_match_keras_formulas(axis, dtype):
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 4, 5)).astype(dtype)
    ax = tuple(axis) if isinstance(axis, list) else axis
    norms = keras_norms(w.astype(np.float64), ax)
    cases = {
        C.MaxNorm(1.5, axis=axis): w * np.clip(norms, 0, 1.5) / (EPS + norms),
        C.UnitNorm(axis=axis): w / (EPS + norms),
        C.MinMaxNorm(0.5, 2.0, rate=0.3, axis=axis):
            w * (0.3 * np.clip(norms, 0.5, 2.0) + 0.7 * norms) / (EPS + norms),
    }
    for constraint, expected in cases.items():
        got = constraint(w)
        assert got.dtype == dtype and got.shape == w.shape, constraint
        np.testing.assert_allclose(got, expected, rtol=2e-6 if dtype == np.float32 else 1e-12)


def test_non_neg_and_zero_norms():
    w = np.array([[-1.0, 0.0], [2.0, -3.0]], dtype=np.float32)
    np.testing.assert_array_equal(C.NonNeg()(w), [[0, 0], [2, 0]])
    zeros = np.zeros((3, 2))
    for constraint in (C.MaxNorm(), C.UnitNorm(), C.MinMaxNorm(min_value=1.0)):
        out = constraint(zeros)
        assert np.all(np.isfinite(out)), constraint   # epsilon keeps 0 / 0 away


def test_accepts_tensors_and_integer_arrays():
    t = mg.Tensor(np.array([[3.0], [4.0]], dtype=np.float32))
    np.testing.assert_allclose(C.UnitNorm()(t).ravel(), [0.6, 0.8], rtol=1e-6)
    assert C.NonNeg()(np.array([-1, 2])).dtype == np.float32


@settings(max_examples=40, deadline=None)
@given(w=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=4, max_side=5),
                    elements=st.floats(-100, 100)),
       max_value=st.floats(0.1, 10), rate=st.floats(0, 1))
def test_properties(w, max_value, rate):
    norms_after = keras_norms(C.MaxNorm(max_value, axis=0)(w), 0)
    assert np.all(norms_after <= max_value * (1 + 1e-9))
    unit = keras_norms(C.UnitNorm(axis=0)(w), 0)
    big = keras_norms(w, 0) > 1e-3
    np.testing.assert_allclose(unit[big], 1.0, rtol=1e-4)
    # a norm already in [min, max] is kept (up to epsilon) whatever the rate
    mmn = C.MinMaxNorm(0.0, 1e9, rate=rate, axis=0)(w)
    np.testing.assert_allclose(mmn, w, rtol=1e-5, atol=1e-5)
    assert np.all(C.NonNeg()(w) >= 0)


# -- names and configs -----------------------------------------------------------------------
ALIASES = {"max_norm": C.MaxNorm, "maxNorm": C.MaxNorm, "MaxNorm": C.MaxNorm,
           "non_neg": C.NonNeg, "nonNeg": C.NonNeg, "NonNeg": C.NonNeg,
           "unit_norm": C.UnitNorm, "unitNorm": C.UnitNorm, "UnitNorm": C.UnitNorm,
           "min_max_norm": C.MinMaxNorm, "minMaxNorm": C.MinMaxNorm, "MinMaxNorm": C.MinMaxNorm}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_get_every_name(name):
    assert type(C.get(name)) is ALIASES[name]


EXAMPLES = [C.MaxNorm(3, axis=[0, 1, 2]), C.NonNeg(), C.UnitNorm(axis=1),
            C.MinMaxNorm(min_value=0.5, max_value=2.0, rate=0.5, axis=-1), C.MaxNorm(axis=None)]


@pytest.mark.parametrize("obj", EXAMPLES, ids=lambda o: type(o).__name__)
def test_serialize_round_trip(obj):
    entry = json.loads(json.dumps(C.serialize(obj)))
    assert entry["class_name"] == type(obj).__name__
    back = C.deserialize(entry)
    assert type(back) is type(obj) and back.get_config() == obj.get_config()
    assert type(obj).from_config(obj.get_config()).get_config() == obj.get_config()
    w = np.random.default_rng(1).normal(size=(2, 3, 4))
    np.testing.assert_array_equal(back(w), obj(w))
    assert C.get(obj) is obj


def test_keras_config_keys_and_tfjs_entry():
    assert C.MaxNorm().get_config() == {"max_value": 2.0, "axis": 0}
    assert C.UnitNorm().get_config() == {"axis": 0}
    assert C.NonNeg().get_config() == {}
    assert C.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    # as TF.js 4.22 writes a depthwise_constraint in model.json
    tfjs = {"class_name": "MaxNorm", "config": {"axis": [0, 1, 2], "max_value": 1}}
    obj = C.deserialize(tfjs)
    assert obj.get_config() == tfjs["config"]
    assert C.serialize(obj) == {"class_name": "MaxNorm", "config": {"max_value": 1.0, "axis": [0, 1, 2]}}


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown constraint 'max_nrm'; known constraints: "
                                         r"MaxNorm, MinMaxNorm, NonNeg, UnitNorm"):
        C.get("max_nrm")


# -- validation ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: C.MaxNorm(max_value=0), ValueError,
     r"MaxNorm: max_value must be a finite positive number, got 0"),
    (lambda: C.MaxNorm(max_value=-2), ValueError,
     r"MaxNorm: max_value must be a finite positive number, got -2"),
    (lambda: C.MaxNorm(max_value="2"), TypeError,
     r"MaxNorm: max_value must be a finite positive number, got '2'"),
    (lambda: C.MaxNorm(max_value=float("inf")), ValueError,
     r"MaxNorm: max_value must be a finite positive number, got inf"),
    (lambda: C.MaxNorm(axis=1.5), TypeError, r"MaxNorm: axis must be an integer, a non-empty list "
                                               r"of distinct integers or None, got 1.5"),
    (lambda: C.UnitNorm(axis=[0, 0]), ValueError, r"UnitNorm: axis must be an integer, a non-empty "
                                                  r"list of distinct integers or None, got \[0, 0\]"),
    (lambda: C.UnitNorm(axis=[]), ValueError, r"UnitNorm: axis must be an integer, .*, got \[\]"),
    (lambda: C.MinMaxNorm(min_value=-1), ValueError,
     r"MinMaxNorm: min_value must be a finite non-negative number, got -1"),
    (lambda: C.MinMaxNorm(min_value=2, max_value=1), ValueError,
     r"MinMaxNorm: min_value must not exceed max_value, got min_value=2 > max_value=1"),
    (lambda: C.MinMaxNorm(rate=1.5), ValueError,
     r"MinMaxNorm: rate must be a finite number in \[0, 1\], got 1.5"),
    (lambda: C.MaxNorm.from_config({"max_value": 2, "maxValue": 2}), TypeError,
     r"MaxNorm.from_config: unknown config key\(s\) \['maxValue'\]"),
])
def test_constructor_validation(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_call_validation():
    with pytest.raises(ValueError, match=r"MaxNorm: axis \[0, 3\] is out of range for a weight of "
                                         r"shape \(2, 3\)"):
        C.MaxNorm(axis=[0, 3])(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"NonNeg: the weight must be a numeric array, got dtype <U1"):
        C.NonNeg()(np.array(["a"]))
