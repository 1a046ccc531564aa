"""Optimizers and schedules: Keras's equations (a NumPy reference written here), PyTorch where the
rules coincide, clipping, constraints, state round trips, configs and argument errors."""
import json
import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers as L, optimizers, schedules
from minigrad.models import Sequential, load_model
from minigrad.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, RMSprop
from minigrad.variable import Variable

STEPS = 5


# -- a plain NumPy reference of Keras 3's update rules (one variable, float64) ---------------------
def reference(name, w, grads, lr=0.01, **c):
    """Weights after each step, following keras/src/optimizers/<name>.py."""
    w = w.copy()
    state = {}
    out = []
    for t, g in enumerate(grads, start=1):
        if name == "sgd":
            mu = c.get("momentum", 0.0)
            if mu:
                m = state.get("m", np.zeros_like(w))
                m = mu * m - lr * g
                state["m"] = m
                w = w + (mu * m - lr * g if c.get("nesterov") else m)
            else:
                w = w - lr * g
        elif name in ("adam", "adamw"):
            if name == "adamw":
                w = w - w * c.get("weight_decay", 0.004) * lr
            b1, b2, eps = c.get("beta_1", 0.9), c.get("beta_2", 0.999), c.get("epsilon", 1e-7)
            m = b1 * state.get("m", 0) + (1 - b1) * g
            v = b2 * state.get("v", 0) + (1 - b2) * g * g
            state.update(m=m, v=v)
            if c.get("amsgrad"):
                v = state["vh"] = np.maximum(state.get("vh", 0), v)
            w = w - lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
        elif name == "nadam":
            b1, b2, eps = c.get("beta_1", 0.9), c.get("beta_2", 0.999), c.get("epsilon", 1e-7)
            u = [b1 * (1 - 0.5 * 0.96 ** k) for k in range(1, t + 2)]  # u_1 ... u_{t+1}
            product = math.prod(u[:t])
            m = state["m"] = b1 * state.get("m", 0) + (1 - b1) * g
            v = state["v"] = b2 * state.get("v", 0) + (1 - b2) * g * g
            m_hat = u[t] * m / (1 - product * u[t]) + (1 - u[t - 1]) * g / (1 - product)
            w = w - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
        elif name == "lion":
            b1, b2 = c.get("beta_1", 0.9), c.get("beta_2", 0.99)
            m = state.get("m", np.zeros_like(w))
            w = w - lr * np.sign(b1 * m + (1 - b1) * g)
            state["m"] = b2 * m + (1 - b2) * g
        elif name == "adamax":
            b1, b2, eps = c.get("beta_1", 0.9), c.get("beta_2", 0.999), c.get("epsilon", 1e-7)
            m = state["m"] = b1 * state.get("m", 0) + (1 - b1) * g
            u = state["u"] = np.maximum(b2 * state.get("u", 0), np.abs(g))
            w = w - lr * m / ((1 - b1 ** t) * (u + eps))
        elif name == "rmsprop":
            rho, mom, eps = c.get("rho", 0.9), c.get("momentum", 0.0), c.get("epsilon", 1e-7)
            v = state["v"] = rho * state.get("v", 0) + (1 - rho) * g * g
            if c.get("centered"):
                a = state["a"] = rho * state.get("a", 0) + (1 - rho) * g
                step = lr * g / np.sqrt(v - a * a + eps)
            else:
                step = lr * g / np.sqrt(v + eps)
            if mom > 0:
                step = state["b"] = mom * state.get("b", 0) + step
            w = w - step
        elif name == "adagrad":
            a = state["a"] = state.get("a", c.get("initial_accumulator_value", 0.1)) + g * g
            w = w - lr * g / np.sqrt(a + c.get("epsilon", 1e-7))
        elif name == "adadelta":
            rho, eps = c.get("rho", 0.95), c.get("epsilon", 1e-7)
            a = state["a"] = rho * state.get("a", 0) + (1 - rho) * g * g
            delta = -np.sqrt(state.get("d", 0) + eps) * g / np.sqrt(a + eps)
            state["d"] = rho * state.get("d", 0) + (1 - rho) * delta * delta
            w = w + lr * delta
        out.append(w.copy())
    return out


