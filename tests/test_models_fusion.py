"""BatchNormalization -> ReLU6 run as one fused step of the model's execution plan
(minigrad/models/plan.py), and with the DepthwiseConv2D that reads them as a third: the same
outputs, gradients, moving statistics and losses as running the layers one by one, and fused only
where the rules allow it."""
import numpy as np
import pytest

import minigrad as mg
from minigrad import layers, regularizers
from minigrad.models.plan import LayerStep, StagedStep
from minigrad.ops.fused import BatchNormDepthwiseConv2D, BatchNormPointwiseConv2D
from minigrad.ops.normalization import BatchNorm, BatchNormTrain


def _block(relu=None, regularizer=None):
    """conv -> BN -> ReLU (relu6 unless ``relu`` says otherwise) -> conv -> BN -> ReLU6 -> pool."""
    relu = {"max_value": 6.0} if relu is None else relu
    return [layers.Conv2D(6, 3, padding="same", use_bias=False, input_shape=(8, 8, 3)),
            layers.BatchNormalization(momentum=0.9, gamma_regularizer=regularizer),
            layers.ReLU(**relu),
            layers.DepthwiseConv2D(3, strides=2, padding="same", use_bias=False),
            layers.BatchNormalization(momentum=0.9),
            layers.ReLU(max_value=6.0),
            layers.GlobalAveragePooling2D(),
            layers.Dense(4)]


def _twins(**kwargs):
    """A Sequential model, and the same layers (same weights) to run one by one, unfused."""
    model = mg.models.Sequential(_block(**kwargs))
    plain = mg.models.Sequential(_block(**kwargs))
    plain.set_weights(model.get_weights())
    return model, plain.layers


def _run_layers(layer_list, x, training):
    h = x
    for layer in layer_list:
        h = layer(h, training=training)
    return h


def _data(seed=0):
    rng = np.random.default_rng(seed)
    # scaled so that a good share of the normalised values falls outside (0, 6) and gets clipped
    return (3 * rng.standard_normal((5, 8, 8, 3))).astype(np.float32)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("relu", [None, {}])    # relu6, plain relu
def test_fused_model_equals_the_layers_one_by_one(training, relu):
    model, plain = _twins(relu=relu, regularizer="l2")
    for seed in range(3):   # several steps: the moving statistics move
        x = _data(seed)
        xs = [mg.Tensor(x, requires_grad=True) for _ in range(2)]
        fused, unfused = model(xs[0], training=training), _run_layers(plain, xs[1], training)
        np.testing.assert_allclose(fused.numpy(), unfused.numpy(), rtol=1e-6, atol=1e-6)
        weights = lambda t: mg.Tensor(np.linspace(-1, 1, t.data.size).reshape(t.shape))  # noqa
        (fused * weights(fused)).sum().backward()
        (unfused * weights(unfused)).sum().backward()
        np.testing.assert_allclose(xs[0].grad, xs[1].grad, rtol=1e-6, atol=1e-6)
        for a, b in zip(model.weights, [w for layer in plain for w in layer.weights]):
            np.testing.assert_allclose(a.data, b.data, rtol=1e-6, atol=1e-6)  # moving stats too
            if a.grad is not None or b.grad is not None:
                np.testing.assert_allclose(a.grad, b.grad, rtol=1e-6, atol=1e-6)
                a.zero_grad(), b.zero_grad()
        assert [loss.item() for loss in model.losses] == \
            [loss.item() for layer in plain for loss in layer.losses]
        assert all(not layer.losses for layer in model.layers if isinstance(layer, layers.ReLU))


@pytest.mark.parametrize("training", [True, False])
def test_the_pair_runs_as_one_batch_norm_op(training):
    probe = mg.models.Sequential(_block()[:3])             # conv -> BN -> ReLU6
    out = probe(mg.Tensor(_data(), requires_grad=True), training=training)
    assert out._node.op is (BatchNormTrain if training else BatchNorm)   # no separate ReLU6 op
    assert [type(layer).__name__ for layer in probe.layers] == ["Conv2D", "BatchNormalization",
                                                                "ReLU"]


@pytest.mark.parametrize("relu", [{"max_value": 5.0}, {"max_value": 6.0, "threshold": 0.5},
                                  {"max_value": 6.0, "negative_slope": 0.1}])
