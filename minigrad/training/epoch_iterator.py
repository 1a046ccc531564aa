"""The batches of one epoch, walked through the way Keras 3 does
(``keras/src/trainers/epoch_iterator.py``).

Two sources give batches, each one pass at a time:

* :class:`ArrayBatches`: slices of arrays that were checked once, in a new order every pass when
  shuffling (the order is drawn from ``[seed, epoch]``, so a run resumed with ``initial_epoch``
  replays it);
* :class:`IterableBatches`: what a generator, an iterator, a list of batches or a PyDataset-like
  object gives, each batch checked by a ``prepare`` function as it comes.

:class:`EpochIterator` cuts passes into epochs:

* without ``steps``, an epoch is one pass over the source;
* with ``steps`` (``steps_per_epoch``), an epoch is ``steps`` batches and the pass carries on
  across epochs: the next epoch starts where the last stopped. A source of known length
  starts a new pass once all of its batches were seen; an epoch that reaches that end before
  ``steps`` batches stops there, with a warning;
* a source that runs out (its iterator ends) ends the epoch; its length is then known. Running
  out earlier than that (before ``steps`` batches, or a known length) warns, as Keras does. A
  one-shot generator gives nothing the next time: that epoch has no batch at all (and ``fit``
  stops there).
"""
import itertools
import math
import warnings

import numpy as np

from .._checks import check_int
from . import data_adapter
from .data_adapter import is_dataset_like, take


def ran_out_warning(who, seen):
    warnings.warn(f"{who}: the input ran out of data after {seen} batches, which ends this "
                  f"epoch early. A generator or dataset must be able to give at least "
                  f"steps_per_epoch * epochs batches (a generator can loop forever, with "
                  f"steps_per_epoch set).", UserWarning, stacklevel=4)


class ArrayBatches:
    """Batches of ``batch_size`` samples from checked arrays: ``xs`` and ``ys`` (lists, one
    array per input / output; ``ys`` may be None) and ``sw`` (one weight per sample, or None).

    With ``dtype`` (the model's), each batch of x is cast to it as it is taken, so that the
    arrays themselves stay as given (uint8 images: a quarter of the memory of float32). A
    shuffled pass takes each batch by its indices: nothing is copied but the batch."""

    def __init__(self, xs, ys, sw, batch_size, shuffle=False, seed=0, dtype=None):
        self.xs, self.ys, self.sw = xs, ys, sw
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.size = len(xs[0])
        self.batch_size = batch_size
        self.shuffle, self.seed = shuffle, seed
        self.num_batches = math.ceil(self.size / batch_size)

    def iterate(self, epoch):
        """One pass: ``(xs, ys, sw)`` per batch; the last batch may be smaller."""
        order = np.random.default_rng([self.seed, epoch]).permutation(self.size) \
            if self.shuffle else None
        size = self.batch_size
        for step in range(self.num_batches):
            index = slice(step * size, (step + 1) * size)
            if order is not None:
                index = order[index]
            yield take(self.xs, index, self.dtype), take(self.ys, index), \
                None if self.sw is None else self.sw[index]

    def end_epoch(self):
        """Nothing to tell arrays at an epoch's end (a PyDataset is told)."""
        return None


