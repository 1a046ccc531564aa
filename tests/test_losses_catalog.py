"""The Keras 3 loss catalog beyond the cross-entropies: NumPy formulas, float64 gradchecks,
reductions, configs, names and errors (Keras 3 itself is the oracle in test_losses_keras.py)."""
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


# -- NumPy references, written from the formulas in Keras's docstrings ----------------------------
def ref(name, y, p, **kw):
    if name == "mape":
        return 100 * np.mean(np.abs(y - p) / np.maximum(np.abs(y), EPS), -1)
    if name == "msle":
        return np.mean((np.log1p(np.maximum(p, EPS)) - np.log1p(np.maximum(y, EPS))) ** 2, -1)
    if name == "cosine":
        axis = kw.get("axis", -1)
        unit = lambda v: v / np.maximum(np.linalg.norm(v, axis=axis, keepdims=True), EPS)
        return -np.sum(unit(y) * unit(p), axis=axis)
    if name == "log_cosh":
        return np.mean(np.log(np.cosh(p - y)), -1)
    if name == "poisson":
        return np.mean(p - y * np.log(p + EPS), -1)
    if name == "kld":
        y, p = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
        return np.sum(y * np.log(y / p), -1)
    if name in ("hinge", "squared_hinge"):
        y = 2 * y - 1 if np.all((y == 0) | (y == 1)) else y
        h = np.maximum(1 - y * p, 0)
        return np.mean(h ** 2 if name == "squared_hinge" else h, -1)
    if name == "categorical_hinge":
        return np.maximum(np.max((1 - y) * p, -1) - np.sum(y * p, -1) + 1, 0)
    if name == "cfocal":
        alpha, gamma = kw.get("alpha", 0.25), kw.get("gamma", 2.0)
        q = softmax(p) if kw.get("from_logits") else p / p.sum(-1, keepdims=True)
        q = np.clip(q, EPS, 1 - EPS)
        return np.sum(-alpha * (1 - q) ** gamma * y * np.log(q), -1)
    if name == "bfocal":
        alpha, gamma = kw.get("alpha", 0.25), kw.get("gamma", 2.0)
        prob = 1 / (1 + np.exp(-p)) if kw.get("from_logits") else p
        q = np.clip(prob, EPS, 1 - EPS)
        bce = -(y * np.log(q) + (1 - y) * np.log(1 - q))
        p_t = y * prob + (1 - y) * (1 - prob)
        out = (1 - p_t) ** gamma * bce
        if kw.get("apply_class_balancing"):
            out = out * (y * alpha + (1 - y) * (1 - alpha))
        return np.mean(out, -1)
    raise AssertionError(name)


FUNCTIONS = {
    "mape": losses.mean_absolute_percentage_error, "msle": losses.mean_squared_logarithmic_error,
    "cosine": losses.cosine_similarity, "log_cosh": losses.log_cosh, "poisson": losses.poisson,
    "kld": losses.kl_divergence, "hinge": losses.hinge, "squared_hinge": losses.squared_hinge,
    "categorical_hinge": losses.categorical_hinge,
    "cfocal": losses.categorical_focal_crossentropy, "bfocal": losses.binary_focal_crossentropy,
}


def inputs(name, rng, shape):
    x = rng.normal(size=shape)
    if name in ("msle", "poisson"):
        return rng.poisson(2.0, size=shape).astype(float), rng.uniform(0.1, 3, size=shape)
    if name == "kld":
        return softmax(x), softmax(rng.normal(size=shape))
    if name in ("hinge", "squared_hinge", "bfocal", "overlap"):
        return rng.integers(0, 2, size=shape).astype(float), \
            x if name == "hinge" or name == "squared_hinge" else rng.uniform(0.05, 0.95, size=shape)
    if name in ("categorical_hinge", "cfocal"):
        y = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        return y, x if name == "categorical_hinge" else softmax(x) * 2
    return rng.normal(size=shape) + np.sign(x) * 0.1, x


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(2, 5),
       st.sampled_from(sorted(FUNCTIONS)))
