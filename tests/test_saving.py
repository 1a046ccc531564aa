"""Model files: the TF.js layers-model folder, exact round trips, resuming training, bad files."""
import json
import os
import sys
import shutil

import numpy as np
import pytest

from minigrad import constraints, layers as L, losses, optimizers
from minigrad.io import ModelFileError, tfjs
from minigrad.models import Model, Sequential, load_model

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "tfjs")


def _block(name="block"):
    """A small functional model with BatchNormalization, DepthwiseConv2D, ReLU6 and Add."""
    x = L.Input(shape=(5, 5, 3), name="image")
    h = L.Conv2D(6, 1, name="expand")(x)
    h = L.BatchNormalization(name="bn")(h)
    h = L.ReLU(6.0, name="relu6")(h)
    h = L.DepthwiseConv2D(3, padding="same", name="dw")(h)
    h = L.Conv2D(3, 1, name="project")(h)
    h = L.Add(name="add")([x, h])
    out = L.Dense(4, activation="softmax", name="head")(L.GlobalAveragePooling2D(name="gap")(h))
    return Model(x, out, name=name)


def _block_data(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 5, 5, 3)).astype(np.float32),
            np.eye(4, dtype=np.float32)[rng.integers(0, 4, n)])


def _mlp():
    return Sequential([L.Dense(6, activation="relu", input_shape=(4,), name="hidden"),
                       L.Dropout(0.5, name="drop"), L.Dense(2, name="out")], name="mlp")


def _read_json(folder):
    with open(os.path.join(folder, "model.json")) as f:
        return json.load(f)


def _write_json(folder, document):
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(document, f)


# -- the format ---------------------------------------------------------------------------------
def test_model_json_and_weights_bin_follow_the_tfjs_format(tmp_path):
    model = _block()
    model.save(tmp_path / "m")
    assert sorted(os.listdir(tmp_path / "m")) == ["model.json", "weights.bin"]
    doc = _read_json(tmp_path / "m")
    assert doc["format"] == "layers-model" and doc["convertedBy"] is None
    assert doc["generatedBy"].startswith("minigrad ")
    topology = doc["modelTopology"]
    assert topology["class_name"] == "Model" and topology["config"]["name"] == "block"
    assert set(topology) >= {"class_name", "config", "keras_version", "backend"}
    (group,) = doc["weightsManifest"]
    assert group["paths"] == ["weights.bin"]
    assert [w["name"] for w in group["weights"]] == [w.path for w in model.weights]
    assert group["weights"][0] == {"name": "expand/kernel", "shape": [1, 1, 3, 6], "dtype": "float32"}
    raw = (tmp_path / "m" / "weights.bin").read_bytes()
    assert raw == b"".join(w.data.astype("<f4").tobytes() for w in model.weights)
    assert "trainingConfig" not in doc  # not compiled


def test_sequential_topology_is_tfjs_shaped(tmp_path):
    _mlp().save(tmp_path / "m")
    topology = _read_json(tmp_path / "m")["modelTopology"]
    assert topology["class_name"] == "Sequential"
    first = topology["config"]["layers"][0]
    assert first["class_name"] == "Dense" and first["config"]["batch_input_shape"] == [None, 4]


def test_round_trip_is_exact(tmp_path):
    for model, x in ((_block(), _block_data()[0]), (_mlp(), np.random.default_rng(1).normal(size=(7, 4)))):
        if any(isinstance(layer, L.BatchNormalization) for layer in model.layers):
            model.layers[2].moving_variance.assign(np.linspace(0.5, 2.0, 6))  # not the defaults
        model.save(tmp_path / model.name)
        loaded = load_model(tmp_path / model.name)
        assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
        assert not loaded.compiled


