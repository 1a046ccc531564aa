"""Moved to :mod:`minigrad.backend.kernels`; kept so that old imports work."""
from ..backend.kernels import batchnorm, depthwise, elementwise, openmp, pooling  # noqa: F401
