"""Every loss against Keras 3 (torch backend) as the oracle: the Keras object is built from
keyword arguments, minigrad's from the dict Keras serializes it to, and both are called on the
same random float32 inputs; the value and the gradient w.r.t. y_pred must agree to 1e-4.
The functions (``losses.hinge`` ...) are compared the same way, per sample."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import losses

N, C = 6, 5


def _torch():
    return pytest.importorskip("torch")


def make_data(kind, seed, shape=(N, C)):
    """(y_true, y_pred) float32 arrays of one kind of problem."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape).astype(np.float32) * 1.5
    c = shape[-1]
    labels = rng.integers(0, c, size=shape[:-1])
    onehot = np.eye(c, dtype=np.float32)[labels]
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    binary = rng.integers(0, 2, size=shape).astype(np.float32)
    if kind == "probs":          # one-hot targets, unnormalised probabilities
        return onehot, (probs * rng.uniform(0.5, 2.0)).astype(np.float32)
    if kind == "logits":
        return onehot, logits
    if kind == "sparse_probs":
        return labels, probs.astype(np.float32)
    if kind == "sparse_logits":
        return labels, logits
    if kind == "binary_probs":
        return binary, rng.uniform(0.02, 0.98, size=shape).astype(np.float32)
    if kind == "binary_logits":
        return binary, logits
    if kind == "regression":     # no zero targets (MAPE), no ties
        return rng.normal(size=shape).astype(np.float32) * 2, logits
    if kind == "positive":       # counts / positive values (Poisson, MSLE)
        return rng.poisson(2.0, size=shape).astype(np.float32), \
            rng.uniform(0.1, 4.0, size=shape).astype(np.float32)
    if kind == "mixed_sign":     # MSLE floors negatives at EPSILON on both sides
        return rng.normal(size=shape).astype(np.float32), logits
    if kind == "distributions":  # KL: two distributions, with a few zero targets
        y = probs.copy()
        y[..., 0] = 0
        y /= y.sum(-1, keepdims=True)
        return y.astype(np.float32), np.clip(rng.dirichlet(np.ones(c), size=shape[:-1]),
                                             1e-3, 1).astype(np.float32)
    if kind == "pm_one":         # hinge targets in {-1, +1}
        return binary * 2 - 1, logits
    if kind == "zero_one":       # hinge targets in {0, 1}: Keras maps them to -1 / +1
        return binary, logits
    raise AssertionError(kind)


# (class name, keyword arguments, kind of data)
CASES = [
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("MeanSquaredLogarithmicError", {}, "mixed_sign"),
    ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 1}, "regression"),
    ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.4}, "regression"),
    ("Huber", {"delta": 2.5, "reduction": "sum"}, "regression"),
    ("LogCosh", {}, "regression"),
    ("Hinge", {}, "pm_one"),
    ("Hinge", {}, "zero_one"),
    ("SquaredHinge", {}, "pm_one"),
    ("SquaredHinge", {}, "zero_one"),
    ("CategoricalHinge", {}, "logits"),
    ("KLDivergence", {}, "distributions"),
    ("Poisson", {}, "positive"),
    ("CategoricalCrossentropy", {}, "probs"),
    ("CategoricalCrossentropy", {"from_logits": True}, "logits"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "probs"),
    ("SparseCategoricalCrossentropy", {}, "sparse_probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 2}, "sparse_logits"),
    ("BinaryCrossentropy", {}, "binary_probs"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.3}, "binary_logits"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1, "axis": 0}, "binary_probs"),
    ("CategoricalFocalCrossentropy", {}, "probs"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "alpha": 0.5, "gamma": 1.5},
     "logits"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.2, "gamma": 0.0},
     "logits"),
    ("CategoricalFocalCrossentropy", {"alpha": [0.1, 0.2, 0.3, 0.2, 0.2], "gamma": 3.0},
     "probs"),
    ("Dice", {}, "binary_probs"),
    ("Dice", {"axis": 1}, "binary_probs"),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, "binary_probs"),
    ("Tversky", {"axis": [1]}, "binary_probs"),
    ("CategoricalGeneralizedCrossEntropy", {}, "sparse_probs"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.2}, "sparse_probs"),
    ("BinaryFocalCrossentropy", {}, "binary_probs"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "gamma": 3.0}, "binary_logits"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4,
                                 "label_smoothing": 0.2}, "binary_probs"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "from_logits": True,
                                 "gamma": 0.0}, "binary_logits"),
]


