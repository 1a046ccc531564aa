"""Argument validators shared by all of minigrad, each defined once (this module imports nothing
from minigrad, so any module may use it).

Every check takes the value, the argument's name and who asks (a class or function name), and
returns the value in its canonical form (a float, an int, a tuple...) or raises an error that
names all three, always in one form::

    "<who>: <name> must be <what was expected>, got <value!r>"

Which error, the one rule:

* ``TypeError`` when the value is not of a kind the argument can take at all: a string, None, a
  list or a bool where a number is expected (``True`` is an int to Python, but ``momentum=True``
  is a mistake, not 1.0), a float where an integer is expected.
* ``ValueError`` when the kind is right but the value is not allowed: a number out of its range,
  ``nan`` or ``inf`` where a finite number is expected, a negative seed, a repeated axis.

A number is anything registered as ``numbers.Real`` (Python's int and float, NumPy's scalars such
as ``np.float32(0.5)``), never a bool. Numbers must be finite unless a check says otherwise, and a
range reads the same everywhere:

>>> check_number(0.5, "rate", "Dropout", low=0, high=1, high_open=True)
0.5
>>> check_number(-1, "epsilon", "Adam", low=0)
Traceback (most recent call last):
...
ValueError: Adam: epsilon must be a finite non-negative number, got -1
>>> check_number("0.1", "l2", "L2", low=0)
Traceback (most recent call last):
...
TypeError: L2: l2 must be a finite non-negative number, got '0.1'
>>> check_number(float("inf"), "beta_1", "Adam", low=0, high=1, high_open=True)
Traceback (most recent call last):
...
ValueError: Adam: beta_1 must be a finite number in [0, 1), got inf

:func:`snake_case` turns a class name into the automatic name of its objects, as Keras does:

>>> [snake_case(n) for n in ("Conv2D", "BatchNormalization", "ReLU", "RMSprop")]
['conv2d', 'batch_normalization', 're_lu', 'rm_sprop']
"""
import math
import numbers
import re

import numpy as np

_BOOLS = (bool, np.bool_)


def _range_text(noun, low, high, low_open, high_open, adjective=""):
    """What a range reads as: "a finite positive number", "an integer >= 2", "a finite number in
    [0, 1)". A lower bound of 0 alone is said in words (positive / non-negative)."""
    words = [adjective] if adjective else []
    if low is not None and high is None and (low == 0 or (noun == "integer" and low == 1)):
        words.append("positive" if low_open or low == 1 else "non-negative")
        low = None
    text = " ".join(words + [noun])
    if low is not None and high is not None:
        text += f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        text += f" {'>' if low_open else '>='} {low}"
    elif high is not None:
        text += f" {'<' if high_open else '<='} {high}"
    return ("an " if text[0] in "aeiou" else "a ") + text


def _fail(error, who, name, expected, value):
    raise error(f"{who}: {name} must be {expected}, got {value!r}")


def check_number(value, name, who, low=None, high=None, low_open=False, high_open=False, *,
                 finite=True, allow_none=False):
    """``value`` as a float if it is a real number (not a bool) within the bounds; ``low`` /
    ``high`` are closed ends unless ``low_open`` / ``high_open``. ``nan`` is never accepted;
    ``inf`` only with ``finite=False``; None only with ``allow_none`` (returned as None).
    TypeError for a non-number, ValueError for a number out of range or not finite."""
    if value is None and allow_none:
        return None
    kind = type(value)
    ok_type = kind is float or kind is int or (
        not isinstance(value, _BOOLS) and isinstance(value, numbers.Real))
    if ok_type:
        try:
            v = float(value)
        except OverflowError:  # an int beyond float's range, e.g. 10**400
            v = math.inf if value > 0 else -math.inf
        ok = v == v and (not finite or math.isfinite(v)) \
            and (low is None or v > low or (v == low and not low_open)) \
            and (high is None or v < high or (v == high and not high_open))
        if ok:
            return v
    expected = _range_text("number", low, high, low_open, high_open, "finite" if finite else "")
    if allow_none:
        expected = "None or " + expected
    _fail(ValueError if ok_type else TypeError, who, name, expected, value)


def check_int(value, name, who, low=None, high=None, *, allow_none=False):
    """``value`` as an int if it is an integer (Python's or NumPy's, not a bool) in [low, high];
    None only with ``allow_none``. TypeError for a non-integer (2.0 included), ValueError for an
    integer out of range."""
    if value is None and allow_none:
        return None
    ok_type = not isinstance(value, _BOOLS) and isinstance(value, numbers.Integral)
    if ok_type:
        v = int(value)
        if (low is None or v >= low) and (high is None or v <= high):
            return v
    expected = _range_text("integer", low, high, False, False)
    if allow_none:
        expected = "None or " + expected
    _fail(ValueError if ok_type else TypeError, who, name, expected, value)


