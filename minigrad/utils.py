"""Utilities that work on whole models, and on the session's global state.

``clear_session`` forgets the automatic layer names given so far (Keras's function of that name),
so that what a script prints does not depend on what ran before it in the same process.

``recompute_batch_norm_statistics`` fixes the usual surprise of short training runs: the model
trains well (BatchNormalization normalises with each batch's own statistics while training) but
evaluates badly, because the *moving* statistics that inference uses are an exponential average
with ``momentum=0.99`` (Keras's default), which still remembers its starting values
(mean 0, variance 1) after a few hundred steps: after ``n`` steps they hold ``0.99**n`` of them,
0.37 after 100 steps, 0.05 after 300. Recomputing them once after training, as PyTorch's
``torch.optim.swa_utils.update_bn`` does, costs one forward pass over some training data.
"""
import gc
import math

from .training import data_adapter
from ._checks import check_bool, check_positive_int
from .engine.autograd import no_grad
from .layers.base import reset_names


def clear_session(free_memory=True):
    """Reset the state minigrad keeps per process, as ``keras.utils.clear_session()`` does: the
    counts behind automatic layer names start again, so the next ``Dense`` is named "dense"
    (not "dense_7" because other models were made before). With ``free_memory`` (the default)
    Python's garbage collector runs too, to free what old models held at once.

    Layers made before keep their names; a model should not mix layers from before and after
    (two of them could then share a name).

    >>> import minigrad as mg
    >>> _ = [mg.layers.Dense(2) for _ in range(3)]
    >>> mg.utils.clear_session()
    >>> mg.layers.Dense(2).name, mg.layers.Dense(2).name
    ('dense', 'dense_1')
    """
    free_memory = check_bool(free_memory, "free_memory", "clear_session")
    reset_names()
    if free_memory:
        gc.collect()


def _walk_layers(layer):
    """``layer`` and every layer inside it (models nest models), depth first."""
    yield layer
    for inner in getattr(layer, "layers", None) or ():
        yield from _walk_layers(inner)


def recompute_batch_norm_statistics(model, x, batch_size=256):
    """Set every trainable ``BatchNormalization`` layer's ``moving_mean`` / ``moving_variance``
    to the average of its batch statistics over ``x``; returns the number of layers updated.

    ``x``: model inputs (what ``predict`` takes), typically (some of) the training images.
    The model runs forward once over ``x`` in training mode, in batches of ``batch_size``, without
    recording a graph; batch ``k`` of ``n_k`` samples gets the weight ``n_k / (n_1 + ... + n_k)``
    (a momentum of ``1 - that``), so that afterwards, for each layer, with ``mean_k`` and
    ``var_k`` its input's per-channel batch mean and (biased) variance::

        moving_mean     = sum_k n_k * mean_k / N
        moving_variance = sum_k n_k * var_k  / N        (N = sum_k n_k)

    Each layer sees its input as it is in training mode (earlier BatchNorm layers normalise with
    batch statistics), as in training. Layers with ``trainable=False`` (frozen, e.g. while
    fine-tuning) are left as they are, and so are the weights; the layers' ``momentum`` is put
    back afterwards. Batches should be big enough for good batch statistics (the default 256).
    Training-mode layers other than BatchNormalization (Dropout) are active during the pass, as
    during training.
    """
    from .layers.normalization import BatchNormalization  # layers import this package's parts

    who = "recompute_batch_norm_statistics"
    batch_size = check_positive_int(batch_size, "batch_size", who)
    if not hasattr(model, "_model_input"):
        raise TypeError(f"{who}: model must be a minigrad Sequential or functional Model, got "
                        f"{type(model).__name__}")
    xs, _, _ = data_adapter.prepare(model, x, None, None, who, need_y=False)
    n = len(xs[0])
    if n == 0:
        raise ValueError(f"{who}: x must hold at least one sample, got 0")
    norms = [layer for layer in _walk_layers(model)
             if isinstance(layer, BatchNormalization) and layer.trainable]
    momenta = [layer.momentum for layer in norms]
    seen = 0
    try:
        for step in range(math.ceil(n / batch_size)):
            batch = data_adapter.take(xs, slice(step * batch_size, (step + 1) * batch_size))
            count = len(batch[0])
            for layer in norms:  # new = old * momentum + batch * (1 - momentum)
                layer.momentum = seen / (seen + count)
            with no_grad():
                model(model._model_input(batch), training=True)
            seen += count
    finally:
        for layer, momentum in zip(norms, momenta):
            layer.momentum = momentum
    return len(norms)
