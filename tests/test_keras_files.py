"""Keras 3 ``.keras`` archives, legacy ``.h5`` files and ``.weights.h5`` files: read, write, refuse.

The fixtures in tests/fixtures/keras/ were written by real Keras 3.15.1 (tests/make_keras_files.py);
reading them needs h5py only. The tests that open minigrad's files in Keras skip without Keras
(run them with ``pip install keras==3.15.1 torch``; Keras runs on the PyTorch backend).
"""
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

from minigrad import constraints, layers as L, optimizers, regularizers  # noqa: E402
from minigrad.io import ModelFileError  # noqa: E402
from minigrad.models import Model, Sequential, load_model  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "keras")
NAMES = ("cnn", "sequential", "nested")


def _fixture(name):
    data = np.load(os.path.join(FIXTURES, name + ".npz"), allow_pickle=False)
    return data["x"], data["y"]


def _close(got, want, rtol=1e-5):
    scale = np.maximum(np.abs(want), 1e-3)
    assert np.max(np.abs(got - want) / scale) <= rtol


# -- files Keras wrote ---------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".keras", ".h5"])
@pytest.mark.parametrize("name", NAMES)
def test_keras_written_files_load_and_predict_as_keras(name, ext):
    x, y = _fixture(name)
    model = load_model(os.path.join(FIXTURES, name + ext))
    _close(model.predict(x), y)
    assert model.compiled
    assert type(model.optimizer).__name__ == ("SGD" if name == "sequential" else "Adam")


@pytest.mark.parametrize("name", NAMES)
def test_keras_files_restore_the_optimizer_state(name):
    """The .keras archive (optimizer/vars) and the .h5 (optimizer_weights) hold the same state."""
    states = []
    for ext in (".keras", ".h5"):
        model = load_model(os.path.join(FIXTURES, name + ext))
        assert model.optimizer.iterations == 1  # the generator trained one step
        states.append([a for n, a in model.optimizer.get_state()[1:]])
    assert states[0] and any(np.any(a != 0) for a in states[0])
    assert all(np.array_equal(a, b) for a, b in zip(*states))


@pytest.mark.parametrize("weights", [".weights.h5", ".h5", ".keras"])
@pytest.mark.parametrize("name", NAMES)
def test_load_weights_reads_each_keras_file_kind(name, weights):
    x, y = _fixture(name)
    model = load_model(os.path.join(FIXTURES, name + ".keras"), compile=False)
    for w in model.weights:
        w.assign(np.zeros_like(w.data))
    model.load_weights(os.path.join(FIXTURES, name + weights))
    _close(model.predict(x), y)


def test_a_tf_keras_2_h5_is_matched_by_order_not_by_weight_names(tmp_path):
    """tf.keras 2 names weights 'depthwise_kernel:0' where Keras 3 says 'kernel': Keras matches
    by order, and so does minigrad."""
    path = tmp_path / "old.h5"
    shutil.copy(os.path.join(FIXTURES, "cnn.h5"), path)
    with h5py.File(path, "r+") as f:
        group = f["model_weights"]
        for layer in group.attrs["layer_names"]:
            node = group[layer.decode() if isinstance(layer, bytes) else layer]
            names = [n.decode() if isinstance(n, bytes) else n
                     for n in node.attrs["weight_names"] if isinstance(n, (bytes, str))]
            renamed = []
            for n in names:
                new = n.replace("/kernel", "/depthwise_kernel") + ":0"
                node.move(n, new)
                renamed.append(new.encode())
            if renamed:
                node.attrs["weight_names"] = np.array(renamed)
        f.attrs["keras_version"] = b"2.15.0"
    x, y = _fixture("cnn")
    _close(load_model(path).predict(x), y)


