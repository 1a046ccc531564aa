"""Every metric against Keras 3 (torch backend) as the oracle: Keras's metric is built from keyword
arguments, ours from the dict Keras serializes it to; both see the same batches (with and
without sample weights) through update_state, and their results must agree after every batch,
and again after reset_state."""
import numpy as np
import pytest

from minigrad import metrics

N, C = 16, 4


def make_batches(kind, seed, n_batches=3):
    """[(y_true, y_pred)] float32 batches of one kind of problem."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_batches):
        logits = rng.normal(size=(N, C)).astype(np.float32) * 1.5
        probs = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype(np.float32)
        labels = rng.integers(0, C, size=N)
        onehot = np.eye(C, dtype=np.float32)[labels]
        binary = rng.integers(0, 2, size=(N, C)).astype(np.float32)
        if kind == "binary":          # multi-label probabilities
            out.append((binary, rng.uniform(0, 1, size=(N, C)).astype(np.float32)))
        elif kind == "binary_1d":     # one output unit, labels (N,)
            out.append((binary[:, 0], rng.uniform(0, 1, size=(N, 1)).astype(np.float32)))
        elif kind == "binary_logits":
            out.append((binary, logits))
        elif kind == "onehot":
            out.append((onehot, probs))
        elif kind == "onehot_logits":
            out.append((onehot, logits))
        elif kind == "sparse":
            out.append((labels, probs))
        elif kind == "sparse_logits":
            out.append((labels, logits))
        elif kind == "regression":
            out.append((rng.normal(size=(N, C)).astype(np.float32) * 2 + 0.1, logits))
        elif kind == "positive":
            out.append((rng.poisson(2.0, size=(N, C)).astype(np.float32),
                        rng.uniform(0.1, 3, size=(N, C)).astype(np.float32)))
        elif kind == "distributions":
            out.append((probs, rng.dirichlet(np.ones(C), size=N).astype(np.float32)))
        elif kind == "pm_one":
            out.append((binary * 2 - 1, logits))
        else:
            raise AssertionError(kind)
    return out


CASES = [
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.7]}, "binary"),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, "binary"),      # Keras's evenly spaced path
    ("Precision", {"top_k": 2}, "onehot"),
    ("Precision", {"class_id": 1}, "onehot"),
    ("Precision", {"top_k": 1, "class_id": 2, "thresholds": 0.1}, "onehot"),
    ("Precision", {}, "binary_1d"),
    ("Recall", {}, "binary"),
    ("Recall", {"thresholds": [0.3, 0.6]}, "binary"),
    ("Recall", {"top_k": 2}, "onehot"),
    ("Recall", {"class_id": 3, "thresholds": 0.25}, "onehot"),
    ("AUC", {}, "binary"),
    ("AUC", {}, "binary_1d"),
    ("AUC", {"num_thresholds": 50, "curve": "PR"}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "binary"),
    ("AUC", {"summation_method": "majoring"}, "binary"),
    ("AUC", {"curve": "PRGAIN"}, "binary"),
    ("AUC", {"from_logits": True}, "binary_logits"),
    ("AUC", {"thresholds": [0.1, 0.35, 0.5, 0.8]}, "binary"),
    ("AUC", {"multi_label": True}, "binary"),
    ("AUC", {"multi_label": True, "num_labels": C, "curve": "PR",
             "label_weights": [0.5, 1.0, 2.0, 0.0]}, "binary"),
    ("AUC", {"label_weights": [0.5, 1.0, 2.0, 0.3]}, "binary"),
    ("F1Score", {}, "onehot"),
    ("F1Score", {"average": "micro"}, "onehot"),
    ("F1Score", {"average": "macro", "threshold": 0.3}, "binary"),
    ("F1Score", {"average": "weighted", "threshold": 0.5}, "binary"),
    ("FBetaScore", {"beta": 2.0, "average": "macro"}, "onehot"),
    ("FBetaScore", {"beta": 0.5, "threshold": 0.6}, "binary"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.1, 0.6]}, "binary"),
    ("TrueNegatives", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary"),
    ("FalseNegatives", {"thresholds": 0.3}, "binary_1d"),
    ("SensitivityAtSpecificity", {"specificity": 0.6}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 50}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.5, "class_id": 1}, "onehot"),
    ("RecallAtPrecision", {"precision": 0.6, "num_thresholds": 1}, "binary"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": None}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average", "num_regressors": 3},
     "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("RootMeanSquaredError", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("Hinge", {}, "pm_one"),
    ("SquaredHinge", {}, "pm_one"),
    ("CategoricalHinge", {}, "onehot_logits"),
    ("KLDivergence", {}, "distributions"),
    ("Poisson", {}, "positive"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "binary_logits"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "onehot_logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, "sparse_logits"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
]


def _value(keras, result):
    return np.asarray(keras.ops.convert_to_numpy(result), dtype=np.float64)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("class_name,kwargs,kind", CASES,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_metric_matches_keras_over_batches(keras, class_name, kwargs, kind, weighted):
    theirs = getattr(keras.metrics, class_name)(**kwargs)
    entry = keras.saving.serialize_keras_object(theirs)
    ours = metrics.deserialize(entry)
    assert type(ours).__name__ == class_name
    # our config is Keras's (CosineSimilarity also keeps its axis)
    assert ours.get_config().items() >= {k: v for k, v in theirs.get_config().items()
                                         if k != "label_weights"}.items()
    rng = np.random.default_rng(11)
    batches = make_batches(kind, 0)
    for round_ in range(2):
        for y_true, y_pred in batches:
            kw = {}
            if weighted:
                kw["sample_weight"] = rng.uniform(0, 2, size=N).astype(np.float32)
                kw["sample_weight"][0] = 0
            theirs.update_state(y_true, y_pred, **kw)
            ours.update_state(y_true, y_pred, **kw)
            np.testing.assert_allclose(np.asarray(ours.result(), np.float64),
                                       _value(keras, theirs.result()), rtol=1e-4, atol=1e-5,
                                       err_msg=f"{class_name}{kwargs}")
        theirs.reset_state()
        ours.reset_state()
        np.testing.assert_allclose(np.asarray(ours.result(), np.float64),
                                   _value(keras, theirs.result()), atol=1e-7)
        batches = make_batches(kind, 1, n_batches=2)


@pytest.mark.parametrize("name", ["precision", "recall", "auc", "f1_score", "f_beta_score",
                                  "mape", "msle", "kl_divergence", "root_mean_squared_error",
                                  "log_cosh_error", "cosine_similarity", "hinge", "poisson",
                                  "binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy", "squared_hinge",
                                  "categorical_hinge", "bce", "true_positives", "r2_score",
                                  "false_negatives"])
def test_names_as_keras(keras, name):
    """A name Keras 3's metrics.get takes gives the same class here."""
    assert type(metrics.get(name)).__name__ == type(keras.metrics.get(name)).__name__
