"""TF.js folders written by the official converter from Keras 2 ``.h5`` files.

``tests/fixtures/tfjs_converter/*`` were made by ``tests/make_converter_fixtures.py``
(``tensorflowjs_converter --input_format keras`` 4.22.0 on tf.keras 2.21 models: Keras's own
MobileNet alpha 0.25 and MobileNetV2 alpha 0.35 with random weights and BatchNormalization
statistics, and small models using every DepthwiseConv2D / SeparableConv2D option). Each folder's
``io.json`` holds a fixed input and what Keras predicted on it. These are the files people
actually have, in the dialect the converter copies from Keras 2 (``axis: [3]``, ``groups: 1``,
the ``kernel_*`` keys Keras 2 writes on SeparableConv2D, ``model_config`` around the topology).
No TensorFlow is needed here, except for the optional round trip back into Keras 2 at the end,
which runs when ``MINIGRAD_TFJS_PYTHON`` names a Python with ``tensorflowjs`` and ``tf_keras``
(the recipe in ``tests/make_converter_fixtures.py``) and skips, saying so, otherwise.
"""
import json
import math
import os
import shutil
import subprocess

import numpy as np
import pytest

from minigrad import optimizers
from minigrad.models import load_model

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "tfjs_converter")
FOLDERS = sorted(d for d in os.listdir(FIXTURES)
                 if os.path.isfile(os.path.join(FIXTURES, d, "io.json")))
# The loss to fine-tune with: what each model's output is.
# logits; every other model ends in a softmax
LOSS = {name: "mse" for name in ("depthwise_options", "depthwise_options_uint8",
                                 "depthwise_options_sharded")}


def _array(entry):
    return np.asarray(entry["data"], dtype=np.float32).reshape(entry["shape"])


def _io(name):
    with open(os.path.join(FIXTURES, name, "io.json")) as f:
        io = json.load(f)
    return _array(io["input"]), _array(io["output"])


def _file_layers(name):
    with open(os.path.join(FIXTURES, name, "model.json")) as f:
        topology = json.load(f)["modelTopology"]
    return topology["model_config"]["config"]["layers"]


def test_the_fixtures_are_what_the_issue_asks_for():
    """The folders exist, were written by the converter, and stay small (issue 14: <5 MB in all)."""
    assert {"mobilenet_v1_a025", "mobilenet_v2_a035", "depthwise_options",
            "separable_options", "separable_sequential", "depthwise_options_uint8",
            "separable_options_uint16", "depthwise_options_sharded"} <= set(FOLDERS)
    total = 0
    for name in FOLDERS:
        folder = os.path.join(FIXTURES, name)
        with open(os.path.join(folder, "model.json")) as f:
            assert json.load(f)["convertedBy"] == "TensorFlow.js Converter v4.22.0"
        total += sum(os.path.getsize(os.path.join(folder, p)) for p in os.listdir(folder))
    assert total < 2.5e6  # 2.42 MB today


@pytest.mark.parametrize("name", FOLDERS)
def test_converter_folder_predicts_what_keras_predicted(name):
    x, expected = _io(name)
    model = load_model(os.path.join(FIXTURES, name))
    got = model.predict(x)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name, kind", [("mobilenet_v2_a035", "float16"),
                                        ("depthwise_options_uint8", "uint8"),
                                        ("separable_options_uint16", "uint16")])
def test_some_folders_are_quantized_so_prediction_covers_dequantization(name, kind):
    """MobileNetV2 is float16 to stay small; the uint folders' io.json is what TF.js predicts."""
    with open(os.path.join(FIXTURES, name, "model.json")) as f:
        weights = json.load(f)["weightsManifest"][0]["weights"]
    assert {w["quantization"]["dtype"] for w in weights} == {kind}


def test_the_sharded_folder_has_several_groups_and_a_weight_across_shards():
    with open(os.path.join(FIXTURES, "depthwise_options_sharded", "model.json")) as f:
        groups = json.load(f)["weightsManifest"]
    assert len(groups) > 10 and max(len(g["paths"]) for g in groups) == 6