def _ids(cases):
    return [f"{c}-{i}" for i, (c, _, _) in enumerate(cases)]


def run_both(keras, theirs, ours, y_true, y_pred, sample_weight=None, seed=0):
    """(our value, Keras's value, our gradient, Keras's gradient) of a loss (object or function);
    an unreduced value is projected on random weights before taking the gradient."""
    torch = _torch()
    t_pred = torch.tensor(y_pred, requires_grad=True)
    t_true = torch.tensor(y_true)
    kw = {} if sample_weight is None else {"sample_weight": torch.tensor(sample_weight)}
    t_value = theirs(t_true, t_pred, **kw)
    m_pred = mg.Tensor(y_pred, requires_grad=True)
    m_value = ours(y_true, m_pred, **({} if sample_weight is None else
                                      {"sample_weight": sample_weight}))
    proj = np.random.default_rng(seed).uniform(0.5, 1.5, size=tuple(t_value.shape)).astype(np.float32)
    (t_value * torch.tensor(proj)).sum().backward()
    mg.ops.sum(m_value * proj).backward()
    return (m_value.data, t_value.detach().numpy(), m_pred.grad, t_pred.grad.numpy())


def assert_match(got, what):
    ours, theirs, g_ours, g_theirs = got
    assert ours.dtype == np.float32 and g_ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6, err_msg=f"{what}: value")
    np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-4, atol=1e-6, err_msg=f"{what}: grad")


@pytest.mark.parametrize("class_name,kwargs,kind", CASES, ids=_ids(CASES))
def test_loss_matches_keras(keras, class_name, kwargs, kind):
    theirs = getattr(keras.losses, class_name)(**kwargs)
    entry = keras.saving.serialize_keras_object(theirs)  # {"module", "class_name", "config", ...}
    from_entry = losses.deserialize(entry)
    assert type(from_entry).__name__ == class_name
    assert type(losses.get(entry)) is type(from_entry)
    # Keras's dict builds what Keras builds from it (Keras 3 leaves Huber's delta and some axes
    # out of its configs, so both fall back to the defaults there) ...
    keras_again = type(theirs).from_config(entry["config"])
    assert from_entry.get_config().items() >= keras_again.get_config().items()
    y_true, y_pred = make_data(kind, 0)
    assert_match(run_both(keras, keras_again, from_entry, y_true, y_pred), class_name)
    # ... and with those arguments added, what Keras's object computes; our config keeps them
    ours = losses.deserialize({"class_name": class_name, "config": {**entry["config"], **kwargs}})
    assert ours.get_config().items() >= {**theirs.get_config(), **kwargs}.items()
    for seed in (1, 2):
        y_true, y_pred = make_data(kind, seed)
        assert_match(run_both(keras, theirs, ours, y_true, y_pred, seed=seed), class_name)


REDUCTION_CASES = [
    ("MeanSquaredError", {}, "regression"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, "sparse_logits"),
    ("BinaryFocalCrossentropy", {"from_logits": True}, "binary_logits"),
    ("Hinge", {}, "zero_one"),
    ("CosineSimilarity", {}, "regression"),
    ("Dice", {"axis": 1}, "binary_probs"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.7}, "sparse_probs"),
]


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean",
                                       "mean_with_sample_weight", "none", None])