def test_a_tf_keras_2_file_loads_and_predicts_as_tf_keras():
    """Written by tf.keras 2.21 (tests/make_keras_files.py --tf-keras): class Functional, weights
    named 'depthwise_conv2d/depthwise_kernel:0', groups and batch_input_shape keys, every
    DepthwiseConv2D / SeparableConv2D option; the weights-only file has layer_names at its root."""
    x, y = _fixture("tfkeras2_cnn")
    with warnings.catch_warnings():
        # its optimizer is 'Custom>Adam' (tf.keras 2's registered name): the config reader's
        warnings.simplefilter("ignore")
        model = load_model(os.path.join(FIXTURES, "tfkeras2_cnn.h5"))
    _close(model.predict(x), y)
    for w in model.weights:
        w.assign(np.zeros_like(w.data))
    model.load_weights(os.path.join(FIXTURES, "tfkeras2_cnn_weights.h5"))
    _close(model.predict(x), y)
    model.compile(optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    assert np.isfinite(model.fit(x, np.array([0, 1, 1, 0]), verbose=0).history["loss"][0])


def test_a_keras_written_model_fine_tunes():
    x, _ = _fixture("cnn")
    model = load_model(os.path.join(FIXTURES, "cnn.keras"))
    before = [w.data.copy() for w in model.trainable_weights]
    history = model.fit(x, np.array([0, 1, 2, 0]), epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, w.data) for a, w in zip(before, model.trainable_weights))


# -- minigrad's own files --------------------------------------------------------------------------
def _cnn():
    rng = np.random.default_rng(3)
    inputs = L.Input((7, 7, 3))
    x = L.Conv2D(4, 3, padding="same", kernel_regularizer=regularizers.L2(1e-3))(inputs)
    x = L.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same",
                          depthwise_constraint=constraints.MaxNorm(2.0))(x)
    x = L.BatchNormalization()(x)
    x = L.SeparableConv2D(5, 3, padding="same", bias_regularizer=regularizers.L1(1e-2),
                          pointwise_constraint=constraints.NonNeg())(x)
    x = L.GlobalAveragePooling2D()(x)
    model = Model(inputs, L.Dense(3, activation="softmax")(x))
    for w in model.weights:
        low = 0.5 if "variance" in w.path else -0.5
        w.assign(rng.uniform(low, low + 1.0, w.data.shape).astype("float32"))
    model.compile(optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.normal(0, 1, (4, 7, 7, 3)).astype("float32")
    model.fit(x, np.array([0, 1, 2, 1]), epochs=1, batch_size=4, verbose=0)
    return model, x


def _sequential():
    rng = np.random.default_rng(4)
    model = Sequential([L.Input((5,)), L.Dense(4, activation="relu",
                                               kernel_constraint=constraints.NonNeg()),
                        L.BatchNormalization(), L.Dense(2)])
    for w in model.weights:
        w.assign(rng.uniform(0.5, 1.5, w.data.shape).astype("float32"))
    model.compile(optimizers.SGD(0.01, momentum=0.9), "mse")
    x = rng.normal(0, 1, (4, 5)).astype("float32")
    model.fit(x, np.ones((4, 2), "float32"), epochs=1, batch_size=4, verbose=0)
    return model, x


@pytest.mark.parametrize("ext", [".keras", ".h5"])
@pytest.mark.parametrize("make", [_cnn, _sequential])
def test_round_trips_are_bit_identical(tmp_path, make, ext):
    model, x = make()
    path = tmp_path / ("m" + ext)
    model.save(path)
    assert path.is_file() and os.listdir(tmp_path) == [path.name]  # no temporary file left
    back = load_model(path)
    assert [w.path for w in back.weights] == [w.path for w in model.weights]
    for a, b in zip(back.weights, model.weights):
        assert np.array_equal(a.data, b.data)
    assert np.array_equal(back.predict(x), model.predict(x))
    assert back.get_config() == model.get_config()  # regularizers and constraints included
    assert back.get_compile_config() == model.get_compile_config()
    # the optimizer state travels too (.h5: under optimizer_weights, as Keras 3 writes it)
    assert back.optimizer.iterations == model.optimizer.iterations == 1
    for (n1, a1), (n2, a2) in zip(back.optimizer.get_state(), model.optimizer.get_state()):
        assert n1 == n2 and np.array_equal(a1, a2)


def test_weights_h5_round_trip(tmp_path):
    model, x = _cnn()
    model.save_weights(tmp_path / "m.weights.h5")
    other, _ = _cnn()
    for w in other.weights:
        w.assign(np.zeros_like(w.data))
    other.load_weights(tmp_path / "m.weights.h5")
    assert np.array_equal(other.predict(x), model.predict(x))
    with pytest.raises(ModelFileError, match="weights file holds no model"):
        load_model(tmp_path / "m.weights.h5")


def test_weights_h5_carries_the_optimizer_state_as_keras(tmp_path):
    model, x = _cnn()  # compiled, trained one step
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "r") as f:
        assert int(f["optimizer/vars/0"][()]) == 1  # the iteration count, then the learning rate
        assert len(f["optimizer/vars"]) == 2 + 2 * len(model.trainable_weights)
    other, _ = _cnn()
    other.load_weights(tmp_path / "m.weights.h5")
    mine, theirs = other.optimizer.get_state(), model.optimizer.get_state()
    assert len(mine) == len(theirs)  # (the names differ: the second model's layers are conv2d_1...)
    assert all(np.array_equal(a1, a2) for (_, a1), (_, a2) in zip(mine, theirs))


