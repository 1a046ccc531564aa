"""Activation layers with their own arguments (Keras 3's keras.layers.LeakyReLU, PReLU, ELU, Softmax).

Each keeps the input's shape. ``Activation("elu")`` and ``ELU()`` compute the same thing; these
classes exist because Keras and TF.js models name them, with arguments an activation name cannot
carry (a slope, a learned ``alpha``, an axis). ``ReLU`` lives in :mod:`minigrad.layers.core`.
"""
import numbers

import numpy as np

from .. import activations, constraints, initializers, ops, regularizers
from .._checks import check_axis, check_number
from .base import Layer, registry, resolve
from .input_spec import InputSpec


@registry.register()
class LeakyReLU(Layer):
    """f(x) = x for x >= 0, ``negative_slope`` * x otherwise (Keras 3 default slope 0.3).

    ``alpha`` is the older name of ``negative_slope`` (Keras 2 and TF.js write it); it is accepted
    so that their configs load, and the config is written with Keras 3's name.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        who = type(self).__name__
        if "alpha" in kwargs:
            alpha = kwargs.pop("alpha")
            if negative_slope != 0.3:
                raise ValueError(f"{who}: give negative_slope or its old name alpha, not both "
                                 f"(got negative_slope={negative_slope!r}, alpha={alpha!r})")
            negative_slope = alpha
        super().__init__(**kwargs)
        self.negative_slope = check_number(negative_slope, "negative_slope", who, low=0)

    def call(self, inputs, training=False):
        return ops.leaky_relu(inputs, alpha=self.negative_slope)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


@registry.register()
class ELU(Layer):
    """f(x) = x for x > 0, ``alpha`` (e^x - 1) otherwise (Clevert et al., 2016)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_number(alpha, "alpha", type(self).__name__)

    def call(self, inputs, training=False):
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


@registry.register()
class Softmax(Layer):
    """e^x / sum e^x along ``axis``: an int, or a list of axes normalised together (one
    distribution over all of their entries, as Keras 3 does)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        axis = check_axis(axis, type(self).__name__, allow_none=False)
        # a list stays a list, so that the config survives a JSON round trip unchanged
        self.axis = list(axis) if isinstance(axis, tuple) else axis

    def build(self, input_shape):
        # the axes must exist in the input: checked once here, with the input's rank
        check_axis(self.axis, type(self).__name__, ndim=len(input_shape), allow_none=False)
        super().build(input_shape)

    def call(self, inputs, training=False):
        if isinstance(self.axis, int):
            return ops.softmax(inputs, axis=self.axis)
        if len(self.axis) == 1:
            return ops.softmax(inputs, axis=self.axis[0])
        axes = check_axis(self.axis, type(self).__name__, ndim=inputs.ndim, allow_none=False)
        # shift by the (constant) max so that e^x cannot overflow; softmax is unchanged by a shift
        shift = np.max(inputs.data, axis=axes, keepdims=True)
        e = ops.exp(inputs - shift)
        return e / ops.sum(e, axis=axes, keepdims=True)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


@registry.register()
class PReLU(Layer):
    """Parametric ReLU (He et al., 2015): f(x) = x for x >= 0, ``alpha`` * x otherwise, with
    ``alpha`` a learned weight of the input's shape without the batch axis (initialised to 0,
    Keras's default).

    ``shared_axes`` (1-based, the batch being axis 0) share one alpha along those axes: for images
    (N, H, W, C), ``shared_axes=[1, 2]`` learns one alpha per channel.
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.alpha_initializer = resolve(initializers, alpha_initializer, "alpha_initializer", who)
        self.alpha_regularizer = resolve(regularizers, alpha_regularizer, "alpha_regularizer", who)
        self.alpha_constraint = resolve(constraints, alpha_constraint, "alpha_constraint", who)
        if shared_axes is not None:
            single = isinstance(shared_axes, numbers.Integral) and not isinstance(shared_axes, bool)
            axes = [shared_axes] if single else shared_axes
            if not isinstance(axes, (list, tuple)) or not all(
                    isinstance(a, numbers.Integral) and not isinstance(a, bool) and a >= 1
                    for a in axes):
                raise ValueError(f"{who}: shared_axes must be None, an integer >= 1 or a list of "
                                 f"them (axis 0 is the batch), got {shared_axes!r}")
            shared_axes = [int(a) for a in axes]
        self.shared_axes = shared_axes

    def build(self, input_shape):
        who = type(self).__name__
        ndim = len(input_shape)
        shape = list(input_shape[1:])
        for a in self.shared_axes or []:
            if a >= ndim:
                raise ValueError(f"{who}: shared_axes must name axes in [1, {ndim - 1}] for an "
                                 f"input of shape {tuple(input_shape)}, got {self.shared_axes!r}")
            shape[a - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"{who}: every axis of the input but the batch and shared_axes must "
                             f"be known to build alpha, got input shape {tuple(input_shape)}")
        self.alpha = self.add_weight("alpha", shape, initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        self.input_spec = InputSpec(ndim=ndim, axes={i: int(input_shape[i])
                                                     for i in range(1, ndim)
                                                     if i not in (self.shared_axes or [])})
        super().build(input_shape)

    def call(self, inputs, training=False):
        # relu(x) - alpha relu(-x): x where x >= 0, alpha x below; alpha broadcasts over the batch
        # and the shared axes (size 1 there)
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def get_config(self):
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        })
        return config
