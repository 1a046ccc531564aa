"""Write ``tests/fixtures/tfjs_converter/``: TF.js folders made by the official converter.

The common way a TF.js layers model comes to exist is ``tensorflowjs_converter --input_format
keras model.h5 outdir`` run on a Keras 2 (tf.keras) ``.h5``. This script builds such models with
Keras 2, gives them seeded random weights and random BatchNormalization moving statistics, saves
``.h5``, runs the converter on it, and stores a fixed input and Keras's prediction beside the
folder as ``io.json`` (``{"input": {"shape", "data"}, "output": {"shape", "data"}, ...}``, as in
``tests/fixtures/tfjs/``). ``tests/test_tfjs_converter.py`` checks minigrad against them and needs
no TensorFlow.

Folders:

* ``mobilenet_v1_a025``: ``keras.applications.MobileNet(alpha=0.25, input_shape=(32, 32, 3),
  weights=None, classes=10)`` (32x32 is the smallest input the application accepts; 10 classes
  keep the weight file small).
* ``mobilenet_v2_a035``: ``keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3),
  weights=None, classes=10)``.
* ``depthwise_options``: functional, one DepthwiseConv2D branch per option (kernel 3/5/(3,5),
  strides 1/2/(2,1), padding valid/same, depth_multiplier 1/2/3, dilation 2, with and without
  bias, activations, regularizers, constraints, initializers), each flattened into a Dense,
  summed.
* ``separable_options``: the same for SeparableConv2D, plus ``filters`` and ``pointwise_*``.
* ``separable_sequential``: a Sequential SeparableConv2D / BatchNormalization / DepthwiseConv2D
  stack (the converter writes ``batch_input_shape`` on its first layer).
* ``depthwise_options_uint8``, ``separable_options_uint16``: the option models converted with
  ``--quantize_uint8`` / ``--quantize_uint16``; their ``io.json`` holds Keras's prediction with the
  weights as TF.js reads them back from the folder, i.e. what TF.js predicts on it.
* ``depthwise_options_sharded``: converted with ``--split_weights_by_layer
  --weight_shard_size_bytes 8192`` (one weight group per layer, each in shards of 8 kB at most).

Recipe (its own virtualenv, never the project's; tensorflow_decision_forests, which the converter
imports only for SavedModels, is replaced by an empty module on a private path)::

    python -m venv /work/tfvenv && . /work/tfvenv/bin/activate
    pip install tensorflow-cpu==2.21.0
    pip install --no-deps tensorflowjs==4.22.0 tf_keras==2.21.0 tensorflow-hub==0.16.1
    pip install six importlib_resources jax jaxlib
    python tests/make_converter_fixtures.py          # rewrites tests/fixtures/tfjs_converter/

Regenerating gives byte-identical files (seeded NumPy weights and inputs; checked on this recipe).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "tfjs_converter")


def _stub_dir():
    """A folder holding an empty ``tensorflow_decision_forests`` for the converter to import."""
    d = tempfile.mkdtemp(prefix="tfdf_stub_")
    os.makedirs(os.path.join(d, "tensorflow_decision_forests"))
    open(os.path.join(d, "tensorflow_decision_forests", "__init__.py"), "w").close()
    return d


def randomize(model, seed):
    """Seeded random weights: kernels scaled by fan-in, small biases, BN stats away from 0/1."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for w in layer.weights:
            name = w.name.split("/")[-1].split(":")[0]
            shape = tuple(w.shape)
            if name == "gamma":
                v = rng.uniform(0.5, 1.5, shape)
            elif name in ("beta", "bias"):
                v = rng.normal(0.0, 0.1, shape)
            elif name == "moving_mean":
                v = rng.normal(0.0, 0.2, shape)
            elif name == "moving_variance":
                v = rng.uniform(0.5, 1.5, shape)
            else:  # a kernel: fan-in is every axis but the last (depthwise: the spatial ones)
                fan_in = int(np.prod(shape[:-1])) if "depthwise" not in name else \
                    int(np.prod(shape[:2]))
                v = rng.normal(0.0, np.sqrt(2.0 / max(fan_in, 1)), shape)
            w.assign(v.astype(np.float32))


