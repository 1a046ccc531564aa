"""Precision, Recall, AUC, F-scores and the loss-named metrics: NumPy definitions, configs, names,
errors, and compile(metrics=[...]) by name (Keras 3 itself is the oracle in
test_metrics_keras.py)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import losses, metrics


def binary_data(seed, n=40, c=3):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 2, size=(n, c)).astype(float), rng.uniform(size=(n, c))


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.3, 0.5, 0.8]))
def test_precision_and_recall_are_the_counting_definitions(seed, threshold):
    y, p = binary_data(seed)
    w = np.random.default_rng(seed + 1).uniform(size=len(y))
    pos, true = p > threshold, y == 1
    ww = np.broadcast_to(w[:, None], y.shape)
    tp, fp, fn = (ww * (pos & true)).sum(), (ww * (pos & ~true)).sum(), (ww * (~pos & true)).sum()
    prec, rec = metrics.Precision(thresholds=threshold), metrics.Recall(thresholds=threshold)
    for m in (prec, rec):
        m.update_state(y[:25], p[:25], sample_weight=w[:25])
        m.update_state(y[25:], p[25:], sample_weight=w[25:])
    assert prec.result() == pytest.approx(tp / (tp + fp) if tp + fp else 0.0)
    assert rec.result() == pytest.approx(tp / (tp + fn) if tp + fn else 0.0)


def test_several_thresholds_give_an_array_and_top_k_class_id():
    y = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], float)
    p = np.array([[0.2, 0.7, 0.1], [0.3, 0.6, 0.1], [0.5, 0.1, 0.4]])
    m = metrics.Precision(thresholds=[0.15, 0.65])
    m.update_state(y, p)
    np.testing.assert_allclose(m.result(), [3 / 6, 1.0])  # > 0.15: 6 positives, 3 right
    top1 = metrics.Precision(top_k=1)
    top1.update_state(y, p)
    assert top1.result() == pytest.approx(1 / 3)             # the top class is right once
    rec = metrics.Recall(class_id=2)
    rec.update_state(y, p)
    assert rec.result() == 0.0                                # 0.4 is not > 0.5
    rec.reset_state()
    assert rec.result() == 0.0 and rec.true_positives.shape == (1,)


def rank_auc(y, p):
    """The exact ROC AUC: the probability that a positive outranks a negative."""
    pos, neg = p[y == 1], p[y == 0]
    return ((pos[:, None] > neg[None]).mean() + 0.5 * (pos[:, None] == neg[None]).mean())


def test_auc_approaches_the_exact_roc_area():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=500).astype(float)
    p = np.clip(y * 0.3 + rng.uniform(size=500) * 0.7, 0, 1)
    m = metrics.AUC(num_thresholds=2000)
    m.update_state(y, p)
    assert m.result() == pytest.approx(rank_auc(y, p), abs=2e-3)
    perfect = metrics.AUC()
    perfect.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert perfect.result() == pytest.approx(1.0)
    pr = metrics.AUC(curve="PR")
    pr.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert pr.result() == pytest.approx(1.0, abs=1e-6)


def test_auc_multi_label_averages_the_labels():
    y, p = binary_data(4, n=60)
    multi = metrics.AUC(multi_label=True, num_thresholds=500)
    multi.update_state(y, p)
    each = []
    for j in range(3):
        m = metrics.AUC(num_thresholds=500)
        m.update_state(y[:, j], p[:, j])
        each.append(m.result())
    assert multi.result() == pytest.approx(np.mean(each), abs=1e-9)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
def test_f1_score_definition(average):
    y, p = binary_data(5, n=30, c=4)
    w = np.random.default_rng(6).uniform(size=30)
    m = metrics.F1Score(average=average, threshold=0.5)
    m.update_state(y[:10], p[:10], sample_weight=w[:10])
    m.update_state(y[10:], p[10:], sample_weight=w[10:])
    pred, ww = (p > 0.5).astype(float), w[:, None]
    tp, fp, fn = (ww * pred * y).sum(0), (ww * pred * (1 - y)).sum(0), (ww * (1 - pred) * y).sum(0)
    if average == "micro":
        tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    f1 = 2 * tp / (2 * tp + fp + fn)
    if average == "macro":
        f1 = f1.mean()
    elif average == "weighted":
        support = (ww * y).sum(0)
        f1 = (f1 * support).sum() / support.sum()
    np.testing.assert_allclose(m.result(), f1, rtol=1e-5)


def test_f1_without_threshold_takes_the_row_maximum():
    m = metrics.F1Score(average="micro")
    m.update_state(np.eye(3)[[0, 1, 2, 2]], np.array([[0.8, 0.1, 0.1], [0.5, 0.3, 0.2],
                                                     [0.1, 0.2, 0.7], [0.2, 0.5, 0.3]]))
    assert m.result() == pytest.approx(0.5, abs=1e-6)  # 2 of 4 rows right: P = R = 1/2


def test_confusion_counts():
    y = np.array([1, 0, 1, 0, 1])
    p = np.array([0.9, 0.8, 0.3, 0.1, 0.6])
    w = np.array([1.0, 2.0, 1.0, 1.0, 0.5])
    expected = {metrics.TruePositives: 1.5, metrics.FalsePositives: 2.0,
                metrics.TrueNegatives: 1.0, metrics.FalseNegatives: 1.0}
    for cls, count in expected.items():
        m = cls()
        m.update_state(y, p, sample_weight=w)
        assert m.result() == count
    several = metrics.TruePositives(thresholds=[0.0, 0.5, 0.95])
    several.update_state(y, p)
    np.testing.assert_array_equal(several.result(), [3, 2, 0])


def test_r2_score_definition():
    rng = np.random.default_rng(8)
    y = rng.normal(size=(20, 2))
    p = y + rng.normal(size=(20, 2)) * 0.5
    m = metrics.R2Score(class_aggregation=None)
    m.update_state(y[:12], p[:12])
    m.update_state(y[12:], p[12:])
    r2 = 1 - ((y - p) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    np.testing.assert_allclose(m.result(), r2)
    adjusted = metrics.R2Score(num_regressors=2)
    adjusted.update_state(y, p)
    n = y.size
    assert adjusted.result() == pytest.approx(1 - (1 - r2.mean()) * (n - 1) / (n - 3))


def test_rate_at_constraint():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    p = np.array([0.12, 0.22, 0.33, 0.72, 0.25, 0.63, 0.85, 0.95])   # thresholds 0, 0.1 .. 1
    m = metrics.SensitivityAtSpecificity(0.75, num_thresholds=11)
    m.update_state(y, p)
    assert m.result() == pytest.approx(0.75)  # > 0.4: 3 of 4 negatives out, 3 of 4 positives in
    r = metrics.RecallAtPrecision(precision=1.0, num_thresholds=11)
    r.update_state(y, p)
    assert r.result() == pytest.approx(0.5)   # > 0.8: only 0.85 and 0.95, both positive


def test_loss_named_metrics_average_the_loss_functions():
    rng = np.random.default_rng(7)
    y, p = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
    for cls, fn in [(metrics.LogCoshError, losses.log_cosh), (metrics.Hinge, losses.hinge),
                    (metrics.MeanAbsolutePercentageError, losses.mape)]:
        m = cls()
        m.update_state(y[:5], p[:5])
        m.update_state(y[5:], p[5:])
        assert m.result() == pytest.approx(fn(y, mg.Tensor(p)).data.mean())
    cos = metrics.CosineSimilarity()
    cos.update_state(y, p)
    assert cos.result() == pytest.approx(-losses.cosine_similarity(y, mg.Tensor(p)).data.mean())
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(y, p)
    assert rmse.result() == pytest.approx(np.sqrt(((y - p) ** 2).mean()))
    assert metrics.kl_divergence(np.full((1, 2), 0.5), np.full((1, 2), 0.5))[0] == 0


@pytest.mark.parametrize("metric", [
    metrics.Precision(thresholds=[0.2, 0.6], class_id=1, name="p"), metrics.Recall(top_k=2),
    metrics.AUC(num_thresholds=50, curve="PR", summation_method="minoring"),
    metrics.AUC(thresholds=[0.2, 0.4], multi_label=True, num_labels=3,
                label_weights=[1.0, 2.0, 0.5], from_logits=True),
    metrics.F1Score(average="macro", threshold=0.4), metrics.FBetaScore(beta=2.0),
    metrics.TruePositives(thresholds=[0.1, 0.9]), metrics.FalseNegatives(name="fn"),
    metrics.RootMeanSquaredError(), metrics.CosineSimilarity(axis=0),
    metrics.R2Score(class_aggregation=None, num_regressors=2),
    metrics.SensitivityAtSpecificity(0.5, num_thresholds=20, class_id=1),
    metrics.PrecisionAtRecall(recall=0.8), metrics.LogCoshError(),
    metrics.KLDivergence(), metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    metrics.SparseCategoricalCrossentropy(ignore_class=0),
])
def test_config_round_trip(metric):
    again = metrics.deserialize(metrics.serialize(metric))
    assert type(again) is type(metric) and again.get_config() == metric.get_config()


def test_keras_config_keys():
    assert metrics.AUC().get_config() == {
        "name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
        "summation_method": "interpolation", "multi_label": False, "num_labels": None,
        "label_weights": None, "from_logits": False}
    assert metrics.F1Score().get_config() == {"name": "f1_score", "dtype": "float32",
                                              "average": None, "threshold": None}
    assert metrics.Precision().get_config() == {"name": "precision", "dtype": "float32",
                                                "thresholds": None, "top_k": None,
                                                "class_id": None}


def test_the_package_keeps_its_names():
    from minigrad.metrics import AUC, F1Score, Mean, Precision, resolve  # noqa: F401
    assert metrics.Precision is metrics.confusion.Precision
    assert type(metrics.get("precision")) is metrics.Precision
    assert type(metrics.get(metrics.log_cosh)) is metrics.LogCoshError


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"Precision: thresholds must be numbers in \[0, 1\].*1.5"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="Recall: top_k must be None or a positive integer, got 0"):
        metrics.Recall(top_k=0)
    with pytest.raises(ValueError, match="AUC: num_thresholds must be an integer >= 2, got 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="AUC: curve must be one of 'ROC', 'PR', 'PRGAIN', got 'x'"):
        metrics.AUC(curve="x")
    with pytest.raises(ValueError, match="AUC: summation_method must be one of"):
        metrics.AUC(summation_method="trapezoid")
    with pytest.raises(ValueError, match="num_labels is needed only when multi_label is True"):
        metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="F1Score: average must be one of"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match=r"F1Score: threshold must be None or a finite number in \(0, 1\]"):
        metrics.F1Score(threshold=0.0)
    with pytest.raises(ValueError, match="FBetaScore: beta must be a finite positive number"):
        metrics.FBetaScore(beta=0.0)
    with pytest.raises(ValueError, match=r"y_true of shape \(4, 2\) and y_pred of shape \(4, 3\)"):
        metrics.Precision().update_state(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="class_id 5 is out of range for y_pred with 3 classes"):
        metrics.Recall(class_id=5).update_state(np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"f1_score: y_true and y_pred must both have shape"):
        metrics.F1Score().update_state(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match=r"SensitivityAtSpecificity: specificity must be a finite "
                                         r"number in \[0, 1\], got 1.2"):
        metrics.SensitivityAtSpecificity(1.2)
    with pytest.raises(ValueError, match="R2Score: class_aggregation must be one of"):
        metrics.R2Score(class_aggregation="mean")
    with pytest.raises(ValueError, match="R2Score: num_regressors must be a non-negative integer"):
        metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match=r"auc: sample_weight of shape \(3,\)"):
        metrics.AUC().update_state(np.zeros((4, 2)), np.zeros((4, 2)), sample_weight=np.ones(3))


def test_compile_takes_the_names():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 6)).astype(np.float32)
    y = (x[:, :3] > 0).astype(np.float32)
    model = mg.models.Sequential([mg.layers.Input((6,)), mg.layers.Dense(3, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["precision", "recall", "auc", metrics.F1Score(average="macro",
                                                                         threshold=0.5)])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert {"precision", "recall", "auc", "f1_score"} <= set(history.history)
    results = dict(zip(model.metrics_names, model.evaluate(x, y, batch_size=16, verbose=0)))
    p = model.predict(x, verbose=0)
    for name, m in [("precision", metrics.Precision()), ("recall", metrics.Recall()),
                    ("auc", metrics.AUC()), ("f1_score", metrics.F1Score("macro", 0.5))]:
        m.update_state(y, p)
        assert results[name] == pytest.approx(m.result(), abs=1e-5), name
