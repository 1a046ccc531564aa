"""Config reading in the three dialects minigrad meets in files: TF.js's, Keras 2 / tf.keras's
(what the TF.js converter copies into model.json) and Keras 3's; and ``to_json`` /
``model_from_json``.

The Keras 3 fixtures (tests/fixtures/keras_configs/) were written by real Keras 3.15.1 with
tests/make_keras_configs.py. The Keras 2 configs are written here by hand, in the form tf.keras 2
writes them. The tests marked "oracle" need ``keras`` (3.x, PyTorch backend) and skip without it.
"""
import json
import os

import numpy as np
import pytest

import minigrad as mg

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras_configs")
MODELS = ["nested_sequential", "sequential_small", "mobilenet_v1_025", "mobilenet_v2_035"]

# keys Keras 3 writes that minigrad accepts at their default (no-op) value and does not write back
NO_OP_KEYS = {"quantization_config", "renorm", "renorm_clipping", "renorm_momentum"}


def _fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def _normalized(value):
    """A config value compared by meaning: entries by class name and config (their ``module``
    and ``registered_name`` dropped, unset ``input_axes``/``output_axes`` dropped), dtype
    policies by name, tuples as lists."""
    if isinstance(value, dict):
        if "class_name" in value:
            if value["class_name"] in ("DTypePolicy", "FloatDTypePolicy"):
                return value["config"]["name"]
            config = {k: _normalized(v) for k, v in (value.get("config") or {}).items()
                      if not (k in ("input_axes", "output_axes") and v is None)}
            return value["class_name"], config
        return {k: _normalized(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalized(v) for v in value]
    return value


# -- Keras 3: every layer kind and option, as Keras 3.15.1 serialized it --------------------------
LAYER_ENTRIES = json.loads(_fixture("layers.json"))["layers"]


@pytest.mark.parametrize("entry", LAYER_ENTRIES, ids=[e["config"]["name"] for e in LAYER_ENTRIES])
def test_every_keras3_layer_entry_builds_with_the_same_config_and_weight_shapes(entry):
    layer = mg.layers.deserialize(entry)
    assert type(layer).__name__ == entry["class_name"]
    layer.build((None,) + tuple(entry["test_input_shape"]))
    assert [list(w.shape) for w in layer.weights] == entry["test_weight_shapes"]
    ours, theirs = _normalized(layer.get_config()), _normalized(entry["config"])
    for key in set(ours) | set(theirs):
        if key in theirs and key not in ours:
            assert key in NO_OP_KEYS, f"minigrad drops the key {key!r}"
            continue
        if key in ours and key not in theirs:
            assert ours[key] is None, f"minigrad writes {key}={ours[key]!r}, Keras does not"
            continue
        assert ours[key] == theirs[key], key


def test_keras3_entries_resolve_by_class_name_only_never_by_module():
    # a module naming something importable is not imported: only the registry decides
    entry = {"module": "os", "class_name": "ReLU", "config": {"name": "r"},
             "registered_name": "os>system"}
    assert isinstance(mg.layers.deserialize(entry), mg.layers.ReLU)
    with pytest.raises(ValueError, match="'Lambda' layers hold Python code .* never runs code"):
        mg.layers.deserialize({"module": "keras.layers", "class_name": "Lambda",
                               "config": {"function": "os.system"}, "registered_name": None})


def test_keras3_function_entries_are_looked_up_by_name():
    relu = {"module": "keras.activations", "class_name": "function", "config": "relu",
            "registered_name": "function"}
    assert mg.activations.deserialize(relu) is mg.activations.relu
    layer = mg.layers.Dense(2, activation=relu)
    assert layer.get_config()["activation"] == "relu"
    with pytest.raises(ValueError, match="unknown activation 'exec'"):
        mg.activations.deserialize({"class_name": "function", "config": "exec"})


def test_keras3_dtype_policies_become_their_names_others_are_refused():
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float64"},
              "registered_name": None}
    assert mg.layers.Dense(2, dtype=policy).dtype == "float64"
    mixed = dict(policy, config={"name": "mixed_float16"})
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64', got "
                                         "'mixed_float16'"):
        mg.layers.Dense(2, dtype=mixed)


