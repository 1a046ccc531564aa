"""Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot (and Add through the shared
Merge base): the one harness for every class and several configs, errors that name the argument
or the shapes, and Keras 3 (torch backend) as the oracle for forward values and gradients."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers
from layer_harness import run_layer_test
from test_tfjs_interop import _tfjs_predict

ELEMENTWISE = [(layers.Subtract, 2), (layers.Multiply, 3), (layers.Average, 3),
               (layers.Maximum, 2), (layers.Minimum, 3), (layers.Add, 2)]


# -- the harness ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,n", ELEMENTWISE)
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4)])
def test_elementwise_harness(cls, n, shape):
    run_layer_test(cls, {}, [shape] * n, expected_output_shape=shape)


@pytest.mark.parametrize("cls", [c for c, _ in ELEMENTWISE])
@pytest.mark.parametrize("shapes,expected", [
    ([(2, 3, 3, 4), (2, 1, 1, 4)], (2, 3, 3, 4)),    # squeeze-and-excitation gate
    ([(2, 4), (2, 3, 4)], (2, 3, 4)),                # lower rank: size-1 axes after the batch
    ([(2, 3, 1), (2, 1, 4)], (2, 3, 4))])
def test_elementwise_broadcasts_as_keras(cls, shapes, expected):
    _, y = run_layer_test(cls, {}, shapes, expected_output_shape=expected)
    xs = [np.random.default_rng(0).standard_normal(s).astype(np.float32) for s in shapes]
    lifted = [x.reshape(x.shape[:1] + (1,) * (len(expected) - x.ndim) + x.shape[1:]) for x in xs]
    reference = {layers.Subtract: np.subtract, layers.Multiply: np.multiply,
                 layers.Add: np.add, layers.Maximum: np.maximum, layers.Minimum: np.minimum,
                 layers.Average: lambda a, b: (a + b) / 2}[cls]
    np.testing.assert_allclose(cls()(xs).numpy(), reference(*lifted), rtol=1e-6, atol=1e-6)


def test_elementwise_output_shape_fills_unknown_sizes():
    assert layers.Multiply().compute_output_shape([(None, 3, None), (None, None, 4)]) == \
        (None, 3, 4)
    assert layers.Maximum().compute_output_shape([(None, None, 1), (5, 1, 1)]) == (5, None, 1)


@pytest.mark.parametrize("cls,reference", [
    (layers.Subtract, lambda xs: xs[0] - xs[1]),
    (layers.Multiply, lambda xs: np.prod(xs, axis=0)),
    (layers.Average, lambda xs: np.mean(xs, axis=0)),
    (layers.Maximum, lambda xs: np.max(xs, axis=0)),
    (layers.Minimum, lambda xs: np.min(xs, axis=0))])
def test_elementwise_values(cls, reference):
    n = 2 if cls is layers.Subtract else 3
    xs = [np.random.default_rng(i).standard_normal((4, 5)).astype(np.float32) for i in range(n)]
    np.testing.assert_allclose(cls()(xs).numpy(), reference(np.stack(xs)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("axis,shapes,expected", [
    (-1, [(2, 3, 4), (2, 3, 5)], (2, 3, 9)),
    (1, [(2, 3, 4), (2, 1, 4), (2, 2, 4)], (2, 6, 4)),
    (-3, [(2, 2, 3, 4), (2, 1, 3, 4)], (2, 3, 3, 4)),   # channels_first feature maps
    (-1, [(2, 3)], (2, 3))])                             # one input passes through
def test_concatenate_harness(axis, shapes, expected):
    _, y = run_layer_test(layers.Concatenate, {"axis": axis}, shapes,
                          expected_output_shape=expected)
    xs = [np.random.default_rng(0).standard_normal(s).astype(np.float32) for s in shapes]
    np.testing.assert_array_equal(layers.Concatenate(axis=axis)(xs).numpy(),
                                  np.concatenate(xs, axis=axis))


@pytest.mark.parametrize("kwargs,shapes,expected", [
    ({"axes": 1}, [(2, 4), (2, 4)], (2, 1)),
    ({"axes": -1, "normalize": True}, [(2, 4), (2, 4)], (2, 1)),
    ({"axes": [1, 2]}, [(2, 3, 5), (2, 4, 3)], (2, 5, 4)),
    ({"axes": [2, 1], "normalize": True}, [(2, 3, 5), (2, 5, 2)], (2, 3, 2)),
    ({"axes": 2}, [(2, 3, 4), (2, 2, 4)], (2, 3, 2)),
    ({"axes": [1, 1]}, [(2, 3), (2, 3, 2, 2)], (2, 2, 2)),
    ({"axes": -1}, [(2, 2, 2, 3), (2, 3)], (2, 2, 2))])
def test_dot_harness(kwargs, shapes, expected):
    run_layer_test(layers.Dot, kwargs, shapes, expected_output_shape=expected)


def test_dot_values():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 6, 4))
    out = layers.Dot(axes=(1, 2), dtype="float64")([a, b]).numpy()
    np.testing.assert_allclose(out, np.einsum("nkp,nqk->npq", a, b), rtol=1e-12)
    cos = layers.Dot(axes=1, normalize=True, dtype="float64")([a[:, :, 0], b[:, 0, :]]).numpy()
    u, v = a[:, :, 0], b[:, 0, :]
    want = (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
    np.testing.assert_allclose(cos[:, 0], want, rtol=1e-12)
    # a zero vector has no direction: the floored norm gives 0, not NaN
    zero = layers.Dot(axes=1, normalize=True)([np.zeros((1, 3)), np.ones((1, 3))]).numpy()
    assert zero.tolist() == [[0.0]]


def test_merging_in_a_model():
    a, b = layers.Input(shape=(4,)), layers.Input(shape=(4,))
    merged = layers.Concatenate()([layers.Subtract()([a, b]), layers.Dot(axes=1)([a, b])])
    model = mg.models.Model(inputs=[a, b], outputs=layers.Dense(2)(merged))
    assert model.output_shape == (None, 2) if hasattr(model, "output_shape") else True
    x = [np.ones((3, 4), np.float32), np.zeros((3, 4), np.float32)]
    assert model(x).shape == (3, 2)


# -- errors -----------------------------------------------------------------------------------
@pytest.mark.parametrize("make,error,match", [
    (lambda: layers.Subtract(name="s")([np.zeros((2, 3))] * 3), ValueError,
     r"Subtract 's': expected a list of exactly 2 inputs, got 3 inputs"),
    (lambda: layers.Multiply(name="m")(np.zeros((2, 3))), ValueError,
     r"Multiply 'm': expected a list of at least 2 inputs, got a single input of shape \(2, 3\)"),
    (lambda: layers.Maximum(name="m")([np.zeros((2, 3)), np.zeros((2, 4))]), ValueError,
     r"Maximum 'm': all inputs must have the same shape, got \[\(2, 3\), \(2, 4\)\]"),
    (lambda: layers.Average(name="m").compute_output_shape([(None, 3), (None, 3, 2)]),
     ValueError, r"Average 'm': all inputs must have the same shape, got \[\(None, 3\), "
                 r"\(None, 3, 2\)\] \(a size of 1 broadcasts\)"),
    (lambda: layers.Add(name="a")([np.zeros((2, 3)), np.zeros((3, 3))]), ValueError,
     r"Add 'a': all inputs must have the same batch size, got \[\(2, 3\), \(3, 3\)\]"),
    (lambda: layers.Concatenate(axis=1, name="c")([np.zeros((2, 3, 4)), np.zeros((2, 3, 5))]),
     ValueError, r"Concatenate 'c': inputs must have the same shape except along axis=1, got "
                 r"\[\(2, 3, 4\), \(2, 3, 5\)\]"),
    (lambda: layers.Concatenate(axis=3, name="c")([np.zeros((2, 3))] * 2), ValueError,
     r"Concatenate 'c': axis=3 is out of range for inputs of rank 2"),
    (lambda: layers.Concatenate(axis="1"), TypeError, r"Concatenate: axis must be an int, got '1'"),
    (lambda: layers.Dot(axes=(1, 2, 3)), ValueError, r"Dot: axes must be an int or a list of two "
                                                     r"ints, got axes=\(1, 2, 3\) \(3 elements\)"),
    (lambda: layers.Dot(axes="1"), TypeError, r"axes=\'1\'"),
    (lambda: layers.Dot(axes=[1, 1.5]), ValueError, r"axes=\[1, 1.5\]"),
    (lambda: layers.Dot(axes=1, normalize="yes"), TypeError, r"normalize must be True or False"),
    (lambda: layers.Dot(axes=1, name="d")([np.zeros((2, 3)), np.zeros((2, 4))]), ValueError,
     r"Dot 'd': axes=1 pairs axis 1 of size 3 with axis 1 of size 4; they must be equal"),
    (lambda: layers.Dot(axes=0, name="d")([np.zeros((2, 3))] * 2), ValueError,
     r"Dot 'd': axes=0 must name a non-batch axis"),
    (lambda: layers.Dot(axes=1, name="d")([np.zeros((2, 3))] * 3), ValueError,
     r"Dot 'd': expected a list of exactly 2 inputs, got 3"),
    (lambda: layers.Dot(axes=1, name="d").compute_output_shape([(2, 3), (4, 3)]), ValueError,
     r"Dot 'd': the inputs must have the same batch size"),
])
def test_errors_name_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


# -- Keras 3 as the oracle --------------------------------------------------------------------
ORACLE = [
    ("Subtract", {}, [(3, 4), (3, 4)]),
    ("Multiply", {}, [(3, 2, 4)] * 3),
    ("Average", {}, [(3, 4)] * 3),
    ("Maximum", {}, [(3, 2, 4)] * 2),
    ("Minimum", {}, [(3, 4)] * 3),
    ("Multiply", {}, [(3, 2, 2, 4), (3, 1, 1, 4)]),
    ("Add", {}, [(3, 4), (3, 2, 4)]),
    ("Subtract", {}, [(3, 2, 1), (3, 1, 4)]),
    ("Maximum", {}, [(3, 2, 4), (3, 1, 4), (3, 4)]),
    ("Concatenate", {"axis": -1}, [(3, 2, 4), (3, 2, 5)]),
    ("Concatenate", {"axis": 1}, [(3, 2, 4), (3, 3, 4), (3, 1, 4)]),
    ("Concatenate", {"axis": -3}, [(3, 2, 5, 5), (3, 4, 5, 5)]),
    ("Dot", {"axes": 1}, [(3, 4), (3, 4)]),
    ("Dot", {"axes": -1, "normalize": True}, [(3, 5), (3, 5)]),
    ("Dot", {"axes": (1, 2)}, [(3, 4, 5), (3, 6, 4)]),
    ("Dot", {"axes": (2, 1), "normalize": True}, [(3, 4, 5), (3, 5, 2)]),
    ("Dot", {"axes": 2}, [(3, 2, 4), (3, 5, 4)]),
]


@pytest.mark.parametrize("class_name,kwargs,shapes", ORACLE)
def test_matches_keras3(keras, class_name, kwargs, shapes):
    import torch
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    theirs = getattr(keras.layers, class_name)(**kwargs)
    config = theirs.get_config()  # Keras's own dict (dtype policy and all) builds ours
    ours = layers.deserialize({"class_name": class_name, "config": config})
    assert type(ours).__name__ == class_name

    # forward, and the gradient of a random projection of the output w.r.t. every input
    t_in = [torch.tensor(x, requires_grad=True) for x in xs]
    t_out = theirs(t_in)
    proj = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
    (t_out * torch.tensor(proj)).sum().backward()
    m_in = [mg.Tensor(x, requires_grad=True) for x in xs]
    m_out = ours(m_in)
    (m_out * proj).sum().backward()
    np.testing.assert_allclose(m_out.numpy(), t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
    for m, t in zip(m_in, t_in):
        np.testing.assert_allclose(m.grad, t.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert tuple(ours.compute_output_shape([(None,) + s[1:] for s in shapes])) == \
        tuple(theirs.compute_output_shape([(None,) + s[1:] for s in shapes]))


def test_a_keras3_functional_model_with_merges_matches_keras(keras):
    """A Keras 3 model's own JSON (two inputs, a squeeze-and-excitation style gate, Concatenate,
    Dot, Average) builds in minigrad and, with Keras's weights, predicts what Keras predicts."""
    K = keras.layers
    a, b = keras.Input(shape=(4, 4, 3)), keras.Input(shape=(4, 4, 3))
    gate = K.Reshape((1, 1, 3))(K.Dense(3, activation="sigmoid")(K.GlobalAveragePooling2D()(a)))
    x = K.Concatenate(axis=-1)([K.Multiply()([a, gate]), K.Subtract()([a, b])])
    flat = K.Flatten()(x)
    sim = K.Dot(axes=1, normalize=True)([K.Dense(5)(flat), K.Dense(5)(K.Flatten()(b))])
    out = K.Average()([K.Dense(1)(flat), sim])
    theirs = keras.Model([a, b], out)
    ours = mg.models.model_from_json(theirs.to_json())
    ours.set_weights([w.detach().cpu().numpy() if hasattr(w, "detach") else np.asarray(w)
                      for w in theirs.get_weights()])
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((2, 4, 4, 3)).astype(np.float32) for _ in range(2)]
    want = theirs.predict(xs, verbose=0)
    np.testing.assert_allclose(ours.predict(xs), want, rtol=1e-4, atol=1e-5)