def test_other_relus_are_not_fused_and_still_agree(relu):
    model, plain = _twins(relu=relu)
    x = _data()
    probe = mg.models.Sequential(model.layers[:3])
    assert probe(mg.Tensor(x, requires_grad=True), training=True)._node.op is not BatchNormTrain
    np.testing.assert_allclose(model(x, training=True).numpy(),
                               _run_layers(plain, mg.Tensor(x), True).numpy(), rtol=1e-6, atol=1e-6)


def test_a_batch_norm_read_twice_is_not_fused():
    inputs = layers.Input(shape=(4, 4, 2))
    normed = layers.BatchNormalization()(inputs)
    clipped = layers.ReLU(max_value=6.0)(normed)
    model = mg.models.Model(inputs, layers.Add()([clipped, normed]))
    x = (4 * np.random.default_rng(1).standard_normal((3, 4, 4, 2))).astype(np.float32)
    y = model(x, training=True).numpy()
    bn = model.layers[1]
    ref = mg.ops.normalization.batch_norm_train(x, bn.gamma, bn.beta, epsilon=bn.epsilon)[0].numpy()
    np.testing.assert_allclose(y, np.clip(ref, 0, 6) + ref, rtol=1e-6, atol=1e-6)
    # an output of the model cannot be fused either: the un-clipped values are returned
    two = mg.models.Model(inputs, [normed, clipped])
    a, b = two(x, training=False)
    np.testing.assert_allclose(b.numpy(), np.clip(a.numpy(), 0, 6))
    assert (a.numpy() < 0).any()


# -- the plan: which steps a graph gets -----------------------------------------------------------
def _steps(model):
    return [str(step) for step in model._plan.steps]


def test_a_mobilenet_v2_block_plans_its_pairs_fused_with_the_convolutions_that_read_them():
    inputs = layers.Input(shape=(6, 6, 4), name="image")
    h = layers.Conv2D(8, 1, use_bias=False, name="expand")(inputs)
    h = layers.BatchNormalization(name="expand_bn")(h)
    h = layers.ReLU(6.0, name="expand_relu")(h)
    h = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="depthwise")(h)
    h = layers.BatchNormalization(name="depthwise_bn")(h)
    h = layers.ReLU(6.0, name="depthwise_relu")(h)
    h = layers.Conv2D(4, 1, use_bias=False, name="project")(h)
    h = layers.BatchNormalization(name="project_bn")(h)      # linear bottleneck: no ReLU
    model = mg.models.Model(inputs, layers.Add(name="residual")([inputs, h]))
    assert _steps(model) == ["expand", "expand_bn + expand_relu + depthwise (fused)",
                             "depthwise_bn + depthwise_relu + project (fused)", "project_bn",
                             "residual"]
    assert [type(step) for step in model._plan.steps] == \
        [LayerStep, StagedStep, StagedStep, LayerStep, LayerStep]


class _MyReLU(layers.ReLU):
    """A subclass may compute something else in call(): never fused."""


@pytest.mark.parametrize("case", ["bn output is a model output", "bn read twice", "relu subclass",
                                  "negative_slope", "threshold", "max_value 5",
                                  "bn activity regularizer", "relu activity regularizer",
                                  "different dtypes", "bn called with kwargs",
                                  "relu called with kwargs"])
def test_pairs_that_must_not_fuse_get_two_steps(case):
    inputs = layers.Input(shape=(4, 4, 2), name="x")
    dtype = "float64" if case == "different dtypes" else None
    bn = layers.BatchNormalization(name="bn", dtype=dtype)
    relu_class = _MyReLU if case == "relu subclass" else layers.ReLU
    relu = relu_class(max_value=5.0 if case == "max_value 5" else 6.0,
                      negative_slope=0.1 if case == "negative_slope" else 0.0,
                      threshold=0.5 if case == "threshold" else 0.0, name="relu")
    if case.endswith("activity regularizer"):
        (bn if case.startswith("bn") else relu).activity_regularizer = regularizers.L2(0.01)
    normed = bn(inputs, mask=None) if case == "bn called with kwargs" else bn(inputs)
    clipped = relu(normed, mask=None) if case == "relu called with kwargs" else relu(normed)
    outputs = {"bn output is a model output": [normed, clipped],
               "bn read twice": layers.Add(name="add")([clipped, normed])}.get(case, clipped)
    model = mg.models.Model(inputs, outputs)
    assert _steps(model) == ["bn", "relu"] + (["add"] if case == "bn read twice" else [])
    # the same layers in a plain pair do fuse: only the case's difference stops it
    plain = layers.ReLU(max_value=6.0, dtype=bn.dtype, name="plain_relu")
    if case not in ("bn activity regularizer", "bn called with kwargs"):
        model = mg.models.Model(inputs, plain(bn(inputs)))
        assert _steps(model) == ["bn + plain_relu (fused)"]