# -- Keras 3.15's input_axes / output_axes on every VarianceScaling initializer ------------------
def test_compute_fans_uses_input_and_output_axes_when_both_are_given():
    assert mg.initializers.compute_fans((4, 5, 6), [0], [1, 2]) == (4, 30)
    assert mg.initializers.compute_fans((4, 5, 6), [-1], None) == (20, 24)   # both or none
    assert mg.initializers.compute_fans((3, 3, 8, 2)) == (72, 18)


@pytest.mark.parametrize("name", ["GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform",
                                  "LecunNormal", "LecunUniform", "VarianceScaling"])
def test_variance_scaling_initializers_read_and_write_input_and_output_axes(name):
    entry = {"module": "keras.initializers", "class_name": name,
             "config": {"seed": 1, "input_axes": None, "output_axes": None},
             "registered_name": None}
    plain = mg.initializers.deserialize(entry)
    assert "input_axes" not in plain.get_config()   # unset: not written (older Keras refuses it)
    entry["config"].update(input_axes=[0], output_axes=[1, 2])
    axes = mg.initializers.deserialize(entry)
    assert axes.get_config()["input_axes"] == [0] and axes.get_config()["output_axes"] == [1, 2]
    assert mg.initializers.deserialize(mg.initializers.serialize(axes)).get_config() == \
        axes.get_config()


def test_input_and_output_axes_change_the_scale_as_keras_computes_it():
    shape = (400, 5, 6)
    default = mg.initializers.VarianceScaling(mode="fan_in", distribution="uniform", seed=0)
    by_axes = mg.initializers.VarianceScaling(mode="fan_in", distribution="uniform", seed=0,
                                              input_axes=[0], output_axes=[1, 2])
    # default fan_in = 5 * 400 = 2000 (a kernel (rf, in, out)); by axes fan_in = 400
    assert np.abs(default(shape)).max() <= np.sqrt(3 / 2000) + 1e-7
    assert np.abs(by_axes(shape)).max() > np.sqrt(3 / 2000) * 1.5
    assert np.abs(by_axes(shape)).max() <= np.sqrt(3 / 400) + 1e-7


def test_bad_input_axes_are_refused_naming_them():
    with pytest.raises(ValueError, match="input_axes must be None or a list of integer axes, "
                                         "got 'a'"):
        mg.initializers.GlorotUniform(input_axes="a", output_axes=[1])
    with pytest.raises(ValueError, match="axis 5 .* out of range"):
        mg.initializers.HeNormal(input_axes=[5], output_axes=[0])((2, 3))


# -- Keras 3: whole models, built from Keras's own to_json text -----------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_keras3_model_json_builds_with_keras_layer_count_output_and_weight_shapes(name):
    expected = json.loads(_fixture(f"{name}.summary.json"))
    model = mg.models.model_from_json(_fixture(f"{name}.json"))
    assert len(model.layers) == expected["layers"]
    assert list(model.output_shape) == expected["output_shape"]
    assert [list(w.shape) for w in model.weights] == expected["weight_shapes"]
    assert model.count_params() == expected["params"]


def test_a_nested_keras3_sequential_rebuilds_inside_the_functional_model():
    model = mg.models.model_from_json(_fixture("nested_sequential.json"))
    inner = model.get_layer("inner_seq")
    assert isinstance(inner, mg.models.Sequential)
    assert [type(layer).__name__ for layer in inner.layers] == ["Dense", "Dropout", "Dense"]
    assert [t.layer.name for t in model.get_layer("add")._call_records[0].inputs] == \
        ["inner_seq", "skip"]