def test_functions_match_numpy_formulas(seed, n, c, name):
    rng = np.random.default_rng(seed)
    y, p = inputs(name, rng, (n, c))
    got = FUNCTIONS[name](y, mg.Tensor(p))
    assert got.shape == (n,)
    np.testing.assert_allclose(got.data, ref(name, y, p), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kw", [{"from_logits": True}, {"alpha": 0.5, "gamma": 0.0},
                                {"from_logits": True, "gamma": 3.5, "alpha": [0.1, 0.2, 0.3, 0.4]}])
def test_categorical_focal_options(kw):
    rng = np.random.default_rng(1)
    y = np.eye(4)[rng.integers(0, 4, size=5)]
    p = rng.normal(size=(5, 4)) if kw.get("from_logits") else softmax(rng.normal(size=(5, 4)))
    expected = ref("cfocal", y, p, **{**kw, "alpha": np.asarray(kw.get("alpha", 0.25))})
    got = losses.categorical_focal_crossentropy(y, mg.Tensor(p), **kw)
    np.testing.assert_allclose(got.data, expected, rtol=1e-9)


def test_focal_with_gamma_0_is_the_cross_entropy():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3))
    y = np.eye(3)[[0, 2, 1, 1]]
    cfocal = losses.categorical_focal_crossentropy(y, mg.Tensor(x), alpha=1.0, gamma=0.0,
                                                    from_logits=True)
    np.testing.assert_allclose(cfocal.data, losses.categorical_crossentropy(
        y, mg.Tensor(x), from_logits=True).data, rtol=1e-6)
    yb = (x > 0) * 1.0
    bfocal = losses.binary_focal_crossentropy(yb, mg.Tensor(x), gamma=0.0, from_logits=True)
    np.testing.assert_allclose(bfocal.data, losses.binary_crossentropy(
        yb, mg.Tensor(x), from_logits=True).data, rtol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"from_logits": True, "gamma": 1.0},
                                {"apply_class_balancing": True, "alpha": 0.3}])
def test_binary_focal_options(kw):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, size=(4, 3)).astype(float)
    p = rng.normal(size=(4, 3)) if kw.get("from_logits") else rng.uniform(0.05, 0.95, (4, 3))
    np.testing.assert_allclose(losses.binary_focal_crossentropy(y, mg.Tensor(p), **kw).data,
                               ref("bfocal", y, p, **kw), rtol=1e-9)


def test_overlap_and_generalized_cross_entropy_formulas():
    rng = np.random.default_rng(9)
    y = rng.integers(0, 2, size=(3, 4, 2)).astype(float)
    p = rng.uniform(size=(3, 4, 2))
    inter = (y * p).sum((1, 2))
    np.testing.assert_allclose(losses.dice(y, mg.Tensor(p), axis=(1, 2)).data,
                               1 - 2 * inter / (y.sum((1, 2)) + p.sum((1, 2)) + EPS))
    assert losses.Dice()(y, mg.Tensor(p)).item() == pytest.approx(
        1 - 2 * (y * p).sum() / (y.sum() + p.sum() + EPS))
    a, b = 0.3, 0.8
    fa, fb = ((1 - p) * y).sum(), (p * (1 - y)).sum()
    assert losses.Tversky(a, b)(y, mg.Tensor(p)).item() == pytest.approx(
        1 - (y * p).sum() / ((y * p).sum() + a * fa + b * fb + EPS))
    probs = softmax(rng.normal(size=(5, 3)))
    labels = np.array([0, 2, 1, 1, 0])
    picked = probs[np.arange(5), labels]
    np.testing.assert_allclose(
        losses.categorical_generalized_cross_entropy(labels, mg.Tensor(probs), q=0.4).data,
        (1 - picked ** 0.4) / 0.4)
    loss = losses.CategoricalGeneralizedCrossEntropy(q=0.6)
    assert gradcheck(lambda x: loss(labels, x), [probs])
    with pytest.raises(ValueError, match=r"CategoricalGeneralizedCrossEntropy: q must be a finite "
                                         r"number in \(0, 1\), got 1"):
        losses.CategoricalGeneralizedCrossEntropy(q=1)
    with pytest.raises(TypeError, match="Dice: axis must be an integer, a non-empty list"):
        losses.Dice(axis="all")


