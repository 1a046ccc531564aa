"""What compile builds (minigrad.training.compile) and how a model says how it was compiled
(get_compile_config / compile_from_config, and through them the model file)."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import layers as L, losses, metrics, optimizers
from minigrad.models import Model, Sequential, load_model
from minigrad.engine import Tensor
from minigrad.training import CompileLoss, CompileMetrics, data_adapter


def _two_outputs():
    x = L.Input(shape=(3,), name="x")
    h = L.Dense(4, name="h")(x)
    return Model(x, [L.Dense(1, name="reg")(h), L.Dense(2, activation="softmax", name="cls")(h)])


def _classifier(classes=3):
    return Sequential([L.Dense(8, activation="relu", input_shape=(4,)),
                       L.Dense(classes, activation="softmax")])


def _data(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 3)).astype(np.float32), rng.normal(size=(n, 1)).astype(np.float32),
            rng.integers(0, 2, size=n))


# -- CompileLoss -------------------------------------------------------------------------------
def test_compile_loss_resolves_one_loss_and_weight_per_output():
    one = CompileLoss("mse")
    assert [type(fn) for fn in one.losses] == [losses.MeanSquaredError]
    assert one.output_weights == [1.0] and one.metrics == [] and one.has_loss
    by_name = CompileLoss({"cls": "sparse_categorical_crossentropy"}, {"reg": 2},
                          output_names=["reg", "cls"])
    assert by_name.losses[0] is None
    assert isinstance(by_name.losses[1], losses.SparseCategoricalCrossentropy)
    assert by_name.output_weights == [2.0, 1.0]
    assert [m.name for m in by_name.metrics] == ["reg_loss", "cls_loss"]
    assert not CompileLoss(None).has_loss


@pytest.mark.parametrize("kwargs, error, match", [
    ({"loss": {"nope": "mse"}}, ValueError, r"compile: loss names unknown outputs \['nope'\]"),
    ({"loss": ["mse"] * 3}, ValueError, "loss has 3 entries for 2 outputs"),
    ({"loss": "mean_cubed_error"}, ValueError, "compile: loss: .*mean_cubed_error"),
    ({"loss": "mse", "loss_weights": [1.0, float("inf")]}, ValueError,
     r"loss_weights must be finite numbers, got \[1.0, inf\]"),
    ({"loss": "mse", "loss_weights": {"reg": "2"}}, ValueError, "loss_weights must be finite"),
])
def test_compile_loss_errors_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        CompileLoss(output_names=["reg", "cls"], who="compile", **kwargs)


def test_compile_loss_is_the_weighted_sum_and_tracks_each_unweighted_loss():
    compiled = CompileLoss(["mse", "mae"], [0.5, 3.0], output_names=["a", "b"])
    y = [np.array([[1.0], [2.0]]), np.array([[0.0], [4.0]])]
    pred = [Tensor(np.array([[0.0], [0.0]], dtype=np.float32)),
            Tensor(np.array([[1.0], [1.0]], dtype=np.float32))]
    total = compiled(y, pred)
    mse, mae = (1 + 4) / 2, (1 + 3) / 2
    assert total.item() == pytest.approx(0.5 * mse + 3.0 * mae)
    assert [m.result() for m in compiled.metrics] == pytest.approx([mse, mae])  # unweighted
    compiled(y[:1] + y[1:], [Tensor(np.array([[1.0], [2.0]], np.float32)), pred[1]])
    # a Mean weighted by the samples of each batch: (2 * 2.5 + 2 * 0) / 4
    assert compiled.metrics[0].result() == pytest.approx(1.25)
    compiled.reset_state()
    assert [m.count for m in compiled.metrics] == [0.0, 0.0]


def test_compile_loss_checks_targets_with_the_loss_own_message():
    compiled = CompileLoss([None, "sparse_categorical_crossentropy"], output_names=["reg", "cls"])
    good = [np.zeros((4, 1)), np.array([0, 1, 1, 0])]
    compiled.check_targets(good, [(None, 1), (None, 2)], "float32", "fit")
    with pytest.raises(ValueError, match=r"fit: y for output 'cls' of shape \(4,\) does not fit "
                                         r"the output of shape \(None, 2\) with loss "
                                         r"SparseCategoricalCrossentropy: "):
        compiled.check_targets([good[0], np.array([5, 1, 1, 0])], [(None, 1), (None, 2)],
                               "float32", "fit")


# -- CompileMetrics ----------------------------------------------------------------------------
@pytest.mark.parametrize("loss, y_shape, out_shape, expected", [
    ("sparse_categorical_crossentropy", (8, 1), (None, 3), metrics.SparseCategoricalAccuracy),
    ("binary_crossentropy", (8, 3), (None, 3), metrics.BinaryAccuracy),
    (None, (8,), (None, 3), metrics.SparseCategoricalAccuracy),      # labels: lower rank
    (None, (8, 1), (None, 3), metrics.SparseCategoricalAccuracy),    # labels in a last axis of 1
    (None, (8, 1), (None, 1), metrics.BinaryAccuracy),               # one unit
    ("categorical_crossentropy", (8, 3), (None, 3), metrics.CategoricalAccuracy),
])
def test_accuracy_is_built_from_the_loss_and_the_shapes(loss, y_shape, out_shape, expected):
    compiled = CompileMetrics(["acc"])
    assert not compiled.built and compiled.metrics == []
    compiled.build([y_shape], [out_shape], losses=[losses.get(loss)])
    assert compiled.built and [type(m) for m in compiled.metrics] == [expected]
    assert compiled.metrics[0].name == "acc"  # logged as the user wrote it


def test_compile_metrics_report_reset_and_name_by_output():
    shared = metrics.MeanAbsoluteError()
    compiled = CompileMetrics({"reg": [shared, None], "cls": "accuracy"},
                              output_names=["reg", "cls"])
    with pytest.raises(ValueError, match="not built yet"):
        compiled.result()
    compiled.build([(2, 1), (2,)], [(None, 1), (None, 2)])
    assert [m.name for m in compiled.metrics] == ["reg_mean_absolute_error", "cls_accuracy"]
    assert compiled.metrics[0] is not shared  # each output keeps its own state
    compiled.update_state([np.array([[1.0], [3.0]]), np.array([1, 0])],
                          [np.array([[0.0], [0.0]]), np.array([[0.2, 0.8], [0.9, 0.1]])])
    assert compiled.result() == {"reg_mean_absolute_error": 2.0, "cls_accuracy": 1.0}
    compiled.reset_state()
    assert compiled.result() == {"reg_mean_absolute_error": 0.0, "cls_accuracy": 0.0}


@pytest.mark.parametrize("spec, error, match", [
    ("mae", TypeError, "metrics must be a list"),
    (["precision_at_k"], ValueError, "compile: metrics: .*precision_at_k"),
    ({"nope": ["mae"]}, ValueError, r"metrics names unknown outputs \['nope'\]"),
])
def test_compile_metrics_check_names_at_once(spec, error, match):
    with pytest.raises(error, match=match):
        CompileMetrics(spec, output_names=["reg", "cls"], who="compile")


def test_data_adapter_only_shapes_data():
    model = _classifier()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, labels = np.zeros((4, 4), np.float32), np.array([0, 1, 2, 0])
    xs, ys, _ = data_adapter.prepare(model, x, labels, None, "fit")
    assert [a.shape for a in xs + ys] == [(4, 4), (4,)]
    assert model.metrics_names == ["loss"]  # no metric was made by shaping the data
    model.evaluate(x, labels, verbose=0)
    assert model.metrics_names == ["loss", "accuracy"]
    assert isinstance(model.metrics[1], metrics.SparseCategoricalAccuracy)


# -- the model's side: metrics, reset_metrics, get_metrics_result ----------------------------------
def test_model_metrics_in_the_order_of_the_logs():
    model = _two_outputs()
    assert model.metrics == [] and model.get_compile_config() == {}
    model.compile("sgd", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  metrics={"cls": ["accuracy"]})
    assert model.metrics_names == ["loss", "reg_loss", "cls_loss"]  # accuracy: not built yet
    x, y, labels = _data()
    logs = model.test_on_batch(x, [y, labels], return_dict=True)
    assert model.metrics_names == list(logs) == ["loss", "reg_loss", "cls_loss", "cls_accuracy"]
    assert model.get_metrics_result() == logs
    model.reset_metrics()
    assert all(value == 0.0 for value in model.get_metrics_result().values())
    # reset_metrics=False keeps accumulating over batches
    model.test_on_batch(x[:3], [y[:3], labels[:3]])
    both = model.test_on_batch(x[3:], [y[3:], labels[3:]], reset_metrics=False, return_dict=True)
    assert both["loss"] == pytest.approx(logs["loss"], rel=1e-5)


# -- get_compile_config / compile_from_config ------------------------------------------------------
def test_get_compile_config_serializes_the_arguments():
    model = _two_outputs()
    model.compile(optimizers.SGD(0.1, momentum=0.5),
                  loss={"cls": losses.SparseCategoricalCrossentropy(from_logits=False)},
                  loss_weights={"cls": 2.0}, metrics={"cls": ["acc", metrics.BinaryAccuracy()]})
    config = model.get_compile_config()
    assert set(config) == {"optimizer", "loss", "loss_weights", "metrics"}
    assert config["optimizer"]["class_name"] == "SGD"
    assert config["optimizer"]["config"]["momentum"] == 0.5
    assert config["loss"][0] is None  # a list in output order; reg has no loss
    assert config["loss"][1]["class_name"] == "SparseCategoricalCrossentropy"
    assert config["loss_weights"] == {"cls": 2.0}
    assert config["metrics"] == {"cls": ["acc", {"class_name": "BinaryAccuracy", "config": {
        "name": "binary_accuracy", "dtype": "float32", "threshold": 0.5}}]}


def test_get_compile_config_names_what_cannot_be_serialized():
    model = _classifier()
    model.compile("sgd", "mse", metrics=[lambda y_true, y_pred: y_pred])
    with pytest.raises(ValueError, match="metric"):
        model.get_compile_config()


@pytest.mark.parametrize("compile_args", [
    dict(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]),
    dict(optimizer=optimizers.RMSprop(0.01, centered=True),
         loss=losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
         metrics=[metrics.TopKCategoricalAccuracy(k=2), "mae"]),
    dict(optimizer="sgd", loss="mse", metrics=None, loss_weights=0.5),
])
def test_compile_from_config_round_trip(compile_args):
    model = _classifier()
    model.compile(**compile_args)
    config = model.get_compile_config()
    again = _classifier()
    again.compile_from_config(config)
    assert again.compiled and again.get_compile_config() == config
    assert type(again.optimizer) is type(model.optimizer)


def test_compile_from_config_reads_keras_3_and_refuses_what_it_cannot_honour():
    model = _classifier()
    model.compile_from_config({  # as Keras 3 writes it in a .keras archive's config.json
        "optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                      "config": {"name": "adam", "learning_rate": 0.005}, "registered_name": None},
        "loss": "sparse_categorical_crossentropy", "loss_weights": None,
        "metrics": ["accuracy"], "weighted_metrics": None, "run_eagerly": False,
        "steps_per_execution": 1, "jit_compile": False})
    assert isinstance(model.optimizer, optimizers.Adam)
    assert model.optimizer.learning_rate == pytest.approx(0.005)
    model.compile_from_config({"optimizer": "sgd", "loss": "mse", "weighted_metrics": ["mae"]})
    assert model.get_compile_config()["weighted_metrics"] == ["mae"]
    with pytest.raises(ValueError, match=r"unsupported compile arguments \['sample_weight_mode'\]"):
        model.compile_from_config({"optimizer": "sgd", "loss": "mse", "sample_weight_mode": "x"})
    with pytest.raises(ValueError, match="'optimizer' entry, got"):
        model.compile_from_config({"loss": "mse"})


@pytest.mark.parametrize("build, compile_args, y", [
    (_classifier, dict(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                       metrics=["accuracy", metrics.SparseTopKCategoricalAccuracy(k=2)]),
     lambda x: np.array([0, 1, 2, 1, 0, 2])),
    (_two_outputs, dict(optimizer="sgd",
                        loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                        loss_weights={"reg": 2.0}, metrics={"cls": ["accuracy"], "reg": None}),
     lambda x: [x[:, :1], np.array([0, 1, 1, 0, 1, 0])]),
])
def test_compile_config_survives_save_and_load(tmp_path, build, compile_args, y):
    model = build()
    model.compile(**compile_args)
    x = np.random.default_rng(1).normal(size=(6, model.inputs[0].shape[-1])).astype(np.float32)
    model.fit(x, y(x), epochs=1, batch_size=3, verbose=0, seed=0)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.get_compile_config() == model.get_compile_config()
    loaded.save(tmp_path / "again")  # what was read from a file saves again, unchanged
    loaded = load_model(tmp_path / "again")
    assert loaded.get_compile_config() == model.get_compile_config()
    expected = model.evaluate(x, y(x), verbose=0, return_dict=True)
    got = loaded.evaluate(x, y(x), verbose=0, return_dict=True)
    assert list(got) == list(expected)
    assert list(got.values()) == pytest.approx(list(expected.values()), rel=1e-6)


# -- the package's public paths --------------------------------------------------------------------
def test_public_paths_of_the_training_package():
    from minigrad.callbacks import EarlyStopping
    from minigrad.training import Trainer
    from minigrad.training.callbacks import EarlyStopping as moved
    assert EarlyStopping is moved and mg.callbacks.History is mg.training.callbacks.History
    assert issubclass(mg.models.Sequential, Trainer)
    assert set(mg.callbacks.__all__) == set(mg.training.callbacks.__all__)
