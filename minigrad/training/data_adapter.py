"""Turning what users pass to ``fit`` / ``evaluate`` / ``predict`` into checked arrays.

Everything is validated here, before any training step runs: the number of samples of x and
y, x's shapes against the model's inputs, y's arrays against the outputs, sample weights.
This module only shapes data; whether y fits each output's loss is checked by the compiled
loss (:meth:`minigrad.training.compile.CompileLoss.check_targets`).
"""

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


def prepare(model, x, y, sample_weight, who, need_y=True):
    """Arrays for x (list, one per input), y (list, one per output) and sample weights,
    all checked: the number of samples, the input shapes, and y against the outputs. x and y
    may also be dicts keyed by input / output layer name."""
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


def take(arrays, index):
    """The samples ``index`` (a slice or an index array) of each array; None stays None."""
    return None if arrays is None else [a[index] for a in arrays]