class IterableBatches:
    """Batches from ``data``, each passed through ``prepare`` (which checks it and returns
    ``(xs, ys, sw)``).

    ``num_batches`` is known for a list, for a PyDataset-like object (``num_batches`` or
    ``len``; ``num_batches = None`` means endless) and for an iterable with ``__len__``; it is
    None for a generator. A list and a PyDataset-like object of known length are re-read every
    pass, in a shuffled batch order when ``shuffle``; a generator is read where it stands.
    """

    def __init__(self, data, prepare, shuffle=False, seed=0):
        self.data, self.prepare = data, prepare
        self.indexed = isinstance(data, list) or is_dataset_like(data)
        if self.indexed:
            self.num_batches = data.num_batches if hasattr(data, "num_batches") else len(data)
        else:
            one_shot = hasattr(data, "__next__")  # a generator or an iterator: read once
            self.num_batches = None if one_shot or not hasattr(data, "__len__") else len(data)
        self.shuffle = shuffle and self.indexed and self.num_batches is not None
        self.endless = self.indexed and self.num_batches is None
        self.seed = seed

    def iterate(self, epoch):
        if not self.indexed:
            for batch in self.data:
                yield self.prepare(batch)
            return
        if self.num_batches is None:
            indices = itertools.count()  # an endless PyDataset
        elif self.shuffle:
            indices = np.random.default_rng([self.seed, epoch]).permutation(self.num_batches)
        else:
            indices = range(self.num_batches)
        for i in indices:
            yield self.prepare(self.data[int(i)])

    def end_epoch(self):
        """Call the dataset's ``on_epoch_end`` (a PyDataset shuffles or refreshes there)."""
        hook = getattr(self.data, "on_epoch_end", None)
        if callable(hook):
            hook()


class EpochIterator:
    """Epochs of batches from ``source`` (an :class:`ArrayBatches` or :class:`IterableBatches`),
    ``steps`` batches each (None: one pass)."""

    def __init__(self, source, steps=None, who="fit", steps_name="steps_per_epoch"):
        if steps is None and getattr(source, "endless", False):
            raise ValueError(f"{who}: {steps_name} must be given when x never ends (a dataset "
                             f"whose num_batches is None), got None")
        self.source, self.steps, self.who = source, steps, who
        self._known = source.num_batches  # batches in a pass; learnt when a source runs out
        self._iterator = None  # the current pass, kept across epochs when steps is given
        self._seen = 0         # batches taken from the current pass

    @property
    def num_batches(self):
        """The number of batches of an epoch, or None when it is not known (yet)."""
        return self.steps or self._known

    def restart(self):
        """Start the next epoch with a new pass (evaluate always starts from the first batch)."""
        self._iterator = None

    def epoch(self, epoch=0):
        """Yield ``(step, (xs, ys, sw))`` for each batch of this epoch."""
        if self.steps is None or self._iterator is None:
            self._iterator, self._seen = self.source.iterate(epoch), 0
        limit = self.steps or self._known
        step = 0
        while limit is None or step < limit:
            if self._known is not None and self._seen >= self._known:
                if self.steps:  # the pass ended inside the epoch
                    ran_out_warning(self.who, self._seen)
                break
            try:
                batch = next(self._iterator)
            except StopIteration:
                # The end of a first pass of unknown length is how that length is learnt; it
                # ran out early when more was asked (steps, a known length) or it gave nothing.
                if self.steps or self._known is not None or self._seen == 0:
                    ran_out_warning(self.who, self._seen)
                if self._known is None:
                    self._known = self._seen
                self._iterator = None
                break
            self._seen += 1
            yield step, batch
            step += 1
        if self._known is not None and self._seen >= self._known:
            self._iterator = None  # the next epoch starts a new pass
        self.source.end_epoch()


# -- from what fit / evaluate / predict are given -------------------------------------------------
def batch_source(model, x, y, sample_weight, batch_size, who, class_weight=None, shuffle=False,
                 seed=0, need_y=True):
    """An :class:`IterableBatches` when ``x`` gives batches (then y, sample_weight and
    batch_size must be left out: the batches hold them), else None. Each batch is checked as
    ``model._prepare`` checks arrays, ``class_weight`` applied."""
    if not data_adapter.is_batch_source(x):
        return None
    for name, value in (("y", y), ("sample_weight", sample_weight), ("batch_size", batch_size)):
        if value is not None:
            must = "be left at its default" if name == "batch_size" else "be None"
            got = repr(value) if name == "batch_size" else type(value).__name__
            raise ValueError(f"{who}: {name} must {must} when x gives batches (a generator, a "
                             f"list of batches or a dataset): each batch holds it; got {got}")

    def prepare(batch):
        bx, by, bsw = data_adapter.unpack_batch(batch, who, need_y)
        if need_y:
            return model._prepare(bx, by, bsw, who, class_weight)
        return data_adapter.prepare(model, bx, None, None, who, need_y=False)
    return IterableBatches(x, prepare, shuffle=shuffle, seed=seed)