def _plain(entry):
    """A config value without the Keras 2 wrapper keys that carry no meaning (module, ...)."""
    if isinstance(entry, dict):
        return {k: _plain(v) for k, v in entry.items() if k not in ("module", "registered_name")}
    if isinstance(entry, (list, tuple)):
        return [_plain(v) for v in entry]
    return entry


# Keys of the file that do not describe the layer's math: identity and dtype, ``groups: 1``
# (DepthwiseConv2D / SeparableConv2D have one group per channel by definition), and the
# ``kernel_*`` keys Keras 2 writes on SeparableConv2D and never uses.
IGNORED = {"name", "trainable", "dtype", "groups",
           "kernel_initializer", "kernel_regularizer", "kernel_constraint"}


@pytest.mark.parametrize("name", ["depthwise_options", "separable_options",
                                  "separable_sequential"])
def test_every_depthwise_and_separable_option_is_read_as_written(name):
    model = load_model(os.path.join(FIXTURES, name))
    layers = {layer.name: layer for layer in model.layers}
    checked = 0
    for entry in _file_layers(name):
        if entry["class_name"] not in ("DepthwiseConv2D", "SeparableConv2D"):
            continue
        config = layers[entry["config"]["name"]].get_config()
        for key, value in entry["config"].items():
            if key in IGNORED:
                continue
            assert _plain(config[key]) == _plain(value), (entry["config"]["name"], key)
            checked += 1
    assert checked >= 15


@pytest.mark.parametrize("name", FOLDERS)
def test_converter_folder_fine_tunes_and_saves_as_tfjs(name, tmp_path):
    x, expected = _io(name)
    model = load_model(os.path.join(FIXTURES, name))
    rng = np.random.default_rng(0)
    xs = rng.uniform(-1, 1, (4,) + x.shape[1:]).astype(np.float32)
    ys = np.eye(expected.shape[-1], dtype=np.float32)[rng.integers(0, expected.shape[-1], 4)]
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizers.Adam(1e-3), LOSS.get(name, "categorical_crossentropy"))
    history = model.fit(xs, ys, epochs=1, batch_size=2, verbose=0)
    assert all(math.isfinite(v) for v in history.history["loss"])
    after = model.get_weights()
    # Every weight moves: Adam moves each trainable one whose gradient is not exactly 0, and the
    # BatchNormalization moving statistics follow the training batches.
    unchanged = [i for i, (b, a) in enumerate(zip(before, after)) if np.array_equal(b, a)]
    assert not unchanged, f"weights {unchanged} of {len(after)} did not change"
    assert all(np.isfinite(a).all() for a in after)

    model.save(tmp_path / "tuned")
    reloaded = load_model(tmp_path / "tuned")
    for a, b in zip(reloaded.get_weights(), after):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(reloaded.predict(x), model.predict(x))


def _norms(kernel, axis):
    return np.sqrt(np.sum(np.square(kernel), axis=tuple(axis)))


def test_constraints_read_from_the_file_act_when_fine_tuning():
    """The random weights break the file's constraints; one fit step must enforce them."""
    model = load_model(os.path.join(FIXTURES, "depthwise_options"))
    layers = {layer.name: layer for layer in model.layers}
    relu, unit = layers["dw_k3_same_relu"], layers["dw_k5_s2_valid_dm2_nobias"]
    # NonNeg bias; MaxNorm(2, axis [0, 1, 2]); UnitNorm(axis [0, 1]).
    assert relu.bias.data.min() < -0.05
    assert _norms(relu.depthwise_kernel.data, [0, 1, 2]).max() > 2.5
    assert abs(_norms(unit.depthwise_kernel.data, [0, 1]) - 1).max() > 0.1
    rng = np.random.default_rng(1)
    model.compile(optimizers.Adam(1e-3), "mse")
    model.fit(rng.uniform(-1, 1, (4, 12, 12, 4)).astype(np.float32),
              rng.normal(size=(4, 6)).astype(np.float32), epochs=1, batch_size=4, verbose=0)
    assert relu.bias.data.min() >= 0
    assert _norms(relu.depthwise_kernel.data, [0, 1, 2]).max() <= 2 + 1e-5
    np.testing.assert_allclose(_norms(unit.depthwise_kernel.data, [0, 1]), 1, atol=1e-5)