@pytest.mark.parametrize("class_name,kwargs,kind", REDUCTION_CASES, ids=_ids(REDUCTION_CASES))
def test_reductions_and_sample_weight_match_keras(keras, class_name, kwargs, kind, reduction):
    theirs = getattr(keras.losses, class_name)(reduction=reduction, **kwargs)
    ours = losses.get({"class_name": class_name,
                       "config": {**theirs.get_config(), **kwargs}})
    assert ours.reduction == ("none" if reduction is None else reduction)
    y_true, y_pred = make_data(kind, 3)
    weights = np.random.default_rng(4).uniform(0, 2, size=N).astype(np.float32)
    weights[1] = 0
    assert_match(run_both(keras, theirs, ours, y_true, y_pred), f"{class_name} {reduction}")
    assert_match(run_both(keras, theirs, ours, y_true, y_pred, weights),
                 f"{class_name} {reduction} weighted")


@pytest.mark.parametrize("class_name,kwargs,kind", [
    ("MeanAbsoluteError", {}, "regression"),
    ("CategoricalCrossentropy", {"from_logits": True}, "logits"),
    ("BinaryCrossentropy", {}, "binary_probs"),
    ("Huber", {"delta": 0.5}, "regression"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
])
def test_rank_3_inputs_match_keras(keras, class_name, kwargs, kind):
    """(N, T, C) predictions: one loss value per (sample, step), weights (N,) or (N, T)."""
    theirs = getattr(keras.losses, class_name)(**kwargs)
    ours = losses.get({"class_name": class_name, "config": {**theirs.get_config(), **kwargs}})
    y_true, y_pred = make_data(kind, 5, shape=(4, 3, C))
    weights = np.random.default_rng(6).uniform(0, 2, size=(4, 3)).astype(np.float32)
    assert_match(run_both(keras, theirs, ours, y_true, y_pred), class_name)
    assert_match(run_both(keras, theirs, ours, y_true, y_pred, weights), class_name)


FUNCTIONS = [
    ("mean_absolute_percentage_error", {}, "regression"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("cosine_similarity", {"axis": -1}, "regression"),
    ("log_cosh", {}, "regression"),
    ("huber", {"delta": 0.7}, "regression"),
    ("hinge", {}, "pm_one"),
    ("squared_hinge", {}, "zero_one"),
    ("categorical_hinge", {}, "logits"),
    ("kl_divergence", {}, "distributions"),
    ("poisson", {}, "positive"),
    ("categorical_focal_crossentropy", {"from_logits": True, "gamma": 1.0}, "logits"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True, "from_logits": True},
     "binary_logits"),
    ("binary_crossentropy", {"label_smoothing": 0.2}, "binary_probs"),
    ("categorical_crossentropy", {"label_smoothing": 0.2}, "probs"),
    ("dice", {"axis": -1}, "binary_probs"),
    ("tversky", {"alpha": 0.2, "beta": 0.8, "axis": 1}, "binary_probs"),
    ("categorical_generalized_cross_entropy", {"q": 0.4}, "sparse_probs"),
]


@pytest.mark.parametrize("name,kwargs,kind", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_functions_match_keras_per_sample(keras, name, kwargs, kind):
    y_true, y_pred = make_data(kind, 8)
    got = run_both(keras, lambda t, p: getattr(keras.losses, name)(t, p, **kwargs),
                   lambda t, p: getattr(losses, name)(t, p, **kwargs), y_true, y_pred)
    assert got[0].shape == (N,)
    assert_match(got, name)


@pytest.mark.parametrize("name", [
    "mape", "msle", "kld", "cosine_similarity", "log_cosh", "hinge", "squared_hinge",
    "categorical_hinge", "poisson", "kl_divergence", "huber", "categorical_focal_crossentropy",
    "binary_focal_crossentropy", "mean_absolute_percentage_error", "dice", "tversky",
    "mean_squared_logarithmic_error", "bce"])
def test_names_and_keras_function_entries(keras, name):
    """A name as Keras 3's losses.get takes it, and the dict Keras writes for its function, give
    the loss class of that function."""
    expected = type(losses.get(getattr(keras.losses, "get")(name).__name__))
    assert type(losses.get(name)) is expected
    entry = keras.saving.serialize_keras_object(keras.losses.get(name))
    assert entry["class_name"] == "function"
    assert type(losses.get(entry)) is expected
    assert type(losses.get(getattr(losses, keras.losses.get(name).__name__))) is expected


@pytest.mark.parametrize("class_name,kwargs,shape,weight_shape,reduction", [
    # 1-D targets: one loss value for the whole batch, weighted by each of the (N,) weights
    ("MeanSquaredError", {}, (4,), (4,), "sum_over_batch_size"),
    ("Huber", {"delta": 0.7}, (3,), (3,), "none"),
    ("BinaryCrossentropy", {"from_logits": True}, (1, 4), (1, 4), "sum"),
    # (N, N) per-sample losses and (N,) weights: Keras broadcasts them from the right
    ("MeanAbsoluteError", {}, (3, 3, 1), (3,), "mean_with_sample_weight"),
    ("Hinge", {}, (4, 4, 5), (4,), "mean"),
    # (N,) losses and (N, 1) weights: Keras's result keeps the axis of 1
    ("MeanSquaredError", {}, (4, 3), (4, 1), "none"),
    # the weights' trailing axis of 1 dropped against (N, T) losses
    ("LogCosh", {}, (3, 2, 4), (3, 2, 1), "sum_over_batch_size"),
])
def test_sample_weight_pairs_with_the_losses_as_keras_does(keras, class_name, kwargs, shape,
                                                          weight_shape, reduction):
    """Keras 3 pairs sample_weight with the per-sample losses by a trailing axis of 1, then NumPy
    broadcasting; these shapes were refused or weighed by rows (found by a fuzz against Keras)."""
    theirs = getattr(keras.losses, class_name)(reduction=reduction, **kwargs)
    ours = losses.get({"class_name": class_name, "config": {**theirs.get_config(), **kwargs}})
    rng = np.random.default_rng(11)
    y_true, y_pred = (rng.normal(size=shape).astype(np.float32) for _ in range(2))
    if class_name == "Hinge":
        y_true = np.sign(y_true)
    if class_name == "BinaryCrossentropy":
        y_true = (y_true > 0).astype(np.float32)
    weights = rng.uniform(0.1, 2.0, size=weight_shape).astype(np.float32)
    got = run_both(keras, theirs, ours, y_true, y_pred, weights)
    assert got[0].shape == got[1].shape
    assert_match(got, f"{class_name} {shape} weights {weight_shape}")


@pytest.mark.parametrize("class_name,kwargs", [
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.85, "axis": 1}),
    ("CategoricalCrossentropy", {"label_smoothing": 0.3, "axis": 1}),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.36, "axis": 1,
                                      "alpha": 0.22, "gamma": 1.3}),
])
def test_label_smoothing_along_another_axis_matches_keras(keras, class_name, kwargs):
    """With ``axis`` not the last, Keras still smooths by s / (size of the last axis)."""
    theirs = getattr(keras.losses, class_name)(**kwargs)
    ours = losses.get({"class_name": class_name, "config": theirs.get_config()})
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 4, size=(2, 3))
    y_true = np.moveaxis(np.eye(4, dtype=np.float32)[labels], -1, 1)   # (2, 4, 3): classes on 1
    logits = rng.normal(size=(2, 4, 3)).astype(np.float32)
    y_pred = logits if kwargs.get("from_logits") else np.exp(logits) / np.exp(logits).sum(
        1, keepdims=True)
    assert_match(run_both(keras, theirs, ours, y_true, y_pred), f"{class_name} {kwargs}")
