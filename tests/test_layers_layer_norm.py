"""LayerNormalization and GroupNormalization (and their ops layer_norm / group_norm): values
against NumPy formulas and torch, float64 gradchecks (hypothesis-drawn shapes too), the layer
harness, Keras 3 as oracle (outputs, input and weight gradients, from Keras's own config), errors
naming the argument, model files (TF.js folder, .keras, .h5) and TF.js predicting a saved model."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import layers
from minigrad.layers.normalization import GroupNormalization, LayerNormalization
from minigrad.ops.layer_norm import group_norm, layer_norm
from minigrad.testing import gradcheck
from keras_oracle import match_keras_layer
from layer_harness import run_layer_test


def _x(shape, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * 2 + 1).astype(np.float64)


def _reference_layer_norm(x, gamma, beta, axes, eps, rms=False):
    """Keras's formula, written out with NumPy (biased variance, eps inside the root)."""
    axes = tuple(sorted(a % x.ndim for a in axes))
    shape = [x.shape[i] if i in axes else 1 for i in range(x.ndim)]
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x if rms else x - mean) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma.reshape(shape)
    if beta is not None:
        y = y + beta.reshape(shape)
    return y


def _reference_group_norm(x, gamma, beta, groups, axis, eps):
    """Loop over samples and groups: each group's channels (and all other axes) normalised."""
    xc = np.moveaxis(x, axis, -1)
    y = np.empty_like(xc)
    per = xc.shape[-1] // groups
    for n in range(xc.shape[0]):
        for g in range(groups):
            part = xc[n, ..., g * per:(g + 1) * per]
            y[n, ..., g * per:(g + 1) * per] = (part - part.mean()) / np.sqrt(part.var() + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return np.moveaxis(y, -1, axis)


# -- the ops: values and gradients ---------------------------------------------------------------

@pytest.mark.parametrize("shape,axis,rms", [
    ((2, 5), -1, False), ((2, 3, 4), -1, False), ((2, 3, 4, 5), [1, 2, 3], False),
    ((2, 3, 4, 5), 1, False), ((2, 3, 4, 5), [1, 3], False), ((3, 4), 0, False),
    ((2, 3, 6), -1, True), ((2, 3, 4, 2), [1, 2], True),
])
def test_layer_norm_values_and_gradcheck(shape, axis, rms):
    x = _x(shape)
    axes = axis if isinstance(axis, list) else [axis]
    pshape = tuple(shape[a] for a in sorted(a % len(shape) for a in axes))
    rng = np.random.default_rng(1)
    gamma, beta = rng.standard_normal(pshape), None if rms else rng.standard_normal(pshape)
    got = layer_norm(x, gamma, beta, axis=axis, epsilon=1e-3, rms_scaling=rms).numpy()
    np.testing.assert_allclose(got, _reference_layer_norm(x, gamma, beta, axes, 1e-3, rms),
                               rtol=1e-10, atol=1e-12)
    params = [gamma] if rms else [gamma, beta]
    gradcheck(lambda t, g, *b: layer_norm(t, g, b[0] if b else None, axis=axis,
                                          rms_scaling=rms), [x] + params)


@pytest.mark.parametrize("use_gamma,use_beta", [(False, False), (True, False), (False, True)])
def test_layer_norm_without_gamma_or_beta_gradchecks(use_gamma, use_beta):
    x = _x((2, 3, 4))
    gamma = _x((4,), 2) if use_gamma else None
    beta = _x((4,), 3) if use_beta else None
    want = _reference_layer_norm(x, gamma, beta, [-1], 1e-3)
    np.testing.assert_allclose(layer_norm(x, gamma, beta).numpy(), want, rtol=1e-10, atol=1e-12)
    params = [p for p in (gamma, beta) if p is not None]

    def fn(t, *p):
        it = iter(p)
        return layer_norm(t, next(it) if use_gamma else None, next(it) if use_beta else None)
    gradcheck(fn, [x] + params)


@pytest.mark.parametrize("shape,groups,axis", [
    ((2, 6), 3, -1), ((2, 4, 6), 1, -1), ((2, 4, 6), 6, -1), ((2, 3, 4, 6), 2, -1),
    ((2, 6, 3, 4), 3, 1), ((2, 4, 3, 2), 2, 1), ((1, 3, 4, 5, 4), 2, -1),
])
def test_group_norm_values_and_gradcheck(shape, groups, axis):
    x = _x(shape)
    c = shape[axis]
    gamma, beta = _x((c,), 1), _x((c,), 2)
    got = group_norm(x, gamma, beta, groups, axis=axis).numpy()
    np.testing.assert_allclose(got, _reference_group_norm(x, gamma, beta, groups, axis, 1e-3),
                               rtol=1e-10, atol=1e-12)
    gradcheck(lambda t, g, b: group_norm(t, g, b, groups, axis=axis), [x, gamma, beta])
    gradcheck(lambda t: group_norm(t, None, None, groups, axis=axis), [x])


def test_ops_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, g, b = _x((2, 6, 4, 5)), _x((6,), 1), _x((6,), 2)
    want = F.group_norm(torch.tensor(x), 3, torch.tensor(g), torch.tensor(b), 1e-3).numpy()
    np.testing.assert_allclose(group_norm(x, g, b, 3, axis=1).numpy(), want, rtol=1e-10,
                               atol=1e-12)
    g3, b3 = _x((6, 4, 5), 3), _x((6, 4, 5), 4)
    want = F.layer_norm(torch.tensor(x), (6, 4, 5), torch.tensor(g3), torch.tensor(b3),
                        1e-3).numpy()
    np.testing.assert_allclose(layer_norm(x, g3, b3, axis=[1, 2, 3]).numpy(), want, rtol=1e-10,
                               atol=1e-12)


def test_group_norm_extremes_are_layer_and_instance_norm():
    x = _x((2, 3, 4, 6))
    # one group: layer norm over all non-batch axes (gamma per channel, here none)
    np.testing.assert_allclose(group_norm(x, None, None, 1).numpy(),
                               layer_norm(x, None, None, axis=[1, 2, 3]).numpy(), rtol=1e-12)
    # one group per channel: each channel of each sample over its spatial positions
    want = (x - x.mean(axis=(1, 2), keepdims=True)) / np.sqrt(x.var(axis=(1, 2), keepdims=True)
                                                                + 1e-3)
    np.testing.assert_allclose(group_norm(x, None, None, 6).numpy(), want, rtol=1e-10)


def test_float32_in_float32_out():
    x = _x((2, 3, 4)).astype(np.float32)
    assert layer_norm(x, np.ones(4, np.float32), None).dtype == np.float32
    assert group_norm(x, None, np.zeros(4, np.float32), 2).dtype == np.float32


@st.composite
def _layer_cases(draw):
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    axes = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                         unique_by=lambda a: a % ndim))
    return shape, axes, draw(st.booleans()), draw(st.integers(0, 2 ** 16))