# -- Keras 2 / tf.keras: the dialect the TF.js converter copies -----------------------------------
def _k2_init(name):
    return {"class_name": name, "config": {"seed": None} if name.startswith("Glorot") else {}}


def _k2_layer(class_name, name, inbound, **config):
    return {"class_name": class_name, "name": name,
            "config": {"name": name, "trainable": True, "dtype": "float32", **config},
            "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}


def _keras2_model(class_name="Functional"):
    """A model config as tf.keras 2 writes it (``model.to_json()``, the converter's topology)."""
    conv = {"kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
            "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
            "activation": "linear", "use_bias": True, "bias_initializer": _k2_init("Zeros"),
            "bias_regularizer": None, "activity_regularizer": None, "bias_constraint": None}
    layers = [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 6, 6, 3], "dtype": "float32", "sparse": False,
                    "ragged": False, "name": "input_1"}},
        _k2_layer("DepthwiseConv2D", "dw", "input_1", **conv, depth_multiplier=2,
                  depthwise_initializer=_k2_init("GlorotUniform"), depthwise_regularizer=None,
                  depthwise_constraint=None),
        _k2_layer("BatchNormalization", "bn", "dw", axis=[3], momentum=0.99, epsilon=0.001,
                  center=True, scale=True, beta_initializer=_k2_init("Zeros"),
                  gamma_initializer=_k2_init("Ones"), moving_mean_initializer=_k2_init("Zeros"),
                  moving_variance_initializer=_k2_init("Ones"), beta_regularizer=None,
                  gamma_regularizer=None, beta_constraint=None, gamma_constraint=None),
        _k2_layer("ReLU", "relu", "bn", max_value=6.0, negative_slope=0.0, threshold=0.0),
        _k2_layer("SeparableConv2D", "sep", "relu", filters=4, **conv, depth_multiplier=1,
                  kernel_initializer=_k2_init("GlorotUniform"), kernel_regularizer=None,
                  kernel_constraint=None, depthwise_initializer=_k2_init("GlorotUniform"),
                  pointwise_initializer=_k2_init("GlorotUniform"), depthwise_regularizer=None,
                  pointwise_regularizer=None, depthwise_constraint=None,
                  pointwise_constraint=None),
        {"class_name": "Sequential", "name": "head", "inbound_nodes": [[["sep", 0, 0, {}]]],
         "config": {"name": "head", "layers": [
             {"class_name": "InputLayer",
              "config": {"batch_input_shape": [None, 6, 6, 4], "dtype": "float32",
                         "sparse": False, "ragged": False, "name": "head_input"}},
             {"class_name": "GlobalAveragePooling2D",
              "config": {"name": "gap", "trainable": True, "dtype": "float32",
                         "data_format": "channels_last", "keepdims": False}},
             {"class_name": "Dense",
              "config": {"name": "fc", "trainable": True, "dtype": "float32", "units": 2,
                         "activation": "softmax", "use_bias": True,
                         "kernel_initializer": _k2_init("GlorotUniform"),
                         "bias_initializer": _k2_init("Zeros"), "kernel_regularizer": None,
                         "bias_regularizer": None, "activity_regularizer": None,
                         "kernel_constraint": None, "bias_constraint": None}}]}},
    ]
    return {"class_name": class_name, "keras_version": "2.15.0", "backend": "tensorflow",
            "config": {"name": "k2", "layers": layers, "input_layers": [["input_1", 0, 0]],
                       "output_layers": [["head", 0, 0]]}}


def _same_model_by_hand():
    x = mg.layers.Input(batch_shape=(None, 6, 6, 3))
    h = mg.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(x)
    h = mg.layers.ReLU(6.0)(mg.layers.BatchNormalization(axis=3)(h))
    h = mg.layers.SeparableConv2D(4, 3, padding="same")(h)
    head = mg.models.Sequential([mg.layers.GlobalAveragePooling2D(),
                                 mg.layers.Dense(2, activation="softmax")])
    return mg.models.Model(x, head(h))


