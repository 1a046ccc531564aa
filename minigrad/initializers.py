"""Initializers: how a layer's weights start, as Keras 3 defines them.

An initializer is an object called as ``init(shape, dtype="float32")`` that returns a new
``numpy.ndarray`` of that shape. Layers look them up by name through :func:`get`::

    >>> from minigrad import initializers
    >>> init = initializers.get("he_normal")
    >>> init((3, 3, 8, 16)).shape
    (3, 3, 8, 16)
    >>> initializers.serialize(initializers.Constant(0.5))
    {'class_name': 'Constant', 'config': {'value': 0.5}}

Names, defaults and config keys follow Keras 3; TF.js spellings (``glorotUniform``,
``VarianceScaling`` with ``mode: "fanAvg"``, ``distribution: "normal"``) are accepted too.

Randomness. A *seeded* initializer (``seed=`` an int) draws from a fresh
``numpy.random.default_rng(seed)`` on every call, so it returns the same array each time it is
called with the same shape (as Keras 3 does with an int seed). An *unseeded* one draws from one
module-level generator, so successive calls differ; :func:`set_random_seed` resets that generator
for reproducible runs.

Fans. For a weight of shape ``shape`` (Keras's ``compute_fans``): a dense kernel ``(n_in, n_out)``
has fan_in = n_in, fan_out = n_out; a convolution kernel ``(*window, c_in, c_out)`` has receptive
field rf = prod(window), fan_in = c_in * rf, fan_out = c_out * rf. A depthwise kernel
``(kh, kw, C, M)`` goes through the same formula (fan_in = C kh kw, fan_out = M kh kw), as in Keras.
"""
import math
import numbers

import numpy as np

from ._checks import check_number, check_seed, check_shape
from .serialization import Configurable, Registry

_registry = Registry("initializer")
_rng = np.random.default_rng()

# The standard deviation of a standard normal truncated to [-2, 2]; dividing by it makes a
# truncated draw have the variance that was asked for (Keras's VarianceScaling does this).
_TRUNCATED_STDDEV = 0.87962566103423978


def set_random_seed(seed):
    """Reset the generator that unseeded initializers draw from (``None``: fresh entropy)."""
    global _rng
    _rng = np.random.default_rng(check_seed(seed, "set_random_seed"))


def compute_fans(shape, input_axes=None, output_axes=None):
    """``(fan_in, fan_out)`` of a weight shape, as Keras computes them.

    With both ``input_axes`` and ``output_axes`` given (Keras 3.15's VarianceScaling arguments),
    the fans are the products of those axes' sizes; otherwise (as in Keras, also when only one of
    them is given) they follow from the layout of a dense or convolution kernel.

    >>> compute_fans((3, 3, 8, 2))     # a depthwise kernel (kh, kw, C, M)
    (72, 18)
    >>> compute_fans((4, 5, 6), input_axes=[0], output_axes=[1, 2])
    (4, 30)
    """
    shape = tuple(int(d) for d in shape)
    if input_axes is not None and output_axes is not None:
        return (math.prod(shape[a] for a in input_axes),
                math.prod(shape[a] for a in output_axes))
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _check_axes(who, arg, axes):
    """None or a list of integer axes (``input_axes`` / ``output_axes``), as a tuple."""
    if axes is None:
        return None
    if isinstance(axes, (str, bytes)) or not hasattr(axes, "__iter__") or any(
            isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
        raise ValueError(f"{who}: {arg} must be None or a list of integer axes, got {axes!r}")
    return tuple(int(a) for a in axes)


# -- the dtype an initializer fills (the other checks are minigrad._checks') -----------------
def _check_dtype(who, dtype, kinds):
    try:
        dtype = np.dtype("float32" if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"{who}: dtype must be a NumPy dtype such as 'float32', "
                        f"got {dtype!r}") from None
    if dtype.kind not in kinds:
        wanted = "a float dtype" if kinds == "f" else "a numeric dtype"
        raise TypeError(f"{who}: dtype must be {wanted}, got {dtype}")
    return dtype


class Initializer(Configurable):
    """Base class: ``__call__(shape, dtype)`` returns an array; ``get_config()`` its arguments."""

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(shape, dtype)")

class _Random(Initializer):
    """Base of the random initializers: owns the seed and picks the generator."""

    def __init__(self, seed=None):
        self.seed = check_seed(seed, type(self).__name__)

    def _generator(self):
        # a seeded initializer restarts its own stream on every call: same shape, same array
        return np.random.default_rng(self.seed) if self.seed is not None else _rng

    def _prepare(self, shape, dtype):
        who = type(self).__name__
        return check_shape(shape, who), _check_dtype(who, dtype, "f"), self._generator()

    def get_config(self):
        return {"seed": self.seed}


def _truncated_standard_normal(rng, shape):
    """Standard normal draws, each one beyond 2 standard deviations drawn again."""
    out = np.asarray(rng.standard_normal(shape))
    outside = np.abs(out) > 2
    while outside.any():
        out[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(out) > 2
    return out


@_registry.register("zero")
class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype="float32"):
        return np.zeros(check_shape(shape, "Zeros"), dtype=_check_dtype("Zeros", dtype, "biuf"))


@_registry.register("one")
class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype="float32"):
        return np.ones(check_shape(shape, "Ones"), dtype=_check_dtype("Ones", dtype, "biuf"))


