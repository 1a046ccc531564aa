"""Depthwise and depthwise-separable convolutions, 1D and 2D, on one shared base.

Shapes (``channels_last``; ``channels_first`` swaps the channel axis to position 1), with M the
``depth_multiplier``:

* ``DepthwiseConv1D``: (N, L, C)    * depthwise_kernel (k, C, M)       -> (N, L', C*M)
* ``DepthwiseConv2D``: (N, H, W, C) * depthwise_kernel (kh, kw, C, M)  -> (N, H', W', C*M)
  (output channel ``c*M + m`` sees only input channel ``c``)
* ``SeparableConv1D`` / ``SeparableConv2D``: that depthwise step, then a pointwise (size-1
  kernel) convolution with pointwise_kernel (1, C*M, filters) / (1, 1, C*M, filters) mixing the
  C*M channels into ``filters``.

Strides, padding (``"valid"`` or ``"same"``) and dilation apply to the depthwise step; unlike
``Conv1D``/``Conv2D``, strides and dilation may both exceed 1. As in Keras,
:class:`BaseDepthwiseConv` holds the depthwise step and :class:`BaseSeparableConv` adds the
pointwise one; the 1D and 2D classes only fix the rank and their Keras signatures.
"""
import warnings

from .. import constraints, initializers, regularizers
from ..ops.conv import conv2d
from ..ops.conv1d import conv1d, depthwise_conv1d
from ..ops.depthwise import depthwise_conv2d
from ..ops.fused import batch_norm_depthwise_conv2d
from .._checks import check_positive_int
from .base import registry, resolve
from .convolutional import BaseConv, _refuse_keras_extras


