"""Core layers: Dense, Activation, ReLU, Dropout, Flatten, Reshape, and the model's Input.

Shapes (N is the batch):

* ``Dense(units)``: (N, ..., d) @ kernel (d, units) + bias (units,) -> (N, ..., units)
* ``Flatten``: (N, d1, d2, ...) -> (N, d1*d2*...)
* ``Reshape(target_shape)``: (N, ...) -> (N, *target_shape) (one entry may be -1)
* ``Activation``, ``ReLU``, ``Dropout``: shape unchanged
"""
import numbers

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
from ..ops.geometry import normalize_data_format
from ..ops.layout import flatten
from ..ops.linalg import bias_add
from ..ops.noise import dropout
from .._checks import (check_bool, check_number, check_positive_int, check_seed,
                       check_shape)
from .base import Layer, registry, resolve
from .input_spec import InputSpec
from .symbolic import CallRecord, SymbolicTensor


@registry.register()
class Dense(Layer):
    """Fully connected: y = activation(x @ kernel + bias), on the last axis of x.

    Weights: ``kernel`` (d, units), ``bias`` (units,). An input of rank > 2 is reshaped to
    (-1, d) for the product (one matrix product) and back. Keras 3's ``lora_rank`` and
    ``quantization_config`` are accepted for its configs and must be None.
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.units = check_positive_int(units, "units", who)
        self.activation = resolve(activations, activation, "activation", who)
        self.use_bias = check_bool(use_bias, "use_bias", who)
        self.kernel_initializer = resolve(initializers, kernel_initializer,
                                          "kernel_initializer", who)
        self.bias_initializer = resolve(initializers, bias_initializer, "bias_initializer", who)
        self.kernel_regularizer = resolve(regularizers, kernel_regularizer,
                                          "kernel_regularizer", who)
        self.bias_regularizer = resolve(regularizers, bias_regularizer, "bias_regularizer", who)
        self.activity_regularizer = resolve(regularizers, activity_regularizer,
                                            "activity_regularizer", who)
        self.kernel_constraint = resolve(constraints, kernel_constraint, "kernel_constraint", who)
        self.bias_constraint = resolve(constraints, bias_constraint, "bias_constraint", who)
        # Keras 3 keys, accepted at their no-op values only
        if lora_rank is not None:
            raise ValueError(f"{who}: lora_rank must be None (LoRA is not supported), got "
                             f"{lora_rank!r}")
        if quantization_config is not None:
            raise ValueError(f"{who}: quantization_config must be None (quantization is not "
                             f"supported), got {quantization_config!r}")
        self.input_spec = InputSpec(min_ndim=2)
        self.kernel = self.bias = None

    def build(self, input_shape):
        d = input_shape[-1]
        if d is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the last axis of the input must "
                             f"be known to build the layer, got input shape {tuple(input_shape)}")
        self.kernel = self.add_weight("kernel", (d, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: int(d)})
        self.built = True

    def call(self, inputs, training=False):
        lead = inputs.shape[:-1]
        x = inputs if inputs.ndim == 2 else ops.reshape(inputs, (-1, inputs.shape[-1]))
        outputs = ops.matmul(x, self.kernel)
        if self.bias is not None:
            outputs = bias_add(outputs, self.bias)
        if self.activation is not activations.linear:  # skip a pass over the output for nothing
            outputs = self.activation(outputs)
        return outputs if inputs.ndim == 2 else ops.reshape(outputs, lead + (self.units,))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


@registry.register()
class Activation(Layer):
    """y = activation(x), with an activation name (``"relu"``, ``"softmax"``...) or function."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.activation = resolve(activations, activation, "activation", who)

    def call(self, inputs, training=False):
        return self.activation(inputs)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