def test_overwrite_false_keeps_the_old_file(tmp_path):
    model, _ = _sequential()
    for name in ("m.keras", "m.h5", "m.weights.h5"):
        (tmp_path / name).write_bytes(b"old")
        save = model.save_weights if name.endswith(".weights.h5") else model.save
        with pytest.raises(FileExistsError):
            save(tmp_path / name, overwrite=False)
        assert (tmp_path / name).read_bytes() == b"old"


# -- bad files: refused, nothing run, the model untouched --------------------------------------------
def _rewrite_archive(src, dst, members):
    """A copy of the archive ``src`` with ``members`` ({name: bytes or None to drop}) changed."""
    with zipfile.ZipFile(src) as z:
        content = {n: z.read(n) for n in z.namelist()}
    for name, data in members.items():
        if data is None:
            content.pop(name, None)
        else:
            content[name] = data
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in content.items():
            z.writestr(name, data)


def _config_with(layer_edit):
    with zipfile.ZipFile(os.path.join(FIXTURES, "sequential.keras")) as z:
        config = json.loads(z.read("config.json"))
    layer_edit(config["config"]["layers"])
    return json.dumps(config).encode()


SENTINEL = "minigrad_keras_test_sentinel"


@pytest.mark.parametrize("case", ["lambda", "unknown"])
def test_a_lambda_or_unknown_class_is_refused_and_never_run(tmp_path, case):
    sentinel = tmp_path / SENTINEL
    code = f"open({str(sentinel)!r}, 'w').write('ran')"

    def edit(layers):
        if case == "lambda":
            layers.insert(1, {"module": "keras.layers", "class_name": "Lambda", "config": {
                "name": "evil", "function": {"class_name": "__lambda__", "config": {
                    "code": code, "defaults": None, "closure": None}}}, "registered_name": None})
        else:
            layers[1]["class_name"] = "os.system"
            layers[1]["module"] = "os"
    path = tmp_path / "bad.keras"
    _rewrite_archive(os.path.join(FIXTURES, "sequential.keras"), path,
                     {"config.json": _config_with(edit)})
    message = (r"a Keras Lambda 'evil': Python code stored in the file, which minigrad never runs"
               if case == "lambda" else r"cannot rebuild the model.*unknown layer 'os.system'")
    with pytest.raises(ModelFileError, match=message):
        load_model(path)
    assert not sentinel.exists()


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("member", ["../evil", "/abs/evil", "assets/x", "model.weights.h5"])
def test_unexpected_zip_members_are_refused(tmp_path, member):
    path = tmp_path / "bad.keras"
    src = os.path.join(FIXTURES, "sequential.keras")
    with zipfile.ZipFile(src) as z:
        content = [(n, z.read(n)) for n in z.namelist()]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in content + [(member, b"x")]:
            z.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"must hold metadata.json, config.json, "
                                             r"model.weights.h5 and nothing else"):
        load_model(path)
    assert not (tmp_path.parent / "evil").exists()


@pytest.mark.parametrize("name", ["cnn.keras", "cnn.h5", "cnn.weights.h5"])
def test_truncated_files_are_refused_and_the_model_is_untouched(tmp_path, name):
    data = open(os.path.join(FIXTURES, name), "rb").read()
    path = tmp_path / name
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ModelFileError, match=r"truncated|damaged"):
        load_model(path)
    model = load_model(os.path.join(FIXTURES, "cnn.keras"))
    before = [w.data.copy() for w in model.weights]
    with pytest.raises(ModelFileError):
        model.load_weights(path)
    assert all(np.array_equal(a, w.data) for a, w in zip(before, model.weights))