def test_a_setting_changed_after_the_plan_is_made_runs_the_pair_unfused():
    model, plain = _twins()
    relu, plain_relu = model.layers[2], plain[2]
    for layer in (relu, plain_relu):
        layer.max_value = 3.0          # no longer relu6: the kernels cannot clip at 3
    for bn in (model.layers[1], plain[1]):   # gamma 4: many normalised values land above 3
        bn.gamma.assign(np.full(bn.gamma.shape, 4.0, np.float32))
    x = _data()
    out = model(x, training=True).numpy()
    np.testing.assert_allclose(out, _run_layers(plain, mg.Tensor(x), True).numpy(),
                               rtol=1e-6, atol=1e-6)
    probe = mg.models.Sequential(model.layers[:3])
    assert probe(mg.Tensor(x), training=True).numpy().max() == 3.0
    relu.activity_regularizer = regularizers.L2(0.5)   # it must see its input: unfused again
    relu.max_value = 6.0
    model(x, training=False)
    assert len(relu.losses) == 1 and relu.losses[0].item() > 0


def test_the_fused_step_leaves_the_layers_as_calling_them_would():
    model, plain = _twins(regularizer="l2")
    x = _data()
    model(x, training=True), _run_layers(plain, mg.Tensor(x), True)
    for fused_layer, plain_layer in zip(model.layers[1:3], plain[1:3]):
        assert sorted(vars(fused_layer)) == sorted(vars(plain_layer))
        assert len(fused_layer.losses) == len(plain_layer.losses)
    assert len(model.layers[1].losses) == 1    # the gamma regularizer, recorded by the fused step


def test_sequential_add_and_pop_remake_the_plan():
    model = mg.models.Sequential([layers.Conv2D(3, 3, input_shape=(6, 6, 2), name="conv"),
                                  layers.BatchNormalization(name="bn"),
                                  layers.ReLU(6.0, name="relu6")])
    assert _steps(model) == ["conv", "bn + relu6 (fused)"]
    model.pop()
    assert _steps(model) == ["conv", "bn"]
    x = _data()[:, :6, :6, :2]
    assert (model(x, training=True).numpy() < 0).any()      # the un-clipped BN output
    model.add(layers.ReLU(name="relu"))
    assert _steps(model) == ["conv", "bn + relu (fused)"]
    assert (model(x, training=True).numpy() >= 0).all()


# -- BatchNormalization -> ReLU -> DepthwiseConv2D or 1x1 Conv2D: the convolution stages its input
# through the pair. (H, C, stride) of the depthwise convolutions and (H, Cin, Cout) of the 1x1 ones
# of examples/mnist_mobilenet.py (the benchmark), MobileNet V1 and MobileNet V2 (expanded channels,
# expansion and projection), at a 2-image batch; V1/V2's spatial sizes are cut to at most 14 so
# that the test stays fast (the kernels' rows work the same)
_BENCHMARK = [(28, 16, 1), (28, 32, 2), (14, 64, 1), (14, 64, 2), (7, 128, 1)]
_MOBILENET_V1 = [(14, 32, 1), (14, 64, 2), (14, 128, 1), (14, 128, 2), (14, 256, 1), (14, 256, 2),
                 (14, 512, 1), (14, 512, 2), (7, 1024, 1)]
_MOBILENET_V2 = [(14, 96, 2), (14, 144, 1), (14, 144, 2), (14, 192, 1), (14, 192, 2),
                 (14, 384, 1), (14, 576, 1), (14, 576, 2), (7, 960, 1)]
_BENCHMARK_1X1 = [(28, 16, 32), (14, 32, 64), (14, 64, 64), (7, 64, 128), (7, 128, 128)]
_MOBILENET_V1_1X1 = [(14, 32, 64), (14, 64, 128), (14, 128, 128), (14, 128, 256), (14, 256, 256),
                     (14, 256, 512), (14, 512, 512), (7, 512, 1024), (7, 1024, 1024)]
