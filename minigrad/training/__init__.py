"""Training a model: ``compile``, ``fit``, ``evaluate``, ``predict`` and what they use.

* :mod:`.trainer`: :class:`Trainer`, the training half of every model (a mixin);
* :mod:`.compile`: :class:`CompileLoss` and :class:`CompileMetrics`, what ``compile`` builds;
* :mod:`.data_adapter`: what users pass to ``fit`` turned into checked arrays or batches;
* :mod:`.epoch_iterator`: the batches of each epoch (arrays, generators, datasets), as Keras 3;
* :mod:`.callbacks`: code that ``fit`` calls at fixed points (``minigrad.callbacks``);
* :mod:`.progbar`: the progress bar ``fit`` prints.
"""
from . import callbacks, data_adapter, epoch_iterator, progbar
from .compile import CompileLoss, CompileMetrics
from .trainer import Trainer

__all__ = ["Trainer", "CompileLoss", "CompileMetrics", "callbacks", "data_adapter", "epoch_iterator",
           "progbar"]
