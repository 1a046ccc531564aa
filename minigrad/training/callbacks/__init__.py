"""Callbacks: code that ``fit`` / ``evaluate`` / ``predict`` call at fixed points, as in Keras.

A callback overrides any of the hooks below; ``logs`` is a dict of floats (``loss``, metric
names, and at epoch end ``val_...``). Setting ``model.stop_training = True`` ends ``fit`` after the
current batch's hooks (``TerminateOnNaN``) or the current epoch (``EarlyStopping``).

The machinery and the simple callbacks are in :mod:`.base`, the ones that watch a logged
quantity for improvement in :mod:`.monitoring`.

>>> from minigrad import callbacks
>>> cb = callbacks.EarlyStopping(monitor="val_loss", patience=2)
>>> cb.mode
'min'
"""
from .base import (CSVLogger, Callback, CallbackList, History, LambdaCallback,
                   LearningRateScheduler, ProgbarLogger, TerminateOnNaN)
from .monitoring import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler", "TerminateOnNaN",
           "CSVLogger", "LambdaCallback"]
