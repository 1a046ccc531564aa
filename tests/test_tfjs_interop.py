"""TF.js interoperability of model files.

* Folders written by real TF.js (``tests/fixtures/tfjs/*``, made by ``tests/tfjs/make_fixtures.js``)
  load in minigrad and predict what TF.js predicted (stored in each folder's ``io.json``).
* Folders written by minigrad load in real TF.js (``tf.loadLayersModel``, pure-JS CPU backend,
  run under Node by ``tests/tfjs/predict.js``) and predict what minigrad predicts. These tests
  run when the oracle is installed (Node.js, and once ``cd tests/tfjs && npm ci``, which
  downloads TF.js into ``tests/tfjs/node_modules``) and skip, saying so, when it is not: the test
  suite itself never installs anything or touches the network.
"""
import json
import os
import shutil
import subprocess
import warnings

import numpy as np
import pytest

from minigrad import constraints, layers as L, optimizers, regularizers
from minigrad.models import Model, Sequential, load_model
from conftest import TFJS_DIR, TFJS_MISSING, tfjs_oracle_missing

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "tfjs")
FIXTURE_MODELS = sorted(d for d in os.listdir(FIXTURES)
                        if os.path.isfile(os.path.join(FIXTURES, d, "io.json")))


def _array(entry):
    return np.asarray(entry["data"], dtype=np.float32).reshape(entry["shape"])


# -- TF.js -> minigrad (no Node needed: TF.js's outputs are stored with the fixtures) -------------
@pytest.mark.parametrize("name", FIXTURE_MODELS)
def test_tfjs_written_model_predicts_what_tfjs_predicted(name):
    folder = os.path.join(FIXTURES, name)
    with open(os.path.join(folder, "io.json")) as f:
        io = json.load(f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the DepthwiseConv2D constraint bug warning
        model = load_model(folder)
    inputs = io["input"]
    x = [_array(e) for e in inputs] if isinstance(inputs, list) else _array(inputs)
    outputs = io["output"]
    got = model.predict(x)
    for g, e in zip(got if isinstance(outputs, list) else [got],
                    outputs if isinstance(outputs, list) else [outputs]):
        np.testing.assert_allclose(g, _array(e), rtol=1e-4, atol=1e-5)


def test_tfjs_depthwise_constraint_bug_is_repaired_with_a_warning():
    with pytest.warns(UserWarning, match="depthwise_constraint"):
        model = load_model(os.path.join(FIXTURES, "mobilenet_v1_tiny"))
    dw = next(layer for layer in model.layers if isinstance(layer, L.DepthwiseConv2D))
    assert dw.depthwise_constraint is None and dw.depthwise_regularizer is not None


# -- minigrad -> TF.js -----------------------------------------------------------------------------
def test_a_missing_tfjs_oracle_is_a_skip_with_the_install_command_not_an_install(monkeypatch):
    """The suite must pass without the network: no 'npm ci' behind the user's back."""
    monkeypatch.setattr(os.path, "isdir", lambda path: False)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    if shutil.which("node") is None:
        assert "Node.js" in tfjs_oracle_missing()
    else:
        assert tfjs_oracle_missing() == TFJS_MISSING and "npm ci" in TFJS_MISSING
    assert calls == []


def _tfjs_predict(node, folder, x, tmp_path):
    spec = [{"shape": list(a.shape), "data": a.ravel().tolist()} for a in x] \
        if isinstance(x, list) else {"shape": list(x.shape), "data": x.ravel().tolist()}
    path = tmp_path / "input.json"
    path.write_text(json.dumps(spec))
    done = subprocess.run([node, os.path.join(TFJS_DIR, "predict.js"), str(folder), str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"TF.js failed ({done.returncode}): {done.stderr[-2000:]}"
    result = json.loads(done.stdout)
    return [_array(r) for r in result] if isinstance(result, list) else _array(result)


def _randomize(model, seed):
    """Every weight non-trivial (BatchNormalization statistics included)."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        low = 0.5 if ("variance" in w.path or "gamma" in w.path) else -0.5
        w.assign(rng.uniform(low, low + 1.0, size=w.shape).astype(np.float32))


def _inverted_residual():
    x = L.Input(shape=(6, 6, 4), name="image")
    h = L.Conv2D(8, 1, use_bias=False, name="expand")(x)
    h = L.BatchNormalization(name="expand_bn")(h)
    h = L.ReLU(6.0, name="expand_relu")(h)
    h = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw",
                          depthwise_regularizer=regularizers.L2(1e-4),
                          depthwise_constraint=constraints.MaxNorm(100.0, axis=[0, 1, 2]))(h)
    h = L.BatchNormalization(name="dw_bn")(h)
    h = L.ReLU(6.0, name="dw_relu")(h)
    h = L.Conv2D(4, 1, use_bias=False, name="project")(h)
    h = L.BatchNormalization(name="project_bn")(h)
    h = L.Add(name="residual")([x, h])
    out = L.Dense(3, activation="softmax", name="head")(L.GlobalAveragePooling2D(name="gap")(h))
    return Model(x, out, name="inverted_residual")


def _assorted():
    return Sequential([
        L.ZeroPadding2D(1, input_shape=(7, 7, 2), name="pad"),
        L.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="conv"),
        L.SeparableConv2D(5, 2, padding="valid", depth_multiplier=2, name="sep"),
        L.MaxPooling2D(2, strides=1, name="maxpool"),
        L.AveragePooling2D(1, name="avgpool"),
        L.Flatten(name="flat"),
        L.Dense(6, name="dense"),
        L.Activation("tanh", name="tanh"),
        L.Reshape((2, 3), name="reshape"),
    ], name="assorted")


def _two_heads():
    a, b = L.Input(shape=(5,), name="a"), L.Input(shape=(5,), name="b")
    shared = L.Dense(4, activation="relu", name="shared")
    ha, hb = shared(a), shared(b)
    return Model([a, b], [L.Dense(2, name="left")(L.Add(name="merge")([ha, hb])),
                          L.Dense(1, activation="sigmoid", name="right")(hb)], name="two_heads")


@pytest.mark.parametrize("build, shapes", [
    (_inverted_residual, [(3, 6, 6, 4)]),
    (_assorted, [(2, 7, 7, 2)]),
    (_two_heads, [(4, 5), (4, 5)]),
])
def test_minigrad_written_model_predicts_the_same_in_tfjs(node, tmp_path, build, shapes):
    model = build()
    _randomize(model, seed=len(shapes))
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    x = xs if len(xs) > 1 else xs[0]
    model.save(tmp_path / "model")
    expected = model.predict(x)
    got = _tfjs_predict(node, tmp_path / "model", x, tmp_path)
    for g, e in zip(got if isinstance(got, list) else [got],
                    expected if isinstance(expected, list) else [expected]):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_compiled_and_trained_model_loads_in_tfjs(node, tmp_path):
    model = Sequential([L.Dense(8, activation="relu", input_shape=(4,), name="hidden"),
                        L.Dropout(0.25, name="drop"),
                        L.Dense(3, activation="softmax", name="probs")], name="trained")
    model.compile(optimizers.SGD(0.1, momentum=0.9), "categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    model.fit(x, np.eye(3)[rng.integers(0, 3, 16)], epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "model")
    with open(tmp_path / "model" / "model.json") as f:
        assert json.load(f)["trainingConfig"]["optimizer_config"]["class_name"] == "Momentum"
    np.testing.assert_allclose(_tfjs_predict(node, tmp_path / "model", x, tmp_path),
                               model.predict(x), rtol=1e-4, atol=1e-6)
