"""A MobileNet V2 inverted-residual block built with the functional API (issue 6, "done when"):

    x -> 1x1 Conv2D (expand) -> BN -> ReLU6 -> 3x3 DepthwiseConv2D -> BN -> ReLU6
      -> 1x1 Conv2D (project) -> BN -> Add(x, .)

It trains end to end with every optimizer, and its forward pass and gradients match PyTorch on
the same weights.
"""
import numpy as np
import pytest

from minigrad import Tensor, layers as L, optimizers
from minigrad.models import Model

CHANNELS, EXPANDED, SIDE = 4, 8, 6


def _block(x):
    h = L.Conv2D(EXPANDED, 1, use_bias=False, name="expand")(x)
    h = L.BatchNormalization(name="expand_bn")(h)
    h = L.ReLU(6.0, name="expand_relu")(h)
    h = L.DepthwiseConv2D(3, padding="same", use_bias=False, name="depthwise")(h)
    h = L.BatchNormalization(name="depthwise_bn")(h)
    h = L.ReLU(6.0, name="depthwise_relu")(h)
    h = L.Conv2D(CHANNELS, 1, use_bias=False, name="project")(h)
    h = L.BatchNormalization(name="project_bn")(h)
    return L.Add(name="residual")([x, h])


def _block_model():
    x = L.Input(shape=(SIDE, SIDE, CHANNELS), name="image")
    return Model(x, _block(x), name="inverted_residual")


def _classifier():
    x = L.Input(shape=(SIDE, SIDE, CHANNELS), name="image")
    h = L.GlobalAveragePooling2D(name="gap")(_block(x))
    return Model(x, L.Dense(2, activation="softmax", name="head")(h), name="mobilenet_v2_tiny")


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, SIDE, SIDE, CHANNELS)).astype(np.float32)
    labels = (x[..., 0].mean(axis=(1, 2)) > x[..., 1].mean(axis=(1, 2))).astype(np.int64)
    return x, labels


OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.1),
    "sgd_nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(0.01),
    "adam_amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True),
    "rmsprop": lambda: optimizers.RMSprop(0.005),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.002, momentum=0.5, centered=True),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "adamax": lambda: optimizers.Adamax(0.02),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_block_trains_end_to_end_with_every_optimizer(name):
    x, labels = _data()
    model = _classifier()
    model.compile(OPTIMIZERS[name](), "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = {w.path: w.data.copy() for w in model.weights}
    history = model.fit(x, labels, epochs=8, batch_size=8, seed=0, verbose=0)
    losses = history.history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    for w in model.weights:
        assert np.all(np.isfinite(w.data))
        assert not np.array_equal(w.data, before[w.path]), f"{w.path} did not change"
    assert model.optimizer.iterations == 16


# -- PyTorch reference on the same weights ---------------------------------------------------------
def _randomized_block(seed=1):
    model = _block_model()
    rng = np.random.default_rng(seed)
    for w in model.weights:
        if w.path.endswith(("gamma", "moving_variance")):
            w.assign(rng.uniform(0.5, 1.5, w.shape))
        else:
            w.assign(rng.uniform(-0.5, 0.5, w.shape))
    return model


def _torch_block(torch, weights, x, training):
    """The block in PyTorch (NCHW, float64), BatchNormalization in Keras's form."""
    F = torch.nn.functional
    h = x.permute(0, 3, 1, 2)

    def bn(h, name):
        shape = (1, -1, 1, 1)
        if training:
            mean, var = h.mean(dim=(0, 2, 3)), h.var(dim=(0, 2, 3), unbiased=False)
        else:
            mean, var = weights[f"{name}/moving_mean"], weights[f"{name}/moving_variance"]
        h = (h - mean.view(shape)) / torch.sqrt(var.view(shape) + 1e-3)
        return h * weights[f"{name}/gamma"].view(shape) + weights[f"{name}/beta"].view(shape)

    inputs = h
    h = F.conv2d(h, weights["expand/kernel"].permute(3, 2, 0, 1))
    h = torch.clamp(bn(h, "expand_bn"), 0, 6)
    h = F.conv2d(h, weights["depthwise/depthwise_kernel"].permute(2, 3, 0, 1), padding=1,
                 groups=EXPANDED)
    h = torch.clamp(bn(h, "depthwise_bn"), 0, 6)
    h = F.conv2d(h, weights["project/kernel"].permute(3, 2, 0, 1))
    h = bn(h, "project_bn") + inputs
    return h.permute(0, 2, 3, 1)


@pytest.mark.parametrize("training", [False, True])
def test_block_forward_and_gradients_match_pytorch(training):
    torch = pytest.importorskip("torch")
    model = _randomized_block()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, SIDE, SIDE, CHANNELS)).astype(np.float32)
    upstream = rng.normal(size=(3, SIDE, SIDE, CHANNELS)).astype(np.float32)

    weights = {w.path: torch.tensor(w.data, dtype=torch.float64, requires_grad=w.trainable)
               for w in model.weights}
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    expected = _torch_block(torch, weights, tx, training)
    (expected * torch.tensor(upstream, dtype=torch.float64)).sum().backward()

    mx = Tensor(x, requires_grad=True)
    out = model(mx, training=training)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-4)
    out.backward(upstream)
    np.testing.assert_allclose(mx.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    for w in model.trainable_weights:
        np.testing.assert_allclose(w.grad, weights[w.path].grad.numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=w.path)
