"""Window arithmetic shared by every convolution and pooling op, forward and backward.

For one spatial axis of size ``n``, a window of ``k`` taps spaced ``dilation`` apart spans
``(k - 1) * dilation + 1`` input pixels (its *effective* size). With ``stride`` s:

* ``"valid"``: no padding; out = floor((n - eff) / s) + 1, or 0 when the window is larger than n.
* ``"same"`` (TensorFlow's rule): out = ceil(n / s); total padding
  max((out - 1) * s + eff - n, 0), of which the smaller half goes before (top/left) and the extra
  pixel, if any, after (bottom/right).

>>> window_geometry(5, 3, 2, 1, "same")
(3, 1, 1)
>>> window_geometry(4, 3, 2, 1, "same")
(2, 0, 1)
>>> window_geometry(2, 3, 1, 1, "valid")
(0, 0, 0)
"""
import numbers


def window_geometry(n, k, stride, dilation, padding):
    """``(out, pad_before, pad_after)`` for one axis; see the module docstring."""
    eff = (k - 1) * dilation + 1
    if padding == "valid":
        out = (n - eff) // stride + 1 if n >= eff else 0
        return out, 0, 0
    out = -(-n // stride)  # ceil
    total = max((out - 1) * stride + eff - n, 0)
    return out, total // 2, total - total // 2


def conv_geometry(in_hw, kernel_hw, strides, dilation_rate, padding):
    """Both spatial axes: ``((out_h, out_w), (pad_top, pad_bottom), (pad_left, pad_right))``."""
    (oh, pt, pb), (ow, pl, pr) = (window_geometry(n, k, s, d, padding) for n, k, s, d in
                                  zip(in_hw, kernel_hw, strides, dilation_rate))
    return (oh, ow), (pt, pb), (pl, pr)


def normalize_tuple(value, n, name, who, allow_zero=False):
    """An int or a length-``n`` sequence of positive ints -> a tuple of ``n`` ints.

    Refuses bools, floats (even 2.0), zero (unless ``allow_zero``), negatives and wrong lengths,
    with a ValueError/TypeError naming ``who``, the argument, the value and what was expected.
    """
    low = 0 if allow_zero else 1
    # the usual cases first (every convolution call, every step): a plain int, a tuple of them
    if type(value) is int and value >= low:
        return (value,) * n
    if type(value) is tuple and len(value) == n:
        for v in value:
            if type(v) is not int or v < low:
                break
        else:
            return value
    expected = (f"{'a non-negative' if allow_zero else 'a positive'} integer or a tuple of {n} "
                f"{'non-negative' if allow_zero else 'positive'} integers")
    items = (value,) * n if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if isinstance(items, (str, bytes)) or not hasattr(items, "__len__"):
        raise TypeError(f"{who}: {name} must be {expected}, got {value!r}")
    items = tuple(items)
    if len(items) != n:
        raise ValueError(f"{who}: {name} must be {expected}, got {value!r} (length {len(items)})")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{who}: {name} must be {expected}, got {value!r}")
        if v < low:
            raise ValueError(f"{who}: {name} must be {expected}, got {value!r}")
    return tuple(int(v) for v in items)


def normalize_padding(padding, who):
    """'valid' or 'same' (any case) -> lower case; anything else is refused."""
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        return padding.lower()
    raise ValueError(f"{who}: padding must be 'valid' or 'same', got {padding!r}")


def normalize_data_format(data_format, who):
    """'channels_last' (default for None) or 'channels_first'; anything else is refused."""
    if data_format is None:
        return "channels_last"
    if data_format in ("channels_last", "channels_first"):
        return data_format
    raise ValueError(f"{who}: data_format must be 'channels_last' or 'channels_first', got "
                     f"{data_format!r}")
