"""Convolution layers: ``BaseConv`` (what every convolution shares) and the plain convolutions
``Conv1D`` / ``Conv2D``. The depthwise and separable ones are in :mod:`.depthwise`.

Shapes (``channels_last``; ``channels_first`` swaps the channel axis to position 1):

* ``Conv1D``: (N, L, C)    * kernel (k, C/groups, filters)          -> (N, L', filters)
* ``Conv2D``: (N, H, W, C) * kernel (kh, kw, C/groups, filters)     -> (N, H', W', filters)

With ``groups`` G, the C channels and the filters are cut into G consecutive blocks; filter
block g sees only channel block g (G = 1: every filter sees every channel).

H' = ceil(H / stride) for ``"same"`` padding and floor((H - eff) / stride) + 1 for ``"valid"``,
with eff = (kh - 1) * dilation + 1 (see :mod:`minigrad.ops.geometry`). ``Conv1D`` also has
``"causal"`` padding: eff - 1 zeros before the sequence only, so output step o sees no input
after step o*stride; L' = ceil(L / stride). Each ``call`` is convolution -> bias_add ->
activation, and nothing else.
"""
from .. import activations, constraints, initializers, regularizers
from ..ops.conv import check_groups, conv2d
from ..ops.conv1d import conv1d, normalize_padding_1d
from ..ops.fused import batch_norm_pointwise_conv2d
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

    Unlike Keras, depthwise convolutions allow ``dilation_rate > 1`` together with
    ``strides > 1`` (the op computes it exactly). ``data_format=None`` means
    ``"channels_last"``. ``padding="causal"`` is accepted where the class sets
    ``causal_padding = True`` (Keras: ``Conv1D`` only).
    """

    causal_padding = False   # may padding be "causal"? (rank 1 only)

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, bias_initializer="zeros",
                 bias_regularizer=None, activity_regularizer=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.rank = check_positive_int(rank, "rank", who)
        # None only for depthwise convolutions; Conv and BaseSeparableConv refuse it themselves
        self.filters = None if filters is None else check_positive_int(filters, "filters", who)
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", who)
        self.strides = normalize_tuple(strides, self.rank, "strides", who)
        if self.causal_padding and self.rank == 1:
            self.padding = normalize_padding_1d(padding, who)
        else:
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
        # causal padding pads eff - 1 before the input: as many outputs as "same" padding
        padding = "same" if self.padding == "causal" else self.padding
        for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate):
            size = None if n is None else window_geometry(n, k, s, d, padding)[0]
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

    def _kernel_arguments(self, initializer, regularizer, constraint):
        """The kernel's initializer, regularizer and constraint, resolved and checked (Conv1D,
        Conv2D and Conv2DTranspose; the depthwise layers name theirs differently)."""
        who = type(self).__name__
        self.kernel_initializer = resolve(initializers, initializer, "kernel_initializer", who)
        self.kernel_regularizer = resolve(regularizers, regularizer, "kernel_regularizer", who)
        self.kernel_constraint = resolve(constraints, constraint, "kernel_constraint", who)
        self.kernel = None

    def _weight_config(self, name):
        """The ``<name>_initializer``, ``_regularizer`` and ``_constraint`` keys of the weight
        ``name`` ("kernel", "depthwise", "pointwise"), serialized as Keras writes them."""
        return {
            f"{name}_initializer": initializers.serialize(getattr(self, f"{name}_initializer")),
            f"{name}_regularizer": regularizers.serialize(getattr(self, f"{name}_regularizer")),
            f"{name}_constraint": constraints.serialize(getattr(self, f"{name}_constraint")),
        }

    def _bias_config(self):
        return {
            "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class Conv(BaseConv):
    """What ``Conv1D`` and ``Conv2D`` share (Keras's ``BaseConv``): y = activation(conv(x, kernel)
    + bias), with ``kernel`` (k..., C/groups, filters) and ``bias`` (filters,).

    ``groups`` must divide ``filters`` (checked here) and the input channels (checked at build).
    ``strides > 1`` with ``dilation_rate > 1`` is refused, as Keras does.
    """

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        if filters is None:
            raise TypeError(f"{type(self).__name__}: filters must be a positive integer, got None")
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        who = type(self).__name__
        _refuse_keras_extras(who, lora_rank=lora_rank)
        self.groups = check_positive_int(groups, "groups", who)
        check_groups(self.groups, None, self.filters, who)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:  # the conv ops refuse it
            raise ValueError(f"{who}: strides {self.strides} and dilation_rate "
                             f"{self.dilation_rate} cannot both be above 1 (as in Keras; "
                             f"depthwise and separable convolutions allow it)")
        self._kernel_arguments(kernel_initializer, kernel_regularizer, kernel_constraint)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        who = f"{type(self).__name__} '{self.name}'"
        check_groups(self.groups, channels, self.filters, who)
        self._spatial_output(input_shape)
        self.kernel = self.add_weight(
            "kernel", self.kernel_size + (channels // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self._build_bias(self.filters)
        self._spec_for(input_shape, channels)
        self.built = True

    def call(self, inputs, training=False):
        op = conv1d if self.rank == 1 else conv2d
        outputs = op(inputs, self.kernel, self.strides, self.padding, self.data_format,
                     self.dilation_rate, self.groups)
        return self._bias_and_activation(outputs)

    def get_config(self):
        config = self._conv_config()
        config["groups"] = self.groups
        config.update(self._bias_config())
        config.update(self._weight_config("kernel"))
        return config


@registry.register("Convolution1D")  # Keras's alias
class Conv1D(Conv):
    """1D convolution over sequences: (N, L, C) -> (N, L', filters), kernel (k, C/groups,
    filters). ``padding`` may be ``"causal"`` (see the module docstring)."""

    causal_padding = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


@registry.register("Convolution2D")  # Keras's alias
class Conv2D(Conv):
    """2D convolution: y = activation(conv2d(x, kernel, groups) + bias).

    Weights: ``kernel`` (kh, kw, C/groups, filters), ``bias`` (filters,).
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, lora_rank, **kwargs)

    def _call_after_batch_norm(self, inputs, bn, activation):
        """``call`` on ``activation(bn(inputs, training=True))`` for a 1x1 convolution of stride 1,
        the batch norm applied by the product kernels as they read ``inputs``
        (:func:`~minigrad.ops.fused.batch_norm_pointwise_conv2d`); ``bn``'s moving statistics are
        updated as its own call would. The model's execution plan calls it where that is the same
        computation (:mod:`minigrad.models.plan`)."""
        outputs, mean, variance = batch_norm_pointwise_conv2d(
            inputs, bn.gamma, bn.beta, self.kernel, bn.epsilon, activation)
        bn._update_moving_statistics(mean, variance)
        return self._bias_and_activation(outputs)


def _refuse_keras_extras(who, groups=1, lora_rank=None):
    """Config keys minigrad accepts only at their no-op values: ``groups`` must be 1 where the
    layer has no groups (Keras 2 writes ``groups: 1`` for depthwise and separable convolutions)
    and ``lora_rank`` (LoRA fine-tuning) must be None."""
    if isinstance(groups, bool) or groups != 1:
        raise ValueError(f"{who}: groups must be 1 (only Conv1D and Conv2D have groups; a "
                         f"depthwise convolution is one group per channel already), got "
                         f"{groups!r}")
    if lora_rank is not None:
        raise ValueError(f"{who}: lora_rank must be None (LoRA is not supported), got {lora_rank!r}")

