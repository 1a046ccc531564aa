"""Moved to :mod:`minigrad.training.callbacks`; kept so that ``minigrad.callbacks`` and old imports
(``from minigrad.callbacks import EarlyStopping``) work."""
from .training.callbacks import *  # noqa: F401,F403
from .training.callbacks import __all__  # noqa: F401
