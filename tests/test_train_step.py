"""One training step reproduces TF.js and Keras (issue 6, item 5).

The model: DepthwiseConv2D (l2 regularizer, max-norm constraint) -> BatchNormalization ->
ReLU6 -> 1x1 Conv2D -> GlobalAveragePooling2D -> softmax Dense, compiled with
``SGD(0.1)`` and categorical crossentropy. ``tests/fixtures/tfjs/train_step.json`` holds the
weights before and after TF.js's ``trainOnBatch`` (made by ``tests/tfjs/train_step.js``).

What the step must do (Keras semantics, which TF.js shares except where noted):
* the loss includes the regularization term l2 * sum(kernel^2);
* BatchNormalization normalizes with the batch's biased variance and moves its statistics as
  ``moving <- moving * momentum + batch_stat * (1 - momentum)`` (biased variance, momentum 0.99);
* the max-norm constraint projects the depthwise kernel after the update. TF.js skips this
  projection in ``trainOnBatch`` (its optimizers bypass constraints); Keras applies it, and so
  does minigrad. The fixture stores TF.js's kernel and the projected one, and we match the latter.
"""
import json
import os

import numpy as np
import pytest

from minigrad import layers as L, optimizers
from minigrad.models import Sequential

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "tfjs", "train_step.json")


def _array(entry):
    return np.asarray(entry["data"], dtype=np.float32).reshape(entry["shape"])


@pytest.fixture(scope="module")
def fixture():
    with open(FIXTURE) as f:
        return json.load(f)


def _model(fixture):
    model = Sequential([L.deserialize(entry) for entry in fixture["layers"]], name="train_step")
    before = {e["name"]: _array(e) for e in fixture["weights_before"]}
    for w in model.weights:
        w.assign(before[w.path])
    return model


def test_the_fixture_model_has_the_pieces_the_issue_names(fixture):
    model = _model(fixture)
    dw = model.get_layer("depthwise")
    assert dw.depthwise_regularizer is not None and dw.depthwise_constraint is not None
    assert model.get_layer("bn").momentum == 0.99
    assert fixture["findings"]["loss_includes_regularization"] is True


def test_one_step_matches_tfjs(fixture):
    model = _model(fixture)
    model.compile(optimizers.SGD(learning_rate=0.1), "categorical_crossentropy")
    loss = model.train_on_batch(_array(fixture["x"]), _array(fixture["y"]))
    assert loss == pytest.approx(fixture["loss"], abs=1e-5)
    expected = {e["name"]: _array(e) for e in fixture["weights_after"]}
    # Keras applies the constraint after the update (TF.js does not; see the module docstring)
    projected = fixture["depthwise_kernel_after_if_constraint_applied"]
    expected[projected["name"]] = _array(projected)
    assert set(expected) == {w.path for w in model.weights}
    for w in model.weights:
        np.testing.assert_allclose(w.data, expected[w.path], atol=1e-5, rtol=1e-5, err_msg=w.path)


# -- the same step in PyTorch (float64), written from the formulas -------------------------------
def _torch_step(fixture):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    t = {e["name"]: torch.tensor(_array(e), dtype=torch.float64, requires_grad=True)
         for e in fixture["weights_before"]}
    x = torch.tensor(_array(fixture["x"]), dtype=torch.float64).permute(0, 3, 1, 2)  # NCHW
    y = torch.tensor(_array(fixture["y"]), dtype=torch.float64)
    kernel = t["depthwise/depthwise_kernel"]                        # (3, 3, C, 1)
    h = F.conv2d(x, kernel.permute(2, 3, 0, 1), t["depthwise/bias"], padding=1, groups=3)
    mean = h.mean(dim=(0, 2, 3))
    var = h.var(dim=(0, 2, 3), unbiased=False)
    shape = (1, -1, 1, 1)
    h = (h - mean.view(shape)) / torch.sqrt(var.view(shape) + 1e-3)
    h = h * t["bn/gamma"].view(shape) + t["bn/beta"].view(shape)
    h = torch.clamp(h, 0.0, 6.0)
    h = F.conv2d(h, t["pointwise/kernel"].permute(3, 2, 0, 1), t["pointwise/bias"])
    h = h.mean(dim=(2, 3))
    p = torch.softmax(h @ t["classifier/kernel"] + t["classifier/bias"], dim=-1)
    p = torch.clamp(p / p.sum(-1, keepdim=True), 1e-7, 1 - 1e-7)  # Keras's probability form
    loss = -(y * torch.log(p)).sum(-1).mean() + 0.01 * (kernel ** 2).sum()
    loss.backward()
    new = {}
    with torch.no_grad():
        for name, value in t.items():
            new[name] = value - 0.1 * value.grad if value.grad is not None else value.clone()
        k = new["depthwise/depthwise_kernel"]
        norms = torch.sqrt((k ** 2).sum(dim=(0, 1, 2), keepdim=True))
        new["depthwise/depthwise_kernel"] = k * torch.clamp(norms, 0, 0.2) / (1e-7 + norms)
        new["bn/moving_mean"] = t["bn/moving_mean"] * 0.99 + mean * 0.01
        new["bn/moving_variance"] = t["bn/moving_variance"] * 0.99 + var * 0.01
    return loss.item(), {k: v.detach().numpy() for k, v in new.items()}


def test_one_step_matches_a_pytorch_reference(fixture):
    ref_loss, ref = _torch_step(fixture)
    assert ref_loss == pytest.approx(fixture["loss"], abs=1e-5)  # the reference agrees with TF.js
    model = _model(fixture)
    model.compile(optimizers.SGD(learning_rate=0.1), "categorical_crossentropy")
    loss = model.train_on_batch(_array(fixture["x"]), _array(fixture["y"]))
    assert loss == pytest.approx(ref_loss, abs=1e-5)
    for w in model.weights:
        np.testing.assert_allclose(w.data, ref[w.path], atol=1e-5, rtol=1e-5, err_msg=w.path)
