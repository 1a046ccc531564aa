"""Moved to :mod:`minigrad.training.progbar`; kept so that old imports work."""
from .training.progbar import *  # noqa: F401,F403
from .training.progbar import _longest_prefix_that_fits  # noqa: F401
