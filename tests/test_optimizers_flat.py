"""Adam's update over flat arrays (minigrad.optimizers.flat) against its per-variable formula:
the same bits, step after step, whatever happens to the variables and the state in between."""
import numpy as np
import pytest

from minigrad.optimizers import Adam, AdamW
from minigrad.optimizers.flat import FlatSlots
from minigrad.variable import Variable


class OneByOne(Adam):
    """Adam with its own ``update_step`` (the same formula): the base class then updates the
    variables one by one, the reference path."""

    def update_step(self, gradient, variable, slots, learning_rate):
        super().update_step(gradient, variable, slots, learning_rate)


class OneByOneW(AdamW):
    def update_step(self, gradient, variable, slots, learning_rate):
        super().update_step(gradient, variable, slots, learning_rate)


SHAPES = [(3, 3, 1, 16), (16,), (1, 1, 16, 32), (32,), (7,), (2, 5)]


def _variables(seed, dtypes=None):
    rng = np.random.default_rng(seed)
    dtypes = dtypes or [np.float32] * len(SHAPES)
    return [Variable(rng.standard_normal(s).astype(d), f"w{i}")
            for i, (s, d) in enumerate(zip(SHAPES, dtypes))]


def _grads(rng, variables, missing=()):
    return [None if i in missing else (rng.standard_normal(v.data.shape) * 1e-2).astype(v.data.dtype)
            for i, v in enumerate(variables)]


def _run(make, steps, seed=0, dtypes=None, missing_at=None, between=None):
    variables = _variables(seed, dtypes)
    opt = make()
    rng = np.random.default_rng(seed + 1)
    for step in range(steps):
        missing = (missing_at or {}).get(step, ())
        opt.apply_gradients(list(zip(_grads(rng, variables, missing), variables)))
        if between is not None:
            between(step, opt, variables)
    return [v.data.copy() for v in variables], opt.get_state()


def _same(a, b):
    (wa, sa), (wb, sb) = a, b
    assert all(x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(wa, wb))
    assert [n for n, _ in sa] == [n for n, _ in sb]
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(sa, sb))


@pytest.mark.parametrize("kwargs", [{}, {"amsgrad": True}, {"learning_rate": 0.05, "beta_1": 0.5,
                                                           "beta_2": 0.9, "epsilon": 1e-3}])
def test_flat_update_is_the_per_variable_update_bit_for_bit(kwargs):
    _same(_run(lambda: Adam(**kwargs), 7), _run(lambda: OneByOne(**kwargs), 7))


def test_float64_adamw_and_a_schedule():
    from minigrad import schedules
    lr = lambda: schedules.CosineDecay(0.01, decay_steps=5)   # noqa: E731
    dt = [np.float64] * len(SHAPES)
    _same(_run(lambda: AdamW(lr()), 6, dtypes=dt), _run(lambda: OneByOneW(lr()), 6, dtypes=dt))


def test_mixed_dtypes_fall_back_to_one_by_one():
    dt = [np.float32, np.float64] * (len(SHAPES) // 2)
    _same(_run(Adam, 4, dtypes=dt), _run(OneByOne, 4, dtypes=dt))


def test_a_missing_gradient_changes_the_layout_and_keeps_the_state():
    missing = {2: (1, 4), 3: (0,), 5: (1, 4)}
    with pytest.warns(UserWarning, match="gradients do not exist"):
        a = _run(Adam, 7, missing_at=missing)
    with pytest.warns(UserWarning, match="gradients do not exist"):
        b = _run(OneByOne, 7, missing_at=missing)
    _same(a, b)


def test_set_state_and_new_data_arrays_between_steps():
    def between(step, opt, variables):
        if step == 2:      # put back the state of this very moment: fresh slot arrays
            opt.set_state(opt.get_state())
        if step == 4:      # a variable's data replaced by a new array (as loading weights may)
            variables[3].data = variables[3].data.copy()
    _same(_run(Adam, 7, between=between), _run(OneByOne, 7, between=between))


def test_slots_are_views_that_get_state_sees():
    variables = _variables(0)
    opt = Adam(0.1)
    rng = np.random.default_rng(1)
    opt.apply_gradients(list(zip(_grads(rng, variables), variables)))
    state = dict(opt.get_state())
    for i, v in enumerate(variables):
        m = opt._slots[i]["momentum"]
        assert np.shares_memory(m, opt._flat.prepare(variables, opt._slots)[0]["momentum"])
        assert m.shape == v.data.shape and np.array_equal(state[f"w{i}/momentum"], m)
        assert m.any()


def test_the_same_variable_twice_is_updated_twice_as_before():
    def run(make):
        v = Variable(np.ones(3, np.float32), "w")
        opt = make(0.1)
        for _ in range(3):
            opt.apply_gradients([(np.full(3, 0.5, np.float32), v), (np.full(3, -0.2, np.float32), v)])
        return v.data

    assert np.array_equal(run(Adam), run(OneByOne))


def test_flat_slots_refuses_mixed_dtypes_and_duplicates():
    flat = FlatSlots(("momentum",))
    a = Variable(np.zeros(2, np.float32), "a")
    b = Variable(np.zeros(2, np.float64), "b")
    slots = [{"momentum": np.zeros(2, np.float32)}, {"momentum": np.zeros(2, np.float64)}]
    assert flat.prepare([a, b], slots) is None
    assert flat.prepare([a, a], [slots[0], slots[0]]) is None
    state = flat.prepare([a], slots[:1])
    assert state[0]["momentum"].shape == (2,) and np.shares_memory(state[0]["momentum"],
                                                                  slots[0]["momentum"])
    assert flat.prepare([a], slots[:1]) is state    # unchanged: the same layout
