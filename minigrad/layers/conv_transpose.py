"""Conv2DTranspose: the transposed 2D convolution ("deconvolution") of decoders and generators.

Shapes (``channels_last``; ``channels_first`` swaps the channel axis to position 1):

    (N, H, W, C) * kernel (kh, kw, filters, C) -> (N, H', W', filters)

Each input pixel spreads ``x[n, i, j, :] @ kernel[a, b].T`` onto output pixel
(i*sh + a*dh, j*sw + b*dw), less the crop of ``"same"`` padding (see
:mod:`minigrad.ops.conv_transpose`). Output sizes follow Keras's ``deconv_output_length``, with
eff = (k - 1) * dilation + 1:

* ``output_padding=None``: H' = H*s + max(eff - s, 0) (``"valid"``) or H*s (``"same"``);
* ``output_padding=p`` (p < s): H' = (H - 1)*s + eff + p (``"valid"``) or
  (H - 1)*s + eff % 2 + p (``"same"``).

The kernel keeps Keras's layout, filters *before* input channels: it is the kernel of the
``Conv2D`` whose input gradient this layer computes, so weights move between the two frameworks
unchanged. ``call`` is transposed convolution -> bias_add -> activation.
"""
from ..ops.conv_transpose import check_output_padding, conv2d_transpose, deconv_output_length
from .base import registry
from .convolutional import BaseConv


@registry.register("Convolution2DTranspose")  # Keras's alias
class Conv2DTranspose(BaseConv):
    """y = activation(conv2d_transpose(x, kernel) + bias).

    Weights: ``kernel`` (kh, kw, filters, C), ``bias`` (filters,). As for the other convolutions
    here (unlike Keras), ``strides > 1`` together with ``dilation_rate > 1`` is allowed: the op
    computes it exactly.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        if filters is None:
            raise TypeError(f"{type(self).__name__}: filters must be a positive integer, got None")
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, bias_initializer, bias_regularizer,
                         activity_regularizer, bias_constraint, **kwargs)
        who = type(self).__name__
        self.output_padding = check_output_padding(output_padding, self.strides, who)
        self._kernel_arguments(kernel_initializer, kernel_regularizer, kernel_constraint)

    def _spatial_output(self, input_shape):
        """Output sizes of the spatial axes (Keras's deconv_output_length); None stays None."""
        spatial = input_shape[2:] if self.data_format == "channels_first" else input_shape[1:-1]
        out = []
        for i, (n, k, s, d) in enumerate(zip(spatial, self.kernel_size, self.strides,
                                             self.dilation_rate)):
            if n is not None and n < 1:
                raise ValueError(f"{type(self).__name__} '{self.name}': input shape "
                                 f"{tuple(input_shape)} has an empty spatial axis")
            op = None if self.output_padding is None else self.output_padding[i]
            out.append(deconv_output_length(n, k, s, self.padding, op, d))
        return tuple(out)

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._spatial_output(input_shape)
        self.kernel = self.add_weight("kernel", self.kernel_size + (self.filters, channels),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._build_bias(self.filters)
        self._spec_for(input_shape, channels)
        self.built = True

    def call(self, inputs, training=False):
        outputs = conv2d_transpose(inputs, self.kernel, strides=self.strides,
                                   padding=self.padding, output_padding=self.output_padding,
                                   data_format=self.data_format,
                                   dilation_rate=self.dilation_rate)
        return self._bias_and_activation(outputs)

    def get_config(self):
        config = {}
        for key, value in self._conv_config().items():   # Keras's order: output_padding follows
            config[key] = value                          # padding
            if key == "padding":
                config["output_padding"] = (None if self.output_padding is None
                                            else list(self.output_padding))
        config.update(self._bias_config())
        config.update(self._weight_config("kernel"))
        return config