def depthwise_options(keras):
    L, r, c, i = keras.layers, keras.regularizers, keras.constraints, keras.initializers
    inp = keras.Input((12, 12, 4), name="image")
    branches = [
        L.DepthwiseConv2D(3, padding="same", activation="relu", name="dw_k3_same_relu",
                          depthwise_initializer=i.HeNormal(seed=1),
                          bias_initializer=i.Constant(0.1),
                          depthwise_regularizer=r.L2(1e-4), bias_regularizer=r.L1(1e-3),
                          activity_regularizer=r.L1L2(l1=1e-5, l2=1e-4),
                          depthwise_constraint=c.MaxNorm(2.0, axis=[0, 1, 2]),
                          bias_constraint=c.NonNeg()),
        L.DepthwiseConv2D(5, strides=2, padding="valid", depth_multiplier=2, use_bias=False,
                          activation="tanh", name="dw_k5_s2_valid_dm2_nobias",
                          depthwise_initializer="glorot_uniform",
                          depthwise_constraint=c.UnitNorm(axis=[0, 1])),
        L.DepthwiseConv2D(3, dilation_rate=2, padding="same", depth_multiplier=3,
                          activation="sigmoid", name="dw_k3_d2_same_dm3",
                          depthwise_regularizer=r.L1(1e-4),
                          depthwise_constraint=c.MinMaxNorm(0.1, 2.0, rate=0.5, axis=[0, 1, 2])),
        L.DepthwiseConv2D((3, 5), strides=(2, 1), padding="same", name="dw_k3x5_s21_same",
                          data_format="channels_last",
                          depthwise_initializer=i.RandomNormal(stddev=0.1, seed=2),
                          bias_initializer="ones"),
        L.DepthwiseConv2D(2, strides=2, padding="valid", depth_multiplier=1,
                          dilation_rate=1, activation="relu6", name="dw_k2_s2_valid_relu6",
                          depthwise_initializer=i.TruncatedNormal(stddev=0.2, seed=3),
                          bias_regularizer=r.L2(1e-3)),
        L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, use_bias=True,
                          activation="elu", name="dw_k3_s2_same_dm2_elu"),
    ]
    # Each branch flattened into its own Dense, then summed (minigrad has Add, not Concatenate).
    heads = [L.Dense(6, name="head_" + b.name)(L.Flatten(name="flat_" + b.name)(b(inp)))
             for b in branches]
    out = L.Add(name="logits")(heads)
    return keras.Model(inp, out, name="depthwise_options"), (2, 12, 12, 4)


def separable_options(keras):
    L, r, c, i = keras.layers, keras.regularizers, keras.constraints, keras.initializers
    inp = keras.Input((11, 11, 3), name="image")
    branches = [
        L.SeparableConv2D(8, 3, padding="same", activation="relu", name="sep_f8_k3_same_relu",
                          depthwise_initializer=i.HeNormal(seed=4),
                          pointwise_initializer=i.GlorotNormal(seed=5),
                          bias_initializer=i.Constant(0.05),
                          depthwise_regularizer=r.L2(1e-4), pointwise_regularizer=r.L1(1e-5),
                          bias_regularizer=r.L2(1e-3),
                          activity_regularizer=r.L2(1e-5),
                          depthwise_constraint=c.MaxNorm(3.0, axis=[0, 1, 2]),
                          pointwise_constraint=c.UnitNorm(axis=[0, 1, 2]),
                          bias_constraint=c.NonNeg()),
        L.SeparableConv2D(5, 5, strides=2, padding="valid", depth_multiplier=2, use_bias=False,
                          activation="tanh", name="sep_f5_k5_s2_valid_dm2_nobias"),
        L.SeparableConv2D(4, 3, dilation_rate=2, padding="same", depth_multiplier=3,
                          activation="sigmoid", name="sep_f4_k3_d2_same_dm3",
                          pointwise_constraint=c.MinMaxNorm(0.0, 1.5, axis=[0, 1, 2])),
        L.SeparableConv2D(6, (3, 5), strides=(2, 1), padding="same",
                          data_format="channels_last", name="sep_f6_k3x5_s21_same",
                          depthwise_initializer=i.RandomUniform(-0.3, 0.3, seed=6),
                          pointwise_initializer="lecun_normal", bias_initializer="zeros"),
        L.SeparableConv2D(3, 2, strides=2, padding="valid", activation="relu6",
                          name="sep_f3_k2_s2_valid_relu6"),
    ]
    heads = [L.Dense(5, name="head_" + b.name)(L.Flatten(name="flat_" + b.name)(b(inp)))
             for b in branches]
    out = L.Activation("softmax", name="probs")(L.Add(name="logits")(heads))
    return keras.Model(inp, out, name="separable_options"), (2, 11, 11, 3)


def separable_sequential(keras):
    L = keras.layers
    model = keras.Sequential([
        L.SeparableConv2D(8, 3, strides=2, padding="same", use_bias=False,
                          input_shape=(10, 10, 3), name="sep"),
        L.BatchNormalization(name="bn1"),
        L.ReLU(6.0, name="relu6_1"),
        L.DepthwiseConv2D(3, padding="same", use_bias=False, depth_multiplier=2, name="dw"),
        L.BatchNormalization(momentum=0.9, epsilon=1e-5, name="bn2"),
        L.Activation("relu", name="relu"),
        L.Conv2D(6, 1, name="pw"),
        L.GlobalAveragePooling2D(name="gap"),
        L.Dense(4, activation="softmax", name="probs"),
    ], name="separable_sequential")
    return model, (3, 10, 10, 3)


