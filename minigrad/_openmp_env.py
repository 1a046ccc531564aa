"""Moved to :mod:`minigrad.backend.openmp_env`; kept so that old imports work."""
from .backend import openmp_env  # noqa: F401  (sets OpenMP's wait policy before any kernel loads)