class BaseDepthwiseConv(BaseConv):
    """The depthwise step every class here shares: ``depth_multiplier`` M and the
    ``depthwise_kernel`` (k..., C, M) with its initializer / regularizer / constraint.

    ``filters`` is None for a depthwise convolution (its output has C*M channels) and set for a
    separable one. ``groups`` is accepted for Keras 2 configs (which write ``groups: 1``) and
    must be 1; Keras 3 writes no such key, nor does ``get_config``.
    """

    def __init__(self, rank, filters, depth_multiplier, kernel_size, strides, padding,
                 data_format, dilation_rate, activation, use_bias, depthwise_initializer,
                 bias_initializer, depthwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, bias_constraint, groups=1, **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        who = type(self).__name__
        _refuse_keras_extras(who, groups=groups)
        self.depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier", who)
        self.depthwise_initializer = resolve(initializers, depthwise_initializer,
                                             "depthwise_initializer", who)
        self.depthwise_regularizer = resolve(regularizers, depthwise_regularizer,
                                             "depthwise_regularizer", who)
        self.depthwise_constraint = resolve(constraints, depthwise_constraint,
                                            "depthwise_constraint", who)
        self.depthwise_kernel = None

    def _build_depthwise(self, input_shape):
        """Check the input, add ``depthwise_kernel``; returns the input channel count C."""
        channels = self._input_channels(input_shape)
        self._spatial_output(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        return channels

    def _depthwise(self, inputs):
        op = depthwise_conv1d if self.rank == 1 else depthwise_conv2d
        return op(inputs, self.depthwise_kernel, self.strides, self.padding, self.data_format,
                  self.dilation_rate)

    def _depthwise_config(self):
        return {"depth_multiplier": self.depth_multiplier, **self._weight_config("depthwise")}


class _DepthwiseConv(BaseDepthwiseConv):
    """y = activation(depthwise_conv(x, depthwise_kernel) + bias); ``bias`` (C*M,)."""

    def _output_channels(self, in_channels):
        return None if in_channels is None else in_channels * self.depth_multiplier

    def build(self, input_shape):
        channels = self._build_depthwise(input_shape)
        self._build_bias(channels * self.depth_multiplier)
        self._spec_for(input_shape, channels)
        self.built = True

    def call(self, inputs, training=False):
        return self._bias_and_activation(self._depthwise(inputs))

    def get_config(self):
        config = self._conv_config()
        config.update(self._bias_config())
        config.update(self._depthwise_config())
        return config


def _refuse_filters(cls, kwargs):
    if "filters" in kwargs:  # would collide with BaseConv's own argument
        raise TypeError(f"{cls.__name__}: unexpected keyword argument(s) filters (the output has "
                        f"channels * depth_multiplier channels)")


@registry.register()
class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1D convolution: (N, L, C) -> (N, L', C*M); weights ``depthwise_kernel``
    (k, C, M), ``bias`` (C*M,). Padding ``"valid"`` or ``"same"`` (Keras has no causal one)."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        _refuse_filters(type(self), kwargs)
        super().__init__(1, None, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


@registry.register()
class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2D convolution: each input channel c is convolved with its own M = depth_multiplier
    filters; output channel c*M + m. y = activation(depthwise_conv2d(x, depthwise_kernel) + bias).

    Weights: ``depthwise_kernel`` (kh, kw, C, M), ``bias`` (C*M,).

    Differences from TF.js's layer (the seed): ``dilation_rate`` is applied (TF.js ignores it), and
    ``get_config`` writes the real ``depthwise_constraint`` (TF.js writes the regularizer there).
    ``from_config`` repairs such TF.js entries: see :meth:`from_config`.
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, groups=1, **kwargs):
        _refuse_filters(type(self), kwargs)
        super().__init__(2, None, depth_multiplier, kernel_size, strides, padding, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, groups,
                         **kwargs)

    def _call_after_batch_norm(self, inputs, bn, activation):
        """``call`` on ``activation(bn(inputs, training=True))``, the batch norm applied by the
        depthwise kernels as they read ``inputs`` (:func:`~minigrad.ops.fused.
        batch_norm_depthwise_conv2d`); ``bn``'s moving statistics are updated as its own call
        would. The model's execution plan calls it where that is the same computation
        (:mod:`minigrad.models.plan`)."""
        outputs, mean, variance = batch_norm_depthwise_conv2d(
            inputs, bn.gamma, bn.beta, self.depthwise_kernel, bn.epsilon, activation,
            self.strides, self.padding, self.dilation_rate)
        bn._update_moving_statistics(mean, variance)
        return self._bias_and_activation(outputs)

    @classmethod
    def from_config(cls, config):
        """``cls(**config)``, after repairing TF.js's ``depthwise_constraint`` bug.

        TF.js (through 4.x) serializes the *regularizer* under ``depthwise_constraint``, so its
        files carry e.g. ``{"class_name": "L1L2", ...}`` there. Such an entry (a regularizer name
        that is not a constraint name) is not used as a constraint: it becomes the
        ``depthwise_regularizer`` if that is empty, else it is dropped, with a warning either way.
        """
        config = dict(config)
        entry = config.get("depthwise_constraint")
        if entry is not None and _is_regularizer_entry(entry):
            config["depthwise_constraint"] = None
            if config.get("depthwise_regularizer") is None:
                config["depthwise_regularizer"] = entry
                fate = "used it as depthwise_regularizer (which was empty)"
            else:
                fate = "dropped it (depthwise_regularizer is already set)"
            warnings.warn(f"{cls.__name__} '{config.get('name')}': depthwise_constraint holds the "
                          f"regularizer {entry!r} (a known TF.js serialization bug); minigrad "
                          f"{fate} and uses no depthwise constraint", stacklevel=2)
        return cls(**config)


class BaseSeparableConv(BaseDepthwiseConv):
    """The depthwise step, then a pointwise convolution: y = activation(pointwise(depthwise(x))
    + bias), with ``pointwise_kernel`` (1..., C*M, filters) and ``bias`` (filters,).

    Keras 2 also writes ``groups: 1`` and its Conv base's ``kernel_initializer`` /
    ``kernel_regularizer`` / ``kernel_constraint``, which no separable weight uses (Keras 2
    ignores them too): accepted and dropped. Keras 3 writes none of them, nor does ``get_config``.
    """

    def __init__(self, rank, filters, kernel_size, strides, padding, data_format, dilation_rate,
                 depth_multiplier, activation, use_bias, depthwise_initializer,
                 pointwise_initializer, bias_initializer, depthwise_regularizer,
                 pointwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, pointwise_constraint, bias_constraint, groups=1,
                 kernel_initializer=None, kernel_regularizer=None, kernel_constraint=None,
                 **kwargs):
        if filters is None:
            raise TypeError(f"{type(self).__name__}: filters must be a positive integer, got None")
        super().__init__(rank, filters, depth_multiplier, kernel_size, strides, padding,
                         data_format, dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, groups,
                         **kwargs)
        del kernel_initializer, kernel_regularizer, kernel_constraint
        who = type(self).__name__
        self.pointwise_initializer = resolve(initializers, pointwise_initializer,
                                             "pointwise_initializer", who)
        self.pointwise_regularizer = resolve(regularizers, pointwise_regularizer,
                                             "pointwise_regularizer", who)
        self.pointwise_constraint = resolve(constraints, pointwise_constraint,
                                            "pointwise_constraint", who)
        self.pointwise_kernel = None

    def build(self, input_shape):
        channels = self._build_depthwise(input_shape)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self._build_bias(self.filters)
        self._spec_for(input_shape, channels)
        self.built = True

    def call(self, inputs, training=False):
        pointwise = conv1d if self.rank == 1 else conv2d
        outputs = pointwise(self._depthwise(inputs), self.pointwise_kernel,
                            data_format=self.data_format)
        return self._bias_and_activation(outputs)

    def get_config(self):
        config = self._conv_config()
        config.update(self._bias_config())
        config.update(self._depthwise_config())
        config.update(self._weight_config("pointwise"))
        return config


@registry.register("SeparableConvolution1D")  # Keras's alias
class SeparableConv1D(BaseSeparableConv):
    """Depthwise separable 1D convolution: (N, L, C) -> (N, L', filters). Weights
    ``depthwise_kernel`` (k, C, M), ``pointwise_kernel`` (1, C*M, filters), ``bias`` (filters,)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


@registry.register("SeparableConvolution2D")  # Keras's alias
class SeparableConv2D(BaseSeparableConv):
    """Depthwise separable 2D convolution: a depthwise convolution (M filters per input channel),
    then a 1x1 convolution mixing the C*M channels into ``filters``, then bias and activation.

    Weights: ``depthwise_kernel`` (kh, kw, C, M), ``pointwise_kernel`` (1, 1, C*M, filters),
    ``bias`` (filters,). Strides, padding and dilation apply to the depthwise step.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


def _is_regularizer_entry(entry):
    """True when a config entry names a regularizer and no constraint (TF.js's mix-up)."""
    def loads_as(module):
        try:
            module.deserialize(entry)
        except (ValueError, TypeError):
            return False
        return True

    return not loads_as(constraints) and loads_as(regularizers)