def test_save_overwrites_atomically_and_leaves_no_temporary_files(tmp_path):
    model = _mlp()
    model.save(tmp_path / "m")
    model.layers[0].kernel.assign(np.ones((4, 6)))
    model.save(tmp_path / "m")
    assert sorted(os.listdir(tmp_path / "m")) == ["model.json", "weights.bin"]
    np.testing.assert_array_equal(load_model(tmp_path / "m").layers[0].kernel.data, np.ones((4, 6)))
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "m", overwrite=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        model.save(tmp_path / "file")


def test_a_save_interrupted_before_model_json_is_detected(tmp_path, monkeypatch):
    model = _mlp()
    model.save(tmp_path / "m")
    real = tfjs.atomic_write

    def crash_on_model_json(path, data):
        if path.endswith("model.json"):
            raise OSError("disk full")
        real(path, data)

    model.layers[0].kernel.assign(np.full((4, 6), 3.0))
    monkeypatch.setattr(tfjs, "atomic_write", crash_on_model_json)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "m")
    monkeypatch.undo()
    # the old model.json now sits next to the new weights.bin: refused, not silently mixed
    with pytest.raises(ModelFileError, match="weights.bin' is not the file"):
        load_model(tmp_path / "m")


# -- resuming training exactly --------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.Adam(0.01),
    lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
])
def test_resume_after_load_is_bit_identical(tmp_path, optimizer):
    x, y = _block_data(16)

    def fresh():
        model = _block()
        model.set_weights([np.random.default_rng(i).normal(0, 0.3, w.shape).astype(np.float32)
                           if "variance" not in w.path else np.ones(w.shape, np.float32)
                           for i, w in enumerate(model.weights)])
        model.compile(optimizer(), "categorical_crossentropy", metrics=["accuracy"])
        return model

    straight = fresh()
    straight.fit(x, y, epochs=4, batch_size=5, seed=3, verbose=0)

    first = fresh()
    first.fit(x, y, epochs=2, batch_size=5, seed=3, verbose=0)
    first.save(tmp_path / "ckpt")
    resumed = load_model(tmp_path / "ckpt")
    assert resumed.compiled and resumed.optimizer.iterations == first.optimizer.iterations
    assert type(resumed.optimizer) is type(first.optimizer)
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=5, seed=3, verbose=0)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)
    for (na, a), (nb, b) in zip(resumed.optimizer.get_state(), straight.optimizer.get_state()):
        assert na == nb
        np.testing.assert_array_equal(a, b)


def test_compiled_model_files(tmp_path):
    model = _mlp()
    model.compile(optimizers.Adam(0.002), "mean_squared_error", metrics=["accuracy"])
    model.train_on_batch(np.ones((2, 4)), np.eye(2))
    model.save(tmp_path / "m")
    assert sorted(os.listdir(tmp_path / "m")) == ["model.json", "optimizer.bin", "weights.bin"]
    doc = _read_json(tmp_path / "m")
    assert doc["trainingConfig"] == {
        "loss": "mean_squared_error", "metrics": ["accuracy"],
        "optimizer_config": {"class_name": "Adam", "config": {
            "learningRate": 0.002, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-07}}}
    meta = doc["userDefinedMetadata"]["minigrad"]
    assert meta["training_config"]["optimizer_config"]["class_name"] == "Adam"
    names = [w["name"] for w in meta["optimizer_weights"][0]["weights"]]
    assert names[0] == "iteration" and "hidden/kernel/momentum" in names
    loaded = load_model(tmp_path / "m")
    assert loaded.optimizer.learning_rate == 0.002 and loaded.optimizer.iterations == 1
    assert not load_model(tmp_path / "m", compile=False).compiled
    model.save(tmp_path / "bare", include_optimizer=False)
    assert not load_model(tmp_path / "bare").compiled


