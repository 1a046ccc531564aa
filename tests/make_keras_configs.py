"""Write the Keras 3 config fixtures of tests/test_config_dialects.py (tests/fixtures/keras_configs/).

Run by hand, with the oracle installed (nothing here runs in the test suite)::

    pip install keras==3.15.1 h5py        # torch is the backend; no TensorFlow needed
    KERAS_BACKEND=torch python tests/make_keras_configs.py

It writes, from real Keras 3:

* ``layers.json``: ``{"keras_version", "layers": [serialized entry, ...]}``, one entry per layer
  kind and option minigrad supports (every DepthwiseConv2D / SeparableConv2D option included),
  each as ``keras.saving.serialize_keras_object`` writes it into ``config.json`` of a ``.keras``.
* ``<model>.json``: ``model.to_json()`` of small models and of Keras's own MobileNet (alpha 0.25)
  and MobileNetV2 (alpha 0.35) on 96x96x3 inputs (architecture only: no weights are stored), and
  ``<model>.summary.json``: what the tests compare with (layer count, output shape, weight shapes).
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
from keras import layers as L  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "keras_configs")


def layer_entries():
    """One layer per supported kind and option; built so that Keras writes its full config."""
    reg = keras.regularizers.L1L2(l1=0.01, l2=0.02)
    made = [
        (L.Dense(3, activation="relu", kernel_regularizer=reg,
                 kernel_constraint=keras.constraints.MaxNorm(2.0),
                 kernel_initializer=keras.initializers.HeNormal(seed=3),
                 bias_initializer=keras.initializers.Constant(0.5), name="dense_opts"), (5,)),
        (L.Dense(2, kernel_initializer=keras.initializers.VarianceScaling(
            scale=2.0, mode="fan_out", distribution="uniform", seed=1), name="dense_vs"), (5,)),
        (L.Conv2D(4, 3, strides=2, padding="same", activation="relu6", use_bias=False,
                  kernel_initializer="lecun_normal", name="conv_opts"), (8, 8, 3)),
        (L.Conv2D(4, (3, 1), dilation_rate=2, bias_regularizer="l2",
                  kernel_initializer=keras.initializers.RandomNormal(0.0, 0.1, seed=2),
                  name="conv_dilated"), (8, 8, 3)),
        (L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, use_bias=True,
                           activation="relu", depthwise_initializer="he_uniform",
                           depthwise_regularizer=keras.regularizers.L2(1e-4),
                           depthwise_constraint=keras.constraints.NonNeg(),
                           bias_initializer="ones", bias_regularizer="l1",
                           activity_regularizer=keras.regularizers.L1(1e-5),
                           bias_constraint=keras.constraints.UnitNorm(), name="dw_opts"),
         (8, 8, 3)),
        (L.DepthwiseConv2D((3, 3), dilation_rate=(2, 2), use_bias=False, name="dw_dilated"),
         (9, 9, 2)),
        (L.DepthwiseConv2D(3, data_format="channels_first", name="dw_cf"), (2, 7, 7)),
        (L.SeparableConv2D(5, 3, strides=(2, 2), padding="same", depth_multiplier=3,
                           activation="tanh", depthwise_initializer="glorot_normal",
                           pointwise_initializer=keras.initializers.TruncatedNormal(seed=4),
                           depthwise_regularizer="l2", pointwise_regularizer=keras.regularizers.L1L2(l1=0.001),
                           depthwise_constraint=keras.constraints.MinMaxNorm(0.1, 2.0),
                           pointwise_constraint="non_neg", bias_constraint="max_norm",
                           name="sep_opts"), (8, 8, 3)),
        (L.SeparableConv2D(2, 3, dilation_rate=2, use_bias=False, name="sep_dilated"), (9, 9, 2)),
        (L.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False,
                              gamma_regularizer="l2", name="bn_opts"), (4, 4, 3)),
        (L.BatchNormalization(axis=1, scale=False, name="bn_axis1"), (3, 4, 4)),
        (L.ReLU(max_value=6.0, name="relu6"), (4,)),
        (L.ReLU(negative_slope=0.1, threshold=0.5, name="leaky"), (4,)),
        (L.MaxPooling2D(3, strides=2, padding="same", name="maxpool"), (8, 8, 3)),
        (L.AveragePooling2D((2, 2), name="avgpool"), (8, 8, 3)),
        (L.GlobalAveragePooling2D(keepdims=True, name="gap_keep"), (4, 4, 3)),
        (L.GlobalAveragePooling2D(name="gap"), (4, 4, 3)),
        (L.ZeroPadding2D(((0, 1), (2, 3)), name="zpad"), (4, 4, 3)),
        (L.Dropout(0.25, noise_shape=(None, 1, 1, 3), seed=7, name="drop"), (4, 4, 3)),
        (L.Reshape((-1, 3), name="reshape"), (4, 4, 3)),
        (L.Flatten(name="flatten"), (4, 4, 3)),
        (L.Activation("softmax", name="act_softmax"), (4,)),
    ]
    entries = []
    for layer, shape in made:
        layer.build((None,) + shape)
        entry = keras.saving.serialize_keras_object(layer)
        entry["build_config"] = {"input_shape": [None, *shape]}  # as model files write it
        entry["test_input_shape"] = list(shape)
        entry["test_weight_shapes"] = [list(w.shape) for w in layer.weights]
        entries.append(entry)
    return entries


def summary(model):
    return {"layers": len(model.layers), "output_shape": list(model.output_shape),
            "weight_shapes": [list(w.shape) for w in model.weights],
            "params": int(model.count_params())}


def models():
    """name -> Keras model."""
    out = {}
    keras.utils.clear_session()
    inner = keras.Sequential([L.Dense(6, activation="relu"), L.Dropout(0.1), L.Dense(4)],
                             name="inner_seq")
    x = keras.Input((5,), name="features")
    h = L.Dense(8, name="pre")(x)
    y = L.Add(name="add")([inner(h), L.Dense(4, name="skip")(h)])
    out["nested_sequential"] = keras.Model(x, L.Activation("softmax", name="soft")(y),
                                           name="nested")
    out["sequential_small"] = keras.Sequential(
        [keras.Input((6, 6, 2)), L.Conv2D(3, 3, padding="same"), L.BatchNormalization(),
         L.ReLU(6.0), L.DepthwiseConv2D(3, depth_multiplier=2), L.SeparableConv2D(4, 1),
         L.GlobalAveragePooling2D(keepdims=True), L.Flatten(), L.Dense(2)], name="small")
    out["mobilenet_v1_025"] = keras.applications.MobileNet(
        alpha=0.25, weights=None, input_shape=(96, 96, 3), classes=10)
    out["mobilenet_v2_035"] = keras.applications.MobileNetV2(
        alpha=0.35, weights=None, input_shape=(96, 96, 3), classes=10)
    return out


def main():
    os.makedirs(HERE, exist_ok=True)
    with open(os.path.join(HERE, "layers.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "layers": layer_entries()}, f, indent=1)
    for name, model in models().items():
        with open(os.path.join(HERE, f"{name}.json"), "w") as f:
            f.write(model.to_json())
        with open(os.path.join(HERE, f"{name}.summary.json"), "w") as f:
            json.dump(summary(model), f)
    print("wrote", sorted(os.listdir(HERE)), file=sys.stderr)


if __name__ == "__main__":
    main()