@pytest.mark.parametrize("class_name", ["Functional", "Model"])
def test_a_keras2_model_config_builds_and_computes_as_the_same_model_made_by_hand(class_name):
    model = mg.models.model_from_json(json.dumps(_keras2_model(class_name)))
    assert model.get_layer("bn").axis == 3
    assert isinstance(model.get_layer("head"), mg.models.Sequential)
    reference = _same_model_by_hand()
    rng = np.random.default_rng(0)
    weights = [rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in model.weights]
    assert [w.shape for w in weights] == [w.data.shape for w in reference.weights]
    model.set_weights(weights)
    reference.set_weights(weights)
    x = rng.standard_normal((2, 6, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), reference.predict(x), rtol=1e-6)


def test_keras2_keys_that_change_nothing_are_accepted_and_not_written_back():
    sep = mg.layers.SeparableConv2D(4, 3, groups=1, kernel_initializer="glorot_uniform",
                                    kernel_regularizer=None, kernel_constraint=None)
    assert not {"groups", "kernel_initializer", "kernel_regularizer"} & set(sep.get_config())
    dw = mg.layers.DepthwiseConv2D(3, groups=1)
    assert "groups" not in dw.get_config()   # Keras 3 refuses it on DepthwiseConv2D
    bn = mg.layers.BatchNormalization(axis=[1], fused=True)
    assert bn.get_config()["axis"] == 1 and "fused" not in bn.get_config()
    gap = mg.layers.GlobalAveragePooling2D.from_config({"name": "g", "keepdims": True})
    assert gap.compute_output_shape((None, 4, 4, 3)) == (None, 1, 1, 3)


@pytest.mark.parametrize("make, error, message", [
    (lambda: mg.layers.Conv2D(4, 3, groups=3), ValueError,
     r"Conv2D: groups must divide the number of filters \(4\), got groups=3"),
    (lambda: mg.layers.DepthwiseConv2D(3, groups=2), ValueError,
     "DepthwiseConv2D: groups must be 1 .* got 2"),
    (lambda: mg.layers.SeparableConv2D(4, 3, groups=4), ValueError,
     "SeparableConv2D: groups must be 1 .* got 4"),
    (lambda: mg.layers.BatchNormalization(renorm=True), ValueError, "renorm must be False"),
    (lambda: mg.layers.BatchNormalization(virtual_batch_size=8), ValueError,
     "virtual_batch_size must be None .* got 8"),
    (lambda: mg.layers.BatchNormalization(axis=[1, 2]), TypeError,
     r"axis must be an integer \(the channel axis\), got \[1, 2\] \(normalizing over several"),
    (lambda: mg.layers.BatchNormalization(fused="yes"), ValueError,
     "fused must be None, True or False, got 'yes'"),
    (lambda: mg.layers.Dense(3, lora_rank=4), ValueError, "lora_rank must be None .* got 4"),
    (lambda: mg.layers.deserialize({"class_name": "Dense", "config": {"units": 2, "foo": 1}}),
     TypeError, "Dense: unexpected keyword argument.* foo"),
])
def test_keys_that_would_change_the_math_are_refused_naming_key_and_value(make, error, message):
    with pytest.raises(error, match=message):
        make()


# -- to_json / model_from_json --------------------------------------------------------------------
def test_to_json_writes_keras3_entries_and_tensor_nodes():
    model = mg.models.model_from_json(_fixture("nested_sequential.json"))
    entry = json.loads(model.to_json())
    assert (entry["module"], entry["class_name"]) == ("keras.src.models.functional", "Functional")
    assert entry["config"]["input_layers"] == ["features", 0, 0]
    layers = {layer["name"]: layer for layer in entry["config"]["layers"]}
    assert layers["inner_seq"]["class_name"] == "Sequential"
    add_args = layers["add"]["inbound_nodes"][0]["args"]
    assert [t["config"]["keras_history"] for t in add_args[0]] == [["inner_seq", 0, 0],
                                                                   ["skip", 0, 0]]
    dense = layers["pre"]["config"]
    assert dense["dtype"]["class_name"] == "DTypePolicy"
    assert dense["kernel_initializer"]["module"] == "keras.initializers"
    assert "batch_input_shape" not in dense