def epochs_of(model, x, y, sample_weight, batch_size, steps, who, need_y=True,
              steps_name="steps"):
    """An :class:`EpochIterator` over x (arrays or batches) in order (evaluate, predict)."""
    source = batch_source(model, x, y, sample_weight, batch_size, who, need_y=need_y)
    if source is None:
        if need_y:  # x as given: each batch is cast to the model's dtype as it is taken
            xs, ys, sw = model._prepare(x, y, sample_weight, who, cast=False)
        else:
            xs, ys, sw = data_adapter.prepare(model, x, None, None, who, need_y=False,
                                              cast=False)
        source = ArrayBatches(xs, ys, sw, array_batch_size(batch_size, steps, len(xs[0])),
                              dtype=model.dtype)
    return EpochIterator(source, steps, who, steps_name)


def validation_epochs(model, validation_data, batch_size, steps, who):
    """fit's ``validation_data`` as an :class:`EpochIterator`: ``(x_val, y_val[,
    sample_weight])`` (a tuple, or a list that is not a list of batches) or batches."""
    who_val = f"{who} (validation_data)"
    if isinstance(validation_data, tuple) or isinstance(validation_data, list) and \
            not data_adapter.is_batch_list(validation_data):
        if len(validation_data) not in (2, 3):
            raise ValueError(f"{who}: validation_data must be (x_val, y_val) or (x_val, y_val, "
                             f"sample_weight), got {len(validation_data)} items")
        vx, vy, vsw = (tuple(validation_data) + (None,))[:3]
        return epochs_of(model, vx, vy, vsw, batch_size, steps, who_val,
                         steps_name="validation_steps")
    if data_adapter.is_batch_source(validation_data):
        return epochs_of(model, validation_data, None, None, None, steps, who_val,
                         steps_name="validation_steps")
    raise ValueError(f"{who}: validation_data must be (x_val, y_val), (x_val, y_val, "
                     f"sample_weight) or batches of them (a generator, a list of batches, a "
                     f"dataset), got {type(validation_data).__name__}")


class _DefaultBatchSize(int):
    """The default ``batch_size`` of fit / evaluate / predict: the int 32, as the API writes it,
    but an object of its own, so that the trainer can tell "left at its default" (Keras 3's
    None: batches from a generator keep their own size, and ``steps`` can set it for arrays)
    from a 32 the caller wrote."""

    def __repr__(self):
        return "32"


DEFAULT_BATCH_SIZE = _DefaultBatchSize(32)


def given_batch_size(batch_size, who):
    """``batch_size`` checked (a positive int), or None when it was left at its default."""
    if batch_size is DEFAULT_BATCH_SIZE:
        return None
    return check_int(batch_size, "batch_size", who, low=1, allow_none=True)


def array_batch_size(batch_size, steps, size):
    """Keras 3's batch size for arrays: as given, else what makes ``steps`` batches, else 32."""
    if batch_size is not None:
        return batch_size
    return math.ceil(size / steps) if steps else 32


def check_validation_freq(validation_freq, who):
    """An int >= 1 (validate every n-th epoch) or a list of epoch numbers from 1, as Keras 3."""
    if isinstance(validation_freq, list):
        for epoch in validation_freq:
            check_int(epoch, "validation_freq entries", who, low=1)
        return list(validation_freq)
    if isinstance(validation_freq, bool) or not isinstance(validation_freq, int):
        raise TypeError(f"{who}: validation_freq must be a positive integer or a list of "
                        f"epoch numbers, got {validation_freq!r}")
    return check_int(validation_freq, "validation_freq", who, low=1)


def should_validate(epoch, validation_freq):
    """Validate after epoch ``epoch`` (from 0)? ``validation_freq`` counts epochs from 1."""
    if isinstance(validation_freq, list):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0
