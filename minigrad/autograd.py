"""Moved to :mod:`minigrad.engine.autograd`; kept so that old imports work."""
from .engine.autograd import *  # noqa: F401,F403
