"""Optimizers against Keras 3 itself: the same variables (float32, three shapes), the same five
gradients, Keras's ``apply_gradients`` on ``keras.Variable``s and minigrad's on Tensors built
from Keras's own ``get_config()``; the variables (and EMA averages) must agree after every step.
Also: AdamW in ``fit`` trains and resumes from a saved file, and ``use_ema`` ends ``fit`` with
the averages in the weights, as Keras's fit does."""
import re

import numpy as np
import pytest

from minigrad import layers as L, optimizers
from minigrad.models import Sequential, load_model
from minigrad.variable import Variable

STEPS = 5
SHAPES = {"kernel": (3, 4), "bias": (4,), "scale": (2, 1, 3)}

NAMES = ["SGD", "Adam", "AdamW", "Nadam", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Lion"]
# options every optimizer shares (the base class's): each with every optimizer
COMMON = [
    {},
    {"weight_decay": 0.1},
    {"clipnorm": 0.5},
    {"clipvalue": 0.3},
    {"global_clipnorm": 0.8},
    {"use_ema": True},
    {"use_ema": True, "ema_momentum": 0.5, "ema_overwrite_frequency": 2},
    {"weight_decay": 0.2, "exclude": {"var_names": ["bias", "sca"]}},
    {"weight_decay": 0.2, "exclude": {"var_list": ["kernel"]}},
    {"schedule": ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 2,
                                       "decay_rate": 0.5})},
]
# each optimizer's own options
OWN = [
    ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {"amsgrad": True}), ("Adam", {"amsgrad": True, "beta_1": 0.5, "epsilon": 1e-3}),
    ("AdamW", {"weight_decay": 0.3, "amsgrad": True}), ("AdamW", {"beta_2": 0.9}),
    ("Nadam", {"beta_1": 0.7, "beta_2": 0.99}), ("Nadam", {"epsilon": 1e-4, "use_ema": True}),
    ("RMSprop", {"centered": True}), ("RMSprop", {"momentum": 0.5}),
    ("RMSprop", {"centered": True, "momentum": 0.7, "rho": 0.8}),
    ("Adagrad", {"initial_accumulator_value": 0.5}), ("Adadelta", {"rho": 0.8}),
    ("Adamax", {"beta_2": 0.9}), ("Lion", {"beta_1": 0.5, "beta_2": 0.9}),
    ("Lion", {"weight_decay": 0.5, "clipnorm": 0.2}),
]
CASES = [(name, c) for name in NAMES for c in COMMON] + OWN


def _numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def _problem(seed):
    rng = np.random.default_rng(seed)
    start = {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
    grads = [{k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}
             for _ in range(STEPS)]
    return start, grads


def _assert_same_config(got, expected):
    """Keras's keys and values; Keras keeps a numeric learning rate as float32."""
    assert list(got) == list(expected)
    for key, value in expected.items():
        if isinstance(value, dict):  # a schedule: Keras's entry has module/registered_name too
            assert got[key]["class_name"] == value["class_name"]
            assert got[key]["config"] == value["config"]
        elif isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-6), key
        else:
            assert got[key] == value, key


def _keras_optimizer(keras, name, config):
    config = dict(config)
    config.pop("exclude", None)
    schedule = config.pop("schedule", None)
    if schedule is not None:
        config["learning_rate"] = getattr(keras.optimizers.schedules, schedule[0])(**schedule[1])
    else:
        config.setdefault("learning_rate", 0.05)
    return getattr(keras.optimizers, name)(**config)


