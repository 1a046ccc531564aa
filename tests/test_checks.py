"""minigrad._checks: the shared argument validators, one behaviour each, and every caller using it.

The rule under test: TypeError when a value is not of a kind the argument can take (a string,
None, a bool where a number is expected), ValueError when the kind is right but the value is not
allowed (out of range, nan, inf); the message is always "<who>: <name> must be <expected>, got
<value!r>".
"""
import math
import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

import minigrad as mg
from minigrad import _checks
from minigrad._checks import (check_axis, check_bool, check_int, check_number, check_positive_int,
                              check_seed, check_shape, snake_case)

# -- what the values are ---------------------------------------------------------------------------
NUMPY_SCALARS = st.one_of(
    st.floats(width=32, allow_nan=True, allow_infinity=True).map(np.float32),
    st.floats(allow_nan=True, allow_infinity=True).map(np.float64),
    st.integers(-2**63, 2**63 - 1).map(np.int64),
    st.integers(0, 255).map(np.uint8),
    st.booleans().map(np.bool_),
)
ANYTHING = st.one_of(
    st.booleans(), st.integers(), st.integers(-10**400, 10**400),  # beyond float's range too
    st.floats(allow_nan=True, allow_infinity=True), NUMPY_SCALARS,
    st.fractions(max_denominator=100), st.text(max_size=3), st.none(),
    st.lists(st.integers(), max_size=2), st.just(np.array(0.5)), st.just(1 + 2j),
)
BOUNDS = st.one_of(st.none(), st.integers(-3, 3), st.floats(-3, 3))


def _is_number(value):
    """The spec: a real number that is not a bool (the one definition the module documents)."""
    return (isinstance(value, (int, float, Fraction, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)))


def _as_float(value):
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _message(who, name, value):
    return rf"^{re.escape(who)}: {re.escape(name)} must be .+, got {re.escape(repr(value))}$"


# -- check_number --------------------------------------------------------------------------------
@given(ANYTHING, BOUNDS, BOUNDS, st.booleans(), st.booleans(), st.booleans())
def test_check_number_is_one_rule(value, low, high, low_open, high_open, finite):
    if not _is_number(value):
        with pytest.raises(TypeError, match=_message("Who", "arg", value)):
            check_number(value, "arg", "Who", low, high, low_open, high_open, finite=finite)
        return
    v = _as_float(value)
    allowed = (not math.isnan(v) and (math.isfinite(v) or not finite)
               and (low is None or v > low or (v == low and not low_open))
               and (high is None or v < high or (v == high and not high_open)))
    if allowed:
        out = check_number(value, "arg", "Who", low, high, low_open, high_open, finite=finite)
        assert type(out) is float and out == v
    else:
        with pytest.raises(ValueError, match=_message("Who", "arg", value)):
            check_number(value, "arg", "Who", low, high, low_open, high_open, finite=finite)


@pytest.mark.parametrize("value, error", [
    ("x", TypeError), (None, TypeError), (True, TypeError), (np.bool_(False), TypeError),
    ([0.5], TypeError), (np.array(0.5), TypeError),
    (float("nan"), ValueError), (float("inf"), ValueError), (-float("inf"), ValueError),
    (np.float32("nan"), ValueError), (10**400, ValueError),
])
def test_check_number_errors(value, error):
    with pytest.raises(error, match=_message("Adam", "epsilon", value)):
        check_number(value, "epsilon", "Adam", low=0)


@pytest.mark.parametrize("bounds, value, expected", [
    ({}, "nan", "a finite number"),
    ({"low": 0}, -5, "a finite non-negative number"),
    ({"low": 0, "low_open": True}, 0, "a finite positive number"),
    ({"low": 0.5}, 0.25, "a finite number >= 0.5"),
    ({"low": 1, "low_open": True}, 1, "a finite number > 1"),
    ({"high": 1}, 2, "a finite number <= 1"),
    ({"high": 1, "high_open": True}, 1, "a finite number < 1"),
    ({"low": 0, "high": 1, "high_open": True}, 1, "a finite number in [0, 1)"),
    ({"low": 0, "high": 1, "low_open": True}, 0, "a finite number in (0, 1]"),
    ({"low": 0, "finite": False}, -5, "a non-negative number"),
    ({"low": 0, "allow_none": True}, -5, "None or a finite non-negative number"),
])
def test_check_number_says_the_range_one_way(bounds, value, expected):
    value = float(value) if value == "nan" else value
    with pytest.raises(ValueError) as info:
        check_number(value, "arg", "Who", **bounds)
    assert str(info.value) == f"Who: arg must be {expected}, got {value!r}"


