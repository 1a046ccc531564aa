"""Convolution layers: ``BaseConv`` and the 2D convolutions a MobileNet is made of.

Shapes (``channels_last``; ``channels_first`` swaps the channel axis to position 1):

* ``Conv2D``:          (N, H, W, C) * kernel (kh, kw, C, filters)          -> (N, H', W', filters)
* ``DepthwiseConv2D``: (N, H, W, C) * depthwise_kernel (kh, kw, C, M)      -> (N, H', W', C*M)
  (output channel ``c*M + m`` sees only input channel ``c``)
* ``SeparableConv2D``: depthwise (kh, kw, C, M), then a 1x1 conv with pointwise_kernel
  (1, 1, C*M, filters)                                                      -> (N, H', W', filters)

H' = ceil(H / stride) for ``"same"`` padding and floor((H - eff) / stride) + 1 for ``"valid"``,
with eff = (kh - 1) * dilation + 1 (see :mod:`minigrad.ops.geometry`). Each ``call`` is
convolution -> bias_add -> activation, and nothing else.
"""
import warnings

from .. import activations, constraints, initializers, regularizers
from ..ops.conv import conv2d
from ..ops.depthwise import depthwise_conv2d
from ..ops.geometry import (normalize_data_format, normalize_padding, normalize_tuple,
                            window_geometry)
from ..ops.linalg import bias_add
from .._checks import check_bool, check_positive_int
from .base import Layer, registry, resolve
from .input_spec import InputSpec