@pytest.mark.parametrize("name", MODELS)
def test_to_json_round_trips_the_architecture_and_the_math(name):
    model = mg.models.model_from_json(_fixture(f"{name}.json"))
    again = mg.models.model_from_json(model.to_json())
    assert type(again) is type(model)
    assert again.get_config() == model.get_config()
    again.set_weights(model.get_weights())
    x = np.random.default_rng(1).standard_normal((2,) + model.input_shape[1:]).astype(np.float32)
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


def test_model_from_json_reads_a_tfjs_model_json_and_refuses_what_is_no_model():
    model = _same_model_by_hand()
    tfjs_json = json.dumps({"format": "layers-model", "modelTopology": _keras2_model()})
    assert len(mg.models.model_from_json(tfjs_json).layers) == len(model.layers)
    # the converter nests the entry once more: {"keras_version", "backend", "model_config"}
    converter_json = json.dumps({"format": "layers-model", "modelTopology": {
        "keras_version": "2.21.0", "backend": "tensorflow", "model_config": _keras2_model()}})
    assert len(mg.models.model_from_json(converter_json).layers) == len(model.layers)
    with pytest.raises(ValueError, match="expected a model .* got class_name 'Dense'"):
        mg.models.model_from_json(json.dumps(mg.layers.serialize(mg.layers.Dense(2))))
    with pytest.raises(ValueError, match="not valid JSON"):
        mg.models.model_from_json("{")
    with pytest.raises(TypeError, match="expected JSON text"):
        mg.models.model_from_json({"class_name": "Sequential"})


def test_to_json_refuses_an_unbuilt_model():
    with pytest.raises(ValueError, match="must be built"):
        mg.models.Sequential([mg.layers.Dense(2)]).to_json()


# -- oracle: real Keras 3 (PyTorch backend) ----------------------------------------------------------
def _random_weights(keras_model, seed):
    rng = np.random.default_rng(seed)
    out = []
    for w in keras_model.weights:
        value = rng.standard_normal(tuple(w.shape)).astype(np.float32) * 0.3
        if "variance" in w.path:   # BatchNorm's moving variance must be positive
            value = np.abs(value) + 0.5
        out.append(value)
    return out


@pytest.mark.parametrize("name", MODELS)
def test_oracle_keras_and_minigrad_predict_the_same_from_one_json(keras, name):
    text = _fixture(f"{name}.json")
    reference = keras.models.model_from_json(text)
    weights = _random_weights(reference, 0)
    reference.set_weights(weights)
    model = mg.models.model_from_json(text)
    model.set_weights(weights)
    x = np.random.default_rng(1).standard_normal((2,) + model.input_shape[1:]).astype(np.float32)
    expected = np.asarray(reference.predict(x, verbose=0))
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5,
                               atol=1e-5 * np.abs(expected).max())


@pytest.mark.parametrize("name", MODELS)
def test_oracle_keras_reads_minigrads_to_json(keras, name):
    model = mg.models.model_from_json(_fixture(f"{name}.json"))
    rebuilt = keras.models.model_from_json(model.to_json())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    rebuilt.set_weights(model.get_weights())
    x = np.random.default_rng(2).standard_normal((2,) + model.input_shape[1:]).astype(np.float32)
    expected = np.asarray(rebuilt.predict(x, verbose=0))
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5,
                               atol=1e-5 * np.abs(expected).max())