@settings(max_examples=40, deadline=None)
@given(_layer_cases())
def test_layer_norm_gradchecks_on_drawn_shapes(case):
    shape, axes, rms, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2
    pshape = tuple(shape[a] for a in sorted(a % len(shape) for a in axes))
    gamma = rng.standard_normal(pshape)
    if rms:
        gradcheck(lambda t, g: layer_norm(t, g, None, axis=axes, rms_scaling=True), [x, gamma])
    else:
        gradcheck(lambda t, g, b: layer_norm(t, g, b, axis=axes),
                  [x, gamma, rng.standard_normal(pshape)])


@st.composite
def _group_cases(draw):
    ndim = draw(st.integers(2, 4))
    groups, per = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = list(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    axis = draw(st.sampled_from([-1, 1]))
    shape[axis] = groups * per
    return tuple(shape), groups, axis, draw(st.integers(0, 2 ** 16))


@settings(max_examples=40, deadline=None)
@given(_group_cases())
def test_group_norm_gradchecks_on_drawn_shapes(case):
    shape, groups, axis, seed = case
    rng = np.random.default_rng(seed)
    c = shape[axis]
    gradcheck(lambda t, g, b: group_norm(t, g, b, groups, axis=axis),
              [rng.standard_normal(shape) * 2, rng.standard_normal(c), rng.standard_normal(c)])


@pytest.mark.parametrize("call,error,match", [
    (lambda: layer_norm(np.ones((2, 3)), None, None, axis=2), ValueError,
     "layer_norm: axis must be"),
    (lambda: layer_norm(np.ones((2, 3)), None, None, axis=[1, -1]), ValueError,
     "layer_norm: axis must be .*distinct"),
    (lambda: layer_norm(np.ones((2, 3)), None, None, axis="last"), TypeError,
     "layer_norm: axis must be"),
    (lambda: layer_norm(np.ones((2, 3)), np.ones(2), None), ValueError,
     r"layer_norm: gamma must have shape \(3,\) .*got shape \(2,\)"),
    (lambda: layer_norm(np.ones((2, 3)), None, np.ones((2, 3)), axis=-1), ValueError,
     r"layer_norm: beta must have shape \(3,\)"),
    (lambda: layer_norm(np.ones((2, 3)), None, None, epsilon=-1.0), ValueError,
     "layer_norm: epsilon must be a non-negative number, got -1.0"),
    (lambda: layer_norm(np.ones((2, 3)), None, np.ones(3), rms_scaling=True), ValueError,
     "layer_norm: beta must be None with rms_scaling=True"),
    (lambda: layer_norm(np.ones((2, 3)), None, None, rms_scaling=1), TypeError,
     "layer_norm: rms_scaling must be True or False"),
    (lambda: layer_norm(np.ones(()), None, None), ValueError, "layer_norm: x must have"),
    (lambda: group_norm(np.ones((2, 6)), None, None, 4), ValueError,
     "group_norm: groups must divide the number of channels 6 .*got 4"),
    (lambda: group_norm(np.ones((2, 6)), None, None, 0), ValueError,
     "group_norm: groups must be a positive integer, got 0"),
    (lambda: group_norm(np.ones((2, 6)), None, None, 2.0), TypeError,
     "group_norm: groups must be a positive integer, got 2.0"),
    (lambda: group_norm(np.ones((2, 6)), None, None, 2, axis=0), ValueError,
     "group_norm: axis must be a channel axis, not the batch axis"),
    (lambda: group_norm(np.ones((2, 6)), None, None, 2, axis=3), ValueError,
     "group_norm: axis must be"),
    (lambda: group_norm(np.ones(6), None, None, 2), ValueError,
     "group_norm: x must have a batch axis and a channel axis"),
    (lambda: group_norm(np.ones((2, 6)), np.ones(3), None, 2), ValueError,
     r"group_norm: gamma must have shape \(6,\)"),
])
def test_op_errors_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- the layers: harness and values --------------------------------------------------------------

@pytest.mark.parametrize("kwargs,shape,weight_shapes", [
    (dict(), (2, 5), [(5,), (5,)]),
    (dict(), (2, 3, 4), [(4,), (4,)]),
    (dict(axis=[1, 2, 3]), (2, 3, 2, 4), [(3, 2, 4), (3, 2, 4)]),
    (dict(axis=1), (2, 3, 2, 2), [(3,), (3,)]),               # channels_first style
    (dict(axis=(3, 1), epsilon=0.1), (2, 3, 2, 4), [(3, 4), (3, 4)]),
    (dict(center=False), (2, 3, 4), [(4,)]),
    (dict(scale=False), (2, 3, 4), [(4,)]),
    (dict(center=False, scale=False), (2, 3, 4), []),
    (dict(rms_scaling=True), (2, 3, 4), [(4,)]),
    (dict(rms_scaling=True, scale=False, center=True), (2, 5), [(5,)]),
])
def test_layer_normalization_harness(kwargs, shape, weight_shapes):
    layer, y = run_layer_test(LayerNormalization, kwargs, shape,
                              expected_num_weights=len(weight_shapes),
                              expected_num_trainable=len(weight_shapes),
                              expected_weight_shapes=weight_shapes, input_data=_x(shape)
                              .astype(np.float32))
    axis = kwargs.get("axis", -1)
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    # the weights start at gamma = 1, beta = 0: the plain normalisation
    want = _reference_layer_norm(_x(shape), None, None, axes, layer.epsilon, layer.rms_scaling)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs,shape", [
    (dict(), (2, 3, 32)),                                    # the default groups=32
    (dict(groups=1), (2, 3, 4)),
    (dict(groups=4), (2, 3, 4)),                             # one group per channel
    (dict(groups=-1), (2, 2, 2, 3)),                         # -1: instance normalization
    (dict(groups=2), (2, 2, 3, 4)),
    (dict(groups=3, axis=1), (2, 6, 2, 2)),                  # channels_first
    (dict(groups=2, axis=1, center=False), (2, 4, 3)),
    (dict(groups=2, scale=False, epsilon=0.1), (3, 4)),
    (dict(groups=2, center=False, scale=False), (2, 2, 4)),
])
def test_group_normalization_harness(kwargs, shape):
    n = kwargs.get("center", True) + kwargs.get("scale", True)
    c = shape[kwargs.get("axis", -1)]
    layer, y = run_layer_test(GroupNormalization, kwargs, shape, expected_num_weights=n,
                              expected_num_trainable=n, expected_weight_shapes=[(c,)] * n,
                              input_data=_x(shape).astype(np.float32),
                              run_gradcheck=c <= 8)
    groups = c if layer.groups == -1 else layer.groups
    want = _reference_group_norm(_x(shape), None, None, groups, kwargs.get("axis", -1),
                                 layer.epsilon)
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)


