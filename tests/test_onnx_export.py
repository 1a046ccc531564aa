"""``model.export(path, format="onnx")``: ONNX Runtime runs the file and gives what ``predict``
gives, for batch sizes the export never saw (optional: skips without onnx and onnxruntime).

The models: the MNIST example's MobileNet-style network after training steps; a functional model
with a residual Add, SeparableConv2D, a depthwise convolution with depth_multiplier 2 and dilation
2, 'same' poolings, Dense and Dropout; a channels_first model; MobileNet V1 and V2 from Keras's
own configs; models read from TF.js and Keras files; and each exportable layer alone.
"""
import json
import os
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")


@pytest.fixture(scope="module")
def ort():
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


def _randomize(model, seed=0):
    """Random weights everywhere, moving variances positive: no zero bias or unit gamma hides a
    mistake in the export."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        low, high = (0.5, 1.5) if "variance" in w.name else (-0.5, 0.5)
        w.assign(rng.uniform(low, high, size=w.shape).astype(np.float32))
    return model


def _run(ort, path, xs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: x for i, x in zip(session.get_inputs(), xs)}
    return session.run(None, feeds)


def _check(ort, model, tmp_path, batches=(1, 3, 7), seed=1, rtol=1e-4, atol=1e-5, scale=1.0):
    """Export, then compare ONNX Runtime with predict for each batch size; returns the ONNX
    model for further checks."""
    import onnx
    path = tmp_path / "model.onnx"
    model.export(path)
    rng = np.random.default_rng(seed)
    inputs = model.inputs if isinstance(model.inputs, list) else [model.inputs]
    for n in batches:
        xs = [(scale * rng.standard_normal((n,) + tuple(t.shape[1:]))).astype(np.float32)
              for t in inputs]
        want = model.predict(xs if len(xs) > 1 else xs[0])
        want = want if isinstance(want, list) else [want]
        got = _run(ort, path, xs)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return onnx.load(str(path))


# -- whole models ------------------------------------------------------------------------------
def test_the_mnist_example_after_training_steps(ort, tmp_path):
    sys.path.insert(0, os.path.join(HERE, "..", "examples"))
    try:
        from mnist_mobilenet import build_model
    finally:
        sys.path.pop(0)
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((64, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)   # moving statistics away from 0 and 1
    onnx_model = _check(ort, model, tmp_path, scale=0.5)
    names = {node.name for node in onnx_model.graph.node}
    assert {layer.name for layer in model.layers[1:]
            if type(layer).__name__ not in ("BatchNormalization",)} <= names | {"stem_input"}
    # the model's BatchNormalizations follow convolutions: all folded away
    assert not any(n.op_type == "BatchNormalization" for n in onnx_model.graph.node)
    dims = onnx_model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [28, 28, 1]


def _residual_model(data_format="channels_last"):
    shape = (9, 9, 4) if data_format == "channels_last" else (4, 9, 9)
    inputs = layers.Input(shape=shape, name="image")
    x = layers.Conv2D(8, 3, strides=2, padding="same", data_format=data_format, name="stem")(inputs)
    x = layers.BatchNormalization(axis=-1 if data_format == "channels_last" else 1, name="bn")(x)
    x = layers.ReLU(max_value=6.0, name="relu6")(x)
    y = layers.DepthwiseConv2D(3, depth_multiplier=2, dilation_rate=2, padding="same",
                               data_format=data_format, name="dw")(x)
    y = layers.SeparableConv2D(8, 3, padding="same", activation="relu", data_format=data_format,
                               name="sep")(y)
    x = layers.Add(name="residual")([x, y])
    x = layers.MaxPooling2D(3, strides=2, padding="same", data_format=data_format, name="max")(x)
    x = layers.AveragePooling2D(2, strides=1, padding="same", data_format=data_format,
                                name="avg")(x)
    x = layers.Flatten(data_format=data_format, name="flatten")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    return mg.models.Model(inputs, layers.Dense(5, activation="softmax", name="head")(x),
                           name="residual_net")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_a_functional_model_with_a_residual_add(ort, tmp_path, data_format):
    model = _randomize(_residual_model(data_format))
    onnx_model = _check(ort, model, tmp_path)
    assert onnx_model.graph.name == "residual_net"
    assert [i.name for i in onnx_model.graph.input] == ["image"]
    assert [o.name for o in onnx_model.graph.output] == ["head"]


def test_a_batch_norm_whose_input_is_read_twice_is_not_folded(ort, tmp_path):
    inputs = layers.Input(shape=(5, 5, 3))
    conv = layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    out = layers.Add()([layers.BatchNormalization(name="bn")(conv), conv])
    model = _randomize(mg.models.Model(inputs, out))
    onnx_model = _check(ort, model, tmp_path)
    assert "bn" in {n.name for n in onnx_model.graph.node}


@pytest.mark.parametrize("name", ["mobilenet_v1_025", "mobilenet_v2_035"])
def test_mobilenets_from_keras_configs(ort, tmp_path, name):
    with open(os.path.join(FIXTURES, "keras_configs", f"{name}.json")) as f:
        model = mg.models.model_from_json(f.read())
    _check(ort, _randomize(model), tmp_path, batches=(2,), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("folder", ["mobilenet_v1_tiny", "depthwise_variants", "mlp"])
def test_models_read_from_tfjs_files(ort, tmp_path, folder):
    model = mg.models.load_model(os.path.join(FIXTURES, "tfjs", folder))
    _check(ort, model, tmp_path, batches=(1, 4))


@pytest.mark.parametrize("name", ["cnn.keras", "nested.keras", "tfkeras2_cnn.h5"])
def test_models_read_from_keras_files(ort, tmp_path, name):
    pytest.importorskip("h5py")
    model = mg.models.load_model(os.path.join(FIXTURES, "keras", name))
    _check(ort, model, tmp_path, batches=(1, 5))


def test_a_sequential_model_with_a_nested_model(ort, tmp_path):
    block = mg.models.Sequential([layers.Conv2D(4, 3, activation="tanh"),
                                  layers.BatchNormalization()], name="block")
    model = mg.models.Sequential([layers.Input(shape=(6, 6, 2)), block,
                                  layers.GlobalAveragePooling2D(), layers.Dense(3)])
    _check(ort, _randomize(model), tmp_path)


def test_two_inputs_and_two_outputs(ort, tmp_path):
    a, b = layers.Input(shape=(4,), name="a"), layers.Input(shape=(4,), name="b")
    h = layers.Concatenate(name="cat")([layers.Dense(3, name="da")(a), layers.Dense(3, name="db")(b)])
    model = _randomize(mg.models.Model([a, b], [layers.Dense(2, name="o1")(h),
                                                layers.Multiply(name="o2")([a, b])]))
    onnx_model = _check(ort, model, tmp_path)
    assert [o.name for o in onnx_model.graph.output] == ["o1", "o2"]


# -- the export itself -------------------------------------------------------------------------
def test_export_does_not_change_the_model(ort, tmp_path):
    model = _randomize(_residual_model())
    before = [w.copy() for w in model.get_weights()]
    x = np.random.default_rng(0).standard_normal((2, 9, 9, 4)).astype(np.float32)
    want = model.predict(x)
    model.export(tmp_path / "m.onnx")
    for b, a in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x), want)
    assert sorted(os.listdir(tmp_path)) == ["m.onnx"]   # written atomically: no temporary left


def test_a_layer_without_an_onnx_equivalent_is_named(ort, tmp_path):
    class Doubler(layers.Layer):
        def call(self, inputs, training=False):
            return inputs * 2.0

    inputs = layers.Input(shape=(3,))
    model = mg.models.Model(inputs, Doubler(name="my_doubler")(layers.Dense(2)(inputs)))
    with pytest.raises(ValueError, match="my_doubler"):
        model.export(tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)


def test_an_activation_without_an_onnx_equivalent_is_named(ort, tmp_path):
    model = mg.models.Sequential([layers.Input(shape=(4,)),
                                  layers.Dense(3, activation="sparsemax", name="sparse")])
    with pytest.raises(ValueError, match="sparse.*sparsemax"):
        model.export(tmp_path / "m.onnx")


def test_unknown_format_and_unbuilt_model(tmp_path):
    model = mg.models.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="format must be 'onnx'.*tf_saved_model"):
        model.export(tmp_path / "m", format="tf_saved_model")
    pytest.importorskip("onnx")
    with pytest.raises(ValueError, match="not built"):
        model.export(tmp_path / "m.onnx")


def test_without_onnx_the_error_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)   # import onnx now raises ImportError
    model = mg.models.Sequential([layers.Input(shape=(3,)), layers.Dense(2)])
    with pytest.raises(ImportError, match=r"minigrad\[onnx\]"):
        model.export(tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)


# -- every exportable layer alone ------------------------------------------------------------------
LAYERS = [
    ("Dense", {"units": 3, "activation": "gelu"}, (5,)),
    ("Dense", {"units": 3, "use_bias": False}, (2, 5)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (8, 7, 3)),
    ("Conv2D", {"filters": 2, "kernel_size": (2, 3), "dilation_rate": 2, "activation": "relu6"},
     (7, 8, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "data_format": "channels_first",
                "padding": "same", "strides": 2}, (3, 8, 7)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 3, "strides": 2,
                         "padding": "same"}, (7, 6, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2,
                         "data_format": "channels_first"}, (2, 6, 6)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3, "depth_multiplier": 2,
                         "padding": "same", "strides": 2}, (7, 7, 3)),
    ("Conv2D", {"filters": 6, "kernel_size": 3, "groups": 3, "padding": "same"}, (5, 5, 6)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (9, 3)),
    ("Conv1D", {"filters": 2, "kernel_size": 3, "dilation_rate": 2, "padding": "causal"},
     (8, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 2, "groups": 2, "data_format": "channels_first"},
     (4, 7)),
    ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same",
                         "strides": 2}, (9, 3)),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2,
                         "padding": "same"}, (8, 3)),
    ("SeparableConv2D", {"filters": 3, "kernel_size": 3, "data_format": "channels_first"},
     (2, 6, 6)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"},
     (4, 5, 2)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": (3, 2), "strides": (2, 3),
                         "padding": "valid"}, (3, 4, 2)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same",
                         "output_padding": 1}, (4, 4, 3)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 2, "strides": 3, "padding": "valid",
                         "dilation_rate": 1, "data_format": "channels_first"}, (3, 4, 4)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 1, "padding": "same",
                         "dilation_rate": 2, "activation": "tanh"}, (5, 5, 2)),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (8, 7, 2)),
    ("MaxPooling2D", {"pool_size": 2, "data_format": "channels_first"}, (2, 6, 6)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (8, 7, 2)),
    ("AveragePooling2D", {"pool_size": 2, "padding": "valid"}, (5, 5, 2)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (8, 3)),
    ("MaxPooling1D", {"pool_size": 2, "data_format": "channels_first"}, (3, 8)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (8, 3)),
    ("AveragePooling1D", {"pool_size": 2, "strides": 1}, (5, 2)),
    ("GlobalMaxPooling1D", {}, (5, 3)),
    ("GlobalMaxPooling1D", {"keepdims": True, "data_format": "channels_first"}, (3, 5)),
    ("GlobalMaxPooling2D", {}, (4, 5, 3)),
    ("GlobalMaxPooling2D", {"keepdims": True}, (4, 5, 3)),
    ("GlobalAveragePooling1D", {}, (5, 3)),
    ("GlobalAveragePooling2D", {"data_format": "channels_first"}, (3, 4, 5)),
    ("GlobalAveragePooling2D", {}, (4, 5, 3)),
    ("GlobalAveragePooling2D", {"keepdims": True}, (4, 5, 3)),
    ("ZeroPadding2D", {"padding": ((1, 2), (0, 3))}, (3, 4, 2)),
    ("ZeroPadding1D", {"padding": (2, 1)}, (5, 3)),
    ("Cropping2D", {"cropping": ((1, 0), (2, 1))}, (5, 6, 2)),
    ("Cropping1D", {"cropping": (1, 2)}, (6, 3)),
    ("UpSampling2D", {"size": (2, 3)}, (3, 4, 2)),
    ("UpSampling2D", {"size": 2, "interpolation": "bilinear"}, (3, 4, 2)),
    ("UpSampling1D", {"size": 3}, (4, 2)),
    ("Flatten", {}, (3, 4, 2)),
    ("Flatten", {"data_format": "channels_first"}, (3, 4, 2)),
    ("Reshape", {"target_shape": (4, -1)}, (2, 3, 4)),
    ("Permute", {"dims": (2, 3, 1)}, (2, 3, 4)),
    ("RepeatVector", {"n": 3}, (4,)),
    ("BatchNormalization", {}, (3, 3, 4)),
    ("BatchNormalization", {"axis": 1, "center": False}, (4, 3, 3)),
    ("LayerNormalization", {}, (3, 5)),
    ("LayerNormalization", {"axis": [1, 2, 3], "epsilon": 0.1}, (3, 2, 4)),
    ("LayerNormalization", {"axis": [1, 3]}, (3, 2, 4)),
    ("LayerNormalization", {"center": False, "rms_scaling": True}, (4, 6)),
    ("LayerNormalization", {"scale": False, "axis": 1}, (4, 3, 3)),
    ("GroupNormalization", {"groups": 2}, (3, 3, 4)),
    ("GroupNormalization", {"groups": 3, "axis": 1, "center": False}, (6, 2, 2)),
    ("GroupNormalization", {"groups": 4, "epsilon": 0.01}, (5, 8)),
    ("Dropout", {"rate": 0.5}, (6,)),
    ("SpatialDropout1D", {"rate": 0.5}, (3, 2)),
    ("SpatialDropout2D", {"rate": 0.5}, (3, 3, 2)),
    ("GaussianNoise", {"stddev": 0.3}, (6,)),
    ("GaussianDropout", {"rate": 0.3}, (6,)),
    ("Rescaling", {"scale": 1 / 255.0, "offset": -0.5}, (3, 3, 2)),
    ("Rescaling", {"scale": [0.5, 2.0], "offset": [1.0, -1.0]}, (3, 3, 2)),
    ("Resizing", {"height": 7, "width": 5}, (4, 6, 2)),
    ("Resizing", {"height": 8, "width": 3, "interpolation": "nearest"}, (4, 6, 2)),
    ("Resizing", {"height": 3, "width": 4, "interpolation": "nearest"}, (7, 9, 2)),
    ("CenterCrop", {"height": 3, "width": 4}, (6, 7, 2)),
    ("RandomFlip", {"seed": 1}, (4, 4, 2)),
    ("RandomRotation", {"factor": 0.2, "seed": 1}, (4, 4, 2)),
    ("RandomZoom", {"height_factor": 0.2, "seed": 1}, (4, 4, 2)),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": 0.1, "seed": 1}, (4, 4, 2)),
    ("RandomContrast", {"factor": 0.5, "seed": 1}, (4, 4, 2)),
    ("Activation", {"activation": "swish"}, (6,)),
    ("ReLU", {}, (6,)),
    ("ReLU", {"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.2}, (6,)),
    ("LeakyReLU", {"negative_slope": 0.1}, (6,)),
    ("PReLU", {"shared_axes": [1, 2]}, (3, 3, 2)),
    ("ELU", {"alpha": 0.7}, (6,)),
    ("Softmax", {"axis": 1}, (3, 4)),
]
ACTIVATIONS = ["relu", "relu6", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu",
               "softplus", "softsign", "exponential", "swish", "silu", "gelu", "mish",
               "hard_sigmoid", "hard_silu", "hard_swish", "leaky_relu", "celu", "hard_tanh",
               "tanh_shrink", "soft_shrink", "hard_shrink", "log_sigmoid", "linear"]
MERGING = [("Add", {}), ("Subtract", {}), ("Multiply", {}), ("Average", {}), ("Maximum", {}),
           ("Minimum", {}), ("Concatenate", {"axis": -1}), ("Dot", {"axes": 1}),
           ("Dot", {"axes": 1, "normalize": True})]


def _single_layer_model(class_name, kwargs, shape):
    inputs = layers.Input(shape=shape, name="x")
    layer = layers.deserialize({"class_name": class_name, "config": dict(kwargs)})
    return _randomize(mg.models.Model(inputs, layer(inputs)))


@pytest.mark.parametrize("class_name,kwargs,shape", LAYERS,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(LAYERS)])
def test_each_layer_alone(ort, tmp_path, class_name, kwargs, shape):
    _check(ort, _single_layer_model(class_name, kwargs, shape), tmp_path)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_each_activation(ort, tmp_path, name):
    _check(ort, _single_layer_model("Activation", {"activation": name}, (3, 5)), tmp_path,
           scale=2.0)


@pytest.mark.parametrize("class_name,kwargs", MERGING)
def test_each_merging_layer(ort, tmp_path, class_name, kwargs):
    a, b = layers.Input(shape=(6,), name="a"), layers.Input(shape=(6,), name="b")
    layer = layers.deserialize({"class_name": class_name, "config": dict(kwargs)})
    _check(ort, mg.models.Model([a, b], layer([a, b])), tmp_path)


def test_merging_broadcasts_a_lower_rank_input(ort, tmp_path):
    a, b = layers.Input(shape=(3, 3, 4), name="a"), layers.Input(shape=(4,), name="b")
    model = mg.models.Model([a, b], layers.Multiply()([a, b]))
    _check(ort, model, tmp_path)


def test_dot_of_sequences(ort, tmp_path):
    a, b = layers.Input(shape=(3, 5), name="a"), layers.Input(shape=(4, 5), name="b")
    model = mg.models.Model([a, b], layers.Dot(axes=(2, 2))([a, b]))
    _check(ort, model, tmp_path)


@pytest.mark.parametrize("class_name,kwargs,shape,match", [
    ("CenterCrop", {"height": 6, "width": 4, "name": "crop"}, (4, 5, 1), "crop.*at least"),
    ("Resizing", {"height": 4, "width": 4, "crop_to_aspect_ratio": True, "name": "rs"},
     (6, 8, 1), "rs.*crop_to_aspect_ratio"),
    ("Resizing", {"height": 4, "width": 4, "pad_to_aspect_ratio": True, "name": "rp"},
     (6, 10, 1), "rp.*pad_to_aspect_ratio"),
    ("Softmax", {"axis": [1, 2], "name": "soft"}, (3, 4), "soft.*several axes"),
])
def test_layer_settings_without_an_onnx_equivalent_are_named(ort, tmp_path, class_name, kwargs,
                                                               shape, match):
    with pytest.raises(ValueError, match=match):
        _single_layer_model(class_name, kwargs, shape).export(tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)


def test_a_convolution_called_twice_folds_the_batch_norm_into_its_one_call(ort, tmp_path):
    """The fold belongs to the call that feeds the BatchNormalization, not to the layer."""
    a, b = layers.Input(shape=(5, 5, 2), name="a"), layers.Input(shape=(5, 5, 2), name="b")
    conv = layers.Conv2D(3, 3, padding="same", name="shared")
    out = layers.Add()([layers.BatchNormalization(name="bn")(conv(a)), conv(b)])
    _check(ort, _randomize(mg.models.Model([a, b], out)), tmp_path)


def test_group_normalization_with_one_group_per_channel(ort, tmp_path):
    _check(ort, _single_layer_model("GroupNormalization", {"groups": -1}, (3, 3, 4)), tmp_path)


def test_relu_at_exactly_its_threshold(ort, tmp_path):
    """Keras 3: f(threshold) = 0; inputs of whole numbers hit the threshold exactly."""
    model = _single_layer_model("ReLU", {"threshold": 1.0, "negative_slope": 0.5,
                                         "max_value": 2.5}, (6,))
    x = np.array([[0.5, 1.0, 2.0, -1.0, 3.0, 1.0]], np.float32)
    np.testing.assert_allclose(model.predict(x), [[-0.25, 0.0, 2.0, -1.0, 2.5, 0.0]])
    model.export(tmp_path / "m.onnx")
    np.testing.assert_allclose(_run(ort, tmp_path / "m.onnx", [x])[0], model.predict(x))


def test_export_takes_keras_3_arguments(ort, tmp_path, capsys):
    model = mg.models.Sequential([layers.Input(shape=(3,)), layers.Dense(2)], name="tiny")
    model.export(tmp_path / "m.onnx", format="onnx", verbose=True)
    assert "tiny" in capsys.readouterr().out and os.path.exists(tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="input_signature must be None"):
        model.export(tmp_path / "n.onnx", input_signature=[(None, 3)])