CLASSES = {"sgd": SGD, "adam": Adam, "adamax": Adamax, "rmsprop": RMSprop, "adagrad": Adagrad,
           "adadelta": Adadelta, "adamw": AdamW, "nadam": Nadam, "lion": Lion}
CASES = [
    ("sgd", {}), ("sgd", {"momentum": 0.9}), ("sgd", {"momentum": 0.8, "nesterov": True}),
    ("adam", {}), ("adam", {"amsgrad": True, "beta_1": 0.8}), ("adamax", {}),
    ("rmsprop", {}), ("rmsprop", {"momentum": 0.5, "centered": True}), ("rmsprop", {"centered": True}),
    ("adagrad", {"initial_accumulator_value": 0.3}), ("adadelta", {"rho": 0.9}),
    ("adamw", {}), ("adamw", {"weight_decay": 0.1, "amsgrad": True}), ("nadam", {}),
    ("nadam", {"beta_1": 0.8, "beta_2": 0.99}), ("lion", {}), ("lion", {"beta_1": 0.5}),
]


def problem(seed=0, shape=(3, 4)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), [rng.normal(size=shape) for _ in range(STEPS)]


def run(opt, w0, grads, dtype=np.float64):
    w = mg.Tensor(w0.astype(dtype), requires_grad=True)
    data = w.data
    out = []
    for g in grads:
        opt.apply_gradients([(g.astype(dtype), w)])
        out.append(w.data.copy())
    assert w.data is data  # updated in place: the model keeps its references
    return out


@pytest.mark.parametrize("name,config", CASES, ids=[f"{n}{c}" for n, c in CASES])
def test_matches_numpy_reference_of_keras(name, config):
    w0, grads = problem()
    lr = 0.05
    got = run(CLASSES[name](learning_rate=lr, **config), w0, grads)
    for step, (a, b) in enumerate(zip(got, reference(name, w0, grads, lr=lr, **config))):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {step + 1}")


@pytest.mark.parametrize("name,config", CASES[:8], ids=[f"{n}{c}" for n, c in CASES[:8]])
def test_float32_stays_float32_and_close(name, config):
    w0, grads = problem(1)
    got = run(CLASSES[name](learning_rate=0.05, **config), w0, grads, dtype=np.float32)
    assert got[-1].dtype == np.float32
    np.testing.assert_allclose(got[-1], reference(name, w0, grads, lr=0.05, **config)[-1],
                               rtol=1e-4, atol=1e-5)


