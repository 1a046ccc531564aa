"""Sequential and functional models: building, calling, weights, summary, configs."""
import json

import numpy as np
import pytest

from minigrad import Tensor, layers as L, regularizers
from minigrad.models import Model, Sequential


def _mlp(name=None):
    return Sequential([L.Dense(5, activation="relu", input_shape=(3,), name="h"),
                       L.Dense(2, name="out")], name=name)


def _x(n=4, shape=(3,), seed=0):
    return np.random.default_rng(seed).normal(size=(n,) + shape).astype(np.float32)


def _dense_ref(x, layer):
    return x @ layer.kernel.data + layer.bias.data


# -- Sequential -------------------------------------------------------------------------------
def test_sequential_builds_from_input_shape_and_computes_the_stack():
    model = _mlp()
    assert model.built and model.output_shape == (None, 2) and model.input_shape == (None, 3)
    assert [layer.name for layer in model.layers] == ["h", "out"]  # no InputLayer, as Keras
    assert len(model.weights) == 4 and model.count_params() == 3 * 5 + 5 + 5 * 2 + 2
    x = _x()
    expected = _dense_ref(np.maximum(_dense_ref(x, model.layers[0]), 0), model.layers[1])
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-6)
    out = model(x)
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, expected, rtol=1e-5, atol=1e-6)


def test_sequential_from_input_and_lazily_on_first_call():
    a = Sequential([L.Input(shape=(3,)), L.Dense(2)])
    assert a.built and a.output_shape == (None, 2)
    b = Sequential()
    b.add(L.Dense(4))
    b.add(L.Dense(1))
    assert not b.built and b.weights == []
    assert b.predict(_x(6)).shape == (6, 1)
    assert b.built and b.input_shape == (None, 3) and len(b.weights) == 4
    c = Sequential([L.Dense(2)])
    c.build((None, 7))
    assert c.layers[0].kernel.shape == (7, 2)


def test_sequential_add_errors_leave_the_model_unchanged():
    model = _mlp()
    with pytest.raises(TypeError, match="expected a Layer"):
        model.add("dense")
    with pytest.raises(ValueError, match="already in the model"):
        model.add(L.Dense(3, name="h"))
    with pytest.raises(ValueError):
        model.add(L.Conv2D(2, 3))  # rank 2 input into a Conv2D
    assert [layer.name for layer in model.layers] == ["h", "out"]
    assert model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="first"):
        model.add(L.Input(shape=(3,)))


def test_sequential_pop():
    model = _mlp()
    model.pop()
    assert [layer.name for layer in model.layers] == ["h"] and model.output_shape == (None, 5)
    model.add(L.Dense(1, name="new"))
    assert model.predict(_x()).shape == (4, 1)


# -- functional ---------------------------------------------------------------------------------
def _two_in_two_out():
    a, b = L.Input(shape=(3,), name="a"), L.Input(shape=(3,), name="b")
    shared = L.Dense(4, name="shared")
    ha, hb = shared(a), shared(b)
    total = L.Add(name="sum")([ha, hb])
    out1 = L.Dense(2, name="out1")(total)
    out2 = L.Dense(1, name="out2")(hb)
    return Model([a, b], [out1, out2], name="two"), shared


def test_functional_model_shared_layer_several_inputs_and_outputs():
    model, shared = _two_in_two_out()
    assert [layer.name for layer in model.layers] == ["a", "b", "shared", "sum", "out1", "out2"]
    assert model.output_names == ["out1", "out2"] and model.input_names == ["a", "b"]
    xa, xb = _x(5, seed=1), _x(5, seed=2)
    y1, y2 = model.predict([xa, xb])
    ha, hb = _dense_ref(xa, shared), _dense_ref(xb, shared)
    np.testing.assert_allclose(y1, _dense_ref(ha + hb, model.get_layer("out1")), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y2, _dense_ref(hb, model.get_layer("out2")), rtol=1e-5, atol=1e-6)
    # the shared layer's weights are counted once
    assert model.count_params() == (3 * 4 + 4) + (4 * 2 + 2) + (4 + 1)


def test_model_call_is_differentiable():
    model, shared = _two_in_two_out()
    y1, y2 = model([_x(2), _x(2, seed=3)], training=True)
    (y1.sum() + y2.sum()).backward()
    assert all(w.grad is not None and w.grad.shape == w.shape for w in model.trainable_weights)


