"""Moved to :mod:`minigrad.training.data_adapter`; kept so that old imports work."""
from .training.data_adapter import *  # noqa: F401,F403