def test_weights_are_in_keras_order_with_their_initializers_and_penalties():
    layer = LayerNormalization(name="ln", gamma_initializer="zeros", beta_initializer="ones",
                               gamma_regularizer="l2", beta_constraint="non_neg")
    layer(np.ones((2, 3), np.float32))
    assert [w.path for w in layer.weights] == ["ln/gamma", "ln/beta"]
    np.testing.assert_array_equal(np.stack(layer.get_weights()), [[0] * 3, [1] * 3])
    assert len(layer.losses) == 1 and layer.beta.constraint is not None
    group = GroupNormalization(groups=1, name="gn", beta_regularizer=mg.regularizers.L1(0.5))
    group(np.ones((2, 2, 3), np.float32))
    assert [w.path for w in group.weights] == ["gn/gamma", "gn/beta"]
    assert len(group.losses) == 1


def test_layer_normalization_axis_minus_one_takes_any_rank_with_its_features():
    layer = LayerNormalization()
    layer(_x((2, 4)).astype(np.float32))
    assert layer(_x((2, 3, 4)).astype(np.float32)).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="was built for inputs with 4 at axis -1"):
        layer(np.ones((2, 5), np.float32))


def test_layers_are_exported_and_registered():
    for cls in (LayerNormalization, GroupNormalization):
        assert getattr(layers, cls.__name__) is cls
        assert type(layers.deserialize({"class_name": cls.__name__,
                                        "config": cls().get_config()})) is cls


