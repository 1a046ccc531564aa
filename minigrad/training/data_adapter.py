"""Turning what users pass to ``fit`` / ``evaluate`` / ``predict`` into checked arrays.

Everything is validated here, before any training step runs: the number of samples of x and
y, x's shapes against the model's inputs, y's arrays against the outputs, sample weights.
This module only shapes data; whether y fits each output's loss is checked by the compiled
loss (:meth:`minigrad.training.compile.CompileLoss.check_targets`).

``x`` may also be a source of batches instead of arrays (:func:`is_batch_source`): a Python
generator or iterator, a list of batches, or a PyDataset-like object (``__getitem__(i)`` gives
batch i, ``__len__`` or ``num_batches`` their number). Each batch is ``(x, y)``,
``(x, y, sample_weight)`` or, for ``predict``, ``x`` alone or ``(x,)``
(:func:`unpack_batch`); :mod:`.epoch_iterator` walks through them.

``class_weight`` (``{class index: weight}``) becomes a per-sample weight, as in Keras 3
(:func:`class_weight_to_sample_weight`): the class of a sample is its integer target, the
rounded value of a ``(n, 1)`` target, or the argmax of a one-hot row.
"""
import numbers

import numpy as np

from ..engine.tensor import Tensor


def as_array(value, who, name):
    array = np.asarray(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must be numeric arrays, got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"{who}: {name} must have a batch axis, got a scalar")
    return array


def per_output(value, names, who, what):
    """A list aligned with the outputs from one value (for all), a list, or a dict by name (a
    ``{"class_name", "config"}`` dict is one value)."""
    if isinstance(value, dict) and "class_name" not in value:
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(f"{who}: {what} names unknown outputs {unknown}; outputs: {names}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(f"{who}: {what} has {len(value)} entries for {len(names)} outputs "
                             f"{names}")
        return list(value)
    return [value] * len(names)


def prepare(model, x, y, sample_weight, who, need_y=True, cast=True):
    """Arrays for x (list, one per input), y (list, one per output) and sample weights,
    all checked: the number of samples, the input shapes, and y against the outputs. x and y
    may also be dicts keyed by input / output layer name.

    x is cast to the model's dtype; with ``cast=False`` it keeps its own, for a caller that
    casts each batch as it takes it (:func:`take` with ``dtype``): fit, evaluate and predict, so
    that uint8 images are not copied whole as float32 (60,000 MNIST images: 188 MB instead of
    47 MB)."""
    if x is None:
        raise ValueError(f"{who}: x is required")
    from_dict = isinstance(x, dict)
    if from_dict:
        if not model.built:
            raise ValueError(f"{who}: x can be a dict by input name only for a built model")
        missing = sorted(set(model.input_names) - set(x))
        if missing or len(x) != len(model.input_names):
            raise ValueError(f"{who}: x must have one entry per input {model.input_names}, got "
                             f"{sorted(x)}")
        x = [x[name] for name in model.input_names]
    several = from_dict or isinstance(x, (list, tuple)) and model.built and len(model.inputs) > 1
    xs = [as_array(a, who, "x") for a in (x if several else [x])]
    if cast:
        xs = [a if a.dtype == np.dtype(model.dtype) else a.astype(model.dtype) for a in xs]
    n = len(xs[0])
    for a in xs[1:]:
        if len(a) != n:
            raise ValueError(f"{who}: all inputs must have the same number of samples, got "
                             f"{[len(a) for a in xs]}")
    if n == 0:
        raise ValueError(f"{who}: x has no samples")
    if not model.built:  # a Sequential without an input shape builds from the data
        model.build((None,) + xs[0].shape[1:])
    model._check_shapes([a.shape for a in xs])
    ys = None
    if need_y:
        if y is None:
            raise ValueError(f"{who}: y is required")
        names = model.output_names
        if isinstance(y, dict):
            y = per_output(y, names, who, "y")
        several_y = isinstance(y, (list, tuple)) and len(names) > 1
        ys = [as_array(a, who, "y") for a in (y if several_y else [y])]
        if len(ys) != len(names):
            raise ValueError(f"{who}: the model has {len(names)} outputs {names}, y gives "
                             f"{len(ys)} arrays")
        for a in ys:
            if len(a) != n:
                raise ValueError(f"{who}: x and y must have the same number of samples, got "
                                 f"{n} in x and {len(a)} in y")
    if sample_weight is not None:
        sample_weight = as_array(sample_weight, who, "sample_weight")
        if len(sample_weight) != n:
            raise ValueError(f"{who}: sample_weight must have one value per sample ({n}), "
                             f"got {len(sample_weight)}")
    return xs, ys, sample_weight


def split(xs, ys, sw, validation_split, who):
    """``(xs, ys, sw)`` of the first ``1 - validation_split`` of the samples, and of the rest
    (held out for validation, taken before any shuffling, as Keras does)."""
    n = len(xs[0])
    cut = int(np.floor(n * (1.0 - validation_split)))
    if cut == 0 or cut == n:
        raise ValueError(f"{who}: validation_split={validation_split} of {n} samples leaves "
                         f"{'no training' if cut == 0 else 'no validation'} samples")
    parts = []
    for index in (slice(0, cut), slice(cut, None)):
        parts.append((take(xs, index), take(ys, index), None if sw is None else sw[index]))
    return parts


def take(arrays, index, dtype=None):
    """The samples ``index`` (a slice or an index array) of each array, cast to ``dtype`` if
    given (a copy only for an array of another dtype); None stays None."""
    if arrays is None:
        return None
    parts = [a[index] for a in arrays]
    if dtype is None:
        return parts
    return [a if a.dtype == dtype else a.astype(dtype) for a in parts]