def test_untranslatable_compile_args_skip_trainingconfig_but_keep_ours(tmp_path):
    model = _mlp()
    model.compile(optimizers.Adagrad(0.1), losses.CategoricalCrossentropy(from_logits=True))
    model.save(tmp_path / "m")
    doc = _read_json(tmp_path / "m")
    assert "trainingConfig" not in doc
    loaded = load_model(tmp_path / "m")
    assert isinstance(loaded.optimizer, optimizers.Adagrad)
    assert loaded.get_compile_config()["loss"]["config"]["from_logits"] is True


def test_unserializable_loss_warns_and_saves_the_model(tmp_path):
    model = _mlp()
    model.compile("sgd", lambda y_true, y_pred: (y_pred - y_true) ** 2)
    with pytest.warns(UserWarning, match="training configuration cannot be saved"):
        model.save(tmp_path / "m")
    assert not load_model(tmp_path / "m").compiled


def test_loading_does_not_apply_constraints(tmp_path):
    model = Sequential([L.Dense(3, input_shape=(2,), kernel_constraint=constraints.MaxNorm(0.1))])
    big = np.full((2, 3), 5.0, dtype=np.float32)
    model.layers[0].kernel.assign(big)
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(load_model(tmp_path / "m").layers[0].kernel.data, big)


def test_save_refuses_float64_and_unbuilt_models(tmp_path):
    with pytest.raises(TypeError, match="float32"):
        Sequential([L.Dense(2, input_shape=(3,), dtype="float64")]).save(tmp_path / "a")
    with pytest.raises(ValueError, match="not built"):
        Sequential([L.Dense(2)]).save(tmp_path / "b")


def test_load_weights_checks_everything_first(tmp_path):
    source = _mlp()
    source.save(tmp_path / "m")
    target = _mlp()
    target.load_weights(tmp_path / "m")
    for a, b in zip(target.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(a, b)
    other = Sequential([L.Dense(6, input_shape=(5,), name="hidden"), L.Dense(2, name="out")])
    before = other.get_weights()
    with pytest.raises(ModelFileError, match=r"'hidden/kernel' has shape \(4, 6\)"):
        other.load_weights(tmp_path / "m")
    assert all(np.array_equal(a, b) for a, b in zip(other.get_weights(), before))


# -- bad files ----------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    _mlp().save(tmp_path / "m")
    return tmp_path / "m"


def _strip_digests(folder):
    doc = _read_json(folder)
    del doc["userDefinedMetadata"]["minigrad"]["files"]
    _write_json(folder, doc)
    return doc


def test_missing_folder_and_model_json(tmp_path, saved):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "nowhere")
    os.remove(saved / "model.json")
    with pytest.raises(FileNotFoundError, match="no model.json"):
        load_model(saved)


def test_corrupt_json(saved):
    text = (saved / "model.json").read_text()
    (saved / "model.json").write_text(text[: len(text) // 2])
    with pytest.raises(ModelFileError, match=r"model.json: not valid JSON .*truncated"):
        load_model(saved)
    (saved / "model.json").write_text("[1, 2]")
    with pytest.raises(ModelFileError, match="expected a JSON object"):
        load_model(saved)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.update(format="graph-model"), "'graph-model'"),
    (lambda d: d["modelTopology"].update(class_name="Subclassed"), "Subclassed.*Sequential, Model"),
    (lambda d: d["modelTopology"]["config"]["layers"][0].update(class_name="Dense3D"),
     "Dense3D.*known layers"),
    (lambda d: d["weightsManifest"][0]["weights"][0].update(dtype="float16"), "float16.*float32"),
    (lambda d: d["weightsManifest"][0]["weights"][0].update(quantization={"dtype": "uint8"}),
     "quantized"),
    (lambda d: d["weightsManifest"][0]["weights"][0].update(shape=[6, 4]),
     r"'hidden/kernel' has shape \(6, 4\) in the file, the model expects \(4, 6\)"),
    (lambda d: d["weightsManifest"][0]["weights"][0].update(name="hidden/kernel2"),
     r"missing from the file: \['hidden/kernel'\].*not in the model: \['hidden/kernel2'\]"),
    (lambda d: d["weightsManifest"][0]["weights"].pop(), "describes 168 bytes .* 176 bytes"),
    (lambda d: d["weightsManifest"][0].update(paths=["../elsewhere.bin"]), "relative to the model"),
    (lambda d: d["weightsManifest"][0].update(paths=["/etc/passwd"]), "no absolute paths"),
    (lambda d: d["weightsManifest"][0].update(paths=["shard2.bin"]), "'shard2.bin' .* missing"),
    (lambda d: d["weightsManifest"][0]["weights"].append(d["weightsManifest"][0]["weights"][0]),
     "appears twice"),
])
def test_bad_manifests_and_topologies(saved, edit, match):
    doc = _strip_digests(saved)
    edit(doc)
    _write_json(saved, doc)
    with pytest.raises((ModelFileError, FileNotFoundError), match=match) as info:
        load_model(saved)
    assert "model.json" in str(info.value)