def test_check_number_infinity_only_when_allowed_and_nan_never():
    assert check_number(float("inf"), "x", "f", low=0, finite=False) == math.inf
    assert check_number(10**400, "x", "f", finite=False) == math.inf
    with pytest.raises(ValueError):
        check_number(float("nan"), "x", "f", finite=False)
    assert check_number(None, "x", "f", allow_none=True) is None
    with pytest.raises(TypeError, match="x must be a finite number, got None"):
        check_number(None, "x", "f")


# -- integers, flags, seeds -----------------------------------------------------------------------
@given(ANYTHING, st.one_of(st.none(), st.integers(-3, 3)), st.one_of(st.none(), st.integers(-3, 3)))
def test_check_int_is_one_rule(value, low, high):
    is_int = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if not is_int:
        with pytest.raises(TypeError, match=_message("Who", "n", value)):
            check_int(value, "n", "Who", low, high)
    elif (low is None or value >= low) and (high is None or value <= high):
        out = check_int(value, "n", "Who", low, high)
        assert type(out) is int and out == value
    else:
        with pytest.raises(ValueError, match=_message("Who", "n", value)):
            check_int(value, "n", "Who", low, high)


@pytest.mark.parametrize("value, error", [
    (0, ValueError), (-2, ValueError), (2.0, TypeError), (1.5, TypeError), (True, TypeError),
    ("8", TypeError), (None, TypeError),
])
def test_check_positive_int(value, error):
    with pytest.raises(error, match=rf"^Dense: units must be a positive integer, got {re.escape(repr(value))}$"):
        check_positive_int(value, "units", "Dense")
    assert check_positive_int(np.int64(3), "units", "Dense") == 3
    assert check_positive_int(None, "filters", "BaseConv", allow_none=True) is None


@given(ANYTHING)
def test_check_bool_takes_only_flags(value):
    if isinstance(value, (bool, np.bool_)):
        assert check_bool(value, "flag", "Who") is bool(value)
    else:
        with pytest.raises(TypeError, match=_message("Who", "flag", value)):
            check_bool(value, "flag", "Who")


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError),
                                         ("0", TypeError)])
def test_check_seed(seed, error):
    assert check_seed(None, "f") is None and check_seed(np.uint8(7), "f") == 7
    with pytest.raises(error, match=rf"^f: seed must be None or a non-negative integer, got "):
        check_seed(seed, "f")


# -- shapes and axes ---------------------------------------------------------------------------------
@given(st.lists(st.one_of(st.integers(-2, 4), st.none(), st.floats(0, 3), st.booleans()), max_size=4),
       st.booleans())
def test_check_shape_is_one_rule(dims, allow_none):
    if all(d is None and allow_none or (type(d) is int and d >= 0) for d in dims):
        assert check_shape(dims, "f", allow_none=allow_none) == tuple(dims)
    elif all(d is None and allow_none or type(d) is int for d in dims):
        with pytest.raises(ValueError, match=r"^f: shape must be a tuple of non-negative integers"):
            check_shape(dims, "f", allow_none=allow_none)
    else:
        with pytest.raises(TypeError, match=r"^f: shape must be a tuple of non-negative integers"):
            check_shape(dims, "f", allow_none=allow_none)


def test_check_shape_kinds():
    assert check_shape(3, "f") == (3,) and check_shape(np.array([2, 3]), "f") == (2, 3)
    for bad in ("ab", b"ab", None, 2.5, {"a": 1}):
        with pytest.raises(TypeError, match=r"^f: shape must be a tuple of non-negative integers, got "):
            check_shape(bad, "f")


@pytest.mark.parametrize("axis, expected", [
    (None, None), (0, 0), (-1, -1), (np.int64(2), 2), ([0, 1], (0, 1)), ((1, -1), (1, -1)),
])
def test_check_axis_accepts(axis, expected):
    assert check_axis(axis, "MaxNorm") == expected