def check_positive_int(value, name, who, allow_none=False):
    """``value`` as an int if it is an integer >= 1, e.g. "DepthwiseConv2D: depth_multiplier must
    be a positive integer, got 0"."""
    return check_int(value, name, who, low=1, allow_none=allow_none)


def check_bool(value, name, who):
    """``value`` as a bool if it is True or False (NumPy's bools too); else a TypeError (1 and
    "yes" are not flags)."""
    if not isinstance(value, _BOOLS):
        _fail(TypeError, who, name, "True or False", value)
    return bool(value)


def check_seed(seed, who, name="seed"):
    """A random seed: None (fresh entropy) or a non-negative integer, returned as an int."""
    return check_int(seed, name, who, low=0, allow_none=True)


def check_shape(shape, who, name="shape", allow_none=False):
    """A shape as a tuple of ints: a tuple or list of non-negative integers (an int ``n`` means
    ``(n,)``); with ``allow_none`` an entry may be None (a size not known yet, as the batch).
    TypeError for something that is no sequence of integers (a string included), ValueError for a
    negative size."""
    expected = "a tuple of non-negative integers" + (" or None" if allow_none else "")
    dims = shape
    if isinstance(dims, numbers.Integral) and not isinstance(dims, _BOOLS):
        dims = (dims,)
    if isinstance(dims, (str, bytes, dict)):
        _fail(TypeError, who, name, expected, shape)
    try:
        dims = tuple(dims)
    except TypeError:
        _fail(TypeError, who, name, expected, shape)
    sizes = [d for d in dims if not (d is None and allow_none)]
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, _BOOLS) for d in sizes):
        _fail(TypeError, who, name, expected, shape)
    if any(d < 0 for d in sizes):
        _fail(ValueError, who, name, expected, shape)
    return tuple(None if d is None else int(d) for d in dims)


def check_axis(axis, who, ndim=None, *, name="axis", multiple=True, allow_none=True):
    """An axis argument: an integer; with ``multiple`` also a non-empty list or tuple of distinct
    integers; with ``allow_none`` also None (meaning every axis). Given the rank ``ndim``, each
    axis must lie in [-ndim, ndim) and comes back non-negative. Returns None, an int or a tuple.

    >>> check_axis([0, -1], "MaxNorm"), check_axis(-1, "softmax", ndim=3, multiple=False)
    ((0, -1), 2)
    """
    bounds = "" if ndim is None else f" in [-{ndim}, {ndim})"
    kinds = ["an integer" + bounds]
    if multiple:
        kinds.append("a non-empty list of distinct integers" + bounds)
    expected = ", ".join(kinds) + " or None" if allow_none else " or ".join(kinds)

    def is_int(a):
        return isinstance(a, numbers.Integral) and not isinstance(a, _BOOLS)

    if axis is None and allow_none:
        return None
    if is_int(axis):
        axes, single = (int(axis),), True
    elif multiple and isinstance(axis, (list, tuple)) and all(is_int(a) for a in axis):
        axes, single = tuple(int(a) for a in axis), False
    else:
        _fail(TypeError, who, name, expected, axis)
    if ndim is not None:
        if not all(-ndim <= a < ndim for a in axes):
            _fail(ValueError, who, name, expected, axis)
        axes = tuple(a % ndim for a in axes)
    if not axes or len(set(axes)) != len(axes):
        _fail(ValueError, who, name, expected, axis)
    return axes[0] if single else axes


_NOT_IN_IDENTIFIERS = re.compile(r"\W+")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")


def snake_case(name):
    """The automatic name for a class name, by Keras's rule (``keras.src.utils.naming``), so that
    minigrad's automatic layer names are Keras's.

    Characters that cannot be in an identifier are dropped; then an "_" goes before each capital
    that starts a capitalised word (capital then lower-case: "Sprop" in "RMSprop") or follows a
    lower-case letter ("eL" in "ReLU"); then everything is lower-cased. Digits are neither upper
    nor lower case, so "Conv2D" stays one word; only ASCII letters count, as in Keras.

    >>> [snake_case(n) for n in ("SGD", "GlobalAveragePooling2D", "PReLU", "Conv2DTranspose")]
    ['sgd', 'global_average_pooling2d', 'p_re_lu', 'conv2d_transpose']
    """
    name = _NOT_IN_IDENTIFIERS.sub("", name)
    out = []
    for i, c in enumerate(name):
        if i and c in _UPPER and (name[i - 1] in _LOWER
                                  or (i + 1 < len(name) and name[i + 1] in _LOWER)):
            out.append("_")
        out.append(c)
    return "".join(out).lower()


__all__ = ["check_number", "check_int", "check_positive_int", "check_bool", "check_seed",
           "check_shape", "check_axis", "snake_case"]
