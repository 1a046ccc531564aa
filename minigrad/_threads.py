"""Moved to :mod:`minigrad.backend.threads`; kept so that old imports work."""
from .backend.threads import *  # noqa: F401,F403
from .backend.threads import _default_threads, _openblas_setter  # noqa: F401