# -- TF.js (the Node oracle) runs minigrad's file with every merging layer -------------------------
def test_tfjs_predicts_the_same_for_the_merging_layers(node, tmp_path):
    # TF.js has every merging layer but Subtract
    a, b = layers.Input(shape=(3, 3, 2)), layers.Input(shape=(3, 3, 2))
    gate = layers.Reshape((1, 1, 2))(layers.Dense(2)(layers.GlobalAveragePooling2D()(a)))
    h = layers.Concatenate(axis=-1)([layers.Multiply()([a, gate]), layers.Add()([a, b]),
                                     layers.Maximum()([a, b]), layers.Minimum()([a, b, gate])])
    fa, fb = layers.Dense(4)(layers.Flatten()(h)), layers.Dense(4)(layers.Flatten()(b))
    out = layers.Average()([layers.Dot(axes=1, normalize=True)([fa, fb]),
                            layers.Dot(axes=-1)([fa, fb])])
    model = mg.models.Model([a, b], out)
    rng = np.random.default_rng(0)
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32))
    x = [rng.standard_normal((2, 3, 3, 2)).astype(np.float32) for _ in range(2)]
    model.save(tmp_path / "model")
    expected = model.predict(x)
    np.testing.assert_allclose(_tfjs_predict(node, tmp_path / "model", x, tmp_path), expected,
                               rtol=1e-4, atol=1e-5)
    again = mg.models.load_model(tmp_path / "model")
    np.testing.assert_allclose(again.predict(x), expected, rtol=1e-6)


