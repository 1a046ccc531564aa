"""The graph and the backward walk (minigrad/engine/autograd.py, minigrad/engine/function.py):
accumulation, diamonds, deep chains, freeing, retain_graph, no_grad, dtypes, what the walk checks,
which gradient arrays a leaf keeps, and what the engine imports."""
import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
from minigrad.engine import Function, unbroadcast
from conftest import broadcastable_shapes, seeds, uniform


def test_gradients_accumulate_until_zero_grad():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [2 + 3, 4 + 3])
    x.zero_grad()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_diamond_graph_sums_both_paths():
    x = mg.Tensor([1.0, -2.0], requires_grad=True)
    a = x * 2          # used by two ops below
    d = a * 3 + a * 4  # d = 14 x
    d.sum().backward()
    np.testing.assert_array_equal(x.grad, [14.0, 14.0])


def test_a_node_waits_for_its_longest_consumer_path():
    x = mg.Tensor([1.0], requires_grad=True)
    a = x * 2
    long = a
    for _ in range(10):
        long = long * 1.0
    (long + a).sum().backward()  # a must not pass its gradient on before the long path arrives
    np.testing.assert_array_equal(x.grad, [4.0])


def test_a_tensor_used_twice_by_one_op():
    x = mg.Tensor([3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0])
    y = mg.Tensor([1.0, 2.0], requires_grad=True)
    z = y + y  # Add hands the same gradient array to both inputs: they must add up, not alias
    z.sum().backward()
    np.testing.assert_array_equal(y.grad, [2.0, 2.0])


