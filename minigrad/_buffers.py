"""Moved to :mod:`minigrad.backend.buffers`; kept so that old imports work."""
from .backend.buffers import *  # noqa: F401,F403
from .backend.buffers import _FREE  # noqa: F401