def test_keras_functional_forms_and_alias_names():
    """Keras 3's ``layers.add([a, b])`` and friends, and its alias class names, importable."""
    a, b = layers.Input(shape=(3,)), layers.Input(shape=(3,))
    for fn, cls in [(layers.add, layers.Add), (layers.subtract, layers.Subtract),
                    (layers.multiply, layers.Multiply), (layers.average, layers.Average),
                    (layers.maximum, layers.Maximum), (layers.minimum, layers.Minimum),
                    (layers.concatenate, layers.Concatenate), (layers.dot, layers.Dot)]:
        out = fn([a, b], name=f"f_{cls.__name__.lower()}")
        assert isinstance(out.layer, cls) and out.layer.name == f"f_{cls.__name__.lower()}"
    assert layers.concatenate([a, b], axis=-1).shape == (None, 6)
    assert layers.dot([a, b], axes=1, normalize=True).layer.normalize is True
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(layers.subtract([x, 2 * x]).numpy(), -x)
    for alias, cls in [("Convolution1D", "Conv1D"), ("Convolution2DTranspose", "Conv2DTranspose"),
                       ("SeparableConvolution2D", "SeparableConv2D"), ("MaxPool2D", "MaxPooling2D"),
                       ("AvgPool1D", "AveragePooling1D"), ("GlobalAvgPool2D",
                                                           "GlobalAveragePooling2D")]:
        assert getattr(layers, alias) is getattr(layers, cls)
    entry = {"class_name": "Convolution1D", "config": {"filters": 2, "kernel_size": 3}}
    assert type(layers.deserialize(entry)) is layers.Conv1D
