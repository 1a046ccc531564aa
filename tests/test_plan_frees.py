"""The execution plan lets go of each value once no later step reads it (minigrad/models/plan.py),
so that a forward pass without a graph holds only the activations in use, not all of them."""
import weakref

import numpy as np

import minigrad as mg
from minigrad import layers


class _Spy(layers.Layer):
    """The identity, remembering (weakly) every tensor it returned."""

    def __init__(self, seen, **kwargs):
        super().__init__(**kwargs)
        self.seen = seen

    def call(self, inputs, training=False):
        out = inputs * 1.0
        self.seen.append(weakref.ref(out))
        return out


def _alive(seen):
    return sum(ref() is not None for ref in seen)


def test_a_chain_holds_only_the_values_still_to_be_read():
    seen, alive = [], []

    class Probe(_Spy):
        def call(self, inputs, training=False):
            alive.append(_alive(seen))   # how many earlier outputs are still held, at this step
            return super().call(inputs, training)

    model = mg.models.Sequential([layers.Input((4,))] + [Probe(seen) for _ in range(6)])
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    with mg.no_grad():
        y = model(x)
    np.testing.assert_array_equal(y.data, x)
    assert alive == [0, 1, 1, 1, 1, 1]   # only the input of the running step
    assert _alive(seen) == 1              # the output, returned


def test_a_value_read_twice_lives_until_its_last_reader_and_outputs_are_kept():
    seen = []
    inputs = layers.Input((3,))
    a = _Spy(seen, name="a")(inputs)
    b = _Spy(seen, name="b")(a)
    c = _Spy(seen, name="c")(b)
    total = layers.Add(name="add")([a, c])             # a is read by b and, later, by add
    model = mg.models.Model(inputs, [total, b])        # b is also an output
    steps = {str(step): step for step in model._plan.steps}
    slot = {name: steps[name].targets[0] for name in ("a", "b", "c", "add")}
    assert slot["a"] in steps["add"].frees and slot["a"] not in steps["b"].frees
    assert slot["c"] in steps["add"].frees
    assert all(slot[name] not in step.frees for step in steps.values() for name in ("b", "add"))
    x = np.ones((2, 3), np.float32)
    with mg.no_grad():
        out_total, out_b = model(x)
    np.testing.assert_array_equal(out_total.data, 2 * x)
    np.testing.assert_array_equal(out_b.data, x)
    again_total, again_b = model(x)                   # and again, with a graph: same values
    np.testing.assert_array_equal(again_total.data, 2 * x)


def test_gradients_are_unchanged_when_values_are_let_go():
    mg.initializers.set_random_seed(3)
    model = mg.models.Sequential([
        layers.Conv2D(4, 3, padding="same", input_shape=(6, 6, 2)),
        layers.BatchNormalization(), layers.ReLU(max_value=6.0),
        layers.Conv2D(3, 1), layers.GlobalAveragePooling2D(), layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(3, 6, 6, 2)).astype(np.float32)
    out = model(x, training=True)
    out.sum().backward()
    grads = [w.grad.copy() for w in model.trainable_weights]
    # the same layers called one by one, without the plan
    for w in model.trainable_weights:
        w.grad = None
    h = mg.Tensor(x)
    for layer in model.layers:
        h = layer(h, training=True)
    np.testing.assert_allclose(out.data, h.data, rtol=1e-5, atol=1e-6)
    h.sum().backward()
    for g, w in zip(grads, model.trainable_weights):
        np.testing.assert_allclose(g, w.grad, rtol=1e-4, atol=1e-5)
