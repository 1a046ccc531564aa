"""Moved to :mod:`minigrad.engine.tensor`; kept so that old imports work."""
from .engine.tensor import *  # noqa: F401,F403