def test_get_layer_by_name_and_index_and_errors():
    model, shared = _two_in_two_out()
    assert model.get_layer("shared") is shared and model.get_layer(index=2) is shared
    assert model.get_layer(index=-1).name == "out2"
    with pytest.raises(ValueError, match="no layer named 'nope'.*shared"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index"):
        model.get_layer(index=6)
    with pytest.raises(ValueError, match="exactly one"):
        model.get_layer()


def test_graph_errors():
    a, b = L.Input(shape=(3,)), L.Input(shape=(3,))
    out = L.Dense(2)(b)
    with pytest.raises(ValueError, match="disconnected"):
        Model(a, out)
    unused = Model([a, b], out)   # an input no output needs is kept, as Keras 3 keeps it
    assert [layer.name for layer in unused.layers][:2] == [b.layer.name, a.layer.name]
    with pytest.raises(TypeError, match="Input"):
        Model(np.zeros((1, 3)), out)
    x = L.Input(shape=(3,))
    with pytest.raises(ValueError, match="unique"):
        Model(x, L.Dense(2, name="same")(L.Dense(3, name="same")(x)))


def test_model_checks_input_shapes_and_count():
    model = _mlp()
    with pytest.raises(ValueError, match=r"must have shape \(None, 3\), got \(4, 5\)"):
        model(_x(4, (5,)))
    two, _ = _two_in_two_out()
    with pytest.raises(ValueError, match="expected 2 input"):
        two(_x())


def test_nested_model_as_a_layer():
    inner = _mlp(name="inner")
    x = L.Input(shape=(3,))
    outer = Model(x, L.Dense(1, name="top")(inner(x)), name="outer")
    xs = _x()
    np.testing.assert_allclose(outer.predict(xs), _dense_ref(inner.predict(xs), outer.get_layer("top")),
                               rtol=1e-5, atol=1e-6)
    assert len(outer.weights) == 6
    rebuilt = Model.from_config(json.loads(json.dumps(outer.get_config())))
    rebuilt.set_weights(outer.get_weights())
    np.testing.assert_array_equal(rebuilt.predict(xs), outer.predict(xs))
    assert type(rebuilt.get_layer("inner")) is Sequential


# -- weights ---------------------------------------------------------------------------------
def test_get_set_weights_and_trainable():
    model = Sequential([L.Dense(3, input_shape=(2,)), L.BatchNormalization(), L.Dense(1)])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(2, 3), (3,), (3,), (3,), (3,), (3,), (3, 1), (1,)]
    new = [np.full_like(w, i) for i, w in enumerate(weights)]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="expected 8 arrays, got 7"):
        model.set_weights(new[:-1])
    bad = list(new)
    bad[0] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="shape"):
        model.set_weights(bad)
    np.testing.assert_array_equal(model.get_weights()[1], new[1])  # nothing written
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 8
    assert not model.layers[0].trainable
    model.trainable = True
    assert len(model.trainable_weights) == 6


def test_frozen_layer_stays_frozen_in_a_new_model():
    base = _mlp()
    base.trainable = False
    x = L.Input(shape=(3,))
    model = Model(x, L.Dense(1)(base(x)))
    assert len(model.trainable_weights) == 2


def test_losses_collect_regularization_of_every_layer():
    model = Sequential([L.Dense(2, input_shape=(3,), kernel_regularizer=regularizers.L2(0.5)),
                        L.Dense(1, kernel_regularizer=regularizers.L1(0.1))])
    model(_x())
    k1, k2 = model.layers[0].kernel.data, model.layers[1].kernel.data
    assert len(model.losses) == 2
    np.testing.assert_allclose(sum(t.item() for t in model.losses),
                               0.5 * np.sum(k1 ** 2) + 0.1 * np.sum(np.abs(k2)), rtol=1e-5)


# -- summary ------------------------------------------------------------------------------------
def test_summary_of_a_stack():
    model = Sequential([L.Dense(4, input_shape=(3,), name="d1"), L.BatchNormalization(name="bn"),
                        L.Dense(1, name="d2")], name="stack")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "stack"'
    assert "Layer (type)" in lines[2] and "Output Shape" in lines[2] and "Param #" in lines[2]
    assert "Connected to" not in text
    row = next(line for line in lines if line.startswith(" d1 (Dense)"))
    assert "(None, 4)" in row and row.rstrip().endswith("16")
    assert "Total params: 37" in text and "Trainable params: 29" in text
    assert "Non-trainable params: 8" in text
    assert len({len(line) for line in lines if set(line) <= {"_", "="} and line}) == 1


def test_summary_of_a_graph_has_connections():
    model, _ = _two_in_two_out()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Connected to" in text and "[(None, 3)]" in text
    assert "multiple" in next(line for line in lines if "shared (Dense)" in line)
    assert "shared[0][0]" in text and "shared[1][0]" in text


def test_summary_of_an_unbuilt_model_raises():
    with pytest.raises(ValueError, match="not been built"):
        Sequential([L.Dense(2)]).summary()