def mobilenet_v1(keras):
    model = keras.applications.MobileNet(input_shape=(32, 32, 3), alpha=0.25, weights=None,
                                         classes=10)
    return model, (2, 32, 32, 3)


def mobilenet_v2(keras):
    model = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None,
                                           classes=10)
    return model, (2, 32, 32, 3)


# name: (builder, extra converter flags). MobileNetV2's float32 weights alone are 1.7 MB, so its
# folder is float16-quantized; its Keras weights are first rounded to float16, so the folder's
# weights (float16 widened back to float32, exactly) are Keras's own and Keras's prediction holds.
BUILDERS = {
    "mobilenet_v1_a025": (mobilenet_v1, []),
    "mobilenet_v2_a035": (mobilenet_v2, ["--quantize_float16"]),
    "depthwise_options": (depthwise_options, []),
    "separable_options": (separable_options, []),
    "separable_sequential": (separable_sequential, []),
    # Integer-quantized: the expected output is Keras's prediction with the weights TF.js reads
    # back from the folder (see dequantized_weights), i.e. what TF.js predicts on it.
    "depthwise_options_uint8": (depthwise_options, ["--quantize_uint8"]),
    "separable_options_uint16": (separable_options, ["--quantize_uint16"]),
    # One weight group per layer, shards of at most 8 kB: several groups and several shards.
    "depthwise_options_sharded": (depthwise_options,
                                  ["--split_weights_by_layer", "--weight_shard_size_bytes", "8192"]),
}


def dequantized_weights(folder):
    """{weight name: array} as TF.js reads the folder: uint8/uint16 values ``q * scale + min``
    computed in float64 (JavaScript numbers) and stored as float32, float16 widened."""
    with open(os.path.join(folder, "model.json")) as f:
        manifest = json.load(f)["weightsManifest"]
    out = {}
    for group in manifest:
        data = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            q = w.get("quantization")
            dtype = np.dtype("<" + {"uint8": "u1", "uint16": "u2", "float16": "f2"}[q["dtype"]]
                             if q else "<f4")
            count = int(np.prod(w["shape"]))
            raw = np.frombuffer(data, dtype, count, offset)
            offset += count * dtype.itemsize
            if q and q["dtype"] in ("uint8", "uint16"):
                raw = raw.astype(np.float64) * q["scale"] + q["min"]
            out[w["name"]] = raw.astype(np.float32).reshape(w["shape"])
    return out


def _entry(a):
    a = np.asarray(a, dtype=np.float32)
    return {"shape": list(a.shape), "data": [float(v) for v in a.ravel()]}


def main():
    import tensorflow as tf
    import tf_keras as keras
    from importlib.metadata import version  # importing tensorflowjs here would need tfdf

    stub = _stub_dir()
    env = dict(os.environ, PYTHONPATH=stub + os.pathsep + os.environ.get("PYTHONPATH", ""))
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for seed, (name, (build, flags)) in enumerate(BUILDERS.items()):
            keras.backend.clear_session()
            keras.utils.set_random_seed(seed)
            model, in_shape = build(keras)
            randomize(model, seed)
            if "--quantize_float16" in flags:
                for w in model.weights:
                    w.assign(w.numpy().astype(np.float16).astype(np.float32))
            # Multiples of 1/64 in [-1, 1]: exact in float32 and short in JSON.
            x = (np.random.default_rng(100 + seed).integers(-64, 65, in_shape) / 64) \
                .astype(np.float32)
            y = model.predict(x, verbose=0)
            h5 = os.path.join(tmp, name + ".h5")
            model.save(h5)
            folder = os.path.join(OUT, name)
            shutil.rmtree(folder, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "tensorflowjs.converters.converter",
                            "--input_format", "keras", h5, folder, *flags], check=True, env=env)
            if "--quantize_uint8" in flags or "--quantize_uint16" in flags:
                read = dequantized_weights(folder)
                for w in model.weights:
                    w.assign(read[w.name.split(":")[0]])
                y = model.predict(x, verbose=0)
            io = {"input": _entry(x), "output": _entry(y),
                  "written_by": {"tensorflow": tf.__version__, "tf_keras": keras.__version__,
                                 "tensorflowjs": version("tensorflowjs"),
                                 "command": " ".join(["tensorflowjs_converter --input_format keras",
                                                      name + ".h5", name, *flags])}}
            with open(os.path.join(folder, "io.json"), "w") as f:
                json.dump(io, f, separators=(",", ":"))
            size = sum(os.path.getsize(os.path.join(folder, p)) for p in os.listdir(folder))
            print(f"{name}: {model.count_params()} params, {size / 1e6:.2f} MB, "
                  f"output {y.shape}, |y| max {np.abs(y).max():.3g}")
    shutil.rmtree(stub)


if __name__ == "__main__":
    main()