def test_against_torch_optim():
    torch = pytest.importorskip("torch")
    # where the rules coincide: Keras's epsilon sits elsewhere than PyTorch's, so those cases use 0
    cases = [
        (SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (SGD(0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        (SGD(0.1, momentum=0.9, nesterov=True),
         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        (Adam(0.01, epsilon=0), lambda p: torch.optim.Adam(p, lr=0.01, eps=0)),
        (Adam(0.01, epsilon=0, amsgrad=True),
         lambda p: torch.optim.Adam(p, lr=0.01, eps=0, amsgrad=True)),
        (Adamax(0.01, epsilon=0), lambda p: torch.optim.Adamax(p, lr=0.01, eps=0)),
        (RMSprop(0.01, epsilon=0), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0)),
        (RMSprop(0.01, epsilon=0, momentum=0.5, centered=True),
         lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0, momentum=0.5, centered=True)),
        (Adagrad(0.1, epsilon=0),
         lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=0)),
        # Adadelta: the same rule, epsilon included (PyTorch's default learning rate is 1.0)
        (Adadelta(0.5, epsilon=1e-6), lambda p: torch.optim.Adadelta(p, lr=0.5, rho=0.95, eps=1e-6)),
    ]
    w0, grads = problem(2)
    for ours, make in cases:
        got = run(ours, w0, grads)
        p = torch.nn.Parameter(torch.tensor(w0))
        opt = make([p])
        for g, expected in zip(grads, got):
            p.grad = torch.tensor(g)
            opt.step()
            np.testing.assert_allclose(expected, p.detach().numpy(), rtol=1e-10, atol=1e-13,
                                       err_msg=repr(ours))


def test_keras_and_torch_adam_differ_by_epsilon_placement():
    torch = pytest.importorskip("torch")
    w0, grads = problem(3)
    got = run(Adam(0.01, epsilon=1e-3), w0, grads)
    p = torch.nn.Parameter(torch.tensor(w0))
    opt = torch.optim.Adam([p], lr=0.01, eps=1e-3)
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    assert not np.allclose(got[-1], p.detach().numpy(), rtol=1e-9)
    np.testing.assert_allclose(got[-1], reference("adam", w0, grads, lr=0.01, epsilon=1e-3)[-1],
                               rtol=1e-12)


def test_several_variables_and_step_api():
    rng = np.random.default_rng(4)
    a = mg.Tensor(rng.normal(size=(2, 3)), requires_grad=True)
    b = mg.Tensor(rng.normal(size=3), requires_grad=True)
    frozen = mg.Tensor(np.ones(2))  # requires_grad False: step() leaves it alone
    opt = Adam(0.1)
    a0, b0 = a.data.copy(), b.data.copy()
    a.grad, b.grad = np.ones((2, 3)), -np.ones(3)
    assert opt.step([a, b, frozen]) == 1 and opt.iterations == 1
    np.testing.assert_allclose(a.data, reference("adam", a0, [np.ones((2, 3))], lr=0.1)[0])
    np.testing.assert_allclose(b.data, reference("adam", b0, [-np.ones(3)], lr=0.1)[0])
    assert [name for name, _ in opt.get_state()] == [
        "iteration", "variable_0/momentum", "variable_0/velocity", "variable_1/momentum",
        "variable_1/velocity"]


# -- clipping -----------------------------------------------------------------------------------
def grads_after_clipping(**clip):
    """The gradients SGD(lr=1) actually applied (w0 - w1)."""
    rng = np.random.default_rng(5)
    gs = [rng.normal(size=(3, 3)) * 4, rng.normal(size=5) * 0.1]
    ws = [mg.Tensor(np.zeros(g.shape), requires_grad=True) for g in gs]
    originals = [g.copy() for g in gs]
    SGD(1.0, **clip).apply_gradients(list(zip(gs, ws)))
    for g, o in zip(gs, originals):
        np.testing.assert_array_equal(g, o)  # the caller's gradients are not modified
    return gs, [-w.data for w in ws]


def test_clipnorm_per_variable():
    gs, applied = grads_after_clipping(clipnorm=1.0)
    for g, a in zip(gs, applied):
        n = np.linalg.norm(g)
        np.testing.assert_allclose(a, g * 1.0 / max(n, 1.0))
    assert np.linalg.norm(applied[0]) == pytest.approx(1.0)
    np.testing.assert_allclose(applied[1], gs[1])  # already small: unchanged


def test_global_clipnorm():
    gs, applied = grads_after_clipping(global_clipnorm=2.0)
    total = math.sqrt(sum(np.sum(g * g) for g in gs))
    for g, a in zip(gs, applied):
        np.testing.assert_allclose(a, g * 2.0 / total)
    assert math.sqrt(sum(np.sum(a * a) for a in applied)) == pytest.approx(2.0)


def test_clipvalue():
    gs, applied = grads_after_clipping(clipvalue=0.5)
    for g, a in zip(gs, applied):
        np.testing.assert_array_equal(a, np.clip(g, -0.5, 0.5))


# -- constraints ---------------------------------------------------------------------------------
class ConstrainedTensor(mg.Tensor):
    __slots__ = ("constraint",)


def test_constraint_applied_after_update():
    seen = []

    def unit_norm(w):
        seen.append(w.copy())
        return w / np.linalg.norm(w)

    w = ConstrainedTensor(np.array([3.0, 4.0]), requires_grad=True)
    w.constraint = unit_norm
    SGD(0.5).apply_gradients([(np.array([-2.0, 0.0]), w)])
    np.testing.assert_allclose(seen[0], [4.0, 4.0])  # the constraint sees the updated weight
    np.testing.assert_allclose(w.data, np.array([4.0, 4.0]) / math.sqrt(32))


def test_constraints_argument_and_max_norm():
    max_norm = mg.constraints.MaxNorm(1.0, axis=0)
    a = mg.Tensor(np.full((2, 2), 1.0), requires_grad=True)
    b = mg.Tensor(np.full(2, 1.0), requires_grad=True)
    opt = SGD(1.0)
    opt.apply_gradients([(-np.ones((2, 2)), a), (-np.ones(2), b)], constraints={a: max_norm})
    np.testing.assert_allclose(np.linalg.norm(a.data, axis=0), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(b.data, [2.0, 2.0])  # no constraint for b
    opt.apply_gradients([(np.zeros(2), b), (np.zeros((2, 2)), a)], constraints=[None, lambda w: w * 0])
    np.testing.assert_array_equal(a.data, 0)


def test_constraint_not_applied_without_gradient():
    w = ConstrainedTensor(np.array([3.0, 4.0]), requires_grad=True)
    w.constraint = lambda x: x * 0
    other = mg.Tensor(np.zeros(1), requires_grad=True)
    with pytest.warns(UserWarning, match="gradients do not exist"):
        SGD(0.1).apply_gradients([(None, w), (np.ones(1), other)])
    np.testing.assert_array_equal(w.data, [3.0, 4.0])


# -- learning rates and schedules -------------------------------------------------------------------
def test_exponential_decay_values():
    s = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5)
    for step in (0, 1, 3, 4, 10):
        assert s(step) == pytest.approx(0.1 * 0.5 ** (step / 4), rel=1e-15)
    stair = schedules.ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)
    assert [stair(i) for i in (0, 3, 4, 7, 8)] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_cosine_decay_values():
    s = schedules.CosineDecay(1.0, decay_steps=10, alpha=0.1)
    for step in (0, 5, 10, 20):
        frac = min(step, 10) / 10
        assert s(step) == pytest.approx(0.9 * 0.5 * (1 + math.cos(math.pi * frac)) + 0.1, rel=1e-15)
    w = schedules.CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=4)
    assert [w(0), w(2), w(4)] == pytest.approx([0.0, 0.5, 1.0])
    assert w(9) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert w(14) == pytest.approx(0.0, abs=1e-15) and w(100) == w(14)