@pytest.mark.parametrize("axis, error", [
    (1.5, TypeError), (True, TypeError), ("0", TypeError), ([0, "1"], TypeError), ([0, 1.0], TypeError),
    ([], ValueError), ([0, 0], ValueError),
])
def test_check_axis_refuses(axis, error):
    with pytest.raises(error, match=rf"^MaxNorm: axis must be an integer, a non-empty list of distinct "
                                    rf"integers or None, got {re.escape(repr(axis))}$"):
        check_axis(axis, "MaxNorm")


@given(st.integers(-6, 6), st.integers(1, 4))
def test_check_axis_with_a_rank(axis, ndim):
    if -ndim <= axis < ndim:
        assert check_axis(axis, "softmax", ndim, multiple=False, allow_none=False) == axis % ndim
    else:
        with pytest.raises(ValueError, match=rf"^softmax: axis must be an integer in \[-{ndim}, "
                                             rf"{ndim}\), got {axis}$"):
            check_axis(axis, "softmax", ndim, multiple=False, allow_none=False)


def test_check_axis_with_a_rank_sees_repeats_after_wrapping():
    with pytest.raises(ValueError, match=r"got \[1, -1\]"):
        check_axis([1, -1], "f", ndim=2)
    assert check_axis([0, -1], "f", ndim=3) == (0, 2)
    with pytest.raises(TypeError, match=r"^f: axis must be an integer in \[-2, 2\), got None$"):
        check_axis(None, "f", ndim=2, multiple=False, allow_none=False)


# -- snake_case: Keras's automatic names ---------------------------------------------------------
@pytest.mark.parametrize("class_name, name", [
    # what keras.src.utils.naming.to_snake_case returns for these class names (Keras 3)
    ("RMSprop", "rm_sprop"), ("Conv2D", "conv2d"), ("BatchNormalization", "batch_normalization"),
    ("SGD", "sgd"), ("Adam", "adam"), ("CategoricalCrossentropy", "categorical_crossentropy"),
    ("GlobalAveragePooling2D", "global_average_pooling2d"), ("ReLU", "re_lu"), ("PReLU", "p_re_lu"),
    ("DepthwiseConv2D", "depthwise_conv2d"), ("SeparableConv2D", "separable_conv2d"),
    ("Conv2DTranspose", "conv2d_transpose"), ("InputLayer", "input_layer"),
    ("LeakyReLU", "leaky_re_lu"), ("MaxPooling2D", "max_pooling2d"), ("ZeroPadding2D", "zero_padding2d"),
    ("dense", "dense"), ("Dense layer!", "denselayer"),
])
def test_snake_case_is_keras_to_snake_case(class_name, name):
    assert snake_case(class_name) == name


@given(st.lists(st.from_regex(r"[A-Z][a-z]{1,6}", fullmatch=True), min_size=1, max_size=4),
       st.from_regex(r"(|[0-9]D)", fullmatch=True))
def test_snake_case_splits_capitalised_words(words, suffix):
    assert snake_case("".join(words) + suffix) == "_".join(w.lower() for w in words) + suffix.lower()


@given(st.text(max_size=12))
def test_snake_case_gives_a_lower_case_identifier_and_is_stable(name):
    out = snake_case(name)
    assert not re.search(r"[A-Z\W]", out)
    assert snake_case(out) == out


