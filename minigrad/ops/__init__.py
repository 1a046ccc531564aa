"""Differentiable ops. Each takes Tensors, arrays or numbers and returns a Tensor.

Every op is a :class:`~minigrad.engine.function.Function` subclass with ``forward`` and
``backward`` side by side; the lowercase names here are the functions people call. Tensor's
operators (``+``, ``@``, ``x[i]``, ``x.sum()``...) call these same functions: see
:class:`~minigrad.engine.tensor.Tensor`.
"""
from .activation import (elu, gelu, hard_sigmoid, leaky_relu, log_softmax, relu, relu6, selu,
                         sigmoid, softmax, softplus, softsign, swish, tanh)
from .arithmetic import (abs, add, cast, clip, div, exp, log, maximum, minimum, mul, neg, power,
                         sqrt, square, sub, where)
from .reduction import max, mean, sum
from .linalg import bias_add, matmul
from .shape import concatenate, getitem, pad, reshape, stack, transpose
from .conv import conv2d
from .conv1d import conv1d, depthwise_conv1d
from .conv_transpose import conv2d_transpose
from .depthwise import depthwise_conv2d
from .layout import flatten
from .noise import dropout
from .normalization import batch_norm, batch_norm_train
from .fused import batch_norm_depthwise_conv2d, batch_norm_pointwise_conv2d
from .layer_norm import group_norm, layer_norm
from .pooling import avg_pool2d, global_avg_pool2d, max_pool2d