@pytest.mark.parametrize("edit, where", [
    (lambda d: d.update(userDefinedMetadata=[1]), "'userDefinedMetadata'"),
    (lambda d: d["userDefinedMetadata"].update(minigrad="v1"), "'userDefinedMetadata.minigrad'"),
    (lambda d: d["userDefinedMetadata"]["minigrad"].update(files=["weights.bin"]),
     "'userDefinedMetadata.minigrad.files'"),
])
def test_malformed_metadata_is_a_model_file_error(saved, edit, where):
    doc = _read_json(saved)
    edit(doc)
    _write_json(saved, doc)
    for call in (load_model, _mlp().load_weights):
        with pytest.raises(ModelFileError, match=f"model.json: {where} must be a JSON object"):
            call(saved)


def test_truncated_weights(saved):
    data = (saved / "weights.bin").read_bytes()
    (saved / "weights.bin").write_bytes(data[:-4])
    with pytest.raises(ModelFileError, match="weights.bin' is not the file"):
        load_model(saved)
    _strip_digests(saved)
    with pytest.raises(ModelFileError, match="describes 176 bytes .* 172 bytes"):
        load_model(saved)


def test_tfjs_written_files_with_int32_optimizer_weights_load_and_compile():
    with pytest.warns(UserWarning, match="depthwise_constraint"):
        model = load_model(os.path.join(FIXTURES, "train_step_model"))
    assert model.compiled and isinstance(model.optimizer, optimizers.SGD)
    assert model.optimizer.learning_rate == pytest.approx(0.1) and model.optimizer.iterations == 0
    assert [w.path for w in model.weights][:2] == ["depthwise/depthwise_kernel", "depthwise/bias"]


def test_loads_a_folder_given_as_its_model_json(tmp_path):
    shutil.copytree(os.path.join(FIXTURES, "mlp"), tmp_path / "mlp")
    model = load_model(tmp_path / "mlp" / "model.json")
    assert model.name == "sequential_2"


# -- property: any stack of Dense layers survives a round trip ---------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None)
@given(widths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       activations=st.lists(st.sampled_from(["linear", "relu", "tanh", "sigmoid", "relu6"]),
                            min_size=3, max_size=3),
       seed=st.integers(0, 2**16))
def test_random_stacks_round_trip_exactly(tmp_path_factory, widths, activations, seed):
    model = Sequential([L.Dense(w, activation=a, input_shape=(3,) if i == 0 else None)
                        for i, (w, a) in enumerate(zip(widths, activations))])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.weights])
    folder = tmp_path_factory.mktemp("stack")
    model.save(folder)
    loaded = load_model(folder)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_saving_a_model_with_hard_sigmoid_warns_that_tfjs_differs(tmp_path):
    model = Sequential([L.Dense(2, activation="hard_sigmoid", input_shape=(3,))])
    with pytest.warns(UserWarning, match=r"hard_sigmoid.*TF.js computes clip\(0.2 x \+ 0.5"):
        model.save(tmp_path / "m")
    reloaded = load_model(tmp_path / "m")
    x = np.linspace(-4, 4, 12, dtype=np.float32).reshape(4, 3)
    assert np.array_equal(reloaded.predict(x), model.predict(x))