def test_optimizer_evaluates_schedule_at_iterations():
    s = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = SGD(learning_rate=s)
    w = mg.Tensor(np.zeros(1), requires_grad=True)
    for step in range(4):
        assert opt.learning_rate == pytest.approx(0.1 * 0.5 ** step)
        before = w.data.copy()
        opt.apply_gradients([(np.ones(1), w)])
        np.testing.assert_allclose(before - w.data, 0.1 * 0.5 ** step)
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.3


def test_learning_rate_setter_and_callable():
    opt = Adam(0.01)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5 and opt.get_config()["learning_rate"] == 0.5
    assert SGD(learning_rate=lambda: 0.25).learning_rate == 0.25
    with pytest.raises(ValueError,
                       match="learning_rate must be a finite non-negative number, got -1.0"):
        opt.learning_rate = -1.0


def test_weight_decay():
    w0, grads = problem(6)
    w = mg.Tensor(w0.copy(), requires_grad=True)
    SGD(0.1, weight_decay=0.01).apply_gradients([(grads[0], w)])
    np.testing.assert_allclose(w.data, (w0 - w0 * 0.01 * 0.1) - 0.1 * grads[0], rtol=1e-14)


# -- state --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,config", CASES, ids=[f"{n}{c}" for n, c in CASES])
def test_state_round_trip_resumes_bit_identically(name, config):
    w0, grads = problem(7)
    grads = grads + problem(8)[1]
    cls = CLASSES[name]
    ref_w = mg.Tensor(w0.astype(np.float32), requires_grad=True)
    ref = cls(learning_rate=0.05, **config)
    for g in grads:
        ref.apply_gradients([(g, ref_w)])

    w = mg.Tensor(w0.astype(np.float32), requires_grad=True)
    first = cls(learning_rate=0.05, **config)
    for g in grads[:STEPS]:
        first.apply_gradients([(g, w)])
    state = first.get_state()
    resumed = optimizers.deserialize(optimizers.serialize(first))
    w_again = mg.Tensor(w.data.copy(), requires_grad=True)
    resumed.build([w_again])
    resumed.set_state(state)
    assert resumed.iterations == STEPS
    for g in grads[STEPS:]:
        resumed.apply_gradients([(g, w_again)])
    np.testing.assert_array_equal(w_again.data, ref_w.data)
    for (n1, a1), (n2, a2) in zip(resumed.get_state(), ref.get_state()):
        assert n1 == n2
        np.testing.assert_array_equal(a1, a2)


