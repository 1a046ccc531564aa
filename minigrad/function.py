"""Moved to :mod:`minigrad.engine.function`; kept so that old imports work."""
from .engine.function import *  # noqa: F401,F403