@_registry.register()
class Constant(Initializer):
    """Every element equal to ``value`` (a number)."""

    def __init__(self, value=0.0):
        self.value = check_number(value, "value", "Constant")

    def __call__(self, shape, dtype="float32"):
        return np.full(check_shape(shape, "Constant"), self.value,
                       dtype=_check_dtype("Constant", dtype, "biuf"))

    def get_config(self):
        return {"value": self.value}


@_registry.register("normal")  # Keras's short aliases
class RandomNormal(_Random):
    """Normal draws: w ~ N(mean, stddev^2)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = check_number(mean, "mean", "RandomNormal")
        self.stddev = check_number(stddev, "stddev", "RandomNormal", low=0)
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        shape, dtype, rng = self._prepare(shape, dtype)
        return (self.mean + self.stddev * rng.standard_normal(shape)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


@_registry.register("uniform")
class RandomUniform(_Random):
    """Uniform draws on [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = check_number(minval, "minval", "RandomUniform")
        self.maxval = check_number(maxval, "maxval", "RandomUniform")
        if self.minval > self.maxval:
            raise ValueError(f"RandomUniform: minval must not exceed maxval, got minval={minval!r} "
                             f"> maxval={maxval!r}")
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        shape, dtype, rng = self._prepare(shape, dtype)
        return rng.uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


@_registry.register()
class TruncatedNormal(_Random):
    """Normal draws N(mean, stddev^2) with every draw beyond 2 stddev from the mean redrawn.

    (The result's standard deviation is about 0.88 stddev: truncation removes the tails.)
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = check_number(mean, "mean", "TruncatedNormal")
        self.stddev = check_number(stddev, "stddev", "TruncatedNormal", low=0)
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        shape, dtype, rng = self._prepare(shape, dtype)
        return (self.mean + self.stddev * _truncated_standard_normal(rng, shape)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


# accepted spellings (Keras snake_case and TF.js camelCase, compared without case and "_")
_MODES = {"fanin": "fan_in", "fanout": "fan_out", "fanavg": "fan_avg"}
_DISTRIBUTIONS = {"truncatednormal": "truncated_normal", "normal": "truncated_normal",
                  "untruncatednormal": "untruncated_normal", "uniform": "uniform"}


def _choice(who, arg, value, table, canonical):
    key = value.replace("_", "").lower() if isinstance(value, str) else None
    if key not in table:
        raise ValueError(f"{who}: {arg} must be one of {canonical}, got {value!r}")
    return table[key]


@_registry.register()
class VarianceScaling(_Random):
    """Draws whose variance is ``scale / n``, n a fan of the weight's shape.

    n = fan_in, fan_out or (fan_in + fan_out) / 2 for ``mode`` "fan_in", "fan_out", "fan_avg"
    (never below 1). ``distribution``:

    * "truncated_normal": truncated normal (redrawn beyond 2 stddev) with
      stddev = sqrt(scale / n) / 0.8796..., so that the truncated draws have variance scale / n;
    * "untruncated_normal": N(0, scale / n);
    * "uniform": U(-limit, limit) with limit = sqrt(3 scale / n).

    "normal" (TF.js's spelling, and older Keras's) means "truncated_normal", as Keras reads it.
    (TF.js itself truncates without the 0.88 correction, so its "normal" draws are ~12% narrower.)
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        who = type(self).__name__
        # which axes count as fan-in and fan-out (Keras 3.15); None: a kernel's usual layout
        self.input_axes = _check_axes(who, "input_axes", input_axes)
        self.output_axes = _check_axes(who, "output_axes", output_axes)
        self.scale = check_number(scale, "scale", who, low=0, low_open=True)
        self.mode = _choice(who, "mode", mode, _MODES, "'fan_in', 'fan_out', 'fan_avg'")
        self.distribution = _choice(who, "distribution", distribution, _DISTRIBUTIONS,
                                    "'truncated_normal', 'untruncated_normal', 'uniform'")
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        shape, dtype, rng = self._prepare(shape, dtype)
        if self.input_axes is not None and self.output_axes is not None:
            for axis in self.input_axes + self.output_axes:
                if not -len(shape) <= axis < len(shape):
                    raise ValueError(f"{type(self).__name__}: axis {axis} of input_axes / "
                                     f"output_axes is out of range for the shape {shape}")
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            draws = _truncated_standard_normal(rng, shape) * (math.sqrt(variance) / _TRUNCATED_STDDEV)
        elif self.distribution == "untruncated_normal":
            draws = rng.standard_normal(shape) * math.sqrt(variance)
        else:
            limit = math.sqrt(3.0 * variance)
            draws = rng.uniform(-limit, limit, shape)
        return np.asarray(draws).astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config(), **self._axes_config()}

    def _axes_config(self):
        # written only when set: Keras before 3.15 refuses these keys, and None is the default
        return {k: list(v) for k, v in (("input_axes", self.input_axes),
                                         ("output_axes", self.output_axes)) if v is not None}


