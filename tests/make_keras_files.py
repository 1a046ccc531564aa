"""Write the Keras 3 fixtures of tests/test_keras_files.py into tests/fixtures/keras/.

Run with real Keras 3 on the PyTorch backend (no TensorFlow needed)::

    pip install keras==3.15.1 h5py torch
    KERAS_BACKEND=torch python tests/make_keras_files.py

and, for tf.keras 2's legacy ``.h5`` (``depthwise_kernel:0`` names, ``groups`` and ``batch_input_shape``
keys, class name ``Model``), in a virtualenv with TensorFlow and tf_keras 2::

    python tests/make_keras_files.py --tf-keras   # writes tfkeras2_cnn.h5, .npz, _weights.h5

For each small model it writes ``<name>.keras`` (``model.save``), ``<name>.h5`` (the legacy
writer), ``<name>.weights.h5`` (``save_weights``) and ``<name>.npz``: an input ``x`` and what
Keras predicts for it, ``y`` (arrays only: the test reads it with ``allow_pickle=False``). The
weights are random, BatchNormalization's moving statistics too (a fresh layer's 0 and 1 would
hide a mix-up of mean and variance), and the models are compiled and trained one step so that
the files carry a training configuration and an optimizer's state.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")
TF_KERAS = "--tf-keras" in sys.argv

if TF_KERAS:
    import tf_keras as keras  # noqa: E402
else:
    import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "keras")


def cnn():
    """Conv2D, DepthwiseConv2D (depth multiplier, strides, dilation), BatchNormalization,
    SeparableConv2D, a regularizer and a constraint: a functional model."""
    inputs = keras.Input((9, 9, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", kernel_regularizer=keras.regularizers.L2(1e-3),
                            activation="relu")(inputs)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.SeparableConv2D(6, 3, padding="same", depthwise_constraint=
                                     keras.constraints.MaxNorm(2.0), use_bias=False)(x)
    x = keras.layers.DepthwiseConv2D(3, dilation_rate=2, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, (9, 9, 3), 3


def sequential():
    """A Sequential model: Conv2D, BatchNormalization, pooling, Flatten, Dense."""
    model = keras.Sequential([
        keras.Input((6, 6, 2)),
        keras.layers.Conv2D(3, 3, bias_regularizer=keras.regularizers.L1(1e-3)),
        keras.layers.BatchNormalization(),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(4, activation="tanh", kernel_constraint=keras.constraints.NonNeg()),
        keras.layers.Dense(2),
    ])
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="mse")
    return model, (6, 6, 2), 2


def nested():
    """A Sequential inside a functional model (weights under layers/sequential/layers/...)."""
    inner = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.BatchNormalization()], name="inner")
    inputs = keras.Input((5,))
    outputs = keras.layers.Dense(3, activation="softmax")(inner(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model, (5,), 3


def tf_keras_cnn():
    """Every DepthwiseConv2D / SeparableConv2D option tf.keras 2 writes, regularizers and
    constraints: a functional model (tf.keras 2 calls its class Model)."""
    inputs = keras.Input((10, 10, 3))
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=3, strides=2, padding="same",
                                     use_bias=False, depthwise_regularizer=keras.regularizers.L2(
                                         1e-3), depthwise_constraint=keras.constraints.MaxNorm(2.0),
                                     activation="relu")(inputs)
    x = keras.layers.BatchNormalization(axis=-1)(x)
    x = keras.layers.SeparableConv2D(5, 3, depth_multiplier=2, dilation_rate=2, padding="same",
                                     pointwise_constraint=keras.constraints.NonNeg(),
                                     bias_regularizer=keras.regularizers.L1(1e-3))(x)
    x = keras.layers.DepthwiseConv2D(2, dilation_rate=2, padding="valid")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model, (10, 10, 3), 3


def randomize(model, rng):
    """Random weights everywhere, moving variances positive."""
    for layer in model.layers:
        values = []
        if isinstance(layer, keras.Model) and layer is not model:
            randomize(layer, rng)
            continue
        for w in layer.weights:
            shape = tuple(w.shape)
            if "variance" in getattr(w, "path", w.name):  # tf.keras 2 has only .name
                values.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
            else:
                values.append(rng.normal(0, 0.5, shape).astype("float32"))
        if values:
            layer.set_weights(values)


def main_tf_keras():
    rng = np.random.default_rng(2)
    model, shape, _ = tf_keras_cnn()
    randomize(model, rng)
    x = rng.normal(0, 1, (4,) + shape).astype("float32")
    base = os.path.join(HERE, "tfkeras2_cnn")
    model.save(base + ".h5")
    model.save_weights(base + "_weights.h5")
    np.savez(base + ".npz", x=x, y=np.asarray(model.predict(x, verbose=0)))
    print("wrote", base + "{.h5,_weights.h5,.npz}")


def main():
    os.makedirs(HERE, exist_ok=True)
    if TF_KERAS:
        return main_tf_keras()
    rng = np.random.default_rng(14)
    for name, make in (("cnn", cnn), ("sequential", sequential), ("nested", nested)):
        model, shape, outputs = make()
        randomize(model, rng)
        x = rng.normal(0, 1, (4,) + shape).astype("float32")
        if outputs == 3:
            y = rng.integers(0, 3, 4)
        else:
            y = rng.normal(0, 1, (4, outputs)).astype("float32")
        model.fit(x, y, epochs=1, batch_size=4, verbose=0)  # one step: optimizer state
        base = os.path.join(HERE, name)
        model.save(base + ".keras")
        model.save(base + ".h5")
        model.save_weights(base + ".weights.h5")
        np.savez(base + ".npz", x=x, y=np.asarray(model.predict(x, verbose=0)))
        print("wrote", base + ".{keras,h5,weights.h5,npz}")


if __name__ == "__main__":
    main()