@pytest.mark.parametrize("class_name", ["DepthwiseConv2D", "SeparableConv2D"])
def test_groups_other_than_1_in_a_converter_file_is_refused_by_name(class_name, tmp_path):
    """``groups: 1`` is accepted because it changes nothing; any other value would change the
    math, so it is refused, naming the key and the value, and not silently ignored."""
    folder = tmp_path / "model"
    shutil.copytree(os.path.join(FIXTURES, "separable_sequential"), folder)
    with open(folder / "model.json") as f:
        spec = json.load(f)
    layer = next(entry for entry in spec["modelTopology"]["model_config"]["config"]["layers"]
                 if entry["class_name"] == class_name)
    layer["config"]["groups"] = 2
    with open(folder / "model.json", "w") as f:
        json.dump(spec, f)
    with pytest.raises(ValueError, match=rf"{class_name}: groups must be 1.*got 2"):
        load_model(folder)


# -- back into the writer's framework: minigrad's folder read by tensorflowjs's Keras loader -------
# Runs in the converter's own Python (TensorFlow is far too heavy for the project's venv), given by
# the environment; tensorflow_decision_forests, imported by tensorflowjs for SavedModels only, is
# replaced by an empty module.
KERAS_READ = r"""
import os, sys
os.environ["TF_USE_LEGACY_KERAS"] = "1"
import numpy as np
from tensorflowjs.converters import keras_tfjs_loader
models, inputs, outputs = sys.argv[1:]
for name in sorted(os.listdir(models)):
    model = keras_tfjs_loader.load_keras_model(os.path.join(models, name, "model.json"))
    x = np.load(os.path.join(inputs, name + ".npy"))
    np.save(os.path.join(outputs, name + ".npy"), model.predict(x, verbose=0))
"""


@pytest.fixture(scope="module")
def tfjs_python():
    python = os.environ.get("MINIGRAD_TFJS_PYTHON")
    if not python or not os.path.isfile(python):
        pytest.skip("set MINIGRAD_TFJS_PYTHON to a Python with tensorflowjs 4.22 and tf_keras "
                    "(recipe: tests/make_converter_fixtures.py) to check that Keras 2 reads "
                    "minigrad's folders")
    return python


def test_fine_tuned_folders_open_in_keras_2_and_predict_the_same(tfjs_python, tmp_path):
    """Each folder, fine-tuned one step in minigrad and saved, is read by tensorflowjs's own
    loader into tf.keras 2, which predicts what minigrad predicts."""
    dirs = {d: tmp_path / d for d in ("models", "inputs", "outputs", "stub")}
    for d in dirs.values():
        d.mkdir()
    rng = np.random.default_rng(2)
    expected = {}
    for name in FOLDERS:
        x, y = _io(name)
        model = load_model(os.path.join(FIXTURES, name))
        model.compile(optimizers.Adam(1e-3), LOSS.get(name, "categorical_crossentropy"))
        targets = np.eye(y.shape[-1], dtype=np.float32)[rng.integers(0, y.shape[-1], len(x))]
        model.fit(x, targets, epochs=1, batch_size=len(x), verbose=0)
        model.save(dirs["models"] / name)
        np.save(dirs["inputs"] / (name + ".npy"), x)
        expected[name] = model.predict(x)
    (dirs["stub"] / "tensorflow_decision_forests").mkdir()
    (dirs["stub"] / "tensorflow_decision_forests" / "__init__.py").write_text("")
    env = dict(os.environ, PYTHONPATH=str(dirs["stub"]), TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([tfjs_python, "-c", KERAS_READ, str(dirs["models"]),
                           str(dirs["inputs"]), str(dirs["outputs"])],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in FOLDERS:
        got = np.load(dirs["outputs"] / (name + ".npy"))
        np.testing.assert_allclose(got, expected[name], rtol=1e-4, atol=1e-5, err_msg=name)