def test_get_state_returns_copies():
    w = mg.Tensor(np.ones(2), requires_grad=True)
    opt = SGD(0.1, momentum=0.9)
    opt.apply_gradients([(np.ones(2), w)])
    state = opt.get_state()
    opt.apply_gradients([(np.ones(2), w)])
    np.testing.assert_allclose(state[1][1], [-0.1, -0.1])


def test_set_state_errors_leave_the_optimizer_untouched():
    w = mg.Tensor(np.ones((2, 2)), requires_grad=True)
    opt = Adam()
    with pytest.raises(ValueError, match="call build"):
        opt.set_state([("iteration", np.array(3)), ("w/momentum", np.zeros((2, 2))),
                       ("w/velocity", np.zeros((2, 2)))])
    opt.apply_gradients([(np.ones((2, 2)), w)])
    before = opt.get_state()
    bad_shape = [("iteration", np.array(9)), ("variable_0/momentum", np.zeros((2, 2))),
                 ("variable_0/velocity", np.zeros(3))]
    with pytest.raises(ValueError, match=r"'variable_0/velocity' of shape \(3,\) does not match"):
        opt.set_state(bad_shape)
    with pytest.raises(ValueError, match="expected 2 slot arrays"):
        opt.set_state(before[:2])
    with pytest.raises(ValueError, match="must start with"):
        opt.set_state(before[1:])
    with pytest.raises(ValueError, match="non-negative integer"):
        opt.set_state([("iteration", np.array(-1))] + before[1:])
    assert opt.iterations == 1
    for (_, a), (_, b) in zip(opt.get_state(), before):
        np.testing.assert_array_equal(a, b)


# -- configs and the registry ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,config", CASES, ids=[f"{n}{c}" for n, c in CASES])
def test_config_round_trip(name, config):
    opt = CLASSES[name](learning_rate=0.02, clipnorm=1.5, name="mine", **config)
    entry = optimizers.serialize(opt)
    assert entry["class_name"] == type(opt).__name__
    again = optimizers.deserialize(entry)
    assert type(again) is type(opt) and again.get_config() == opt.get_config()