@pytest.mark.parametrize("name,config", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_matches_keras_step_by_step(keras, name, config):
    start, grads = _problem(len(name) + len(str(config)))
    theirs = _keras_optimizer(keras, name, config)
    # minigrad's optimizer from the config Keras writes (a schedule as Keras's nested dict)
    ours = optimizers.deserialize({"class_name": name, "config": theirs.get_config()})
    assert type(ours).__name__ == name
    _assert_same_config(ours.get_config(), theirs.get_config())

    k_vars = {k: keras.Variable(v, name=k) for k, v in start.items()}
    m_vars = {k: Variable(v.copy(), name=k, path=f"layer/{k}") for k, v in start.items()}
    exclude = config.get("exclude")
    if exclude is not None:
        if "var_list" in exclude:
            theirs.exclude_from_weight_decay(var_list=[k_vars[k] for k in exclude["var_list"]])
            ours.exclude_from_weight_decay(var_list=[m_vars[k] for k in exclude["var_list"]])
        else:
            theirs.exclude_from_weight_decay(var_names=exclude["var_names"])
            ours.exclude_from_weight_decay(var_names=exclude["var_names"])

    for step, g in enumerate(grads, start=1):
        theirs.apply_gradients([(keras.ops.convert_to_tensor(g[k]), k_vars[k]) for k in SHAPES])
        ours.apply_gradients([(g[k], m_vars[k]) for k in SHAPES])
        assert ours.iterations == step == int(_numpy(theirs.iterations))
        for k in SHAPES:
            assert m_vars[k].data.dtype == np.float32
            np.testing.assert_allclose(m_vars[k].data, _numpy(k_vars[k].value), rtol=1e-4,
                                       atol=1e-6, err_msg=f"{name} {config}: {k}, step {step}")
        if ours.use_ema:
            averages = dict(ours.get_state())
            for k, keras_average in zip(SHAPES, theirs._model_variables_moving_average):
                np.testing.assert_allclose(averages[f"layer/{k}/average"],
                                           _numpy(keras_average.value), rtol=1e-4, atol=1e-6,
                                           err_msg=f"{name} {config}: average of {k}, step {step}")
    # the same optimizer variables as Keras, in Keras's order (its learning rate aside)
    keras_state = [v for v in theirs.variables if not v.path.endswith("learning_rate")]
    ours_state = ours.get_state()
    if name == "Nadam":  # Keras keeps the product of momentum factors as a variable; we rebuild it
        keras_state = keras_state[:-1]
    assert len(ours_state) == len(keras_state)
    for (our_name, ours_value), keras_var in zip(ours_state[1:], keras_state[1:]):
        assert keras_var.path.endswith("_" + our_name.split("/")[-1]), (our_name, keras_var.path)
        np.testing.assert_allclose(ours_value, _numpy(keras_var.value), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ["AdamW", "Nadam", "Lion"])
def test_keras_defaults_and_config(keras, name):
    theirs = getattr(keras.optimizers, name)()
    ours = getattr(optimizers, name)()
    got = ours.get_config()
    expected = theirs.get_config()
    # Keras numbers its automatic names ("lion_3") when several live in one session
    assert re.fullmatch(got["name"] + r"(_\d+)?", expected["name"])
    _assert_same_config(got, dict(expected, name=got["name"]))
    assert type(optimizers.get(name.lower())) is type(ours)
    again = optimizers.deserialize(keras.optimizers.serialize(theirs))
    assert type(again) is type(ours)
    _assert_same_config(again.get_config(), expected)


def test_schedule_from_keras_nested_dict(keras):
    schedule = keras.optimizers.schedules.CosineDecayRestarts(0.1, 5, t_mul=1.5, m_mul=0.5)
    entry = keras.optimizers.serialize(keras.optimizers.AdamW(learning_rate=schedule))
    ours = optimizers.deserialize(entry)
    assert type(ours._learning_rate).__name__ == "CosineDecayRestarts"
    assert ours.get_config()["learning_rate"]["config"] == schedule.get_config()


# -- fit ----------------------------------------------------------------------------------------
def _data(seed=0, n=64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], np.float32) + 0.3).astype(np.float32)
    return x, y


def _model(seed=0):
    model = Sequential([L.Dense(8, activation="tanh", input_shape=(4,), name="hidden"),
                        L.Dense(1, name="out")], name="tiny")
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.weights])
    return model


