"""Gradient checking: the test every op must pass (public as ``minigrad.testing.gradcheck``).

``gradcheck(fn, inputs)`` compares the gradient that autograd computes with central differences
(f(x + eps) - f(x - eps)) / (2 eps), in float64, one element at a time.
"""
import numpy as np

from .tensor import Tensor

__all__ = ["gradcheck"]


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check ``fn``'s gradients w.r.t. every input by central differences in float64.

    Args:
        fn: takes the input Tensors, returns a Tensor (any shape; its elements are summed with
            random weights, so every output element is checked).
        inputs: a list of arrays or Tensors. Each is copied to a float64 Tensor with requires_grad.
        eps, atol, rtol: step and tolerances; an element passes when
            |analytic - numeric| <= atol + rtol * |numeric|.

    Returns True, or raises AssertionError naming the input index, the element and both values.

    >>> gradcheck(lambda x: (x * x).sum(), [np.array([1.0, -2.0])])
    True
    """
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"gradcheck: inputs must be a list of arrays or Tensors, got {type(inputs).__name__}")
    # (not getattr(x, "data", x): an ndarray has a .data attribute too, its raw buffer)
    arrays = [np.array(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    rng = np.random.default_rng(0)

    def run(values):
        out = fn(*[Tensor(v, requires_grad=True) for v in values])
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        return out

    probe = run(arrays)
    # weight each output element differently so that errors cannot cancel in a plain sum
    weights = rng.uniform(0.5, 1.5, size=probe.shape)

    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    if out.requires_grad:
        out.backward(weights.astype(out.dtype))
    for i, (a, t) in enumerate(zip(arrays, tensors)):
        analytic = t.grad if t.grad is not None else np.zeros_like(a)
        if analytic.dtype != np.float64:
            raise AssertionError(f"gradcheck: the gradient of input {i} is {analytic.dtype}, "
                                 f"expected float64: an op lost precision")
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + eps
            plus = float((run(arrays).data * weights).sum())
            a[idx] = old - eps
            minus = float((run(arrays).data * weights).sum())
            a[idx] = old
            numeric = (plus - minus) / (2 * eps)
            got = float(analytic[idx])
            if not abs(got - numeric) <= atol + rtol * abs(numeric):
                raise AssertionError(
                    f"gradcheck: input {i}, element {idx}: analytic gradient {got:.8g} != "
                    f"numerical {numeric:.8g} (|diff| {abs(got - numeric):.3g}, atol {atol}, rtol {rtol})")
    return True
