"""1-D convolutions (Keras ``Conv1D`` / ``DepthwiseConv1D`` semantics) as the 2-D ops on a
sequence viewed as an image one row high.

For x (N, L, C) and a kernel K (k, C/G, F) (G = ``groups``)::

    y[n, o, f] = sum_{t, c} x[n, o*s + t*d - p, g*C/G + c] * K[t, c, f]      (g = f // (F/G))

and for a depthwise kernel K (k, C, M), output channel ``c*M + m``::

    y[n, o, c*M + m] = sum_t x[n, o*s + t*d - p, c] * K[t, c, m]

Reading x as (N, 1, L, C) and K as (1, k, C/G, F) (or (1, k, C, M)) makes these exactly
:func:`~minigrad.ops.conv.conv2d` / :func:`~minigrad.ops.depthwise.depthwise_conv2d` with a unit
row axis (stride and dilation 1 along it), so their partials are those ops' partials, reshaped:
no new Function is needed. ``channels_first`` x (N, C, L) becomes (N, C, 1, L).

Padding, with eff = (k - 1) * d + 1:

* ``"valid"``: out = floor((L - eff) / s) + 1 (0 when eff > L);
* ``"same"``: out = ceil(L / s), the odd padded step after the sequence (TensorFlow's rule);
* ``"causal"``: eff - 1 zeros *before* the sequence and none after, then ``"valid"``: output o
  never reads an input later than o*s (what Keras's ``Conv1D(padding="causal")`` does);
  out = ceil(L / s).
"""
from .._checks import check_positive_int
from .conv import check_groups, conv2d
from .depthwise import depthwise_conv2d
from .geometry import normalize_data_format, normalize_tuple
from ._common import check_sequence, shape_of
from .shape import pad, reshape


def normalize_padding_1d(padding, who, allow_causal=True):
    """'valid', 'same' or (with ``allow_causal``) 'causal', any case -> lower case."""
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if isinstance(padding, str) and padding.lower() in allowed:
        return padding.lower()
    expected = "'valid', 'same' or 'causal'" if allow_causal else "'valid' or 'same'"
    raise ValueError(f"{who}: padding must be {expected}, got {padding!r}")


def _check_sequence(x, kernel, kernel_name, kernel_layout, who, data_format):
    """The shapes of a 3-D sequence batch and a 3-D kernel, or a ValueError naming the layout."""
    shape, kshape = check_sequence(x, "x", who, data_format), shape_of(kernel)
    if len(kshape) != 3 or 0 in kshape:
        raise ValueError(f"{who}: {kernel_name} must be a 3-D tensor {kernel_layout} with no zero "
                         f"dimension, got shape {kshape}")
    channels = shape[2] if data_format == "channels_last" else shape[1]
    return shape, kshape, channels


def _as_image(x, padding, kernel_size, dilation, data_format):
    """x (N, L, C) / (N, C, L) -> (N, 1, L', C) / (N, C, 1, L'), causally padded for "causal"
    (L' = L + eff - 1), and the 2-D op's padding for it."""
    if padding == "causal":
        widths = [(0, 0), (0, 0), (0, 0)]
        widths[1 if data_format == "channels_last" else 2] = ((kernel_size - 1) * dilation, 0)
        x, padding = pad(x, widths), "valid"
    n, a, b = shape_of(x)
    return reshape(x, (n, 1, a, b) if data_format == "channels_last" else (n, a, 1, b)), padding


def _as_sequence(y, data_format):
    """The 2-D op's output with its unit row axis dropped."""
    n, a, b, c = shape_of(y)
    return reshape(y, (n, b, c) if data_format == "channels_last" else (n, a, c))