def test_fit_with_adamw_trains_and_resumes_from_a_file(tmp_path):
    x, y = _data()

    def fresh():
        model = _model()
        model.compile(optimizers.AdamW(0.02, weight_decay=0.05), "mean_squared_error")
        model.optimizer.exclude_from_weight_decay(var_names=["bias"])
        return model

    straight = fresh()
    loss = straight.fit(x, y, epochs=4, batch_size=16, seed=1, verbose=0).history["loss"]
    assert loss[-1] < 0.5 * loss[0]
    first = fresh()
    first.fit(x, y, epochs=2, batch_size=16, seed=1, verbose=0)
    first.save(tmp_path / "ckpt")
    resumed = load_model(tmp_path / "ckpt")
    assert type(resumed.optimizer) is optimizers.AdamW and resumed.optimizer.weight_decay == 0.05
    # which variables skip weight decay is not in Keras's config either: it is set again
    resumed.optimizer.exclude_from_weight_decay(var_names=["bias"])
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, seed=1, verbose=0)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", [
    lambda: optimizers.Nadam(0.01, use_ema=True, ema_momentum=0.9),
    lambda: optimizers.Lion(0.003, use_ema=True, weight_decay=0.1),
])
def test_resume_nadam_lion_with_ema_bit_identically(tmp_path, optimizer):
    x, y = _data(1)
    first = _model(1)
    first.compile(optimizer(), "mean_squared_error")
    first.fit(x, y, epochs=2, batch_size=16, seed=2, verbose=0)
    # fit ended with the averages in the weights (finalize_variable_values): training goes on
    # from them, in memory as from the file
    first.save(tmp_path / "ckpt")
    resumed = load_model(tmp_path / "ckpt")
    assert resumed.optimizer.iterations == first.optimizer.iterations == 8
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, seed=2, verbose=0)
    continued = _model(1)
    continued.compile(optimizer(), "mean_squared_error")
    continued.fit(x, y, epochs=2, batch_size=16, seed=2, verbose=0)
    continued.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, seed=2, verbose=0)
    for a, b in zip(resumed.get_weights(), continued.get_weights()):
        np.testing.assert_array_equal(a, b)
    for (na, a), (nb, b) in zip(resumed.optimizer.get_state(), continued.optimizer.get_state()):
        assert na == nb
        np.testing.assert_array_equal(a, b)


def test_fit_with_ema_ends_with_the_averages_as_keras(keras):
    x, y = _data(2, n=32)
    ours = _model(2)
    ours.compile(optimizers.Adam(0.05, use_ema=True, ema_momentum=0.8), "mean_squared_error")
    theirs = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"),
                               keras.layers.Dense(1)])
    theirs.set_weights(ours.get_weights())
    theirs.compile(keras.optimizers.Adam(0.05, use_ema=True, ema_momentum=0.8),
                   "mean_squared_error")
    theirs.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    ours.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, _numpy(b), rtol=1e-4, atol=1e-5)
    averages = [a for n, a in ours.optimizer.get_state() if n.endswith("/average")]
    for a, w in zip(averages, ours.get_weights()):
        np.testing.assert_array_equal(a, w)


@pytest.mark.parametrize("make", [
    lambda o: o.Adam(0.01, amsgrad=True, use_ema=True),
    lambda o: o.RMSprop(0.01, momentum=0.5, centered=True),
    lambda o: o.AdamW(0.01, weight_decay=0.1),
    lambda o: o.Lion(0.01),
])
def test_keras_files_carry_the_optimizer_state_both_ways(keras, tmp_path, make):
    """get_state is in Keras 3's order of optimizer variables, so a .keras file written by one
    resumes in the other (Nadam aside: Keras also stores its running product)."""
    x, y = _data(3, n=16)
    ours = _model(3)
    ours.compile(make(optimizers), "mean_squared_error")
    ours.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    keras_state = [v for v in theirs.optimizer.variables if not v.path.endswith("learning_rate")]
    state = ours.optimizer.get_state()
    assert len(keras_state) == len(state)
    for (name, value), variable in zip(state, keras_state):
        np.testing.assert_array_equal(value, _numpy(variable.value), err_msg=name)

    theirs.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    theirs.save(tmp_path / "theirs.keras")
    again = load_model(tmp_path / "theirs.keras")
    keras_state = [v for v in theirs.optimizer.variables if not v.path.endswith("learning_rate")]
    assert again.optimizer.iterations == 4
    for (name, value), variable in zip(again.optimizer.get_state(), keras_state):
        np.testing.assert_allclose(value, _numpy(variable.value), rtol=1e-6, err_msg=name)