def test_keras_documentation_examples():
    y, p = [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]], mg.Tensor([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]])
    np.testing.assert_allclose(losses.cosine_similarity(y, p).data, [0, -1, 1], atol=1e-6)
    assert losses.LogCosh()([[0.0, 1.0], [0.0, 0.0]], mg.Tensor([[1.0, 1.0], [0.0, 0.0]])).item() \
        == pytest.approx(0.108, abs=1e-3)
    y = [[0, 1, 0], [0, 0, 1]]
    got = losses.categorical_focal_crossentropy(y, mg.Tensor([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]))
    np.testing.assert_allclose(got.data, [2.63401289e-04, 6.75912094e-01], rtol=1e-5)
    got = losses.binary_focal_crossentropy([[0, 1], [0, 0]], mg.Tensor([[0.6, 0.4], [0.4, 0.6]]),
                                           gamma=2.0)
    np.testing.assert_allclose(got.data, [0.330, 0.206], atol=1e-3)
    assert losses.MeanAbsolutePercentageError()(
        np.array([100.0, 200.0, 300.0]), mg.Tensor([90.0, 210.0, 310.0])).item() \
        == pytest.approx(6.111111, rel=1e-6)


def test_cosine_zero_vector_gives_zero_and_finite_gradient():
    p = mg.Tensor(np.zeros((2, 3)), requires_grad=True)
    value = losses.CosineSimilarity()(np.ones((2, 3)), p)
    value.backward()
    assert value.item() == 0 and np.all(np.isfinite(p.grad))


# -- gradients: finite differences (float64) -------------------------------------------------------
GRADCHECK = [
    ("mape", losses.MeanAbsolutePercentageError, {}),
    ("msle", losses.MeanSquaredLogarithmicError, {}),
    ("cosine", losses.CosineSimilarity, {}),
    ("cosine", losses.CosineSimilarity, {"axis": 0}),
    ("log_cosh", losses.LogCosh, {}),
    ("poisson", losses.Poisson, {}),
    ("kld", losses.KLDivergence, {}),
    ("hinge", losses.Hinge, {}),
    ("squared_hinge", losses.SquaredHinge, {}),
    ("categorical_hinge", losses.CategoricalHinge, {}),
    ("cfocal", losses.CategoricalFocalCrossentropy, {}),
    ("cfocal", losses.CategoricalFocalCrossentropy,
     {"from_logits": True, "label_smoothing": 0.1, "gamma": 1.5, "alpha": [0.2, 0.3, 0.5]}),
    ("bfocal", losses.BinaryFocalCrossentropy, {}),
    ("overlap", losses.Dice, {"axis": 1}),
    ("overlap", losses.Tversky, {"alpha": 0.3, "beta": 0.9, "axis": [1]}),
    ("bfocal", losses.BinaryFocalCrossentropy,
     {"from_logits": True, "apply_class_balancing": True, "label_smoothing": 0.2}),
]


@pytest.mark.parametrize("name,cls,kw", GRADCHECK, ids=[f"{g[0]}-{i}" for i, g in enumerate(GRADCHECK)])
def test_gradcheck(name, cls, kw):
    rng = np.random.default_rng(5)
    y, p = inputs(name, rng, (4, 3))
    if kw.get("from_logits"):
        p = rng.normal(size=(4, 3))
    loss = cls(**kw)
    assert gradcheck(lambda x: loss(y, x), [p])
    w = rng.uniform(0.5, 2, size=3 if kw.get("axis") == 0 else 4)  # one weight per value
    assert gradcheck(lambda x: cls(reduction="mean_with_sample_weight", **kw)(y, x, w), [p])