@pytest.mark.parametrize("make,error,match", [
    (lambda: LayerNormalization(axis="x"), TypeError, "LayerNormalization: axis must be"),
    (lambda: LayerNormalization(axis=[1, 1]), ValueError, "LayerNormalization: axis must be"),
    (lambda: LayerNormalization(axis=1.0), TypeError, "LayerNormalization: axis must be"),
    (lambda: LayerNormalization(epsilon=-1), ValueError, "LayerNormalization: epsilon must be"),
    (lambda: LayerNormalization(epsilon="1e-3"), TypeError, "LayerNormalization: epsilon"),
    (lambda: LayerNormalization(center=1), TypeError,
     "LayerNormalization: center must be True or False, got 1"),
    (lambda: LayerNormalization(scale=None), TypeError, "LayerNormalization: scale must be"),
    (lambda: LayerNormalization(rms_scaling="yes"), TypeError,
     "LayerNormalization: rms_scaling must be True or False"),
    (lambda: LayerNormalization(gamma_initializer="nope"), ValueError,
     "LayerNormalization: gamma_initializer"),
    (lambda: LayerNormalization(beta_regularizer="nope"), ValueError,
     "LayerNormalization: beta_regularizer"),
    (lambda: LayerNormalization(gamma_constraint="nope"), ValueError,
     "LayerNormalization: gamma_constraint"),
    (lambda: GroupNormalization(groups=0), ValueError,
     r"GroupNormalization: groups must be a positive integer or -1 .*got 0"),
    (lambda: GroupNormalization(groups=-2), ValueError, "GroupNormalization: groups must be"),
    (lambda: GroupNormalization(groups=2.0), TypeError, "GroupNormalization: groups must be"),
    (lambda: GroupNormalization(groups=True), TypeError, "GroupNormalization: groups must be"),
    (lambda: GroupNormalization(axis=[1, 2]), TypeError, "GroupNormalization: axis must be"),
    (lambda: GroupNormalization(epsilon=-0.1), ValueError, "GroupNormalization: epsilon must"),
    (lambda: GroupNormalization(center="no"), TypeError, "GroupNormalization: center must"),
    (lambda: GroupNormalization(beta_initializer="nope"), ValueError,
     "GroupNormalization: beta_initializer"),
])
def test_bad_arguments_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("layer,shape,match", [
    (GroupNormalization(groups=4), (2, 3, 6),
     "GroupNormalization '.*': groups must divide the number of channels 6 .*got 4"),
    (GroupNormalization(groups=8), (2, 6),
     "GroupNormalization '.*': groups must divide the number of channels 6 .*got 8"),
    (GroupNormalization(groups=2, axis=0), (4, 6), "axis must be a channel axis"),
    (GroupNormalization(groups=2, axis=3), (2, 4, 6), "GroupNormalization '.*': axis must be"),
    (LayerNormalization(axis=3), (2, 4, 6), "LayerNormalization '.*': axis must be"),
    (LayerNormalization(axis=[1, -2]), (2, 4, 6), "LayerNormalization '.*': axis must be"),
])
def test_build_errors_name_the_argument(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer(np.ones(shape, np.float32))


def test_unknown_normalized_axes_are_refused_at_build():
    with pytest.raises(ValueError, match="axis -1 of the input must be known"):
        LayerNormalization().build((None, 3, None))
    with pytest.raises(ValueError, match="axis 1 \\(the channels\\) of the input must be known"):
        GroupNormalization(groups=2, axis=1).build((None, None, 4))
    with pytest.raises(ValueError, match="axis must be"):
        LayerNormalization(axis=2).compute_output_shape((None, 3))


# -- Keras 3 as oracle ---------------------------------------------------------------------------

ORACLE_CASES = [
    ("LayerNormalization", {}, (2, 3, 4)),
    ("LayerNormalization", {"axis": [1, 2, 3]}, (2, 3, 4, 5)),
    ("LayerNormalization", {"axis": 1}, (2, 3, 4, 5)),               # channels_first style
    ("LayerNormalization", {"axis": [1, 3], "epsilon": 0.01}, (2, 3, 4, 5)),
    ("LayerNormalization", {"center": False, "scale": False}, (3, 5)),
    ("LayerNormalization", {"scale": False}, (3, 2, 5)),
    ("LayerNormalization", {"rms_scaling": True}, (2, 3, 6)),
    ("LayerNormalization", {"rms_scaling": True, "axis": [1, 2]}, (2, 3, 4, 2)),
    # axes of both signs: Keras sizes gamma/beta by the axes sorted as written ((4, 3) here) and
    # reshapes them to the axes' order (found by a fuzz: the weights did not load)
    ("LayerNormalization", {"axis": [1, -1]}, (2, 3, 4)),
    ("LayerNormalization", {"axis": [-1, 2], "epsilon": 0.01}, (2, 3, 4, 5)),
    ("LayerNormalization", {"rms_scaling": True, "axis": [1, -1]}, (2, 2, 4)),
    ("GroupNormalization", {"groups": 2}, (2, 4, 5, 6)),
    ("GroupNormalization", {"groups": 3, "axis": 1}, (2, 6, 4, 5)),  # channels_first
    ("GroupNormalization", {"groups": -1}, (2, 5, 4)),
    ("GroupNormalization", {"groups": 1, "center": False}, (2, 3, 4, 6)),
    ("GroupNormalization", {"groups": 6, "scale": False}, (3, 6)),
    ("GroupNormalization", {"groups": 2, "axis": 1, "epsilon": 0.1}, (2, 4, 3)),
]


@pytest.mark.parametrize("class_name,kwargs,input_shape", ORACLE_CASES)
def test_matches_keras3(keras, monkeypatch, class_name, kwargs, input_shape):
    axis = kwargs.get("axis", -1)
    if class_name == "LayerNormalization" and not isinstance(axis, list) and \
            axis % len(input_shape) != len(input_shape) - 1:
        # Keras 3.15 on torch sends any single axis to F.layer_norm, which normalises the
        # *trailing* axes (wrong for axis=1 of a 4-D input); Keras's other backends take its
        # generic path (ops.moments), which this switches the torch backend to.
        import keras.src.ops.nn as knn
        if not hasattr(knn, "is_continuous_axis"):
            pytest.skip("this Keras has no is_continuous_axis to route around its torch kernel")
        monkeypatch.setattr(knn, "is_continuous_axis", lambda axes: False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # rms_scaling=True: Keras's deprecation warning
        match_keras_layer(keras, class_name, kwargs, input_shape)


# -- model files ---------------------------------------------------------------------------------

def _model():
    L = layers
    inputs = L.Input(shape=(4, 5, 6))
    h = LayerNormalization(name="ln")(inputs)
    h = GroupNormalization(groups=3, name="gn")(h)
    h = L.Conv2D(4, 1, name="conv")(h)
    h = LayerNormalization(axis=[1, 2, 3], epsilon=0.01, name="ln_all")(h)
    h = GroupNormalization(groups=2, axis=1, center=False, name="gn_cf")(h)
    h = LayerNormalization(axis=1, scale=False, name="ln_cf")(h)
    outputs = LayerNormalization(rms_scaling=True, name="ln_rms")(h)
    model = mg.models.Model(inputs, outputs, name="norms")
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign(rng.uniform(0.5, 1.5, size=w.shape).astype(np.float32))
    return model, rng.standard_normal((2, 4, 5, 6)).astype(np.float32)


@pytest.mark.parametrize("ending", ["", ".keras", ".h5"])
def test_a_model_round_trips_through_each_file_kind(tmp_path, ending):
    if ending:
        pytest.importorskip("h5py")
    model, x = _model()
    path = tmp_path / ("model" + ending)
    model.save(path)
    again = mg.models.load_model(path)
    assert [type(a).__name__ for a in again.layers] == [type(a).__name__ for a in model.layers]
    assert again.get_layer("gn_cf").get_config() == model.get_layer("gn_cf").get_config()
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_a_keras3_model_file_loads_and_predicts_as_keras(keras, tmp_path):
    """Keras writes its configs after build (axis as a list, groups=-1 resolved to C)."""
    pytest.importorskip("h5py")
    K = keras.layers
    inputs = keras.Input(shape=(4, 5, 6))
    h = K.LayerNormalization()(inputs)
    h = K.GroupNormalization(groups=-1)(h)
    h = K.LayerNormalization(axis=[1, 2, 3], center=False)(h)
    outputs = K.GroupNormalization(groups=2, axis=1)(K.Permute((3, 1, 2))(h))
    theirs = keras.Model(inputs, outputs)
    rng = np.random.default_rng(2)
    theirs.set_weights([rng.uniform(0.5, 1.5, w.shape).astype(np.float32)
                        for w in theirs.get_weights()])
    x = rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
    theirs.save(tmp_path / "k.keras")
    ours = mg.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(ours.predict(x), np.asarray(theirs.predict(x, verbose=0)),
                               rtol=1e-4, atol=1e-5)


def test_tfjs_predicts_the_same_for_layer_normalization(node, tmp_path):
    # TF.js has LayerNormalization (one axis or several), not GroupNormalization
    from test_tfjs_interop import _tfjs_predict
    L = layers
    model = mg.models.Sequential([
        L.Input(shape=(4, 5, 6)),
        LayerNormalization(name="ln"),
        L.Conv2D(4, 1, name="conv"),
        LayerNormalization(axis=[1, 2, 3], name="ln_all"),
        LayerNormalization(axis=1, center=False, epsilon=0.01, name="ln_cf"),
    ], name="layer_norms")
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign(rng.uniform(0.5, 1.5, size=w.shape).astype(np.float32))
    x = rng.standard_normal((2, 4, 5, 6)).astype(np.float32)
    model.save(tmp_path / "model")
    expected = model.predict(x)
    got = _tfjs_predict(node, tmp_path / "model", x, tmp_path)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
