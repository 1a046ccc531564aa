"""Activations: forward against NumPy formulas, gradcheck, names (Keras and TF.js), errors."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import activations as A
from minigrad.testing import gradcheck

SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_softplus(x):
    return np.log1p(np.exp(x))


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


REFERENCES = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "sigmoid": np_sigmoid,
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "tanh": np.tanh,
    "softmax": np_softmax,
    "log_softmax": lambda x: np.log(np_softmax(x)),
    "softplus": np_softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "exponential": np.exp,
    "swish": lambda x: x * np_sigmoid(x),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))),
    "gelu_new": np_gelu_tanh,
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "mish": lambda x: x * np.tanh(np_softplus(x)),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
}


def inputs(seed=0, shape=(3, 5)):
    """Values in (-8, 8) kept away from every kink (0, +-3 for hard_sigmoid, 6 for relu6)."""
    x = np.random.default_rng(seed).uniform(-8, 8, size=shape)
    for kink in (0.0, 3.0, -3.0, 6.0):
        near = np.abs(x - kink) < 0.05
        x[near] = kink + 0.25
    return x


def test_every_registered_activation_has_a_reference():
    assert sorted(REFERENCES) == A._registry.known()


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_forward_matches_numpy(name):
    fn = A.get(name)
    x = inputs()
    out64 = fn(mg.Tensor(x))
    np.testing.assert_allclose(out64.numpy(), REFERENCES[name](x), rtol=1e-10, atol=1e-12)
    out32 = fn(mg.Tensor(x.astype(np.float32)))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32.numpy(), REFERENCES[name](x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_gradcheck(name):
    fn = A.get(name)
    x = inputs(seed=1, shape=(2, 4)) / (4 if name == "exponential" else 1)
    if name == "linear":
        assert fn(x) is x   # the identity returns its input itself
        x = mg.Tensor(x, requires_grad=True)
        (fn(x) * 2.0).sum().backward()
        np.testing.assert_array_equal(x.grad, 2.0)
        return
    assert gradcheck(fn, [x])


def test_relu_general_form():
    x = np.array([-4.0, -1.0, 0.5, 1.5, 2.5, 7.0])
    got = A.relu(mg.Tensor(x), negative_slope=0.1, max_value=2.0, threshold=1.0).numpy()
    np.testing.assert_allclose(got, [-0.5, -0.2, -0.05, 1.5, 2.0, 2.0])
    np.testing.assert_allclose(A.relu(mg.Tensor(x), max_value=6).numpy(), np.clip(x, 0, 6))
    np.testing.assert_allclose(A.relu(mg.Tensor(x), max_value=1.0).numpy(), np.clip(x, 0, 1))
    assert gradcheck(lambda t: A.relu(t, negative_slope=0.1, max_value=2.0, threshold=1.0),
                     [np.array([-4.0, -1.0, 0.5, 1.5, 2.5, 7.0])])


def test_arguments_of_the_keras_signatures():
    x = inputs()
    np.testing.assert_allclose(A.leaky_relu(mg.Tensor(x), negative_slope=0.3).numpy(),
                               np.where(x > 0, x, 0.3 * x))
    np.testing.assert_allclose(A.elu(mg.Tensor(x), alpha=0.5).numpy(),
                               np.where(x > 0, x, 0.5 * np.expm1(x)))
    np.testing.assert_allclose(A.softmax(mg.Tensor(x), axis=0).numpy(), np_softmax(x, axis=0))
    np.testing.assert_allclose(A.log_softmax(mg.Tensor(x), axis=0).numpy(),
                               np.log(np_softmax(x, axis=0)))
    np.testing.assert_allclose(A.gelu(mg.Tensor(x), approximate=True).numpy(), np_gelu_tanh(x))


@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_both_forms_match_numpy_and_gradcheck(approximate):
    # the exact form runs the erf kernel (parallel above 32768 elements); the tanh form is ops
    x = np.random.default_rng(2).uniform(-8, 8, size=40000)
    want = np_gelu_tanh(x) if approximate else 0.5 * x * (1 + _erf(x / math.sqrt(2)))
    got = A.gelu(mg.Tensor(x), approximate=approximate).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    got32 = A.gelu(mg.Tensor(x.astype(np.float32)), approximate=approximate)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32.numpy(), want, rtol=1e-5, atol=1e-5)
    assert gradcheck(lambda t: A.gelu(t, approximate=approximate), [inputs(seed=3, shape=(3, 4))])


# -- names ------------------------------------------------------------------------------------
ALIASES = {
    "relu": A.relu, "ReLU": A.relu, "relu6": A.relu6, "elu": A.elu, "selu": A.selu,
    "sigmoid": A.sigmoid, "hard_sigmoid": A.hard_sigmoid, "hardSigmoid": A.hard_sigmoid,
    "tanh": A.tanh, "softmax": A.softmax, "log_softmax": A.log_softmax, "logSoftmax": A.log_softmax,
    "softplus": A.softplus, "softsign": A.softsign, "swish": A.swish, "silu": A.swish,
    "gelu": A.gelu, "gelu_new": A.gelu_new, "leaky_relu": A.leaky_relu, "exponential": A.exponential,
    "linear": A.linear, "mish": A.mish, "hard_silu": A.hard_silu, "hard_swish": A.hard_silu,
}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_get_serialize_deserialize(name):
    fn = ALIASES[name]
    assert A.get(name) is fn
    assert A.deserialize(name) is fn
    canonical = A.serialize(fn)
    assert isinstance(canonical, str) and A.get(canonical) is fn
    assert A.deserialize({"class_name": canonical}) is fn          # a {"class_name"} entry
    assert A.deserialize({"class_name": "function", "config": canonical}) is fn   # Keras 3's form


def test_canonical_names_are_keras_names():
    assert A.serialize(A.relu) == "relu"
    assert A.serialize(A.get("silu")) == "swish"
    assert A.serialize(A.get("hardSigmoid")) == "hard_sigmoid"
    assert A.serialize(A.get("logSoftmax")) == "log_softmax"


def test_get_none_and_callables():
    assert A.get(None) is A.linear

    def custom(x):
        return x * 2.0

    assert A.get(custom) is custom
    with pytest.raises(ValueError, match=r"cannot serialize .*custom.*not a registered activation"):
        A.serialize(custom)
    with pytest.raises(ValueError, match="could not interpret activation identifier 3"):
        A.get(3)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown activation 'rellu'; known activations: elu, "
                                         r"exponential, gelu, .*relu, relu6, .*tanh"):
        A.get("rellu")


@pytest.mark.parametrize("call, error, message", [
    (lambda x: A.relu(x, negative_slope=-0.1), ValueError,
     r"relu: negative_slope must be a finite non-negative number, got -0.1"),
    (lambda x: A.relu(x, max_value=-1), ValueError,
     r"relu: max_value must be None or a finite non-negative number, got -1"),
    (lambda x: A.relu(x, threshold="1"), TypeError, r"relu: threshold must be a finite number, got '1'"),
    (lambda x: A.leaky_relu(x, negative_slope=None), TypeError,
     r"leaky_relu: negative_slope must be a finite number, got None"),
    (lambda x: A.elu(x, alpha=float("nan")), ValueError, r"elu: alpha must be a finite number, got nan"),
    (lambda x: A.gelu(x, approximate="yes"), TypeError, r"gelu: approximate must be True or False"),
    (lambda x: A.softmax(x, axis=2), ValueError, r"softmax: axis must be an integer in \[-2, 1\] for x of shape \(2, 2\), got 2"),
])
def test_argument_validation(call, error, message):
    with pytest.raises(error, match=message):
        call(mg.Tensor(np.ones((2, 2), dtype=np.float32)))