# -- reductions ------------------------------------------------------------------------------------
def test_reductions():
    rng = np.random.default_rng(6)
    y, p = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    per = np.mean(np.log(np.cosh(p - y)), -1)
    w = np.array([1.0, 0.0, 2.0, 0.5, 1.5])

    def value(reduction, **kw):
        return losses.LogCosh(reduction=reduction)(y, mg.Tensor(p), **kw).data

    assert value("mean", sample_weight=w) == pytest.approx((per * w).sum() / 5)
    assert value("mean_with_sample_weight", sample_weight=w) == pytest.approx(
        (per * w).sum() / w.sum())
    assert value("mean_with_sample_weight") == pytest.approx(per.mean())
    assert value("mean_with_sample_weight", sample_weight=np.zeros(5)) == 0  # divide_no_nan
    np.testing.assert_allclose(value(None, sample_weight=w), per * w)


def test_ignore_class_with_each_reduction():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 4))
    labels = np.array([0, 3, 1, 3, 2, 0])
    valid = labels != 3
    per = -np.log(softmax(x)[np.arange(6), labels])
    for reduction, expected in [("sum_over_batch_size", per[valid].sum() / valid.sum()),
                                ("sum", per[valid].sum()),
                                ("mean_with_sample_weight", per[valid].sum() / valid.sum())]:
        loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3,
                                                    reduction=reduction)
        assert loss(labels, mg.Tensor(x)).item() == pytest.approx(expected, rel=1e-12)
    none = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=3, reduction=None)
    np.testing.assert_allclose(none(labels, mg.Tensor(x)).data, np.where(valid, per, 0))
    all_ignored = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    assert all_ignored(np.zeros(6, int), mg.Tensor(x)).item() == 0


# -- configs, names, errors -----------------------------------------------------------------------
@pytest.mark.parametrize("loss", [
    losses.MeanAbsolutePercentageError(), losses.MeanSquaredLogarithmicError(reduction="sum"),
    losses.CosineSimilarity(axis=1), losses.LogCosh(name="lc"), losses.Hinge(),
    losses.SquaredHinge(), losses.CategoricalHinge(), losses.KLDivergence(), losses.Poisson(),
    losses.CategoricalFocalCrossentropy(alpha=[0.5, 0.5], gamma=1.0, from_logits=True),
    losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, label_smoothing=0.1),
    losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight", axis=1),
    losses.Dice(axis=[1, 2]), losses.Tversky(alpha=0.2, beta=0.1, axis=-1),
    losses.CategoricalGeneralizedCrossEntropy(q=0.3),
])
def test_config_round_trip(loss):
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is type(loss) and again.get_config() == loss.get_config()