@registry.register()
class ReLU(Layer):
    """Keras's ReLU with options (``max_value=6`` gives ReLU6)::

        f(x) = min(x, max_value)                 for x >= threshold
        f(x) = negative_slope * (x - threshold)  for x < threshold

    The plain cases run one fused op (relu, relu6, clip): see :func:`minigrad.activations.relu`.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.max_value = None if max_value is None else check_number(max_value, "max_value", who, low=0)
        self.negative_slope = check_number(negative_slope, "negative_slope", who, low=0)
        self.threshold = check_number(threshold, "threshold", who, low=0)

    def call(self, inputs, training=False):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


@registry.register()
class Dropout(Layer):
    """During training (``layer(x, training=True)``) zero each element with probability ``rate``
    and scale the rest by 1 / (1 - rate); at inference return x unchanged.

    ``noise_shape`` (entries None take the input's size) shares one mask along axes of size 1.
    With a ``seed`` the sequence of masks is reproducible: the layer owns a generator seeded once,
    and each training call draws the next mask from it.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.rate = check_number(rate, "rate", who, low=0, high=1, high_open=True)
        if noise_shape is not None:
            if isinstance(noise_shape, (str, bytes)) or not hasattr(noise_shape, "__len__") or any(
                    d is not None and (isinstance(d, bool) or not isinstance(d, numbers.Integral)
                                       or d < 1) for d in noise_shape):
                raise ValueError(f"{who}: noise_shape must be None or a tuple of positive integers "
                                 f"or None, got {noise_shape!r}")
            noise_shape = tuple(None if d is None else int(d) for d in noise_shape)
        self.noise_shape = noise_shape
        self.seed = check_seed(seed, who)
        self._rng = np.random.default_rng(self.seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        return dropout(inputs, self.rate, rng=self._rng, noise_shape=self.noise_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate,
                       "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
                       "seed": self.seed})
        return config


@registry.register()
class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1*d2*...). With ``data_format="channels_first"`` the channel axis
    is moved last first (as Keras does), so a model gives the same vector in both layouts."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, type(self).__name__)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs, training=False):
        return flatten(inputs, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


@registry.register()
class Reshape(Layer):
    """(N, ...) -> (N, *target_shape). One entry of ``target_shape`` may be -1 (inferred)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        bad = (isinstance(target_shape, (str, bytes)) or not hasattr(target_shape, "__len__")
               or any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or (d < 1 and d != -1)
                      for d in target_shape)
               or sum(1 for d in target_shape if d == -1) > 1)
        if bad:
            raise ValueError(f"{who}: target_shape must be a tuple of positive integers with at most "
                             f"one -1, got {target_shape!r}")
        self.target_shape = tuple(int(d) for d in target_shape)

    def _resolve(self, input_shape):
        """The output shape without the batch axis, with -1 worked out when the size is known."""
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            known = int(np.prod(self.target_shape, dtype=np.int64))
            size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
            if size is not None and size != known:
                raise ValueError(f"{type(self).__name__} '{self.name}': cannot reshape an input of "
                                 f"shape {tuple(input_shape)} ({size} values per sample) to "
                                 f"target_shape {self.target_shape} ({known} values)")
            return self.target_shape
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = int(np.prod(rest, dtype=np.int64))
        known = int(np.prod([d for d in self.target_shape if d != -1], dtype=np.int64))
        if size % known:
            raise ValueError(f"{type(self).__name__} '{self.name}': cannot reshape an input of shape "
                             f"{tuple(input_shape)} ({size} values per sample) to target_shape "
                             f"{self.target_shape}: {size} is not a multiple of {known}")
        return tuple(size // known if d == -1 else d for d in self.target_shape)

    def call(self, inputs, training=False):
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(tuple(input_shape))

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


@registry.register()
class InputLayer(Layer):
    """The entry point of a functional model: it holds the input's shape and produces the first
    :class:`SymbolicTensor` (``self.output``), recorded as its call 0 (no inputs). Called on a
    Tensor it returns it unchanged.

    Args (Keras 3 and TF.js names): ``shape`` (without batch) and ``batch_size``, or
    ``batch_shape`` / ``batch_input_shape`` (with batch); ``dtype``; ``name``. ``sparse``,
    ``ragged`` and ``optional`` are accepted for Keras/TF.js configs and must be False.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=False, batch_shape=None,
                 name=None, ragged=False, optional=False, batch_input_shape=None, input_shape=None,
                 **kwargs):
        who = type(self).__name__
        given = [k for k, v in (("shape", shape), ("batch_shape", batch_shape),
                                ("batch_input_shape", batch_input_shape),
                                ("input_shape", input_shape)) if v is not None]
        if len(given) != 1:
            raise ValueError(f"{who}: give exactly one of shape, batch_shape (or batch_input_shape), "
                             f"got {', '.join(given) if given else 'none'}")
        shape = shape if shape is not None else input_shape
        full = batch_shape if batch_shape is not None else batch_input_shape
        if full is None:
            if isinstance(shape, numbers.Integral):
                shape = (shape,)
            full = (batch_size,) + tuple(shape)
        full = check_shape(full, who, allow_none=True)
        if sparse or ragged or optional:
            raise ValueError(f"{who}: sparse, ragged and optional inputs are not supported, got "
                             f"sparse={sparse!r}, ragged={ragged!r}, optional={optional!r}")
        super().__init__(name=name, dtype=dtype, batch_input_shape=full, **kwargs)
        self.built = True
        self.output = SymbolicTensor(full, self.dtype, self, 0, 0)
        self._call_records.append(CallRecord([], self.output, {}))

    def call(self, inputs, training=False):
        return inputs

    def get_config(self):
        return {"batch_input_shape": list(self.batch_input_shape), "dtype": self.dtype,
                "sparse": False, "name": self.name}


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None):
    """The symbolic input of a functional model: ``Input(shape=(28, 28, 1))`` is a
    :class:`SymbolicTensor` of shape (None, 28, 28, 1) made by a new :class:`InputLayer`."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                      batch_shape=batch_shape).output
