"""``Layer``: the contract every layer follows.

A layer's life, as in Keras:

1. ``__init__(**config)`` validates and stores its configuration. No weights yet.
2. ``build(input_shape)`` creates the weights, once, through :meth:`Layer.add_weight`, when the
   input shape is first known.
3. ``layer(x, training=False)`` calls ``call(x, training=...)``: a few lines of ops.
4. ``get_config()`` returns the configuration with Keras's JSON keys; ``from_config(config)`` is
   ``cls(**config)``.

Calling a layer on a :class:`~minigrad.layers.symbolic.SymbolicTensor` (what ``Input(shape=...)``
returns) runs no math: it builds the layer, computes the output shape and records the call, which
is how a functional ``Model(inputs, outputs)`` learns its graph.

A layer made without a ``name`` gets Keras's automatic one: the class name in snake case, then
``_1``, ``_2``... for the next ones (``dense``, ``dense_1``). The counts are kept per process;
:func:`minigrad.utils.clear_session` starts them again.

The pieces a layer is made of live in their own modules: :mod:`minigrad.variable` (weights),
:mod:`.input_spec` (what a layer accepts), :mod:`.symbolic` (the functional graph) and
:mod:`minigrad._checks` (argument checks); the names other modules import from here still work.
"""
import collections

import numpy as np

from .._checks import check_bool, check_number, check_positive_int, snake_case
from ..serialization import Registry
from ..engine.tensor import Tensor
from ..variable import Variable
from .input_spec import InputSpec
from .symbolic import CallRecord, SymbolicTensor, is_symbolic, shape_of

#: The one table of layer classes: ``minigrad.layers.serialize`` / ``deserialize`` (and model files)
#: resolve class names only through it. Every layer class is registered with ``@registry.register()``.
registry = Registry("layer", public_name="minigrad.layers.registry")

# How many layers got each automatic name so far (Keras keeps the same count per process).
_name_counts = collections.Counter()


def unique_name(base):
    """``base`` the first time, then ``base_1``, ``base_2``... (Keras's layer naming)."""
    n = _name_counts[base]
    _name_counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def reset_names():
    """Forget the automatic names given so far: the next Dense is "dense" again. Called by
    :func:`minigrad.utils.clear_session`."""
    _name_counts.clear()