def test_keras_config_keys():
    assert losses.BinaryFocalCrossentropy().get_config() == {
        "name": "binary_focal_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.0, "axis": -1,
        "apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0}
    assert losses.CategoricalFocalCrossentropy().get_config() == {
        "name": "categorical_focal_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.0, "axis": -1, "alpha": 0.25, "gamma": 2.0}
    assert losses.KLDivergence().get_config() == {"name": "kl_divergence",
                                                  "reduction": "sum_over_batch_size"}


@pytest.mark.parametrize("name,cls", [
    ("mape", losses.MeanAbsolutePercentageError), ("MAPE", losses.MeanAbsolutePercentageError),
    ("msle", losses.MeanSquaredLogarithmicError), ("kld", losses.KLDivergence),
    ("KLDivergence", losses.KLDivergence), ("kl_divergence", losses.KLDivergence),
    ("log_cosh", losses.LogCosh), ("logcosh", losses.LogCosh), ("poisson", losses.Poisson),
    ("hinge", losses.Hinge), ("squared_hinge", losses.SquaredHinge),
    ("categorical_hinge", losses.CategoricalHinge), ("cosine_similarity", losses.CosineSimilarity),
    ("categorical_focal_crossentropy", losses.CategoricalFocalCrossentropy),
    ("BinaryFocalCrossentropy", losses.BinaryFocalCrossentropy), ("bce", losses.BinaryCrossentropy),
])
def test_get_by_name(name, cls):
    assert type(losses.get(name)) is cls


def test_get_function_gives_its_class():
    for fn, cls in [(losses.log_cosh, losses.LogCosh), (losses.kld, losses.KLDivergence),
                    (losses.binary_focal_crossentropy, losses.BinaryFocalCrossentropy)]:
        assert type(losses.get(fn)) is cls


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"BinaryFocalCrossentropy: alpha must be a finite number "
                                         r"in \[0, 1\], got 1.5"):
        losses.BinaryFocalCrossentropy(alpha=1.5)
    with pytest.raises(ValueError, match="CategoricalFocalCrossentropy: gamma must be a finite "
                                         "non-negative number, got -1"):
        losses.CategoricalFocalCrossentropy(gamma=-1)
    with pytest.raises(TypeError, match="apply_class_balancing must be True or False, got 'yes'"):
        losses.BinaryFocalCrossentropy(apply_class_balancing="yes")
    with pytest.raises(TypeError, match="CategoricalFocalCrossentropy: alpha must be"):
        losses.CategoricalFocalCrossentropy(alpha=[0.5, "x"])
    with pytest.raises(ValueError, match=r"alpha must have one weight per class \(3\), got 2"):
        losses.CategoricalFocalCrossentropy(alpha=[0.5, 0.5])(np.eye(3), mg.Tensor(np.eye(3)))
    with pytest.raises(TypeError, match="CosineSimilarity: axis must be an integer, got 'x'"):
        losses.CosineSimilarity(axis="x")
    with pytest.raises(ValueError, match=r"cosine_similarity: axis must be an integer in \[-2, 2\)"):
        losses.cosine_similarity(np.ones((2, 3)), mg.Tensor(np.ones((2, 3))), axis=2)
    with pytest.raises(TypeError, match="SparseCategoricalCrossentropy: ignore_class must be None "
                                        "or an integer, got 1.5"):
        losses.SparseCategoricalCrossentropy(ignore_class=1.5)
    with pytest.raises(ValueError, match=r"reduction must be one of .*mean_with_sample_weight.*"
                                         r"got 'avg'"):
        losses.Poisson(reduction="avg")
    with pytest.raises(ValueError, match=r"hinge: y_true and y_pred must have the same shape, got "
                                         r"y_true of shape \(2, 3\) and y_pred of shape \(2, 4\)"):
        losses.Hinge()(np.ones((2, 3)), mg.Tensor(np.ones((2, 4))))
    with pytest.raises(ValueError, match=r"Poisson: sample_weight of shape \(3,\)"):
        losses.Poisson()(np.ones((2, 3)), mg.Tensor(np.ones((2, 3))), sample_weight=np.ones(3))


def test_dtype_casts_y_pred_and_keras_argument_order():
    p = mg.Tensor(np.full((2, 3), 0.5), requires_grad=True)
    value = losses.MeanSquaredError(dtype="float32")(np.zeros((2, 3)), p)
    value.backward()
    assert value.dtype == np.float32 and p.grad.dtype == np.float64
    assert value.item() == pytest.approx(0.25)
    assert losses.Huber(dtype=np.float64)(np.zeros((2, 3)), p).dtype == np.float64
    with pytest.raises(ValueError, match="Huber: dtype must be None, 'float32' or 'float64', "
                                         "got 'int32'"):
        losses.Huber(dtype="int32")
    wrapper = losses.LossFunctionWrapper(losses.log_cosh, "sum", "lc")  # Keras's order
    assert wrapper.reduction == "sum" and wrapper.name == "lc"
    assert losses.SparseCategoricalCrossentropy(True, None, "sum").reduction == "sum"