def test_inconsistent_hdf5_is_refused_and_the_model_is_untouched(tmp_path):
    model = load_model(os.path.join(FIXTURES, "sequential.keras"))
    before = [w.data.copy() for w in model.weights]
    gap = tmp_path / "gap.weights.h5"  # vars 0 and 2 of a layer, no 1
    shutil.copy(os.path.join(FIXTURES, "sequential.weights.h5"), gap)
    with h5py.File(gap, "r+") as f:
        f.move("layers/dense/vars/1", "layers/dense/vars/2")
    listed = tmp_path / "listed.h5"  # layer_names names a group that is not there
    shutil.copy(os.path.join(FIXTURES, "sequential.h5"), listed)
    with h5py.File(listed, "r+") as f:
        del f["model_weights/dense_1"]
    for path, message in ((gap, r"'layers/dense/vars' must hold datasets named 0, 1, 2"),
                          (listed, r"layer_names names 'dense_1', which is not a group")):
        with pytest.raises(ModelFileError, match=message):
            model.load_weights(path)
    assert all(np.array_equal(a, w.data) for a, w in zip(before, model.weights))


def test_an_old_folder_named_like_a_keras_file_gets_a_hint(tmp_path):
    model = load_model(os.path.join(FIXTURES, "sequential.keras"))
    from minigrad.io import tfjs
    tfjs.write_model(tmp_path / "old.keras", {"class_name": "Sequential",
                                              "config": model.get_config()},
                     [(w.path, w.data) for w in model.weights])
    with pytest.raises(ModelFileError, match=r"a TF.js layers-model folder named like a Keras "
                                             r"file .* rename the folder"):
        load_model(tmp_path / "old.keras")


def test_a_weights_file_of_another_model_changes_nothing(tmp_path):
    model = load_model(os.path.join(FIXTURES, "cnn.keras"))
    before = [w.data.copy() for w in model.weights]
    for other in ("sequential.weights.h5", "sequential.h5", "sequential.keras"):
        with pytest.raises(ModelFileError):
            model.load_weights(os.path.join(FIXTURES, other))
    assert all(np.array_equal(a, w.data) for a, w in zip(before, model.weights))


def test_a_shape_mismatch_names_the_dataset(tmp_path):
    path = tmp_path / "m.weights.h5"
    shutil.copy(os.path.join(FIXTURES, "sequential.weights.h5"), path)
    with h5py.File(path, "r+") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = np.zeros((2, 2), "float32")
    model = load_model(os.path.join(FIXTURES, "sequential.keras"))
    with pytest.raises(ModelFileError, match=r"'layers/dense/vars/0' has shape \(2, 2\)"):
        model.load_weights(path)