# -- sources of batches ------------------------------------------------------------------------
def _is_batch(item):
    """A ``(x, y[, sample_weight])`` tuple whose x is not a plain number (``[(1.0, 2.0), ...]``
    is an array written as nested lists, not a list of batches)."""
    return isinstance(item, tuple) and 1 <= len(item) <= 3 and \
        not isinstance(item[0], (numbers.Number, str, bytes))


def is_batch_list(x):
    """A non-empty list whose every item is a batch tuple."""
    return isinstance(x, list) and len(x) > 0 and all(_is_batch(item) for item in x)


def is_dataset_like(x):
    """A PyDataset-like object: batch ``i`` from ``x[i]``, and ``__len__`` or ``num_batches``."""
    if isinstance(x, (np.ndarray, Tensor, list, tuple, dict, str, bytes)) or \
            hasattr(x, "__array__"):  # a torch tensor or an h5py dataset index samples
        return False
    return hasattr(x, "__getitem__") and (hasattr(x, "__len__") or hasattr(x, "num_batches"))


def is_batch_source(x):
    """True when ``x`` gives batches (a generator, an iterator, an iterable that is not an
    array, a list of batch tuples, a PyDataset-like object), False for array data."""
    if isinstance(x, (np.ndarray, Tensor, tuple, dict, str, bytes, numbers.Number)) or x is None:
        return False
    if isinstance(x, list):
        return is_batch_list(x)
    if hasattr(x, "__array__"):
        return False  # an array-like object
    return is_dataset_like(x) or hasattr(x, "__iter__") or hasattr(x, "__next__")


def unpack_batch(batch, who, need_y=True):
    """``(x, y, sample_weight)`` of one batch; y and sample_weight may be None.

    For training and evaluation a batch is ``(x, y)`` or ``(x, y, sample_weight)``; for
    prediction (``need_y=False``) it is ``x`` alone or a tuple whose first item is x (y, if
    there, is ignored). A list is read as a tuple, as Keras does, so the inputs of a model with
    several give a batch as ``((x1, x2), y)`` or a dict by input name.
    """
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        if need_y:
            raise ValueError(f"{who}: each batch of x must be a tuple (x, y) or (x, y, "
                             f"sample_weight), got {type(batch).__name__}")
        return batch, None, None
    if not 1 <= len(batch) <= 3 or (need_y and len(batch) == 1):
        expected = "(x, y) or (x, y, sample_weight)" if need_y else "x or (x,)"
        raise ValueError(f"{who}: each batch of x must be {expected}, got a tuple of "
                         f"{len(batch)} items")
    x, y, sw = (tuple(batch) + (None, None))[:3]
    return x, y, sw


# -- class_weight --------------------------------------------------------------------------------
def check_class_weight(class_weight, who):
    """``class_weight`` as ``{int: float}``: a dict of non-negative integer classes to finite
    weights (None stays None)."""
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise TypeError(f"{who}: class_weight must be a dict {{class index: weight}}, got "
                        f"{type(class_weight).__name__}")
    checked = {}
    for key, weight in class_weight.items():
        # the wrong kind is a TypeError, a bad value a ValueError (_checks.py's rule)
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, numbers.Integral) or key < 0:
            error = ValueError if isinstance(key, numbers.Integral) and \
                not isinstance(key, (bool, np.bool_)) else TypeError
            raise error(f"{who}: class_weight keys must be class indices (integers >= 0), "
                        f"got {key!r}")
        if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real) or \
                not np.isfinite(weight):
            error = ValueError if isinstance(weight, numbers.Real) and \
                not isinstance(weight, (bool, np.bool_)) else TypeError
            raise error(f"{who}: class_weight values must be finite numbers, got "
                        f"{weight!r} for class {key}")
        checked[int(key)] = float(weight)
    return checked


def check_class_weight_fits(class_weight, model, who):
    """``class_weight`` against the (built) model: one output, and every class below the
    output's number of classes (its last axis; 2 for an output of one unit)."""
    if len(model.output_names) > 1:
        raise ValueError(f"{who}: class_weight is only supported for models with a single "
                         f"output; this one has {len(model.output_names)} "
                         f"{model.output_names}: give sample_weight instead")
    units = model.outputs[0].shape[-1] if model.outputs[0].shape else None
    classes = None if units is None else (2 if units == 1 else units)
    if classes is not None and class_weight and max(class_weight) >= classes:
        raise ValueError(f"{who}: class_weight names class {max(class_weight)}, but the output "
                         f"has {classes} classes (0 to {classes - 1})")


def class_weight_to_sample_weight(y, class_weight, who):
    """A weight per sample from its class: ``class_weight.get(class, 1.0)``, as Keras 3.

    ``y`` of shape ``(n,)`` holds class indices, ``(n, 1)`` a value rounded to the class (a
    binary target), ``(n, k)`` one-hot (or probability) rows whose argmax is the class.
    """
    if y.ndim > 2:
        raise ValueError(f"{who}: class_weight needs targets of shape (n,), (n, 1) or (n, "
                         f"classes), got y of shape {y.shape}")
    labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[-1] != 1 else y.reshape(len(y))
    labels = np.round(labels).astype(np.int64)
    table = np.ones(max(class_weight, default=0) + 1, dtype=np.float32)
    for cls, weight in class_weight.items():
        table[cls] = weight
    # classes the dict does not name (below 0 or past its largest key) weigh 1, as in Keras
    known = (labels >= 0) & (labels < len(table))
    return np.where(known, table[np.where(known, labels, 0)], np.float32(1.0))