class _VarianceScalingPreset(VarianceScaling):
    """A VarianceScaling with fixed arguments: its config holds only the seed and, when set,
    ``input_axes`` / ``output_axes`` (as in Keras)."""

    def get_config(self):
        return {"seed": self.seed, **self._axes_config()}


@_registry.register()
class GlorotNormal(_VarianceScalingPreset):
    """Glorot & Bengio (2010): truncated normal with variance 2 / (fan_in + fan_out)."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(scale=1.0, mode="fan_avg", distribution="truncated_normal", seed=seed,
                         input_axes=input_axes, output_axes=output_axes)


@_registry.register()
class GlorotUniform(_VarianceScalingPreset):
    """Glorot & Bengio (2010): U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(scale=1.0, mode="fan_avg", distribution="uniform", seed=seed,
                         input_axes=input_axes, output_axes=output_axes)


@_registry.register()
class HeNormal(_VarianceScalingPreset):
    """He et al. (2015), for ReLU networks: truncated normal with variance 2 / fan_in."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(scale=2.0, mode="fan_in", distribution="truncated_normal", seed=seed,
                         input_axes=input_axes, output_axes=output_axes)


@_registry.register()
class HeUniform(_VarianceScalingPreset):
    """He et al. (2015): U(-limit, limit), limit = sqrt(6 / fan_in)."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(scale=2.0, mode="fan_in", distribution="uniform", seed=seed,
                         input_axes=input_axes, output_axes=output_axes)


@_registry.register()
class LecunNormal(_VarianceScalingPreset):
    """LeCun et al. (1998), used with selu: truncated normal with variance 1 / fan_in."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(scale=1.0, mode="fan_in", distribution="truncated_normal", seed=seed,
                         input_axes=input_axes, output_axes=output_axes)


@_registry.register()
class LecunUniform(_VarianceScalingPreset):
    """LeCun et al. (1998): U(-limit, limit), limit = sqrt(3 / fan_in)."""

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(scale=1.0, mode="fan_in", distribution="uniform", seed=seed,
                         input_axes=input_axes, output_axes=output_axes)


@_registry.register("OrthogonalInitializer")
class Orthogonal(_Random):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al., 2014).

    The shape is flattened to (prod(shape[:-1]), shape[-1]); the Q of the QR factorisation of a
    standard normal matrix (signs fixed by R's diagonal, so Q is uniformly distributed) fills it.
    Columns are orthonormal when rows >= columns (W^T W = gain^2 I), else rows are (W W^T = gain^2 I).
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = check_number(gain, "gain", "Orthogonal")
        super().__init__(seed)

    def __call__(self, shape, dtype="float32"):
        shape, dtype, rng = self._prepare(shape, dtype)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the shape must have rank >= 2, got {shape} of rank "
                             f"{len(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


@_registry.register("IdentityInitializer")
class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes; a rectangular one has ones on its diagonal)."""

    def __init__(self, gain=1.0):
        self.gain = check_number(gain, "gain", "Identity")

    def __call__(self, shape, dtype="float32"):
        shape = check_shape(shape, "Identity")
        if len(shape) != 2:
            raise ValueError(f"Identity: the shape must have rank 2, got {shape} of rank "
                             f"{len(shape)}")
        return (self.gain * np.eye(*shape)).astype(_check_dtype("Identity", dtype, "biuf"))

    def get_config(self):
        return {"gain": self.gain}


def get(identifier):
    """An initializer from a name (``"he_normal"``, ``"heNormal"``), a ``{"class_name",
    "config"}`` dict, a class, or an initializer (returned as is). None gives None."""
    return _registry.get(identifier)


def serialize(initializer):
    """``{"class_name": ..., "config": {...}}`` with Keras's class name and config keys."""
    return _registry.serialize(initializer)


def deserialize(config):
    """The initializer described by a name or a ``{"class_name", "config"}`` dict (Keras or TF.js)."""
    return _registry.deserialize(config)