def test_two_leaves_never_share_a_gradient_array():
    a = mg.Tensor([1.0], requires_grad=True)
    b = mg.Tensor([1.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad += 10  # an optimizer may update in place
    np.testing.assert_array_equal(b.grad, [1.0])


def test_chain_of_100000_ops_backprops_and_frees_the_graph():
    x = mg.Tensor(np.ones(2), requires_grad=True)
    y = x
    for i in range(100_000):
        y = y * 1.0 if i % 2 else y + 0.5
        if i == 50_000:
            middle = weakref.ref(y)  # a tensor only the graph keeps alive
    assert middle() is not None
    y.sum().backward()  # an iterative walk: no RecursionError
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    np.testing.assert_allclose(y.data, [25_001.0, 25_001.0])
    gc.collect()
    assert middle() is None, "backward() must free the graph it walked"


def test_a_deep_graph_dropped_without_backward_is_freed_without_crashing():
    x = mg.Tensor(np.ones(1), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    first = weakref.ref(y._node.inputs[0])
    del y  # deallocating 100,000 nested nodes must not overflow the C stack
    gc.collect()
    assert first() is None


def test_retain_graph_allows_a_second_backward():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])
    with pytest.raises(RuntimeError, match="backward: this graph was already freed .* retain_graph=True"):
        y.backward()


def test_retain_graph_keeps_saved_arrays():
    x = mg.Tensor(np.ones(3), requires_grad=True)
    h = x.exp()
    saved = weakref.ref(h._node.y)  # Exp saves its output for backward
    y = h.sum()
    y.backward(retain_graph=True)
    assert saved() is not None
    del h
    y.backward()
    assert saved() is None


def test_no_grad_records_nothing_and_restores_the_mode():
    x = mg.Tensor([1.0], requires_grad=True)
    assert mg.is_grad_enabled()
    with mg.no_grad():
        assert not mg.is_grad_enabled()
        y = x * 2 + 1
        with mg.no_grad():
            pass
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()
    assert not y.requires_grad and y._node is None
    with pytest.raises(ZeroDivisionError):
        with mg.no_grad():
            1 / 0
    assert mg.is_grad_enabled()
    (y * x).sum().backward()  # y acts as a constant
    np.testing.assert_array_equal(x.grad, [3.0])


def test_inputs_that_do_not_require_grad_get_none():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    c = mg.Tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    assert not (c * 2).requires_grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_keep_the_dtype(dtype):
    x = mg.Tensor(np.ones(3, dtype=dtype), requires_grad=True)
    y = ((x * 2).exp() / 3 - x).sum()
    assert y.dtype == dtype
    y.backward()
    assert x.grad.dtype == dtype


class Spy(Function):
    """Identity that records the dtype of the gradient it receives."""
    seen = []

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        Spy.seen.append(grad.dtype)
        return grad


def test_mixed_dtypes_give_each_tensor_a_gradient_of_its_own_dtype():
    a = mg.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = mg.Tensor(np.ones(2, dtype=np.float64), requires_grad=True)
    Spy.seen.clear()
    y = (Spy.apply(a) * b).sum()
    assert y.dtype == np.float64
    y.backward()
    assert Spy.seen == [np.float32]  # the float32 part of the graph sees float32 gradients
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


class WrongShape(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad[..., :1]


class TooManyGrads(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Recorder(Function):
    """a * b that records what ctx says about its inputs."""

    @staticmethod
    def forward(ctx, a, b, *, scale):
        ctx.scale = scale
        Recorder.needs = ctx.needs_input_grad
        return a * b * scale

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


def test_the_walk_checks_what_backward_returns():
    x = mg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(1,\) "
                                           r"for an input of shape \(3,\)"):
        WrongShape.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="TooManyGrads.backward returned 2 gradients for 1 input; "
                                           r"it must return one .* per positional argument"):
        TooManyGrads.apply(x).sum().backward()


class Product(Function):
    """a * b, whose backward returns a list (or, in subclasses below, something else)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return a * b

    @staticmethod
    def backward(ctx, grad):
        return [grad * ctx.b, grad * ctx.a]


def test_backward_may_return_a_list():
    a = mg.Tensor([1.0, 2.0], requires_grad=True)
    b = mg.Tensor([3.0, 5.0], requires_grad=True)
    Product.apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [3.0, 5.0])
    np.testing.assert_array_equal(b.grad, [1.0, 2.0])


@pytest.mark.parametrize("wrong, kind", [
    (lambda ctx, grad: {"a": grad, "b": grad}, "dict"),
    (lambda ctx, grad: (g for g in (grad, grad)), "generator"),
    (lambda ctx, grad: 1.0, "float"),
])
def test_backward_returning_something_else_says_what_it_must_return(wrong, kind):
    op = type("Odd", (Product,), {"backward": staticmethod(wrong)})
    a = mg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"Odd.backward must return one gradient \(an ndarray, or None\) "
                                        rf"per input, in a tuple or a list .*it returned a {kind}"):
        op.apply(a, a).sum().backward()


class Scale(Function):
    """alpha * x for a number alpha, written as if alpha could be passed positionally."""

    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x * alpha

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.alpha


def test_a_parameter_goes_to_apply_by_keyword():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    Scale.apply(x, alpha=3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_a_parameter_passed_positionally_is_an_input_and_backward_says_to_use_a_keyword():
    # the number becomes a second input, so backward's one gradient is one too few: the error
    # names forward's own argument and the value to pass by keyword
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Scale.backward returned 1 gradient for 2 inputs; .*"
                                           r"pass a parameter that is not a tensor by keyword, "
                                           r"as in Scale.apply\(x, alpha=3\)"):
        Scale.apply(x, 3.0).sum().backward()


def test_a_parameter_that_is_no_number_passed_positionally_fails_in_apply():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"Scale: every input must be .* got str.* "
                                        r"Every positional argument of Scale.apply is an input; "
                                        r"pass a parameter that is not a tensor by keyword"):
        Scale.apply(x, "same")


def test_function_apply_converts_inputs_and_passes_attrs():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    out = Recorder.apply(x, [3.0, 4.0], scale=2.0)  # a list becomes a constant Tensor
    assert Recorder.needs == (True, False)
    np.testing.assert_array_equal(out.data, [6.0, 16.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    with mg.no_grad():
        assert Recorder.apply(x, x, scale=1.0)._node is None


def test_a_function_without_forward_says_so():
    class Empty(Function):
        pass

    with pytest.raises(NotImplementedError, match="an op must define forward"):
        Empty.apply(mg.Tensor([1.0]))


@settings(max_examples=50, deadline=None)
@given(pair=broadcastable_shapes(), seed=seeds)
def test_unbroadcast_is_the_adjoint_of_broadcasting(pair, seed):
    # for every g and v: <unbroadcast(g, s), v> == <g, broadcast(v)>, which defines the gradient
    shape, other = pair
    out_shape = np.broadcast_shapes(shape, other)
    rng = np.random.default_rng(seed)
    g, v = uniform(rng, out_shape), uniform(rng, shape)
    reduced = unbroadcast(g, shape)
    assert reduced.shape == shape
    np.testing.assert_allclose(np.sum(reduced * v), np.sum(g * np.broadcast_to(v, out_shape)),
                               rtol=1e-12, atol=1e-12)


class ScalarSum(Function):
    """sum(x) whose forward returns a NumPy scalar (as np.sum does), not a 0-d array."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return np.sum(x)

    @staticmethod
    def backward(ctx, grad):
        return np.broadcast_to(grad, ctx.shape).copy()


def test_a_forward_returning_a_numpy_scalar_still_gives_an_array():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = ScalarSum.apply(x)
    assert type(y.data) is np.ndarray and y.shape == ()
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


# ---- leaf gradients: an array the op made is kept; the seed, a view, an array returned for
# ---- two inputs or passed on unchanged is copied

def test_leaf_gradient_never_aliases_the_seed_or_a_shared_gradient():
    x = mg.Tensor(np.ones((3, 4), np.float32), requires_grad=True)
    seed = np.full((3, 4), 2.0, np.float32)
    (x + 0.0).backward(seed)                  # Add hands the seed itself back for x
    assert not np.shares_memory(x.grad, seed)
    seed[:] = 7
    np.testing.assert_array_equal(x.grad, 2)

    y = mg.Tensor(np.ones(5, np.float32), requires_grad=True)
    z = mg.Tensor(np.ones(5, np.float32), requires_grad=True)
    (y * 3.0 + z * 1.0 + (y * 1.0)).sum().backward()
    assert not np.shares_memory(y.grad, z.grad)
    np.testing.assert_array_equal(y.grad, 4)
    np.testing.assert_array_equal(z.grad, 1)

    w = mg.Tensor(np.ones(4, np.float32), requires_grad=True)
    (w + w).sum().backward()                  # one array handed to both inputs of Add
    np.testing.assert_array_equal(w.grad, 2)


class Twice(Function):
    """f(a, b) = 2a + 2b, whose backward returns ONE new array for both inputs."""

    @staticmethod
    def forward(ctx, a, b):
        return 2 * (a + b)

    @staticmethod
    def backward(ctx, grad):
        g = grad * 2
        return g, g


class Window(Function):
    """The identity, whose backward returns a view into a larger array it made (and keeps)."""
    held = []

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        big = np.concatenate([grad, grad])
        Window.held.append(big)
        return big[:len(grad)]


def test_a_view_gets_a_copy():
    x = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    Window.held.clear()
    Window.apply(x).sum().backward()
    assert x.grad.base is None and not np.shares_memory(x.grad, Window.held[0])
    Window.held[0][:] = 5
    np.testing.assert_array_equal(x.grad, 1)


def test_one_array_returned_for_two_inputs_gives_two_arrays():
    a = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    Twice.apply(a, b).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a.grad += 10                              # an optimizer may update in place
    np.testing.assert_array_equal(b.grad, 2)


def test_a_gradient_passed_on_unchanged_through_two_paths_gives_two_arrays():
    # Add returns its incoming gradient G (made by the Mul, not the seed) for both of its inputs,
    # two nodes made by ops; each `+ 0.0` passes G on unchanged to its own leaf. Neither leaf may
    # keep G itself, though G is not the seed, nor a view, nor returned twice to the leaves.
    a = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    (((a + 0.0) + (b + 0.0)) * 2.0).sum().backward()
    assert not np.shares_memory(a.grad, b.grad)
    a.grad += 10
    np.testing.assert_array_equal(b.grad, 2)


def test_a_new_array_is_kept_without_a_copy_even_if_the_op_still_refers_to_it():
    # the rule is about values, not references: an array the op made for this call is the
    # leaf's (an op must not change an array after returning it)
    returned = []

    class Fresh(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            g = grad * 2
            returned.append(g)
            return g

    x = mg.Tensor(np.ones(3, np.float32), requires_grad=True)
    Fresh.apply(x).sum().backward()
    assert x.grad is returned[0]
    np.testing.assert_array_equal(x.grad, 2)


def test_no_grad_forward_is_told_that_no_input_needs_a_gradient():
    seen = []

    class Probe(mg.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(ctx.needs_input_grad)
            return x.copy()

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = mg.Tensor(np.ones(2, np.float32), requires_grad=True)
    with mg.no_grad():
        Probe.apply(x)
    Probe.apply(x)
    assert seen == [(False,), (True,)]


def test_the_engine_imports_only_ops_from_the_rest_of_minigrad_and_counts_no_references():
    # engine/ is what a student reads first: it stands on NumPy alone, except that Tensor's
    # operators call minigrad.ops (the one mutual use); the walk reasons about values only
    import ast
    import pathlib

    import minigrad.engine

    outside = []
    for path in sorted(pathlib.Path(minigrad.engine.__file__).parent.glob("*.py")):
        text = path.read_text()
        assert "getrefcount" not in text and "_buffers" not in text, path.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom):
                above = node.level >= 2  # from .. import x: out of engine/
                absolute = node.level == 0 and (node.module or "").startswith("minigrad")
                if above or absolute:
                    outside.append((path.name, ast.unparse(node)))
            elif isinstance(node, ast.Import):
                outside += [(path.name, alias.name) for alias in node.names
                            if alias.name.startswith("minigrad")]
    assert outside == [("tensor.py", "from .. import ops")]