# -- layers of one's own ------------------------------------------------------------------------
class Slope(L.Layer):
    """y = a x with one learnable a per channel: a layer defined outside minigrad."""

    def build(self, input_shape):
        self.a = self.add_weight(name="a", shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs, training=False):
        return inputs * self.a


@pytest.fixture
def layer_registry(monkeypatch):
    """minigrad's layer registry, restored after the test (so Slope stays unknown elsewhere)."""
    monkeypatch.setattr(L.registry, "_entries", dict(L.registry._entries))
    monkeypatch.setattr(L.registry, "_names", dict(L.registry._names))
    return L.registry


def _slope_model():
    return Sequential([L.Input((3,)), Slope(name="slope"), L.Dense(2, name="out")])


def test_saving_an_unregistered_layer_says_how_to_register_it(tmp_path, layer_registry):
    with pytest.raises(ValueError, match=r"cannot serialize <Slope 'slope'>: it is not a registered "
                                         r"layer .*put @minigrad.layers.registry.register\(\) on "
                                         r"the line above `class Slope`, or call "
                                         r"minigrad.layers.registry.register\(\)\(Slope\)"):
        _slope_model().save(tmp_path / "m")


def test_loading_an_unregistered_layer_says_how_to_register_it(tmp_path, layer_registry):
    layer_registry.register()(Slope)
    _slope_model().save(tmp_path / "m")
    doc = _read_json(tmp_path / "m")
    doc["modelTopology"]["config"]["layers"][1]["class_name"] = "Slope2"  # a class never registered
    _write_json(tmp_path / "m", doc)
    with pytest.raises(ModelFileError, match=r"unknown layer 'Slope2'; known layers: .*"
                                                    r"register it: put @minigrad.layers.registry."
                                                    r"register\(\) on the line above `class Slope2`"):
        load_model(tmp_path / "m")


def test_a_registered_layer_of_ones_own_saves_and_loads(tmp_path, layer_registry):
    layer_registry.register()(Slope)
    model = _slope_model()
    model.layers[0].a.assign(np.array([1.0, -2.0, 0.5], dtype=np.float32))
    model.save(tmp_path / "m")
    reloaded = load_model(tmp_path / "m")
    assert type(reloaded.layers[0]) is Slope and reloaded.layers[0].name == "slope"
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert np.array_equal(reloaded.predict(x), model.predict(x))


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "M.HDF5", "m.keras/", "m.weights.h5"])
def test_keras_file_names_need_h5py_and_are_never_made_into_folders(tmp_path, name, monkeypatch):
    """Keras's names choose Keras's formats: without h5py an ImportError naming the extra,
    nothing written; with it, a file (never a folder named like one)."""
    model = Sequential([L.Dense(2, input_shape=(3,))])
    path = os.path.join(tmp_path, name)
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "h5py", None)  # what a Python without h5py sees
        for call in (model.save, model.save_weights, load_model):
            if call == model.save_weights and not name.endswith(".weights.h5"):
                continue  # refused for its name: see the next test
            with pytest.raises(ImportError, match=r'pip install "minigrad\[keras\]"'):
                call(path)
        assert os.listdir(tmp_path) == []
    pytest.importorskip("h5py")
    model.save(path)
    assert os.path.isfile(path.rstrip("/"))


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "m.hdf5"])
def test_save_weights_wants_a_weights_h5_name_as_keras(tmp_path, name):
    model = Sequential([L.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match=r"save_weights: filepath .* ends in '\.weights\.h5'"):
        model.save_weights(os.path.join(tmp_path, name))
    assert os.listdir(tmp_path) == []