_MOBILENET_V2_1X1 = [(14, 16, 96), (14, 96, 24), (14, 144, 24), (14, 144, 32), (14, 192, 64),
                     (14, 384, 96), (7, 576, 160), (7, 960, 320), (7, 320, 1280)]


def _staged_pair(h, c, stride, dw_options=None, seed=0, filters=None):
    """BN -> ReLU6 -> DepthwiseConv2D (a 1x1 Conv2D of ``filters`` if given) as a model, and as
    three more layers with the same weights."""
    rng = np.random.default_rng(seed)
    dw = {"padding": "same", "use_bias": False, **(dw_options or {})}
    conv = ((lambda: layers.DepthwiseConv2D(3, strides=stride, **dw)) if filters is None else
            (lambda: layers.Conv2D(filters, 1, **dw)))
    make = lambda: [layers.BatchNormalization(momentum=0.9, input_shape=(h, h, c)),  # noqa: E731
                    layers.ReLU(6.0), conv()]
    model = mg.models.Sequential(make())
    plain = make()
    mg.models.Sequential(plain)                       # builds the copies
    weights = [w.data + (0.3 * rng.standard_normal(w.shape)).astype(w.data.dtype)
               for w in model.weights]                # gamma/beta away from 1/0: clips happen
    model.set_weights(weights)
    for layer in plain:
        layer.set_weights(weights[:len(layer.weights)])
        weights = weights[len(layer.weights):]
    return model, plain


@pytest.mark.parametrize("h,c,stride,filters",
                         [s + (None,) for s in _BENCHMARK + _MOBILENET_V1 + _MOBILENET_V2]
                         + [(h, c, 1, f) for h, c, f in
                            _BENCHMARK_1X1 + _MOBILENET_V1_1X1 + _MOBILENET_V2_1X1])
def test_the_staged_step_is_the_layers_one_by_one_bit_for_bit(h, c, stride, filters):
    model, plain = _staged_pair(h, c, stride, filters=filters)
    assert [type(step) for step in model._plan.steps] == [StagedStep]
    op = BatchNormDepthwiseConv2D if filters is None else BatchNormPointwiseConv2D
    rng = np.random.default_rng(h * c + stride)
    for step, training in enumerate([True, True, False]):
        x = (3 * rng.standard_normal((2, h, h, c)) + 1).astype(np.float32)
        xs = [mg.Tensor(x, requires_grad=True) for _ in range(2)]
        fused, unfused = model(xs[0], training=training), _run_layers(plain, xs[1], training)
        assert (fused._node.op is op) == training
        np.testing.assert_array_equal(fused.numpy(), unfused.numpy())
        weights = mg.Tensor(rng.standard_normal(fused.shape).astype(np.float32))
        (fused * weights).sum().backward()
        (unfused * weights).sum().backward()
        np.testing.assert_array_equal(xs[0].grad, xs[1].grad)
        for a, b in zip(model.weights, [w for layer in plain for w in layer.weights]):
            np.testing.assert_array_equal(a.data, b.data)       # the moving statistics too
            if a.grad is not None or b.grad is not None:
                np.testing.assert_array_equal(a.grad, b.grad)
                a.zero_grad(), b.zero_grad()


def test_the_staged_step_keeps_the_convolutions_bias_activation_and_losses():
    options = {"use_bias": True, "activation": "tanh", "depthwise_regularizer": "l2",
               "activity_regularizer": regularizers.L1(0.01), "bias_initializer": "ones"}
    model, plain = _staged_pair(6, 3, 1, options)
    assert _steps(model)[0].endswith("(fused)") and len(model._plan.steps) == 1
    x = _data()[:2, :6, :6, :]
    fused, unfused = model(x, training=True), _run_layers(plain, mg.Tensor(x), True)
    np.testing.assert_array_equal(fused.numpy(), unfused.numpy())
    assert [loss.item() for loss in model.losses] == \
        [loss.item() for layer in plain for loss in layer.losses]
    assert len(model.layers[2].losses) == 2       # the kernel's and the activity's


@pytest.mark.parametrize("conv", [{"kernel_size": 3, "strides": 1}, {"kernel_size": 1, "strides": 2},
                                  {"kernel_size": 1, "groups": 2}, {"kernel_size": (1, 3)}])