class BaseConv(Layer):
    """What every convolution shares, validated once: rank, ``filters`` (None for a depthwise
    convolution, whose output channels follow from the input), kernel size, strides, padding,
    data format, dilation, activation, the bias with its initializer/regularizer/constraint, and
    the activity regularizer. Subclasses add their kernels in ``build``.

    Unlike Keras, ``dilation_rate > 1`` together with ``strides > 1`` is allowed (the op computes
    it exactly). ``data_format=None`` means ``"channels_last"``.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, bias_initializer="zeros",
                 bias_regularizer=None, activity_regularizer=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.rank = check_positive_int(rank, "rank", who)
        # None only for depthwise convolutions; Conv2D and SeparableConv2D refuse it themselves
        self.filters = None if filters is None else check_positive_int(filters, "filters", who)
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", who)
        self.strides = normalize_tuple(strides, self.rank, "strides", who)
        self.padding = normalize_padding(padding, who)
        self.data_format = normalize_data_format(data_format, who)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", who)
        self.activation = resolve(activations, activation, "activation", who)
        self.use_bias = check_bool(use_bias, "use_bias", who)
        self.bias_initializer = resolve(initializers, bias_initializer, "bias_initializer", who)
        self.bias_regularizer = resolve(regularizers, bias_regularizer, "bias_regularizer", who)
        self.activity_regularizer = resolve(regularizers, activity_regularizer,
                                            "activity_regularizer", who)
        self.bias_constraint = resolve(constraints, bias_constraint, "bias_constraint", who)
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.bias = None

    # -- shapes -------------------------------------------------------------------------------
    @property
    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def _input_channels(self, input_shape):
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the channel axis of the input "
                             f"must be known to build the layer, got input shape {tuple(input_shape)}")
        return int(channels)

    def _output_channels(self, in_channels):
        """Output channels for ``in_channels`` input channels (None when unknown)."""
        return self.filters

    def _spatial_output(self, input_shape):
        """Output sizes of the spatial axes; refuses an input smaller than the dilated window."""
        spatial = input_shape[2:] if self.data_format == "channels_first" else input_shape[1:-1]
        out = []
        for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate):
            size = None if n is None else window_geometry(n, k, s, d, self.padding)[0]
            if size == 0:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': input shape {tuple(input_shape)} is "
                    f"smaller than the window (kernel_size {self.kernel_size}, dilation_rate "
                    f"{self.dilation_rate}) with padding 'valid': the output would be empty")
            out.append(size)
        return tuple(out)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        channels = input_shape[self._channel_axis]
        filters = self._output_channels(channels)
        spatial = self._spatial_output(input_shape)
        if self.data_format == "channels_first":
            return (input_shape[0], filters) + spatial
        return (input_shape[0],) + spatial + (filters,)

    # -- weights and call -----------------------------------------------------------------------
    def _build_bias(self, size):
        if self.use_bias:
            self.bias = self.add_weight("bias", (size,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def _spec_for(self, input_shape, channels):
        """After build: refuse inputs with another channel count than the one built for."""
        axis = 1 if self.data_format == "channels_first" else len(input_shape) - 1
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={axis: channels})

    def _bias_and_activation(self, outputs):
        if self.bias is not None:
            outputs = bias_add(outputs, self.bias, data_format=self.data_format)
        if self.activation is not activations.linear:  # skip a pass over the output for nothing
            outputs = self.activation(outputs)
        return outputs

    # -- configuration ----------------------------------------------------------------------------
    def _conv_config(self):
        """The shared keys, in Keras's order (``filters`` first where there is one)."""
        config = super().get_config()
        if self.filters is not None:
            config["filters"] = self.filters
        config.update({
            "kernel_size": list(self.kernel_size), "strides": list(self.strides),
            "padding": self.padding, "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
        })
        return config

    def _bias_config(self):
        return {
            "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


@registry.register("Convolution2D")  # Keras's alias
class Conv2D(BaseConv):
    """2D convolution: y = activation(conv2d(x, kernel) + bias).

    Weights: ``kernel`` (kh, kw, C, filters), ``bias`` (filters,). ``groups`` is accepted for
    Keras 3 configs (which always write it) and must be 1.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        if filters is None:
            raise TypeError(f"{type(self).__name__}: filters must be a positive integer, got None")
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        who = type(self).__name__
        _refuse_keras_extras(who, groups=groups, lora_rank=lora_rank)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:  # the conv2d op refuses it
            raise ValueError(f"{who}: strides {self.strides} and dilation_rate "
                             f"{self.dilation_rate} cannot both be above 1 (ops.conv2d does not "
                             f"support it; DepthwiseConv2D and SeparableConv2D do)")
        self.kernel_initializer = resolve(initializers, kernel_initializer,
                                          "kernel_initializer", who)
        self.kernel_regularizer = resolve(regularizers, kernel_regularizer,
                                          "kernel_regularizer", who)
        self.kernel_constraint = resolve(constraints, kernel_constraint, "kernel_constraint", who)
        self.kernel = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._spatial_output(input_shape)
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._build_bias(self.filters)
        self._spec_for(input_shape, channels)
        self.built = True

    def call(self, inputs, training=False):
        outputs = conv2d(inputs, self.kernel, strides=self.strides, padding=self.padding,
                         data_format=self.data_format, dilation_rate=self.dilation_rate)
        return self._bias_and_activation(outputs)

    def get_config(self):
        config = self._conv_config()
        config["groups"] = 1
        config.update(self._bias_config())
        config.update({
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
        })
        return config


@registry.register()
class DepthwiseConv2D(BaseConv):
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
        if "filters" in kwargs:  # would collide with BaseConv's own argument
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) filters (the "
                            f"output has channels * depth_multiplier channels)")
        super().__init__(2, None, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        who = type(self).__name__
        # Keras 2 writes ``groups: 1`` (inherited from its Conv base, unused); Keras 3 has no such
        # key, so get_config leaves it out
        _refuse_keras_extras(who, groups=groups)
        self.depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier", who)
        self.depthwise_initializer = resolve(initializers, depthwise_initializer,
                                             "depthwise_initializer", who)
        self.depthwise_regularizer = resolve(regularizers, depthwise_regularizer,
                                             "depthwise_regularizer", who)
        self.depthwise_constraint = resolve(constraints, depthwise_constraint,
                                            "depthwise_constraint", who)
        self.depthwise_kernel = None

    def _output_channels(self, in_channels):
        return None if in_channels is None else in_channels * self.depth_multiplier

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._spatial_output(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self._build_bias(channels * self.depth_multiplier)
        self._spec_for(input_shape, channels)
        self.built = True

    def call(self, inputs, training=False):
        outputs = depthwise_conv2d(inputs, self.depthwise_kernel, strides=self.strides,
                                   padding=self.padding, data_format=self.data_format,
                                   dilation_rate=self.dilation_rate)
        return self._bias_and_activation(outputs)

    def get_config(self):
        config = self._conv_config()
        config.update(self._bias_config())
        config.update({
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
        })
        return config

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


@registry.register("SeparableConvolution2D")  # Keras's alias
class SeparableConv2D(BaseConv):
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
                 pointwise_constraint=None, bias_constraint=None, groups=1,
                 kernel_initializer=None, kernel_regularizer=None, kernel_constraint=None,
                 **kwargs):
        if filters is None:
            raise TypeError(f"{type(self).__name__}: filters must be a positive integer, got None")
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        who = type(self).__name__
        # Keras 2 writes ``groups: 1`` and its Conv base's kernel_initializer / _regularizer /
        # _constraint, which no separable weight uses (Keras 2 ignores them too): accepted and
        # dropped. Keras 3 writes none of them, nor does get_config.
        _refuse_keras_extras(who, groups=groups)
        del kernel_initializer, kernel_regularizer, kernel_constraint
        self.depth_multiplier = check_positive_int(depth_multiplier, "depth_multiplier", who)
        self.depthwise_initializer = resolve(initializers, depthwise_initializer,
                                             "depthwise_initializer", who)
        self.pointwise_initializer = resolve(initializers, pointwise_initializer,
                                             "pointwise_initializer", who)
        self.depthwise_regularizer = resolve(regularizers, depthwise_regularizer,
                                             "depthwise_regularizer", who)
        self.pointwise_regularizer = resolve(regularizers, pointwise_regularizer,
                                             "pointwise_regularizer", who)
        self.depthwise_constraint = resolve(constraints, depthwise_constraint,
                                            "depthwise_constraint", who)
        self.pointwise_constraint = resolve(constraints, pointwise_constraint,
                                            "pointwise_constraint", who)
        self.depthwise_kernel = self.pointwise_kernel = None

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._spatial_output(input_shape)
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self._build_bias(self.filters)
        self._spec_for(input_shape, channels)
        self.built = True

    def call(self, inputs, training=False):
        outputs = depthwise_conv2d(inputs, self.depthwise_kernel, strides=self.strides,
                                   padding=self.padding, data_format=self.data_format,
                                   dilation_rate=self.dilation_rate)
        outputs = conv2d(outputs, self.pointwise_kernel, data_format=self.data_format)
        return self._bias_and_activation(outputs)

    def get_config(self):
        config = self._conv_config()
        config["depth_multiplier"] = self.depth_multiplier
        config.update(self._bias_config())
        config.update({
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
        })
        return config


def _refuse_keras_extras(who, groups=1, lora_rank=None):
    """Keras 3 config keys minigrad accepts only at their no-op values: ``groups`` (grouped
    convolution) must be 1 and ``lora_rank`` (LoRA fine-tuning) must be None."""
    if isinstance(groups, bool) or groups != 1:
        raise ValueError(f"{who}: groups must be 1 (grouped convolution is not supported; use "
                         f"DepthwiseConv2D for groups == channels), got {groups!r}")
    if lora_rank is not None:
        raise ValueError(f"{who}: lora_rank must be None (LoRA is not supported), got {lora_rank!r}")


def _is_regularizer_entry(entry):
    """True when a config entry names a regularizer and no constraint (TF.js's mix-up)."""
    def loads_as(module):
        try:
            module.deserialize(entry)
        except (ValueError, TypeError):
            return False
        return True

    return not loads_as(constraints) and loads_as(regularizers)