def test_oracle_keras_reads_a_model_made_in_minigrad(keras):
    x_in = mg.layers.Input(shape=(6, 6, 3))
    h = mg.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2,
                                  depthwise_initializer=mg.initializers.HeNormal(seed=1),
                                  depthwise_regularizer=mg.regularizers.L1L2(l1=0.01, l2=0.02),
                                  depthwise_constraint=mg.constraints.MaxNorm(2.0))(x_in)
    h = mg.layers.BatchNormalization(axis=[3])(h)
    h = mg.layers.SeparableConv2D(4, 3, strides=2, activation="relu",
                                  pointwise_constraint="non_neg")(h)
    h = mg.layers.GlobalAveragePooling2D(keepdims=True)(h)
    model = mg.models.Model(x_in, mg.layers.Dense(2)(mg.layers.Flatten()(h)))
    rebuilt = keras.models.model_from_json(model.to_json())
    assert rebuilt.count_params() == model.count_params()
    dw = rebuilt.layers[1]
    assert (dw.depthwise_regularizer.l1, dw.depthwise_constraint.max_value) == \
        (pytest.approx(0.01), 2.0)
    rebuilt.set_weights(model.get_weights())
    x = np.random.default_rng(3).standard_normal((2, 6, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x), np.asarray(rebuilt.predict(x, verbose=0)),
                               rtol=1e-5, atol=1e-6)


# -- optimizers, regularizers, constraints, losses, metrics: Keras 3 and Keras 2 / TF.js forms ----
def test_keras2_optimizer_keys_that_change_nothing_are_accepted():
    adam = mg.optimizers.deserialize({"class_name": "Adam", "config": {
        "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
        "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
        "ema_overwrite_frequency": None, "jit_compile": True, "is_legacy_optimizer": False,
        "learning_rate": 0.002, "beta_1": 0.8, "beta_2": 0.999, "epsilon": 1e-07,
        "amsgrad": False}})
    config = adam.get_config()
    assert (config["learning_rate"], config["beta_1"]) == (0.002, 0.8)
    assert "jit_compile" not in config
    with pytest.raises(ValueError, match="got decay=0.1"):
        mg.optimizers.deserialize({"class_name": "SGD", "config": {"learning_rate": 0.01,
                                                                  "decay": 0.1}})


def test_keras3_optimizer_loss_and_metric_entries_are_read():
    sgd = mg.optimizers.deserialize({
        "module": "keras.optimizers", "class_name": "SGD", "registered_name": None,
        "config": {"name": "SGD", "learning_rate": {
            "module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
            "config": {"initial_learning_rate": 0.1, "decay_steps": 100, "decay_rate": 0.9,
                       "staircase": False, "name": "ExponentialDecay"},
            "registered_name": None}, "momentum": 0.9, "nesterov": True,
            "loss_scale_factor": None, "gradient_accumulation_steps": None}})
    assert sgd.get_config()["momentum"] == 0.9 and sgd.get_config()["nesterov"] is True
    loss = mg.losses.get({"module": "keras.losses", "class_name": "BinaryCrossentropy",
                          "registered_name": None,
                          "config": {"name": "binary_crossentropy", "from_logits": True,
                                     "label_smoothing": 0.1, "axis": -1,
                                     "reduction": "sum_over_batch_size"}})
    assert (loss.get_config()["from_logits"], loss.get_config()["label_smoothing"]) == (True, 0.1)
    assert isinstance(mg.losses.get({"module": "keras.losses", "class_name": "function",
                                     "config": "mean_squared_error",
                                     "registered_name": "mean_squared_error"}),
                      mg.losses.MeanSquaredError)
    metric = mg.metrics.deserialize({"module": "keras.metrics", "registered_name": None,
                                     "class_name": "SparseTopKCategoricalAccuracy",
                                     "config": {"name": "top3", "dtype": "float32", "k": 3}})
    assert metric.get_config()["k"] == 3