# -- minigrad's files in real Keras 3 (the oracle) --------------------------------------------------
KERAS_CHECK = textwrap.dedent("""
    import os, sys
    import numpy as np
    import keras
    for path in sys.argv[1:]:
        data = np.load(path + ".npz")
        model = keras.saving.load_model(path)
        got = np.asarray(model.predict(data["x"], verbose=0))
        scale = np.maximum(np.abs(data["y"]), 1e-3)
        opt = getattr(model, "optimizer", None)
        # the iteration count, and the slots' sum (variables after iteration and learning rate)
        steps, slots = (int(opt.iterations), float(sum(np.abs(np.asarray(v)).sum()
                        for v in opt.variables[2:]))) if opt is not None else (-1, 0.0)
        print(path, float(np.max(np.abs(got - data["y"]) / scale)), type(opt).__name__, steps,
              slots)
""")


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs Keras 3 (the oracle)")
def test_minigrad_files_open_in_keras_3_and_predict_the_same(tmp_path):
    paths, sums = [], {}
    for make in (_cnn, _sequential):
        model, x = make()
        for ext in (".keras", ".h5"):
            path = str(tmp_path / f"{make.__name__}{ext}")
            model.save(path)
            np.savez(path + ".npz", x=x, y=model.predict(x))
            paths.append(path)
            sums[path] = sum(float(np.abs(a).sum()) for _, a in model.optimizer.get_state()[1:])
    env = dict(os.environ, KERAS_BACKEND="torch")
    out = subprocess.run([sys.executable, "-c", KERAS_CHECK, *paths], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.strip().splitlines()
    assert len(lines) == len(paths)
    for line in lines:
        path, error, optimizer, steps, slots = line.split()
        assert float(error) <= 1e-5, line
        assert optimizer == ("Adam" if "_cnn" in path else "SGD"), line
        assert int(steps) == 1, line  # the optimizer's state travels in both formats
        if path.endswith(".keras"):  # (Keras 3 keeps only the iteration count of an .h5's
            # optimizer_weights, from its own files too: it builds no slots before setting them)
            assert np.isclose(float(slots), sums[path], rtol=1e-5), (line, sums[path])


def test_a_nested_model_round_trips(tmp_path):
    """A Sequential inside a functional model: its weights lie under its own layers/ group."""
    rng = np.random.default_rng(5)
    inner = Sequential([L.Input((5,)), L.Dense(4), L.BatchNormalization()], name="inner")
    inputs = L.Input((5,))
    model = Model(inputs, L.Dense(2)(inner(inputs)))
    for w in model.weights:
        w.assign(rng.uniform(0.5, 1.5, w.data.shape).astype("float32"))
    x = rng.normal(0, 1, (3, 5)).astype("float32")
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        names = []
        h5py.File(io.BytesIO(z.read("model.weights.h5")), "r").visit(names.append)
    assert "layers/sequential/layers/batch_normalization/vars/3" in names
    for ext in (".keras", ".h5"):
        model.save(tmp_path / ("m" + ext))
        assert np.array_equal(load_model(tmp_path / ("m" + ext)).predict(x), model.predict(x))


# -- Keras's own application architectures, both ways (the oracle) -----------------------------------
APPLICATIONS = textwrap.dedent("""
    import sys
    import numpy as np
    import keras
    folder = sys.argv[1]
    rng = np.random.default_rng(14)
    for name, make in (("mobilenet", lambda: keras.applications.MobileNet(
                           input_shape=(32, 32, 3), alpha=0.25, weights=None, classes=5)),
                       ("mobilenet_v2", lambda: keras.applications.MobileNetV2(
                           input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=5))):
        model = make()
        for layer in model.layers:  # random weights, BatchNorm statistics too
            if layer.weights:
                layer.set_weights([rng.uniform(0.5, 1.5, w.shape).astype("float32")
                                   if "variance" in w.path else
                                   rng.normal(0, 0.3, w.shape).astype("float32")
                                   for w in layer.weights])
        x = rng.normal(0, 1, (2, 32, 32, 3)).astype("float32")
        for ext in (".keras", ".h5"):
            model.save(f"{folder}/{name}{ext}")
            np.savez(f"{folder}/{name}{ext}.npz", x=x, y=np.asarray(model.predict(x, verbose=0)))
""")


def _keras(script, *args):
    env = dict(os.environ, KERAS_BACKEND="torch")
    out = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs Keras 3 (the oracle)")
def test_keras_mobilenets_load_predict_fine_tune_and_go_back_to_keras(tmp_path):
    """MobileNet (alpha 0.25) and MobileNetV2 (alpha 0.35) from keras.applications, random
    weights: Keras's .keras and .h5 predict the same in minigrad, fine-tune, and minigrad's files
    of them predict the same in Keras again."""
    _keras(APPLICATIONS, str(tmp_path))
    back = []
    for name in ("mobilenet", "mobilenet_v2"):
        for ext in (".keras", ".h5"):
            path = str(tmp_path / (name + ext))
            data = np.load(path + ".npz")
            model = load_model(path, compile=False)
            _close(model.predict(data["x"]), data["y"])
            mine = str(tmp_path / ("mine_" + name + ext))
            model.save(mine)
            np.savez(mine + ".npz", x=data["x"], y=model.predict(data["x"]))
            back.append(mine)
        model.compile(optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
        history = model.fit(data["x"], np.array([0, 3]), epochs=1, batch_size=2, verbose=0)
        assert np.isfinite(history.history["loss"][0])
    lines = _keras(KERAS_CHECK, *back)
    assert len(lines) == len(back)
    for line in lines:
        assert float(line.split()[1]) <= 1e-5, line


def test_a_lambda_in_a_legacy_h5_is_refused_too(tmp_path):
    path = tmp_path / "bad.h5"
    shutil.copy(os.path.join(FIXTURES, "sequential.h5"), path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"].insert(1, {"class_name": "Lambda", "config": {
            "name": "evil", "function": ["4wEAAAAAAAAA", None, None], "function_type": "lambda"}})
        f.attrs["model_config"] = json.dumps(config)
    with pytest.raises(ModelFileError, match=r"Keras Lambda 'evil': Python code"):
        load_model(path)