class Layer:
    """Base class of every layer. See the module docstring for the life of a layer.

    Keyword arguments every layer accepts: ``name``, ``trainable``, ``dtype`` ("float32" or
    "float64"), ``input_shape`` (without the batch axis) or ``batch_input_shape``, ``batch_size``.
    """

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, batch_size=None, **unknown):
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) "
                            f"{', '.join(sorted(unknown))}")
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            # a '/' would break the weight paths ("dense/kernel") that files and optimizers use
            error = ValueError if isinstance(name, str) else TypeError
            raise error(f"{type(self).__name__}: name must be a non-empty string without '/', "
                        f"got {name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = _layer_dtype(type(self).__name__, dtype)
        if batch_input_shape is None and input_shape is not None:
            batch_input_shape = (batch_size,) + tuple(input_shape)
        self.batch_input_shape = tuple(batch_input_shape) if batch_input_shape is not None else None
        self.built = False
        self.input_spec = None
        self._weights = []
        self._losses = []
        self._call_records = []  # functional API: one CallRecord per call on symbolic tensors

    # -- weights --------------------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, constraint=None,
                   trainable=True, dtype=None):
        """Create a weight (a :class:`Variable`) and remember it in creation order (Keras order)."""
        from .. import constraints, initializers, regularizers  # the layer's own level and below
        init = initializers.get(initializer)
        dtype = self.dtype if dtype is None else _dtype_name(dtype)
        value = np.asarray(init(tuple(int(s) for s in shape), dtype=dtype), dtype=dtype)
        var = Variable(value, name=name, trainable=trainable and self._trainable,
                       constraint=constraints.get(constraint),
                       regularizer=regularizers.get(regularizer), path=f"{self.name}/{name}")
        var.trainable = trainable
        self._weights.append(var)
        return var

    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [w for w in self._weights if w.trainable and self._trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self._weights if not (w.trainable and self._trainable)]

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for w in self._weights:
            w.requires_grad = w.trainable and self._trainable

    def get_weights(self):
        """Copies of the weights' values, in creation (Keras) order."""
        return [w.data.copy() for w in self._weights]

    def set_weights(self, weights):
        """Set every weight from a list of arrays (shapes checked before anything is written)."""
        weights = list(weights)
        if len(weights) != len(self._weights):
            raise ValueError(f"{type(self).__name__} '{self.name}': set_weights expected "
                             f"{len(self._weights)} arrays, got {len(weights)}")
        weights = [getattr(value, "data", value) for value in weights]
        for w, value in zip(self._weights, weights):
            if np.shape(value) != w.data.shape:
                raise ValueError(f"{type(self).__name__} '{self.name}': weight '{w.name}' has shape "
                                 f"{w.data.shape}, got an array of shape {np.shape(value)}")
        for w, value in zip(self._weights, weights):
            w.assign(value)

    def count_params(self):
        return int(sum(w.data.size for w in self._weights))

    @property
    def losses(self):
        """Regularization terms (scalar Tensors) of the last call: weight penalties, then activity."""
        return list(self._losses)

    # -- calling --------------------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis None). Default: none."""
        self.built = True

    def call(self, inputs, training=False):
        """The forward computation, on Tensors. Every layer defines it."""
        raise NotImplementedError(f"{type(self).__name__} must define call()")

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch axis may be None). Default: unchanged."""
        return input_shape

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.built = True

    def _check_input(self, shape):
        if self.input_spec is not None and not isinstance(shape, list):
            self.input_spec.check(self, shape)

    def _build_and_check(self, shape):
        """Check the input against the spec known so far (rank), build, then check again (the
        channel count fixed by build): a wrong rank never reaches ``build``."""
        self._check_input(shape)
        if not self.built:
            self._maybe_build(shape)
            self._check_input(shape)

    def __call__(self, inputs, training=False, **kwargs):
        if is_symbolic(inputs):
            return self._call_symbolic(inputs, kwargs)
        training = bool(training)
        return self._call_eager(inputs, lambda x: self.call(x, training=training, **kwargs))

    def _call_eager(self, inputs, compute):
        """What every call on data does around the layer's math: the inputs as Tensors of the
        layer's dtype, the weights built once, ``outputs = compute(inputs)``, then this call's
        regularization losses. The model's execution plan (models/plan.py) calls it with a fused
        computation in place of ``call``."""
        inputs = _to_tensors(inputs, self.dtype)
        self._build_and_check(shape_of(inputs))
        outputs = compute(inputs)
        self._losses = [w.regularizer(w) for w in self._weights if w.regularizer is not None]
        activity = getattr(self, "activity_regularizer", None)
        if activity is not None:  # as Keras 3: the penalty of the output over its batch size
            penalty = activity(outputs)
            if outputs.ndim > 0 and outputs.shape[0] > 1:
                penalty = penalty / outputs.shape[0]
            self._losses.append(penalty)
        return outputs

    def _call_symbolic(self, inputs, kwargs):
        shape = shape_of(inputs)
        self._build_and_check(shape)
        out_shape = self.compute_output_shape(shape)
        node_index = len(self._call_records)
        if isinstance(out_shape, list):
            outputs = [SymbolicTensor(s, self.dtype, self, node_index, i) for i, s in enumerate(out_shape)]
        else:
            outputs = SymbolicTensor(out_shape, self.dtype, self, node_index, 0)
        self._call_records.append(CallRecord(inputs, outputs, kwargs))
        return outputs

    # -- configuration ----------------------------------------------------------------------------
    def get_config(self):
        """The constructor arguments, with Keras's JSON keys."""
        config = {"name": self.name, "trainable": self._trainable, "dtype": self.dtype}
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} '{self.name}'>"


def resolve(module, identifier, name, who):
    """``module.get(identifier)`` (an initializer, regularizer, constraint or activation), with the
    layer and the argument named in its error: "Conv2D: kernel_initializer: unknown initializer..."."""
    try:
        return module.get(identifier)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{who}: {name}: {e}") from None


def _dtype_name(dtype):
    if dtype is None:
        return "float32"
    if isinstance(dtype, dict):  # Keras 3 writes a DTypePolicy object
        dtype = dtype.get("config", {}).get("name", "float32")
    return np.dtype(dtype).name if not isinstance(dtype, str) else dtype


def _layer_dtype(who, dtype):
    """The layer's dtype name, "float32" or "float64" (None: float32), else a ValueError.

    Those are the two dtypes minigrad computes in. A Keras dtype policy such as "mixed_float16"
    or "bfloat16" is refused, not quietly replaced by float32: the model would run, but not at
    the precision (nor the speed) that was asked for."""
    try:
        name = _dtype_name(dtype)
    except TypeError:   # np.dtype() of something that is no dtype at all (a number, a list)
        name = None
    if name not in ("float32", "float64"):
        shown = dtype if name is None else name   # a policy dict or a NumPy type: by its name
        hint = "; mixed precision is not supported" if "mixed" in str(shown) else ""
        raise ValueError(f"{who}: dtype must be 'float32' or 'float64', got {shown!r}{hint}")
    return name


def _to_tensors(x, dtype):
    if isinstance(x, (list, tuple)):
        return [_to_tensors(t, dtype) for t in x]
    if isinstance(x, Tensor):
        # as Keras: a float input of another precision is cast to the layer's dtype (differentiably)
        return x if x.data.dtype == dtype else x.astype(dtype)
    return Tensor(x, dtype=dtype)


__all__ = ["Layer", "registry", "unique_name", "reset_names", "resolve",
           # defined elsewhere, importable from here as before the split
           "Variable", "InputSpec", "SymbolicTensor", "CallRecord", "shape_of",
           "check_positive_int", "check_bool", "check_number"]
