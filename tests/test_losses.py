"""Losses: Keras's formulas (NumPy), PyTorch, gradients, fused vs composed, configs, errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import minigrad as mg
from minigrad import losses
from minigrad.testing import gradcheck

EPS = 1e-7


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def onehot(labels, n):
    return np.eye(n)[labels]


# -- NumPy references: Keras's per-sample formulas ----------------------------------------------
def ref_cce(y, p, from_logits=False, label_smoothing=0.0, axis=-1):
    if label_smoothing:
        y = y * (1 - label_smoothing) + label_smoothing / p.shape[axis]
    if from_logits:
        p = softmax(p, axis)
    else:
        p = np.clip(p / p.sum(axis=axis, keepdims=True), EPS, 1 - EPS)
    return -(y * np.log(p)).sum(axis=axis)


def ref_bce(y, p, from_logits=False, label_smoothing=0.0):
    if label_smoothing:
        y = y * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        p = 1 / (1 + np.exp(-p))
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=-1)


def ref_huber(y, p, delta=1.0):
    e = np.abs(p - y)
    return np.where(e <= delta, 0.5 * e ** 2, delta * e - 0.5 * delta ** 2).mean(axis=-1)


def data(seed, n=4, c=5):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, c)) * 2
    labels = rng.integers(0, c, size=n)
    return rng, logits, labels


# -- values against the references --------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5), st.integers(2, 6), st.booleans(),
       st.sampled_from([0.0, 0.1, 0.5]))
def test_categorical_crossentropy_matches_keras_formula(seed, n, c, from_logits, smoothing):
    rng, logits, labels = data(seed, n, c)
    y_pred = logits if from_logits else softmax(logits) * rng.uniform(0.5, 2)  # unnormalised
    y = onehot(labels, c)
    got = losses.categorical_crossentropy(y, mg.Tensor(y_pred), from_logits, smoothing)
    np.testing.assert_allclose(got.data, ref_cce(y, y_pred, from_logits, smoothing), rtol=1e-12)
    loss = losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=smoothing)
    np.testing.assert_allclose(loss(y, mg.Tensor(y_pred)).item(),
                               ref_cce(y, y_pred, from_logits, smoothing).mean(), rtol=1e-12)


def test_categorical_crossentropy_other_axis_and_rank():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4))
    y = onehot(rng.integers(0, 3, size=(2, 4)), 3).transpose(0, 2, 1)
    got = losses.categorical_crossentropy(y, mg.Tensor(x), from_logits=True, axis=1)
    assert got.shape == (2, 4)
    np.testing.assert_allclose(got.data, ref_cce(y, x, True, axis=1), rtol=1e-12)


def test_probabilities_are_clipped_like_keras():
    y = np.array([[0.0, 1.0, 0.0]])
    p = mg.Tensor(np.array([[0.5, 0.0, 0.5]]), requires_grad=True)
    loss = losses.CategoricalCrossentropy()(y, p)
    assert loss.item() == pytest.approx(-np.log(EPS))
    loss.backward()
    np.testing.assert_array_equal(p.grad, 0)  # the clipped probability passes no gradient
    composed = mg.Tensor(p.data, requires_grad=True)
    losses.functions._categorical_crossentropy_composed(y, composed).sum().backward()
    np.testing.assert_array_equal(composed.grad, 0)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_sparse_equals_categorical_on_one_hot(seed, from_logits):
    rng, logits, labels = data(seed)
    y_pred = logits if from_logits else softmax(logits)
    sparse = losses.sparse_categorical_crossentropy(labels, mg.Tensor(y_pred), from_logits)
    dense = losses.categorical_crossentropy(onehot(labels, 5), mg.Tensor(y_pred), from_logits)
    np.testing.assert_array_equal(sparse.data, dense.data)
    col = losses.sparse_categorical_crossentropy(labels[:, None].astype(float), mg.Tensor(y_pred),
                                                  from_logits)
    np.testing.assert_array_equal(col.data, dense.data)  # (N, 1) float labels are accepted


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.booleans(), st.sampled_from([0.0, 0.2]))
def test_binary_crossentropy_matches_keras_formula(seed, from_logits, smoothing):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 3)) * 3
    y = rng.integers(0, 2, size=(4, 3)).astype(float)
    y_pred = x if from_logits else 1 / (1 + np.exp(-x))
    got = losses.binary_crossentropy(y, mg.Tensor(y_pred), from_logits, smoothing)
    np.testing.assert_allclose(got.data, ref_bce(y, y_pred, from_logits, smoothing), rtol=1e-9)


def test_binary_crossentropy_from_logits_is_stable():
    x = mg.Tensor(np.array([[-800.0, 800.0]]), requires_grad=True)
    loss = losses.BinaryCrossentropy(from_logits=True)(np.array([[1.0, 0.0]]), x)
    assert loss.item() == pytest.approx(800.0)
    loss.backward()
    np.testing.assert_allclose(x.grad, [[-0.5, 0.5]])


def test_regression_losses_match_formulas():
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=(5, 3)) * 2, rng.normal(size=(5, 3)) * 2
    np.testing.assert_allclose(losses.mse(y, mg.Tensor(p)).data, ((y - p) ** 2).mean(-1))
    np.testing.assert_allclose(losses.mae(y, mg.Tensor(p)).data, np.abs(y - p).mean(-1))
    for delta in (0.5, 1.0, 3.0):
        np.testing.assert_allclose(losses.huber(y, mg.Tensor(p), delta).data, ref_huber(y, p, delta))
        np.testing.assert_allclose(losses.Huber(delta)(y, mg.Tensor(p)).item(),
                                   ref_huber(y, p, delta).mean())


def test_keras_documentation_examples():
    y_pred = mg.Tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(losses.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], y_pred).data,
                               [0.0513, 2.303], atol=1e-3)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy([1, 2], y_pred).data,
                               [0.0513, 2.303], atol=1e-3)
    y, p = [[0, 1], [0, 0]], mg.Tensor([[0.6, 0.4], [0.4, 0.6]])
    np.testing.assert_allclose(losses.binary_crossentropy(y, p).data, [0.916, 0.714], atol=1e-3)
    assert losses.Huber()(y, p).item() == pytest.approx(0.155, abs=1e-6)


# -- fused ops equal their composed twin ----------------------------------------------------------
@pytest.mark.parametrize("from_logits", [True, False])
def test_fused_crossentropy_equals_composition(from_logits):
    rng, logits, labels = data(7, 6, 4)
    y = onehot(labels, 4) * 0.8 + 0.1  # soft targets that do not sum to 1: the general gradient
    y_pred = logits if from_logits else softmax(logits) * 3.0
    a = mg.Tensor(y_pred, requires_grad=True)
    b = mg.Tensor(y_pred, requires_grad=True)
    fused = losses.categorical_crossentropy(y, a, from_logits)
    composed = losses.functions._categorical_crossentropy_composed(y, b, from_logits)
    np.testing.assert_array_equal(fused.data, composed.data)
    w = rng.uniform(size=fused.shape)
    fused.backward(w)
    composed.backward(w)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-15)


def test_softmax_crossentropy_gradient_is_p_minus_y_over_n():
    _, logits, labels = data(8, 5, 3)
    x = mg.Tensor(logits, requires_grad=True)
    losses.SparseCategoricalCrossentropy(from_logits=True)(labels, x).backward()
    np.testing.assert_allclose(x.grad, (softmax(logits) - onehot(labels, 3)) / 5, rtol=1e-12)


# -- gradients: finite differences ----------------------------------------------------------------
GRADCHECK_CASES = [
    ("cce logits", lambda: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), "logits"),
    ("cce probs", lambda: losses.CategoricalCrossentropy(), "probs"),
    ("sparse logits", lambda: losses.SparseCategoricalCrossentropy(from_logits=True), "logits"),
    ("sparse probs", lambda: losses.SparseCategoricalCrossentropy(), "probs"),
    ("bce logits", lambda: losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), "logits"),
    ("bce probs", lambda: losses.BinaryCrossentropy(), "probs"),
    ("mse", lambda: losses.MeanSquaredError(), "logits"),
    ("mae", lambda: losses.MeanAbsoluteError(), "logits"),
    ("huber", lambda: losses.Huber(delta=0.7), "logits"),
]


@pytest.mark.parametrize("name,make,kind", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck(name, make, kind):
    rng, logits, labels = data(11, 3, 4)
    y_pred = logits if kind == "logits" else softmax(logits) * 2
    if name.startswith("sparse"):
        y_true = labels
    elif name.startswith("bce"):
        y_true = rng.integers(0, 2, size=(3, 4)).astype(float)
        y_pred = y_pred if kind == "logits" else np.clip(y_pred / 2, 0.05, 0.95)
    elif name.startswith("cce"):
        y_true = onehot(labels, 4)
    else:
        y_true = rng.normal(size=(3, 4))
    loss = make()
    assert gradcheck(lambda p: loss(y_true, p), [y_pred])


def test_float32_in_float32_out():
    _, logits, labels = data(2)
    x = mg.Tensor(logits.astype(np.float32), requires_grad=True)
    for loss, y in [(losses.SparseCategoricalCrossentropy(from_logits=True), labels),
                    (losses.CategoricalCrossentropy(label_smoothing=0.1), onehot(labels, 5)),
                    (losses.MeanSquaredError(), onehot(labels, 5))]:
        x.zero_grad()
        out = loss(y, x)
        out.backward()
        assert out.dtype == np.float32 and x.grad.dtype == np.float32


# -- PyTorch ---------------------------------------------------------------------------------------
def test_against_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng, logits, labels = data(5, 6, 4)
    cases = [
        (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), onehot(labels, 4),
         logits, lambda x: F.cross_entropy(x, torch.tensor(labels), label_smoothing=0.1)),
        (losses.SparseCategoricalCrossentropy(from_logits=True), labels, logits,
         lambda x: F.cross_entropy(x, torch.tensor(labels))),
        (losses.BinaryCrossentropy(from_logits=True), (logits > 0) * 1.0, logits,
         lambda x: F.binary_cross_entropy_with_logits(x, torch.tensor((logits > 0) * 1.0))),
        (losses.BinaryCrossentropy(), (logits > 0) * 1.0, 1 / (1 + np.exp(-logits)),
         lambda x: F.binary_cross_entropy(x, torch.tensor((logits > 0) * 1.0))),
        (losses.MeanSquaredError(), labels[:, None] * 1.0 - logits, logits,
         lambda x: F.mse_loss(x, torch.tensor(labels[:, None] * 1.0 - logits))),
        (losses.MeanAbsoluteError(), logits[::-1].copy(), logits,
         lambda x: F.l1_loss(x, torch.tensor(logits[::-1].copy()))),
        (losses.Huber(delta=0.8), logits[::-1].copy(), logits,
         lambda x: F.huber_loss(x, torch.tensor(logits[::-1].copy()), delta=0.8)),
    ]
    for loss, y_true, y_pred, torch_fn in cases:
        ours = mg.Tensor(y_pred, requires_grad=True)
        value = loss(y_true, ours)
        value.backward()
        theirs = torch.tensor(y_pred, requires_grad=True)
        expected = torch_fn(theirs)
        expected.backward()
        np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-10, err_msg=repr(loss))
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-15,
                                   err_msg=repr(loss))


# -- shapes, weights, reductions -------------------------------------------------------------------
def test_rank_fix_up_like_keras():
    y = np.array([1.0, 0.0, 1.0])
    p = mg.Tensor([[0.9], [0.2], [0.6]])
    assert losses.binary_crossentropy(y, p).shape == (3,)
    np.testing.assert_allclose(losses.mse(y, p).data, (y - p.data[:, 0]) ** 2)
    np.testing.assert_allclose(losses.mse(y[:, None], mg.Tensor(p.data[:, 0])).data,
                               (y - p.data[:, 0]) ** 2)


def test_sample_weight_and_reductions():
    rng = np.random.default_rng(4)
    y, p = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    per_sample = ((y - p) ** 2).mean(-1)
    w = np.array([1.0, 0.0, 2.0, 0.5])
    mse = losses.MeanSquaredError()
    assert mse(y, mg.Tensor(p), sample_weight=w).item() == pytest.approx((per_sample * w).sum() / 4)
    assert mse(y, mg.Tensor(p), sample_weight=w[:, None]).item() == pytest.approx((per_sample * w).sum() / 4)
    assert losses.MeanSquaredError(reduction="sum")(y, mg.Tensor(p)).item() == pytest.approx(per_sample.sum())
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="none")(y, mg.Tensor(p)).data, per_sample)
    with pytest.raises(ValueError, match=r"sample_weight of shape \(3,\)"):
        mse(y, mg.Tensor(p), sample_weight=np.ones(3))


def test_ignore_class_averages_over_valid_entries():
    _, logits, labels = data(9, 6, 4)
    labels[[1, 4]] = -1
    valid = labels != -1
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
    x = mg.Tensor(logits, requires_grad=True)
    value = loss(labels, x)
    per = ref_cce(onehot(labels[valid], 4), logits[valid], from_logits=True)
    assert value.item() == pytest.approx(per.sum() / valid.sum(), rel=1e-12)  # Keras 3: no eps
    value.backward()
    assert np.all(x.grad[~valid] == 0)


# -- errors ------------------------------------------------------------------------------------------
def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"y_true of shape \(4, 3\) and y_pred of shape \(4, 5\)"):
        losses.CategoricalCrossentropy()(np.zeros((4, 3)), mg.Tensor(np.ones((4, 5))))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        losses.mse(np.zeros((4, 3)), mg.Tensor(np.ones((4, 2))))


def test_sparse_label_errors():
    x = mg.Tensor(np.zeros((3, 4)))
    loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    with pytest.raises(ValueError, match=r"class index 4 .* out of range for 4 classes"):
        loss(np.array([0, 4, 1]), x)
    with pytest.raises(ValueError, match=r"class index -1"):
        loss(np.array([0, -1, 1]), x)
    with pytest.raises(ValueError, match=r"integer class indices, got 1.5"):
        loss(np.array([0, 1.5, 1]), x)
    with pytest.raises(ValueError, match=r"shape of y_pred without its class axis, \(3,\)"):
        loss(np.array([0, 1]), x)
    with pytest.raises(TypeError, match="integer class indices"):
        loss(np.array(["a", "b", "c"]), x)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"label_smoothing must be a finite number in \[0, 1\], got 1.5"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(TypeError, match="from_logits must be True or False"):
        losses.BinaryCrossentropy(from_logits="yes")
    with pytest.raises(ValueError, match="delta must be a finite positive number, got -1"):
        losses.Huber(delta=-1)
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(ValueError, match=r"axis must be an integer in \[-2, 2\)"):
        losses.categorical_crossentropy(np.zeros((2, 3)), mg.Tensor(np.ones((2, 3))), axis=2)
    with pytest.warns(UserWarning, match="1 class"):
        losses.categorical_crossentropy(np.ones((2, 1)), mg.Tensor(np.ones((2, 1))))


# -- registry ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,cls", [
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("categoricalCrossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("sparseCategoricalCrossentropy", losses.SparseCategoricalCrossentropy),
    ("binary_crossentropy", losses.BinaryCrossentropy),
    ("mean_squared_error", losses.MeanSquaredError), ("mse", losses.MeanSquaredError),
    ("meanSquaredError", losses.MeanSquaredError),
    ("mean_absolute_error", losses.MeanAbsoluteError), ("mae", losses.MeanAbsoluteError),
    ("huber", losses.Huber), ("Huber", losses.Huber),
])
def test_get_by_name(name, cls):
    assert type(losses.get(name)) is cls


def test_get_function_object_and_custom():
    assert type(losses.get(losses.sparse_categorical_crossentropy)) is losses.SparseCategoricalCrossentropy
    obj = losses.Huber(2.0)
    assert losses.get(obj) is obj
    custom = losses.get(lambda y, p: ops_abs_sum(y, p))
    assert custom(np.ones((2, 3)), mg.Tensor(np.zeros((2, 3)))).item() == pytest.approx(3.0)
    assert losses.get(None) is None


def ops_abs_sum(y, p):
    return mg.ops.sum(mg.ops.abs(p - y), axis=-1)


@pytest.mark.parametrize("loss", [
    losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, axis=1),
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3),
    losses.BinaryCrossentropy(label_smoothing=0.2), losses.MeanSquaredError(),
    losses.MeanAbsoluteError(reduction="sum"), losses.Huber(delta=2.5, name="h"),
])
def test_config_round_trip(loss):
    entry = losses.serialize(loss)
    assert entry["class_name"] == type(loss).__name__
    again = losses.deserialize(entry)
    assert type(again) is type(loss) and again.get_config() == loss.get_config()
    assert again.name == loss.name


def test_keras_config_keys():
    assert losses.CategoricalCrossentropy().get_config() == {
        "name": "categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.0, "axis": -1}


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match="CategoricalCrossentropy.*MeanSquaredError"):
        losses.get("categorical_hinge_loss")