def test_camel_case_keys_of_tfjs_configs_are_read():
    norm = mg.constraints.deserialize({"class_name": "MinMaxNorm", "config": {
        "minValue": 0.5, "maxValue": 2.0, "rate": 1.0, "axis": 0}})
    assert (norm.min_value, norm.max_value) == (0.5, 2.0)
    with pytest.raises(TypeError, match=r"unknown config key\(s\) \['maxValu'\]"):
        mg.constraints.deserialize({"class_name": "MaxNorm", "config": {"maxValu": 2}})


def _multi_model():
    """Two inputs, two outputs, a layer shared by both inputs, a functional model nested."""
    a, b = mg.layers.Input(shape=(4,), name="a"), mg.layers.Input(shape=(4,), name="b")
    shared = mg.layers.Dense(3, name="shared")
    ha, hb = shared(a), shared(b)
    inner_in = mg.layers.Input(shape=(3,), name="inner_in")
    inner = mg.models.Model(inner_in, mg.layers.Dense(3, activation="relu")(inner_in),
                            name="inner")
    total = mg.layers.Add(name="sum")([inner(ha), hb])
    return mg.models.Model([a, b], [mg.layers.Dense(2, name="o1")(total),
                                    mg.layers.Activation("tanh", name="o2")(hb)], name="multi")


def test_to_json_round_trips_several_inputs_outputs_shared_and_nested_models():
    model = _multi_model()
    entry = json.loads(model.to_json())
    assert entry["config"]["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    shared = next(e for e in entry["config"]["layers"] if e["name"] == "shared")
    assert [n["args"][0]["config"]["keras_history"] for n in shared["inbound_nodes"]] == \
        [["a", 0, 0], ["b", 0, 0]]
    again = mg.models.model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    x = [np.random.default_rng(4).standard_normal((2, 4)).astype(np.float32) for _ in range(2)]
    for got, expected in zip(again.predict(x), model.predict(x)):
        np.testing.assert_array_equal(got, expected)


def test_oracle_keras_reads_several_inputs_outputs_shared_and_nested_models(keras):
    model = _multi_model()
    rebuilt = keras.models.model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    x = [np.random.default_rng(5).standard_normal((2, 4)).astype(np.float32) for _ in range(2)]
    for got, expected in zip(model.predict(x), rebuilt.predict(x, verbose=0)):
        np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-5, atol=1e-6)
    back = mg.models.model_from_json(rebuilt.to_json())   # and Keras's text of it, back
    assert [layer.name for layer in back.layers] == [layer.name for layer in model.layers]


@pytest.mark.parametrize("entry", LAYER_ENTRIES, ids=[e["config"]["name"] for e in LAYER_ENTRIES])
def test_oracle_keras_reads_every_layer_option_back_from_to_json(keras, entry):
    layer = mg.layers.deserialize(entry)
    model = mg.models.Sequential([mg.layers.Input(shape=tuple(entry["test_input_shape"])), layer])
    rebuilt = keras.models.model_from_json(model.to_json()).layers[0]
    theirs = _normalized(keras.saving.serialize_keras_object(rebuilt)["config"])
    assert theirs == _normalized(entry["config"])


def test_tf_keras_2_custom_prefixed_optimizer_names_resolve():
    """tf.keras 2.11+ serializes its own optimizers as "Custom>Adam" (with jit_compile and
    is_legacy_optimizer): the name after "Custom>" goes through the registry like any other."""
    opt = mg.optimizers.deserialize({"class_name": "Custom>Adam", "config": {
        "name": "Adam", "learning_rate": 0.002, "jit_compile": False, "is_legacy_optimizer": False}})
    assert isinstance(opt, mg.optimizers.Adam) and opt.learning_rate == pytest.approx(0.002)
    with pytest.raises(ValueError, match="unknown optimizer 'Nonsense'"):
        mg.optimizers.deserialize({"class_name": "Custom>Nonsense", "config": {}})
