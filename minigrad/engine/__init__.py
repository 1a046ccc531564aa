"""The engine: Tensor, Function, the backward walk, no_grad and gradcheck (NumPy only).

Read it in this order, after docs/00 and docs/01: ``tensor.py`` (an array, its gradient, the node
that made it, and the operators, each an op of ``minigrad.ops``), ``function.py`` (an op: forward
and backward side by side, and ``unbroadcast``), ``autograd.py`` (the graph and the backward walk:
chapter 0's algorithm on arrays), ``gradcheck.py`` (the referee: central differences).

Nothing here imports the rest of minigrad, except that Tensor's methods call ``minigrad.ops``.
"""
from .autograd import is_grad_enabled, no_grad
from .tensor import Tensor
from .function import Function, unbroadcast
from .gradcheck import gradcheck

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "unbroadcast", "gradcheck"]
