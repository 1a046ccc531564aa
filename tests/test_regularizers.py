"""Regularizers: Keras 3 values, gradients (gradcheck), dtypes, configs, names, validation."""
import json

import numpy as np
import pytest

import minigrad as mg
from minigrad import regularizers as R
from minigrad.testing import gradcheck


def weight(shape=(3, 4), seed=0, dtype=np.float64):
    w = np.random.default_rng(seed).normal(size=shape)
    w[np.abs(w) < 0.05] = 0.5   # |w| has a kink at 0: keep central differences away from it
    return w.astype(dtype)


def orthogonal_reference(w, factor, mode):
    u = w if mode == "rows" else w.T
    u = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-7)
    p = u @ u.T
    n = len(p)
    p = p * (1 - np.eye(n))
    return factor * 0.5 * np.abs(p).sum() / (n * (n - 1) / 2)


@pytest.mark.parametrize("reg, reference", [
    (R.L1(0.3), lambda w: 0.3 * np.abs(w).sum()),
    (R.L2(0.2), lambda w: 0.2 * np.square(w).sum()),          # no 1/2, as Keras
    (R.L1L2(l1=0.1, l2=0.05), lambda w: 0.1 * np.abs(w).sum() + 0.05 * np.square(w).sum()),
    (R.L1L2(l1=0.0, l2=0.05), lambda w: 0.05 * np.square(w).sum()),
    (R.OrthogonalRegularizer(0.5, "rows"), lambda w: orthogonal_reference(w, 0.5, "rows")),
    (R.OrthogonalRegularizer(0.5, "columns"), lambda w: orthogonal_reference(w, 0.5, "columns")),
], ids=repr)
def test_values_gradients_and_dtypes(reg, reference):
    w = weight()
    for dtype in (np.float32, np.float64):
        out = reg(mg.Tensor(w.astype(dtype), requires_grad=True))
        assert isinstance(out, mg.Tensor) and out.shape == () and out.dtype == dtype
        np.testing.assert_allclose(out.item(), reference(w), rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert gradcheck(lambda t: reg(t), [w])


def test_l2_gradient_is_two_l2_w():
    w = mg.Tensor(weight(), requires_grad=True)
    R.L2(0.25)(w).backward()
    np.testing.assert_allclose(w.grad, 0.5 * w.data)


def test_default_coefficients_and_zero_penalty():
    w = weight()
    assert R.L1().l1 == 0.01 and R.L2().l2 == 0.01
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    zero = R.L1L2()(mg.Tensor(w.astype(np.float32)))
    assert zero.shape == () and zero.dtype == np.float32 and zero.item() == 0.0
    np.testing.assert_allclose(R.L2()(w).item(), 0.01 * np.square(w).sum())   # arrays are accepted


def test_orthogonal_regularizer_extremes():
    reg = R.OrthogonalRegularizer(factor=2.0)
    assert reg(mg.Tensor(np.eye(4))).item() == pytest.approx(0.0, abs=1e-12)
    same_rows = np.tile(np.array([[1.0, 2.0, 3.0]]), (3, 1))
    assert reg(mg.Tensor(same_rows)).item() == pytest.approx(2.0)   # factor * mean |cos| = 2 * 1
    assert np.isfinite(reg(mg.Tensor(np.zeros((3, 3)))).item())      # epsilon guards 0 / 0


# -- names and configs -----------------------------------------------------------------------
ALIASES = {"l1": R.L1, "L1": R.L1, "l2": R.L2, "L2": R.L2, "l1_l2": R.L1L2, "L1L2": R.L1L2,
           "l1l2": R.L1L2, "orthogonal_regularizer": R.OrthogonalRegularizer,
           "OrthogonalRegularizer": R.OrthogonalRegularizer}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_get_every_name(name):
    assert type(R.get(name)) is ALIASES[name]


EXAMPLES = [R.L1(0.5), R.L2(1e-4), R.L1L2(l1=0.01, l2=0.02), R.OrthogonalRegularizer(0.1, "columns")]


@pytest.mark.parametrize("obj", EXAMPLES, ids=lambda o: type(o).__name__)
def test_serialize_round_trip(obj):
    entry = json.loads(json.dumps(R.serialize(obj)))
    assert entry["class_name"] == type(obj).__name__
    back = R.deserialize(entry)
    assert type(back) is type(obj) and back.get_config() == obj.get_config()
    assert type(obj).from_config(obj.get_config()).get_config() == obj.get_config()
    w = mg.Tensor(weight())
    assert back(w).item() == obj(w).item()
    assert R.get(obj) is obj


def test_keras_config_keys_and_tfjs_entry():
    assert R.L1(0.5).get_config() == {"l1": 0.5}
    assert R.L2().get_config() == {"l2": 0.01}
    assert R.OrthogonalRegularizer().get_config() == {"factor": 0.01, "mode": "rows"}
    assert R.L1L2(l1=None, l2=0.1).get_config() == {"l1": 0.0, "l2": 0.1}   # Keras reads None as 0
    tfjs = {"class_name": "L1L2", "config": {"l1": 0, "l2": 0.01}}        # as TF.js writes it
    obj = R.deserialize(tfjs)
    assert type(obj) is R.L1L2 and obj.get_config() == {"l1": 0.0, "l2": 0.01}


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown regularizer 'l3'; known regularizers: "
                                         r"L1, L1L2, L2, OrthogonalRegularizer"):
        R.get("l3")


# -- validation ------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: R.L1(-0.1), ValueError, r"L1: l1 must be a finite non-negative number, got -0.1"),
    (lambda: R.L2(l2=-1), ValueError, r"L2: l2 must be a finite non-negative number, got -1"),
    (lambda: R.L1L2(l1=0.1, l2=-0.5), ValueError,
     r"L1L2: l2 must be a finite non-negative number, got -0.5"),
    (lambda: R.L1L2(l1=float("inf")), ValueError,
     r"L1L2: l1 must be a finite non-negative number, got inf"),
    (lambda: R.L2(l2="0.1"), TypeError, r"L2: l2 must be a finite non-negative number, got '0.1'"),
    (lambda: R.OrthogonalRegularizer(mode="diagonal"), ValueError,
     r"OrthogonalRegularizer: mode must be 'rows' or 'columns', got 'diagonal'"),
    (lambda: R.L2.from_config({"l2": 0.1, "l1": 0.1}), TypeError,
     r"L2.from_config: unknown config key\(s\) \['l1'\]"),
])
def test_constructor_validation(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_orthogonal_regularizer_call_validation():
    with pytest.raises(ValueError, match=r"OrthogonalRegularizer: the weight must have rank 2, got "
                                         r"shape \(2, 2, 2\)"):
        R.OrthogonalRegularizer()(mg.Tensor(np.ones((2, 2, 2))))
    with pytest.raises(ValueError, match=r"OrthogonalRegularizer: mode='rows' needs at least 2 rows"):
        R.OrthogonalRegularizer()(mg.Tensor(np.ones((1, 4))))
