"""minigrad: a small, fast, readable deep-learning framework.

A NumPy tensor with reverse-mode autograd, Cython/OpenMP kernels for the hot loops, and a
Keras/TF.js-style Layers API on top.

>>> import minigrad as mg
>>> x = mg.Tensor([[1.0, 2.0]], requires_grad=True)
>>> (x @ mg.Tensor([[3.0], [4.0]])).sum().item()
11.0
"""
from .backend import openmp_env  # noqa: F401  (first: OpenMP's settings, before any kernel loads)
from ._version import __version__
from .backend.threads import build_info, get_num_threads, set_num_threads
from .engine import Function, Tensor, is_grad_enabled, no_grad
from . import ops
from . import testing
from . import activations, constraints, initializers, regularizers
from . import losses, metrics, optimizers, schedules
from . import callbacks, datasets, io, layers, models, training, utils, viz

__all__ = ["Tensor", "Function", "no_grad", "is_grad_enabled", "build_info", "set_num_threads",
           "get_num_threads", "ops", "testing", "activations", "constraints", "initializers",
           "regularizers", "losses", "metrics", "optimizers", "schedules", "callbacks", "datasets",
           "io", "layers", "models", "training", "utils", "viz", "__version__"]