KERAS_LOAD_WEIGHTS = textwrap.dedent("""
    import sys, warnings
    import numpy as np
    import keras
    model_path, weights_path = sys.argv[1:]
    data = np.load(weights_path + ".npz")
    model = keras.saving.load_model(model_path)
    model.optimizer.build(model.trainable_variables)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Skipping variable loading for optimizer" and the like
        model.load_weights(weights_path)
    got = np.asarray(model.predict(data["x"], verbose=0))
    print(float(np.max(np.abs(got - data["y"]))), int(model.optimizer.iterations))
""")


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs Keras 3 (the oracle)")
def test_keras_3_loads_minigrad_weights_h5_with_the_optimizer(tmp_path):
    model, x = _cnn()
    model.save(tmp_path / "m.keras")
    for w in model.weights:
        w.assign(w.data * np.float32(0.5))
    model.save_weights(tmp_path / "m.weights.h5")
    np.savez(tmp_path / "m.weights.h5.npz", x=x, y=model.predict(x))
    error, steps = _keras(KERAS_LOAD_WEIGHTS, str(tmp_path / "m.keras"),
                          str(tmp_path / "m.weights.h5"))[-1].split()
    assert float(error) <= 1e-6 and int(steps) == 1


KERAS_SCHEDULE = textwrap.dedent("""
    import sys
    import keras
    for path in sys.argv[1:]:
        opt = keras.saving.load_model(path).optimizer
        print(type(opt).__name__, type(opt._learning_rate).__name__, int(opt.iterations),
              float(opt.learning_rate))
""")


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs Keras 3 (the oracle)")
def test_keras_3_loads_a_model_compiled_with_a_schedule(tmp_path):
    """An optimizer's learning-rate schedule is written as Keras 3's own nested entry (with its
    module), without which Keras 3 could not load the file at all (found by a fuzz)."""
    paths, want = [], []
    for schedule in (optimizers.schedules.CosineDecay(0.1, 10, warmup_target=0.2,
                                                      warmup_steps=3),
                     optimizers.schedules.PiecewiseConstantDecay([2, 5], [0.1, 0.05, 0.01])):
        model = Sequential([L.Input((3,)), L.Dense(2)])
        model.compile(optimizers.AdamW(schedule), "mse")
        model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), epochs=3,
                  batch_size=2, verbose=0)
        for ext in (".keras", ".h5"):
            paths.append(str(tmp_path / f"{type(schedule).__name__}{ext}"))
            model.save(paths[-1])
            want.append((type(schedule).__name__, float(model.optimizer.learning_rate)))
    for line, (name, lr) in zip(_keras(KERAS_SCHEDULE, *paths), want):
        optimizer, schedule, steps, value = line.split()
        assert (optimizer, schedule, int(steps)) == ("AdamW", name, 6), line
        assert np.isclose(float(value), lr, rtol=1e-6), (line, lr)


@pytest.mark.parametrize("schedule", [False, True])
def test_nadam_state_travels_both_ways_with_keras_3(keras, tmp_path, schedule):
    """Keras 3's Nadam keeps its momentum product as a last optimizer variable: minigrad reads
    past it (it rebuilds the product) and writes it, so the state resumes both ways (it was
    dropped with a warning; found by a fuzz)."""
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 6)).astype("float32"), rng.random((8, 3)).astype("float32")
    lr = keras.optimizers.schedules.PolynomialDecay(0.1, 5) if schedule else 0.01
    theirs = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)])
    theirs.compile(keras.optimizers.Nadam(lr), "mse")
    theirs.fit(x, y, epochs=2, batch_size=4, verbose=0)
    for ext in (".keras", ".h5"):
        theirs.save(tmp_path / f"m{ext}")
    loaded = [load_model(tmp_path / f"m{ext}") for ext in (".keras", ".h5")]
    theirs.train_on_batch(x[:4], y[:4])
    for ours in loaded:
        assert ours.optimizer.iterations == 4
        ours.train_on_batch(x[:4], y[:4])
        for a, b in zip(ours.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
    ours.save(tmp_path / "back.keras")
    again = keras.saving.load_model(tmp_path / "back.keras")
    assert int(again.optimizer.iterations) == 5
    again.train_on_batch(x[4:], y[4:])
    ours.train_on_batch(x[4:], y[4:])
    for a, b in zip(ours.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
