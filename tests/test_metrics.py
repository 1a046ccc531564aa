"""Metrics: the accuracy functions, the stateful Mean API, "accuracy" resolution, configs, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import losses, metrics


def scores(seed, n=8, c=5):
    rng = np.random.default_rng(seed)
    return rng, rng.normal(size=(n, c)), rng.integers(0, c, size=n)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_categorical_and_sparse_accuracy(seed):
    _, y_pred, labels = scores(seed)
    expected = (y_pred.argmax(-1) == labels).astype(np.float32)
    np.testing.assert_array_equal(metrics.categorical_accuracy(np.eye(5)[labels], y_pred), expected)
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(labels, y_pred), expected)
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(labels[:, None], y_pred), expected)
    assert metrics.sparse_categorical_accuracy(labels, mg.Tensor(y_pred)).dtype == np.float32


def test_binary_accuracy_threshold_and_rank_fix_up():
    y_true = np.array([1, 0, 1, 0])
    y_pred = np.array([[0.7], [0.6], [0.4], [0.1]])
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true, y_pred)[:, 0], [1, 0, 0, 1])
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true, y_pred, threshold=0.3)[:, 0],
                                  [1, 0, 1, 1])
    m = metrics.BinaryAccuracy(threshold=0.65)
    m.update_state(y_true, y_pred)
    assert m.result() == pytest.approx(0.75)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 6))
def test_top_k(seed, k):
    _, y_pred, labels = scores(seed)
    ranks = (y_pred > y_pred[np.arange(8), labels][:, None]).sum(-1)  # classes scored higher
    expected = (ranks < k).astype(np.float32)
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, y_pred, k), expected)
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(np.eye(5)[labels], y_pred, k),
                                  expected)


def test_top_k_ties_count_as_in():
    y_pred = np.array([[0.5, 0.5, 0.5, 0.1]])
    assert metrics.sparse_top_k_categorical_accuracy([2], y_pred, k=1)[0] == 1.0
    assert metrics.sparse_top_k_categorical_accuracy([3], y_pred, k=3)[0] == 0.0


def test_stateful_api_accumulates_and_resets():
    _, y_pred, labels = scores(1, n=10)
    m = metrics.SparseCategoricalAccuracy()
    assert m.result() == 0.0
    m.update_state(labels[:4], y_pred[:4])
    m.update_state(labels[4:], y_pred[4:])
    assert m.result() == pytest.approx((y_pred.argmax(-1) == labels).mean())
    assert isinstance(m.result(), float)
    m.reset_state()
    assert m.result() == 0.0 and m.count == 0


def test_sample_weight_weighted_mean():
    m = metrics.Mean()
    m.update_state(np.array([1.0, 2.0, 3.0]), sample_weight=np.array([1.0, 0.0, 3.0]))
    assert m.result() == pytest.approx(10 / 4)
    acc = metrics.CategoricalAccuracy()
    acc.update_state(np.eye(3), np.eye(3)[[0, 2, 2]], sample_weight=[[1.0], [3.0], [1.0]])
    assert acc.result() == pytest.approx(2 / 5)


def test_regression_metrics():
    rng = np.random.default_rng(0)
    y, p = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    m = metrics.get("mae")
    m.update_state(y, p)
    assert m.result() == pytest.approx(np.abs(y - p).mean())
    assert metrics.mean_squared_error(y, p) == pytest.approx(((y - p) ** 2).mean(-1))


@pytest.mark.parametrize("loss,expected", [
    ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
    (losses.SparseCategoricalCrossentropy(from_logits=True), metrics.SparseCategoricalAccuracy),
    ("sparseCategoricalCrossentropy", metrics.SparseCategoricalAccuracy),
    ("binary_crossentropy", metrics.BinaryAccuracy),
    (losses.binary_crossentropy, metrics.BinaryAccuracy),
    ("categorical_crossentropy", metrics.CategoricalAccuracy),
    ("mse", metrics.CategoricalAccuracy),
    (None, metrics.CategoricalAccuracy),
])
def test_resolve_accuracy_from_loss(loss, expected):
    m = metrics.resolve_accuracy(loss)
    assert type(m) is expected and m.name == "accuracy"


def test_resolve_accuracy_from_shapes_as_keras():
    assert type(metrics.resolve_accuracy("mse", (32, 1), (32, 1))) is metrics.BinaryAccuracy
    assert type(metrics.resolve_accuracy(None, (32,), (32, 10))) is metrics.SparseCategoricalAccuracy
    assert type(metrics.resolve_accuracy(None, (32, 1), (32, 10))) is metrics.SparseCategoricalAccuracy
    assert type(metrics.resolve_accuracy(None, (32, 10), (32, 10))) is metrics.CategoricalAccuracy


def test_resolve_keeps_the_user_name():
    m = metrics.resolve("acc", loss="binary_crossentropy")
    assert type(m) is metrics.BinaryAccuracy and m.name == "acc"
    m = metrics.resolve("top_k_categorical_accuracy")
    assert type(m) is metrics.TopKCategoricalAccuracy and m.name == "top_k_categorical_accuracy"


@pytest.mark.parametrize("metric", [
    metrics.Accuracy(), metrics.BinaryAccuracy(threshold=0.3), metrics.CategoricalAccuracy(name="ca"),
    metrics.SparseCategoricalAccuracy(), metrics.TopKCategoricalAccuracy(k=3),
    metrics.SparseTopKCategoricalAccuracy(k=2), metrics.Mean(name="m"), metrics.MeanSquaredError(),
])
def test_config_round_trip(metric):
    again = metrics.deserialize(metrics.serialize(metric))
    assert type(again) is type(metric) and again.get_config() == metric.get_config()


def test_get_names_and_functions():
    assert type(metrics.get("categoricalAccuracy")) is metrics.CategoricalAccuracy
    assert type(metrics.get("sparse_top_k_categorical_accuracy")) is metrics.SparseTopKCategoricalAccuracy
    assert type(metrics.get(metrics.binary_accuracy)) is metrics.BinaryAccuracy
    custom = metrics.get(lambda y, p: np.abs(y - p))
    custom.update_state(np.zeros(4), np.full(4, 2.0))
    assert custom.result() == 2.0
    with pytest.raises(ValueError, match="known metrics: .*CategoricalAccuracy"):
        metrics.get("f1_score_macro")


def test_errors():
    with pytest.raises(ValueError, match=r"y_true of shape \(4, 3\) and y_pred of shape \(4, 5\)"):
        metrics.categorical_accuracy(np.zeros((4, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"without its last axis, \(4,\), got y_true of shape \(3,\)"):
        metrics.sparse_categorical_accuracy(np.zeros(3), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="k must be a positive integer, got 0"):
        metrics.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 5\)"):
        metrics.sparse_top_k_categorical_accuracy([7], np.zeros((1, 5)))
    with pytest.raises(TypeError, match="y_pred must be numeric"):
        metrics.binary_accuracy([1], ["x"])
