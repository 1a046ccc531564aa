"""The Tensor (minigrad/engine/tensor.py): construction and dtypes, properties, leaving the graph,
the operators and methods written in its class, and the errors of a wrong construction or a wrong
backward() call."""
import os

import numpy as np
import pytest
from hypothesis import given, settings

import minigrad as mg
from minigrad import ops
from conftest import seeds, shapes, uniform


@pytest.mark.parametrize("data, dtype", [
    ([1.0, 2.0], np.float32),            # Python floats: float32, as in PyTorch
    (1.5, np.float32),
    ([[1, 2], [3, 4]], np.float32),       # ints and bools become float32
    (np.array([True, False]), np.float32),
    (np.arange(3, dtype=np.int64), np.float32),
    (np.ones(2, dtype=np.float16), np.float32),
    (np.ones(2, dtype=np.float32), np.float32),
    (np.ones(2, dtype=np.float64), np.float64),  # float64 given: float64 kept
    (np.float64(2.0), np.float64),
])
def test_float32_by_default_float64_kept(data, dtype):
    t = mg.Tensor(data)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=dtype))


def test_dtype_argument_and_copying_from_a_tensor():
    assert mg.Tensor([1.0], dtype="float64").dtype == np.float64
    assert mg.Tensor(np.ones(2), dtype=np.float32).dtype == np.float32
    t = mg.Tensor(np.ones(2))
    assert mg.Tensor(t).dtype == np.float64
    assert mg.Tensor(t, dtype="float32").dtype == np.float32


@settings(max_examples=30, deadline=None)
@given(shape=shapes(), seed=seeds)
def test_shape_is_kept_exactly(shape, seed):
    x = uniform(np.random.default_rng(seed), shape)
    t = mg.Tensor(x)
    assert t.shape == x.shape and t.ndim == x.ndim and t.size == x.size  # 0-d stays 0-d
    assert t.data.flags.c_contiguous
    np.testing.assert_array_equal(t.numpy(), x)
    if x.ndim:
        view = x.astype(np.float32)[..., ::-1]
        t32 = mg.Tensor(view)  # a non-contiguous view becomes contiguous
        assert t32.shape == x.shape and t32.data.flags.c_contiguous
        np.testing.assert_array_equal(t32.data, view)


def test_properties_and_repr():
    t = mg.Tensor(np.zeros((2, 3)), requires_grad=True)
    assert (t.shape, t.ndim, t.size, len(t), t.requires_grad, t.grad) == ((2, 3), 2, 6, 2, True, None)
    assert t.is_leaf and not (t * 2).is_leaf
    assert repr(mg.Tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    assert repr(t[0]) == "Tensor([0., 0., 0.], requires_grad=True, dtype=float64)"


def test_item():
    assert mg.Tensor([[2.5]]).item() == 2.5
    assert isinstance(mg.Tensor(np.float64(1.0)).item(), float)
    with pytest.raises(ValueError, match=r"item: only a one-element tensor has an item, .* shape \(2,\)"):
        mg.Tensor([1.0, 2.0]).item()


def test_detach_shares_data_and_leaves_the_graph():
    x = mg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert d.data is y.data and not d.requires_grad and d.is_leaf
    z = (d * x).sum()  # d is a constant here: dz/dx = d, and nothing flows back through y
    z.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 6.0])


def test_zero_grad():
    x = mg.Tensor([1.0], requires_grad=True)
    (x * 2).sum().backward()
    x.zero_grad()
    assert x.grad is None


@pytest.mark.parametrize("data, message", [
    ("abc", "Tensor: data must be numeric .* got str of dtype <U3"),
    (None, "Tensor: data must be numeric .* got NoneType"),
    ([1, "a"], "Tensor: data must be numeric .* got list"),
    ([[1, 2], [3]], "Tensor: data must be numeric .* got list"),
    (object(), "Tensor: data must be numeric .* got object"),
    (np.array([1 + 2j]), "Tensor: data must be numeric .* complex128"),
])
def test_non_numeric_data_raises_type_error(data, message):
    with pytest.raises(TypeError, match=message):
        mg.Tensor(data)


def test_non_float_dtype_raises_type_error():
    with pytest.raises(TypeError, match="Tensor: dtype must be float32 or float64, got int32"):
        mg.Tensor([1], dtype="int32")