def test_keras_defaults_and_config_keys():
    config = Adam().get_config()
    assert config == {"name": "adam", "learning_rate": 0.001, "weight_decay": None,
                      "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                      "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                      "loss_scale_factor": None, "gradient_accumulation_steps": None,
                      "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}
    assert SGD().get_config()["learning_rate"] == 0.01 and RMSprop().name == "rmsprop"
    assert Adagrad().initial_accumulator_value == 0.1 and Adadelta().rho == 0.95


def test_default_names_are_keras_3s():
    # Keras 3 gives each optimizer its name explicitly (snake_case("RMSprop") would be "rm_sprop")
    names = [opt().name for opt in (SGD, Adam, RMSprop, Adagrad, Adadelta, Adamax)]
    assert names == ["SGD", "adam", "rmsprop", "adagrad", "adadelta", "adamax"]
    assert RMSprop(name=None).name == "rm_sprop" and SGD(name="mine").name == "mine"


def test_schedule_in_config_round_trips():
    opt = Adam(learning_rate=schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5))
    entry = optimizers.serialize(opt)
    assert entry["config"]["learning_rate"]["class_name"] == "CosineDecay"
    keras_style = dict(entry["config"]["learning_rate"], module="keras.optimizers.schedules")
    again = optimizers.deserialize({"class_name": "Adam",
                                    "config": dict(entry["config"], learning_rate=keras_style)})
    assert again.get_config() == opt.get_config()
    assert schedules.deserialize(schedules.serialize(schedules.ExponentialDecay(1.0, 3, 0.9, True))
                                 ).get_config()["staircase"] is True


@pytest.mark.parametrize("name,cls", [
    ("sgd", SGD), ("adam", Adam), ("rmsprop", RMSprop), ("RMSProp", RMSprop), ("adagrad", Adagrad),
    ("adadelta", Adadelta), ("adamax", Adamax), ("Adam", Adam)])
def test_get_by_name(name, cls):
    assert type(optimizers.get(name)) is cls


