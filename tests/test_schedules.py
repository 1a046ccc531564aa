"""Learning-rate schedules: Keras 3 as the oracle over 30 steps (cycles, warmup and restarts
included), the formulas written out here, configs (Keras's nested dicts) and argument errors."""
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optimizers, schedules
from minigrad.optimizers import SGD

CASES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 4, "decay_rate": 0.7}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 4, "decay_rate": 0.7,
                          "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [3, 10, 20], "values": [1.0, 0.5, 0.1, 0.01]}),
    ("PiecewiseConstantDecay", {"boundaries": [0], "values": [0.3, 0.2]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "end_learning_rate": 0.01,
                         "power": 2.0}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 7, "end_learning_rate": 0.01,
                         "power": 0.5, "cycle": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 5, "decay_rate": 0.5,
                          "staircase": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 20}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 12, "alpha": 0.2}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 12, "warmup_target": 0.2,
                     "warmup_steps": 6}),
    ("CosineDecay", {"initial_learning_rate": 0.05, "decay_steps": 10, "alpha": 0.1,
                     "warmup_target": 0.1, "warmup_steps": 4}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 5}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 1.0,
                             "m_mul": 0.5}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3, "t_mul": 1.5,
                             "m_mul": 0.8, "alpha": 0.1}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 2, "t_mul": 3.0}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_keras_over_30_steps(keras, name, kwargs):
    theirs = getattr(keras.optimizers.schedules, name)(**kwargs)
    entry = keras.optimizers.schedules.serialize(theirs)  # {"module", "class_name", "config", ...}
    ours = schedules.deserialize(entry)
    assert type(ours).__name__ == name and ours.get_config() == theirs.get_config()
    for step in range(30):
        # Keras computes in float32
        assert ours(step) == pytest.approx(float(theirs(step)), rel=1e-5, abs=1e-7), step


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_optimizer_uses_the_schedule_at_each_step(name, kwargs):
    schedule = getattr(schedules, name)(**kwargs)
    opt = SGD(learning_rate=schedule)
    w = mg.Tensor(np.zeros(1), requires_grad=True)
    for step in range(12):
        before = w.data.copy()
        opt.apply_gradients([(np.ones(1), w)])
        assert (before - w.data)[0] == pytest.approx(schedule(step), rel=1e-12, abs=1e-15)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert again.get_config() == opt.get_config()


def test_piecewise_constant_edges():
    s = schedules.PiecewiseConstantDecay([3, 6], [1.0, 0.5, 0.1])
    # a boundary belongs to the interval it closes: step <= b0 -> v0, b0 < step <= b1 -> v1
    assert [s(i) for i in range(8)] == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.1]
    assert s(3.5) == 0.5 and s(np.int64(7)) == 0.1


def test_polynomial_decay_cycle_formula():
    s = schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.0, power=1.0, cycle=True)
    assert s(0) == pytest.approx(0.1) and s(10) == pytest.approx(0.0, abs=1e-15)
    # step 11: the second cycle, decay_steps stretched to 20
    assert s(11) == pytest.approx(0.1 * (1 - 11 / 20))
    flat = schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.02, power=3.0)
    assert flat(5) == pytest.approx(0.08 * 0.5 ** 3 + 0.02) and flat(50) == pytest.approx(0.02)


def test_inverse_time_formula():
    s = schedules.InverseTimeDecay(0.2, 4, 0.5, staircase=True)
    assert [s(i) for i in (0, 3, 4, 9)] == pytest.approx([0.2, 0.2, 0.2 / 1.5, 0.2 / 2.0])


def test_cosine_decay_restarts_edges():
    s = schedules.CosineDecayRestarts(1.0, 5, t_mul=2.0, m_mul=0.5, alpha=0.0)
    # restarts at steps 5 and 15 (periods of 5, 10, 20), each starting m_mul times lower
    assert s(0) == 1.0 and s(5) == pytest.approx(0.5) and s(15) == pytest.approx(0.25)
    assert s(10) == pytest.approx(0.5 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert s(4.999) < 1e-5
    third = schedules.CosineDecayRestarts(1.0, 3, t_mul=1.5)  # periods 3, 4.5, 6.75 steps
    assert third(7.5) == pytest.approx(1.0) and third(3) == pytest.approx(1.0)
    same = schedules.CosineDecayRestarts(1.0, 4, t_mul=1.0)
    assert [same(i) for i in (0, 4, 8)] == pytest.approx([1.0, 1.0, 1.0])
    assert same(2) == pytest.approx(0.5)


def test_cosine_decay_warmup_edges():
    s = schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=5)
    assert [s(0), s(5)] == pytest.approx([0.0, 1.0])
    assert s(15) == pytest.approx(0.0, abs=1e-12) and s(100) == s(15)


def test_keras_default_names_and_config_keys():
    assert schedules.PiecewiseConstantDecay([1], [1.0, 0.5]).get_config() == {
        "boundaries": [1], "values": [1.0, 0.5], "name": "PiecewiseConstant"}
    assert schedules.PolynomialDecay(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 10, "end_learning_rate": 0.0001,
        "power": 1.0, "cycle": False, "name": "PolynomialDecay"}
    assert schedules.InverseTimeDecay(0.1, 10, 0.5).get_config()["name"] == "InverseTimeDecay"
    assert schedules.CosineDecayRestarts(0.1, 10).get_config() == {
        "initial_learning_rate": 0.1, "first_decay_steps": 10, "t_mul": 2.0, "m_mul": 1.0,
        "alpha": 0.0, "name": "SGDRDecay"}
    assert optimizers.schedules.PolynomialDecay is schedules.PolynomialDecay


def test_bad_arguments():
    with pytest.raises(ValueError, match="values must have one more entry than boundaries"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])
    with pytest.raises(ValueError, match="boundaries must be in increasing order"):
        schedules.PiecewiseConstantDecay([5, 2], [1.0, 0.5, 0.1])
    with pytest.raises(TypeError, match="values must be a finite number, got 'a'"):
        schedules.PiecewiseConstantDecay([1], [1.0, "a"])
    with pytest.raises(TypeError, match="boundaries and values must be lists"):
        schedules.PiecewiseConstantDecay(3, [1.0])
    with pytest.raises(ValueError, match="decay_steps must be a finite positive number, got 0"):
        schedules.PolynomialDecay(0.1, 0)
    with pytest.raises(TypeError, match="cycle must be True or False, got 1"):
        schedules.PolynomialDecay(0.1, 5, cycle=1)
    with pytest.raises(ValueError, match="decay_rate must be a finite non-negative number"):
        schedules.InverseTimeDecay(0.1, 5, -1.0)
    with pytest.raises(ValueError, match="first_decay_steps must be a finite positive number"):
        schedules.CosineDecayRestarts(0.1, -2)
    with pytest.raises(ValueError, match="t_mul must be a finite positive number, got 0"):
        schedules.CosineDecayRestarts(0.1, 5, t_mul=0)
    with pytest.raises(ValueError, match="initial_learning_rate must be a finite non-negative"):
        schedules.InverseTimeDecay(-0.1, 5, 0.5)
    with pytest.raises(ValueError, match="step must be a finite non-negative number, got -1"):
        schedules.PolynomialDecay(0.1, 5)(-1)
    with pytest.raises(ValueError, match="unknown learning rate schedule 'NoSuchDecay'"):
        schedules.deserialize({"class_name": "NoSuchDecay", "config": {}})