def conv1d(x, kernel, strides=1, padding="valid", data_format="channels_last", dilation_rate=1,
           groups=1):
    """1-D convolution (cross-correlation, as Keras/TF): a Tensor of the output.

    Args:
        x: (N, L, C) for ``"channels_last"``, (N, C, L) for ``"channels_first"``.
        kernel: (k, C/groups, F), Keras's layout.
        strides, dilation_rate: a positive int or a 1-tuple (not both above 1, as in Keras).
        padding: ``"valid"``, ``"same"`` or ``"causal"`` (see the module docstring).
        groups: a positive divisor of C and F; filter block g sees channel block g only.

    Returns (N, L', F) (or (N, F, L')).

    >>> import numpy as np
    >>> x = np.arange(4.0).reshape(1, 4, 1)
    >>> conv1d(x, np.ones((2, 1, 1)), padding="causal").numpy().ravel().tolist()
    [0.0, 1.0, 3.0, 5.0]
    """
    who = "conv1d"
    data_format = normalize_data_format(data_format, who)
    padding = normalize_padding_1d(padding, who)
    (stride,) = normalize_tuple(strides, 1, "strides", who)
    (dilation,) = normalize_tuple(dilation_rate, 1, "dilation_rate", who)
    if stride > 1 and dilation > 1:
        raise ValueError(f"{who}: strides ({stride},) and dilation_rate ({dilation},) cannot both "
                         f"be above 1 (Keras refuses this too)")
    shape, kshape, channels = _check_sequence(x, kernel, "kernel", "(k, in_channels / groups, "
                                              "filters)", who, data_format)
    groups = check_positive_int(groups, "groups", who)
    check_groups(groups, channels, kshape[2], who)
    if kshape[1] * groups != channels:
        raise ValueError(f"{who}: kernel has {kshape[1]} input channels (shape {kshape}) but x has "
                         f"{channels} channels (shape {shape}, data_format={data_format!r}) in "
                         f"{groups} group(s): expected {channels // groups} per group")
    image, padding = _as_image(x, padding, kshape[0], dilation, data_format)
    y = conv2d(image, reshape(kernel, (1,) + tuple(kshape)), (1, stride), padding, data_format,
               (1, dilation), groups)
    return _as_sequence(y, data_format)


def depthwise_conv1d(x, depthwise_kernel, strides=1, padding="valid",
                     data_format="channels_last", dilation_rate=1):
    """Depthwise 1-D convolution: channel c filtered by ``depthwise_kernel[:, c, m]`` gives output
    channel ``c*M + m``. Strides and dilation may both exceed 1 (as for the 2-D op).

    Args:
        x: (N, L, C) for ``"channels_last"``, (N, C, L) for ``"channels_first"``.
        depthwise_kernel: (k, C, M).
        padding: ``"valid"``, ``"same"`` or ``"causal"`` (see the module docstring).

    Returns (N, L', C*M) (or (N, C*M, L')).

    >>> import numpy as np
    >>> x = np.arange(3.0).reshape(1, 3, 1)
    >>> depthwise_conv1d(x, np.ones((2, 1, 2)), padding="same").numpy()[0].tolist()
    [[1.0, 1.0], [3.0, 3.0], [2.0, 2.0]]
    """
    who = "depthwise_conv1d"
    data_format = normalize_data_format(data_format, who)
    padding = normalize_padding_1d(padding, who)
    (stride,) = normalize_tuple(strides, 1, "strides", who)
    (dilation,) = normalize_tuple(dilation_rate, 1, "dilation_rate", who)
    shape, kshape, channels = _check_sequence(x, depthwise_kernel, "depthwise_kernel",
                                              "(k, channels, depth_multiplier)", who, data_format)
    if kshape[1] != channels:
        raise ValueError(f"{who}: depthwise_kernel has {kshape[1]} input channels (shape[1] of "
                         f"{kshape}) but x has {channels} (shape {shape}, data_format="
                         f"{data_format!r})")
    image, padding = _as_image(x, padding, kshape[0], dilation, data_format)
    y = depthwise_conv2d(image, reshape(depthwise_kernel, (1,) + tuple(kshape)), (1, stride),
                         padding, data_format, (1, dilation))
    return _as_sequence(y, data_format)