# -- configs ------------------------------------------------------------------------------------
def test_sequential_config_round_trip():
    model = _mlp("cfg")
    config = model.get_config()
    assert config["name"] == "cfg" and [e["class_name"] for e in config["layers"]] == ["Dense", "Dense"]
    assert config["layers"][0]["config"]["batch_input_shape"] == [None, 3]
    rebuilt = Sequential.from_config(json.loads(json.dumps(config)))
    rebuilt.set_weights(model.get_weights())
    x = _x()
    np.testing.assert_array_equal(rebuilt.predict(x), model.predict(x))
    lazy = Sequential([L.Dense(2, name="only")])
    lazy.build((None, 4))
    assert lazy.get_config()["layers"][0]["config"]["batch_input_shape"] == [None, 4]


def test_functional_config_is_tfjs_shaped_and_round_trips():
    model, _ = _two_in_two_out()
    config = json.loads(json.dumps(model.get_config()))
    assert set(config) == {"name", "layers", "input_layers", "output_layers"}
    by_name = {e["name"]: e for e in config["layers"]}
    assert by_name["a"]["class_name"] == "InputLayer" and by_name["a"]["inbound_nodes"] == []
    assert by_name["shared"]["inbound_nodes"] == [[["a", 0, 0, {}]], [["b", 0, 0, {}]]]
    assert by_name["sum"]["inbound_nodes"] == [[["shared", 0, 0, {}], ["shared", 1, 0, {}]]]
    assert by_name["out2"]["inbound_nodes"] == [[["shared", 1, 0, {}]]]
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["out1", 0, 0], ["out2", 0, 0]]
    rebuilt = Model.from_config(config)
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    rebuilt.set_weights(model.get_weights())
    x = [_x(3, seed=5), _x(3, seed=6)]
    for got, want in zip(rebuilt.predict(x), model.predict(x)):
        np.testing.assert_array_equal(got, want)


def test_node_indices_are_relative_to_the_model():
    shared = L.Dense(2, name="reused")
    other_input = L.Input(shape=(3,))
    shared(other_input)  # node 0 belongs to no model below
    x = L.Input(shape=(3,), name="x")
    model = Model(x, shared(x))
    entry = next(e for e in model.get_config()["layers"] if e["name"] == "reused")
    assert entry["inbound_nodes"] == [[["x", 0, 0, {}]]]
    assert model.get_config()["output_layers"] == [["reused", 0, 0]]


def test_from_config_reads_keras3_nodes_and_reports_broken_graphs():
    def tensor(name):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": [None, 3], "dtype": "float32", "keras_history": [name, 0, 0]}}
    config = {
        "name": "k3", "trainable": True,
        "layers": [
            {"class_name": "InputLayer", "name": "x", "inbound_nodes": [],
             "config": {"batch_shape": [None, 3], "dtype": "float32", "name": "x"}},
            {"class_name": "Dense", "name": "d", "config": {"units": 3, "name": "d"},
             "inbound_nodes": [{"args": [tensor("x")], "kwargs": {}}]},
            {"class_name": "Add", "name": "add", "config": {"name": "add"},
             "inbound_nodes": [{"args": [[tensor("x"), tensor("d")]], "kwargs": {}}]},
        ],
        "input_layers": ["x", 0, 0], "output_layers": ["add", 0, 0]}
    model = Model.from_config(config)
    x = _x()
    np.testing.assert_allclose(model.predict(x), x + _dense_ref(x, model.get_layer("d")),
                               rtol=1e-5, atol=1e-6)
    config["layers"][1]["inbound_nodes"] = [[["ghost", 0, 0, {}]]]
    with pytest.raises(ValueError, match="ghost"):
        Model.from_config(config)


def test_an_unused_input_is_kept_as_keras3_keeps_it(keras, tmp_path):
    """Keras 3 models may have inputs no output uses (for a loss or a metric): they load, list
    their layers in Keras's order (unused inputs first among depth 0) and predict as Keras."""
    K = keras.layers
    a, b, c = K.Input((3,), name="a"), K.Input((3,), name="b"), K.Input((3,), name="c")
    theirs = keras.Model([a, b, c], K.Dense(2, name="e")(K.Dense(2, name="d")(a)))
    x = [np.random.default_rng(i).normal(size=(2, 3)).astype(np.float32) for i in range(3)]
    from minigrad.models import load_model
    for ext in (".keras", ".h5"):
        theirs.save(tmp_path / f"m{ext}")
        ours = load_model(tmp_path / f"m{ext}")
        assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
        np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-6)
        ours.save(tmp_path / f"back{ext}")
        again = keras.saving.load_model(tmp_path / f"back{ext}")
        np.testing.assert_allclose(again.predict(x, verbose=0), theirs.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-6)