def test_tfjs_configs():
    opt = optimizers.deserialize({"class_name": "Momentum",
                                  "config": {"learningRate": 0.1, "momentum": 0.9, "useNesterov": True}})
    assert type(opt) is SGD and opt.nesterov and opt.learning_rate == 0.1
    opt = optimizers.deserialize({"class_name": "RMSProp", "config": {
        "learningRate": 0.01, "decay": 0.8, "momentum": 0.0, "epsilon": 1e-7, "centered": False}})
    assert opt.rho == 0.8
    opt = optimizers.deserialize({"class_name": "Adam", "config": {
        "learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-7}})
    assert (opt.beta_1, opt.beta_2) == (0.8, 0.99)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"learning_rate must be a finite non-negative number, got -0.1"):
        SGD(learning_rate=-0.1)
    with pytest.raises(ValueError, match=r"momentum must be a finite number in \[0, 1\], got 1.5"):
        SGD(momentum=1.5)
    with pytest.raises(ValueError, match="momentum"):
        RMSprop(momentum=-0.1)
    with pytest.raises(ValueError, match=r"beta_1 must be a finite number in \[0, 1\)"):
        Adam(beta_1=1.0)
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm must be"):
        Adam(clipnorm=0)
    with pytest.raises(TypeError, match="nesterov must be True or False, got 'yes'"):
        SGD(nesterov="yes")
    with pytest.raises(TypeError, match="unexpected argument"):
        Adam(betas=(0.9, 0.99))
    with pytest.raises(ValueError, match="loss_scale_factor=2.0 is not supported"):
        Adam(loss_scale_factor=2.0)
    with pytest.raises(ValueError, match="known optimizers: .*Adam.*SGD"):
        optimizers.get("adamw_fancy")
    with pytest.raises(ValueError, match="decay_steps must be a finite positive number, got 0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="step must be a finite non-negative number, got -1"):
        schedules.CosineDecay(0.1, 10)(-1)


def test_bad_gradients():
    w = mg.Tensor(np.zeros((2, 2)), requires_grad=True)
    opt = SGD()
    with pytest.raises(ValueError, match=r"has shape \(3,\), expected the variable's shape \(2, 2\)"):
        opt.apply_gradients([(np.zeros(3), w)])
    with pytest.raises(ValueError, match="no gradients provided"):
        opt.apply_gradients([(None, w)])
    with pytest.raises(TypeError, match=r"\(gradient, variable\) pairs"):
        opt.apply_gradients([np.zeros((2, 2))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert opt.apply_gradients([]) == 0
    assert opt.iterations == 0
    np.testing.assert_array_equal(w.data, 0)


# -- AdamW, Nadam, Lion: arguments; EMA and weight-decay exclusions ------------------------------------
def test_new_optimizers_bad_arguments():
    with pytest.raises(ValueError, match=r"Lion: beta_1 must be a finite number in \(0, 1\], got 0"):
        Lion(beta_1=0)
    with pytest.raises(ValueError, match=r"Nadam: beta_2 must be a finite number in \[0, 1\)"):
        Nadam(beta_2=1.0)
    with pytest.raises(ValueError, match="AdamW: weight_decay must be a finite non-negative"):
        AdamW(weight_decay=-0.1)
    with pytest.raises(ValueError, match=r"ema_momentum must be a finite number in \[0, 1\], got 1.5"):
        Adam(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency must be None or a positive integer, got 0"):
        SGD(use_ema=True, ema_overwrite_frequency=0)
    with pytest.raises(TypeError, match="use_ema must be True or False, got 'yes'"):
        Lion(use_ema="yes")
    opt = AdamW()
    with pytest.raises(TypeError, match="var_names must be a list of strings, got 'bias'"):
        opt.exclude_from_weight_decay(var_names="bias")
    with pytest.raises(TypeError, match="var_list must be a list of minigrad Tensors"):
        opt.exclude_from_weight_decay(var_list=[np.zeros(2)])


def test_adamw_defaults_and_names():
    opt = AdamW()
    assert (opt.weight_decay, opt.name, opt.learning_rate) == (0.004, "adam_w", 0.001)
    assert (Nadam().name, Lion().name, Lion().beta_2) == ("nadam", "lion", 0.99)
    for name, cls in (("adamw", AdamW), ("AdamW", AdamW), ("nadam", Nadam), ("lion", Lion)):
        assert type(optimizers.get(name)) is cls


def _named(name, shape=(2, 3), value=1.0):
    return Variable(np.full(shape, value), name=name, path=f"dense/{name}")


def test_exclude_from_weight_decay_by_name_and_by_variable():
    kernel, bias, other = _named("kernel"), _named("bias", (3,)), _named("gamma", (3,))
    opt = SGD(0.5, weight_decay=0.1)
    opt.exclude_from_weight_decay(var_list=[other], var_names=["bia"])  # a substring of the name
    zero = [(np.zeros(v.data.shape), v) for v in (kernel, bias, other)]
    opt.apply_gradients(zero)
    np.testing.assert_allclose(kernel.data, 1.0 - 0.1 * 0.5)
    np.testing.assert_array_equal(bias.data, 1.0)
    np.testing.assert_array_equal(other.data, 1.0)
    # a new call replaces the choice; the path's layer name is not the variable's name
    opt.exclude_from_weight_decay(var_names=["dense"])
    opt.apply_gradients(zero)
    np.testing.assert_allclose(bias.data, 1.0 - 0.1 * 0.5)


def test_ema_formula_overwrite_and_finalize():
    w = _named("kernel", (2,), 0.0)
    opt = SGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=3)
    averages = []
    for _ in range(3):
        opt.apply_gradients([(np.array([-1.0, 2.0]), w)])
        averages.append(dict(opt.get_state())["dense/kernel/average"].copy())
    # w after updates: 1, 2, 3 (times [1, -2]); the average starts at w, then a <- a/2 + w/2
    np.testing.assert_allclose(averages[0], [1.0, -2.0])
    np.testing.assert_allclose(averages[1], [1.5, -3.0])
    np.testing.assert_allclose(averages[2], [2.25, -4.5])
    np.testing.assert_allclose(w.data, [2.25, -4.5])  # the third update overwrote w with it
    opt.apply_gradients([(np.array([-1.0, 2.0]), w)])
    assert not np.allclose(w.data, averages[2])
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.data, dict(opt.get_state())["dense/kernel/average"])
    with pytest.raises(ValueError, match="'dense/x' is not one this optimizer has updated"):
        opt.finalize_variable_values([_named("x")])
    plain = _named("kernel", (2,), 5.0)
    SGD(0.1).finalize_variable_values([plain])  # without use_ema: nothing to do
    np.testing.assert_array_equal(plain.data, 5.0)


@pytest.mark.parametrize("make", [
    lambda: Nadam(0.05, use_ema=True, ema_overwrite_frequency=4),
    lambda: Lion(0.01, weight_decay=0.1, use_ema=True, ema_momentum=0.7),
    lambda: Adam(0.05, amsgrad=True, use_ema=True),
])
def test_ema_state_round_trip_resumes_bit_identically(make):
    w0, grads = problem(9)
    grads = grads + problem(10)[1]
    ref_w = mg.Tensor(w0.astype(np.float32), requires_grad=True)
    ref = make()
    for g in grads:
        ref.apply_gradients([(g, ref_w)])
    w = mg.Tensor(w0.astype(np.float32), requires_grad=True)
    first = make()
    for g in grads[:STEPS]:
        first.apply_gradients([(g, w)])
    resumed = optimizers.deserialize(optimizers.serialize(first))
    assert resumed.get_config() == first.get_config()
    resumed.build([w])
    resumed.set_state(first.get_state())
    for g in grads[STEPS:]:
        resumed.apply_gradients([(g, w)])
    np.testing.assert_array_equal(w.data, ref_w.data)
    assert [n for n, _ in resumed.get_state()] == [n for n, _ in ref.get_state()]
    for (_, a), (_, b) in zip(resumed.get_state(), ref.get_state()):
        np.testing.assert_array_equal(a, b)


def test_set_state_takes_the_same_names_in_another_order():
    # files written before get_state took Keras's order held Adam's velocity_hat per variable
    a, b = _named("kernel"), _named("bias", (3,))
    opt = Adam(0.1, amsgrad=True)
    opt.apply_gradients([(np.ones((2, 3)), a), (np.ones(3), b)])
    state = opt.get_state()
    assert [n for n, _ in state] == [
        "iteration", "dense/kernel/momentum", "dense/kernel/velocity", "dense/bias/momentum",
        "dense/bias/velocity", "dense/kernel/velocity_hat", "dense/bias/velocity_hat"]
    old_order = [state[i] for i in (0, 1, 2, 5, 3, 4, 6)]
    again = Adam(0.1, amsgrad=True)
    again.build([a, b])
    again.set_state(old_order)
    for (n1, x), (n2, y) in zip(again.get_state(), state):
        assert n1 == n2
        np.testing.assert_array_equal(x, y)


def test_tfjs_folder_keeps_ema_in_minigrads_metadata_only(tmp_path):
    # TF.js's optimizers have no moving average: its trainingConfig is left out, ours keeps it
    model = Sequential([L.Dense(2, input_shape=(3,), name="d")], name="m")
    model.compile(Adam(0.01, use_ema=True, ema_momentum=0.9), "mean_squared_error")
    model.train_on_batch(np.ones((2, 3)), np.ones((2, 2)))
    model.save(tmp_path / "m")
    with open(tmp_path / "m" / "model.json") as f:
        assert "trainingConfig" not in json.load(f)
    loaded = load_model(tmp_path / "m")
    assert loaded.optimizer.use_ema and loaded.optimizer.ema_momentum == 0.9
    for (n1, a), (n2, b) in zip(loaded.optimizer.get_state(), model.optimizer.get_state()):
        assert n1 == n2
        np.testing.assert_array_equal(a, b)