def test_only_1x1_stride_1_convolutions_of_one_group_stage_the_pair(conv):
    inputs = layers.Input(shape=(6, 6, 4), name="x")
    h = layers.ReLU(6.0, name="relu")(layers.BatchNormalization(name="bn")(inputs))
    model = mg.models.Model(inputs, layers.Conv2D(4, name="conv", **conv)(h))
    assert _steps(model) == ["bn + relu (fused)", "conv"]
    one = mg.models.Model(inputs, layers.Conv2D(4, 1, name="one")(h))
    assert _steps(one) == ["bn + relu + one (fused)"]


@pytest.mark.parametrize("case", ["depth multiplier 2", "channels_first", "relu output read twice",
                                  "relu output is a model output", "conv subclass",
                                  "conv in float64"])
def test_convolutions_that_must_not_stage_the_pair_run_after_it(case):
    inputs = layers.Input(shape=(6, 6, 4), name="x")
    bn_options = {"axis": 1} if case == "channels_first" else {}
    h = layers.BatchNormalization(name="bn", **bn_options)(inputs)
    h = layers.ReLU(6.0, name="relu")(h)
    conv_class = _MyDepthwise if case == "conv subclass" else layers.DepthwiseConv2D
    conv = conv_class(3, padding="same", name="dw",
                      depth_multiplier=2 if case == "depth multiplier 2" else 1,
                      data_format="channels_first" if case == "channels_first" else None,
                      dtype="float64" if case == "conv in float64" else None)
    out = conv(h)
    outputs = {"relu output read twice": layers.Concatenate(name="cat")([out, h]),
               "relu output is a model output": [out, h]}.get(case, out)
    model = mg.models.Model(inputs, outputs)
    assert _steps(model)[:2] == ["bn + relu (fused)", "dw"]
    x = (3 * np.random.default_rng(2).standard_normal((2, 6, 6, 4))).astype(np.float32)
    model(x, training=True)      # runs


class _MyDepthwise(layers.DepthwiseConv2D):
    """A subclass may compute something else in call(): never staged."""


def test_a_frozen_batch_norm_or_a_changed_setting_runs_the_three_one_by_one():
    model, plain = _staged_pair(6, 4, 2)
    x = _data()[:2, :6, :6, :].repeat(2, axis=3)[..., :4]
    for layer in (model.layers[0], plain[0]):
        layer.trainable = False                     # inference statistics even in training
    out = model(mg.Tensor(x), training=True)
    assert out._node is None or out._node.op is not BatchNormDepthwiseConv2D
    np.testing.assert_array_equal(out.numpy(), _run_layers(plain, mg.Tensor(x), True).numpy())
    for layer in (model.layers[0], plain[0]):
        layer.trainable = True
    for layer in (model.layers[1], plain[1]):
        layer.max_value = 3.0                       # no longer relu6: not even the pair fuses
    out = model(mg.Tensor(x, requires_grad=True), training=True)
    assert out._node.op is not BatchNormDepthwiseConv2D
    np.testing.assert_array_equal(out.numpy(), _run_layers(plain, mg.Tensor(x), True).numpy())


class _UnfusedBatchNorm(layers.BatchNormalization):
    """A subclass is never fused: the same graph run one layer at a time."""


def test_a_convolution_whose_node_is_not_next_is_not_staged():
    """A layer called at two nodes keeps its last call's losses: staging its first node at the
    batch norm's place, ahead of a node in between, would change which call is last."""
    def build(bn_class):
        inputs = layers.Input(shape=(6, 6, 4), name="x")
        dw = layers.DepthwiseConv2D(3, padding="same", use_bias=False, activity_regularizer="l1",
                                    name="dw")
        relu = layers.ReLU(6.0, name="relu")(bn_class(name="bn")(inputs))
        shared = layers.Activation("linear", name="lin")(dw(inputs))   # a node in between
        return mg.models.Model(inputs, layers.Add(name="add")([dw(relu), shared]))
    model, plain = build(layers.BatchNormalization), build(_UnfusedBatchNorm)
    plain.set_weights(model.get_weights())
    assert "bn + relu (fused)" in _steps(model) and "bn" in _steps(plain)
    assert not any(isinstance(step, StagedStep) for step in model._plan.steps)
    x = (3 * np.random.default_rng(0).standard_normal((2, 6, 6, 4))).astype(np.float32)
    np.testing.assert_array_equal(model(x, training=True).numpy(), plain(x, training=True).numpy())
    assert [loss.item() for loss in model.losses] == [loss.item() for loss in plain.losses]