# -- every caller uses the one behaviour ---------------------------------------------------------
def _callers():
    """(label, function of the bad value) for number arguments across the library."""
    x = mg.Tensor(np.ones((2, 2), dtype=np.float32))
    return [
        ("MaxNorm.max_value", lambda v: mg.constraints.MaxNorm(max_value=v)),
        ("MinMaxNorm.rate", lambda v: mg.constraints.MinMaxNorm(rate=v)),
        ("RandomNormal.stddev", lambda v: mg.initializers.RandomNormal(stddev=v)),
        ("Constant.value", lambda v: mg.initializers.Constant(v)),
        ("VarianceScaling.scale", lambda v: mg.initializers.VarianceScaling(scale=v)),
        ("L2.l2", lambda v: mg.regularizers.L2(v)),
        ("OrthogonalRegularizer.factor", lambda v: mg.regularizers.OrthogonalRegularizer(v)),
        ("ExponentialDecay.decay_rate", lambda v: mg.schedules.ExponentialDecay(0.1, 10, v)),
        ("CosineDecay.alpha", lambda v: mg.schedules.CosineDecay(0.1, 10, alpha=v)),
        ("CosineDecay(step)", lambda v: mg.schedules.CosineDecay(0.1, 10)(v)),
        ("Huber.delta", lambda v: mg.losses.Huber(delta=v)),
        ("CategoricalCrossentropy.label_smoothing",
         lambda v: mg.losses.CategoricalCrossentropy(label_smoothing=v)),
        ("BinaryAccuracy.threshold", lambda v: mg.metrics.BinaryAccuracy(threshold=v)),
        ("relu.threshold", lambda v: mg.activations.relu(x, threshold=v)),
        ("elu.alpha", lambda v: mg.activations.elu(x, alpha=v)),
        ("SGD.momentum", lambda v: mg.optimizers.SGD(momentum=v)),
        ("Adam.learning_rate", lambda v: mg.optimizers.Adam(learning_rate=v)),
        ("RMSprop.epsilon", lambda v: mg.optimizers.RMSprop(epsilon=v)),
        ("Dropout.rate", lambda v: mg.layers.Dropout(v)),
        ("ReLU.negative_slope", lambda v: mg.layers.ReLU(negative_slope=v)),
        ("BatchNormalization.epsilon", lambda v: mg.layers.BatchNormalization(epsilon=v)),
    ]


@pytest.mark.parametrize("label, make", _callers(), ids=[c[0] for c in _callers()])
@pytest.mark.parametrize("value, error", [
    ("x", TypeError), (True, TypeError), ([0.1], TypeError),
    (None, TypeError), (float("nan"), ValueError), (float("inf"), ValueError),
    (-float("inf"), ValueError),
])
def test_every_number_argument_follows_the_one_rule(label, make, value, error):
    with pytest.raises(error, match=rf"must be .*, got {re.escape(repr(value))}$"):
        make(value)


@pytest.mark.parametrize("label, make", [
    ("Adam.amsgrad", lambda v: mg.optimizers.Adam(amsgrad=v)),
    ("SGD.nesterov", lambda v: mg.optimizers.SGD(nesterov=v)),
    ("ExponentialDecay.staircase", lambda v: mg.schedules.ExponentialDecay(0.1, 10, 0.5, staircase=v)),
    ("BinaryCrossentropy.from_logits", lambda v: mg.losses.BinaryCrossentropy(from_logits=v)),
    ("gelu.approximate", lambda v: mg.activations.gelu(mg.Tensor([1.0]), approximate=v)),
    ("Dense.use_bias", lambda v: mg.layers.Dense(2, use_bias=v)),
    ("clear_session.free_memory", lambda v: mg.utils.clear_session(free_memory=v)),
])
@pytest.mark.parametrize("value", ["yes", 1, None])
def test_every_flag_argument_follows_the_one_rule(label, make, value):
    with pytest.raises(TypeError, match=rf"must be True or False, got {re.escape(repr(value))}$"):
        make(value)


@pytest.mark.parametrize("label, make", [
    ("GlorotUniform.seed", lambda v: mg.initializers.GlorotUniform(seed=v)),
    ("set_random_seed", lambda v: mg.initializers.set_random_seed(v)),
    ("Dropout.seed", lambda v: mg.layers.Dropout(0.5, seed=v)),
])
@pytest.mark.parametrize("value, error", [(-1, ValueError), (1.5, TypeError), ("1", TypeError)])
def test_every_seed_argument_follows_the_one_rule(label, make, value, error):
    with pytest.raises(error, match=r"seed must be None or a non-negative integer, got "):
        make(value)


# The copies this module replaced: none may come back (each shared helper is defined once).
_OLD_COPIES = ["check_number", "check_flag", "check_bool", "check_positive_int", "_check_number",
               "_number", "_check_axis", "_check_seed", "_check_shape", "_check_coefficient",
               "_check_fraction", "_check_delta", "_check_flag", "_check_k", "_snake_case"]


@pytest.mark.parametrize("module", [
    mg.constraints, mg.initializers, mg.regularizers, mg.schedules, mg.losses, mg.metrics,
    mg.activations, mg.optimizers.optimizer, mg.layers.base, mg.layers.core, mg.utils,
], ids=lambda m: m.__name__)
def test_no_module_keeps_its_own_copy(module):
    for name in _OLD_COPIES:
        value = getattr(module, name, None)
        assert value is None or getattr(_checks, name, None) is value, f"{module.__name__}.{name}"