def test_backward_seed_rules():
    x = mg.Tensor(np.ones((2, 2)), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"backward: grad may be omitted only for a one-element "
                                         r"tensor; this one has shape \(2, 2\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"backward: grad has shape \(2,\), expected \(2, 2\)"):
        y.backward(np.ones(2))
    with pytest.raises(TypeError, match="backward: data must be numeric"):
        y.backward("a")
    with pytest.raises(RuntimeError, match="backward: this tensor does not require grad"):
        mg.Tensor([1.0]).backward()
    y.backward(mg.Tensor(np.full((2, 2), 0.5)))  # a Tensor seed is fine
    np.testing.assert_array_equal(x.grad, np.ones((2, 2)))


def test_backward_on_a_leaf_and_on_one_element_tensors():
    x = mg.Tensor([[3.0]], requires_grad=True)
    x.backward()
    np.testing.assert_array_equal(x.grad, [[1.0]])
    y = mg.Tensor(np.float64(2.0), requires_grad=True)
    (y * y).backward()
    assert y.grad.shape == () and y.grad == 4.0


def test_grad_of_the_seed_is_not_the_callers_array():
    x = mg.Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    seed = np.ones(2, dtype=np.float32)
    x.backward(seed)
    seed[:] = 7  # the caller reuses its buffer: x.grad must not change
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_tensor_methods_show_the_signatures_of_the_api():
    import inspect

    Tensor = mg.Tensor
    assert str(inspect.signature(Tensor.sum)) == "(self, axis=None, keepdims=False)"
    assert str(inspect.signature(Tensor.mean)) == "(self, axis=None, keepdims=False)"
    assert str(inspect.signature(Tensor.max)) == "(self, axis=None, keepdims=False)"
    assert str(inspect.signature(Tensor.reshape)) == "(self, *shape)"
    assert str(inspect.signature(Tensor.transpose)) == "(self, *axes)"


# every operator and method, with what it must equal (the op of minigrad.ops it calls)
_OPERATORS = {
    "__add__": lambda t, u: ops.add(t, u), "__radd__": lambda t, u: ops.add(u, t),
    "__sub__": lambda t, u: ops.sub(t, u), "__rsub__": lambda t, u: ops.sub(u, t),
    "__mul__": lambda t, u: ops.mul(t, u), "__rmul__": lambda t, u: ops.mul(u, t),
    "__truediv__": lambda t, u: ops.div(t, u), "__rtruediv__": lambda t, u: ops.div(u, t),
    "__pow__": lambda t, u: ops.power(t, u), "__rpow__": lambda t, u: ops.power(u, t),
    "__matmul__": lambda t, u: ops.matmul(t, u), "__rmatmul__": lambda t, u: ops.matmul(u, t),
}
_METHODS = {
    "__neg__": ((), ops.neg), "__getitem__": ((1,), ops.getitem), "sum": ((0,), ops.sum),
    "mean": ((0,), ops.mean), "max": ((0,), ops.max), "reshape": ((4,), ops.reshape),
    "transpose": ((), ops.transpose), "exp": ((), ops.exp), "log": ((), ops.log),
    "sqrt": ((), ops.sqrt), "abs": ((), ops.abs), "clip": ((0.6, 1.2), ops.clip),
    "relu": ((), ops.relu), "sigmoid": ((), ops.sigmoid), "tanh": ((), ops.tanh),
    "astype": (("float64",), ops.cast),
}


def test_operators_and_methods_are_written_in_the_class_and_call_the_ops():
    # reading engine/tensor.py shows all a Tensor can do: each name is defined there, with its
    # own signature and docstring (help(Tensor.sum)), and gives what its op gives
    import inspect

    t = mg.Tensor(np.linspace(0.5, 1.5, 4, dtype=np.float32).reshape(2, 2))
    u = mg.Tensor(np.full((2, 2), 2.0, np.float32))
    defined = {**_OPERATORS, **_METHODS, "T": None}
    for name in defined:
        fn = mg.Tensor.__dict__[name]
        fn = fn.fget if isinstance(fn, property) else fn
        assert inspect.getsourcefile(fn).endswith(os.path.join("engine", "tensor.py")), name
    for name, op in _OPERATORS.items():
        np.testing.assert_array_equal(getattr(t, name)(u).data, op(t, u).data, err_msg=name)
    for name, (args, op) in _METHODS.items():
        np.testing.assert_array_equal(getattr(t, name)(*args).data, op(t, *args).data,
                                      err_msg=name)
    np.testing.assert_array_equal(t.T.data, t.data.T)
    assert str(inspect.signature(mg.Tensor.exp)) == "(self)"
    assert str(inspect.signature(mg.Tensor.clip)) == "(self, min_value=None, max_value=None)"
    assert str(inspect.signature(mg.Tensor.astype)) == "(self, dtype)"
    assert mg.Tensor.sum.__doc__.startswith("Sum over ``axis``")
