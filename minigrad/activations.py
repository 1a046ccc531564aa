"""Activation functions by name: what a layer's ``activation="relu"`` refers to.

Each activation is a plain function from a Tensor to a Tensor, built from the ops in
``minigrad.ops`` (so each is differentiable). Names follow Keras 3 (``"relu"``, ``"hard_sigmoid"``,
``"swish"``...) and TF.js's spellings are accepted (``"hardSigmoid"``, ``"logSoftmax"``,
``"gelu_new"``); a layer's config stores the name, as Keras and TF.js write it:

>>> import numpy as np, minigrad as mg
>>> from minigrad import activations
>>> activations.get("relu6")(mg.Tensor(np.array([-1.0, 3.0, 9.0], dtype=np.float32))).numpy()
array([0., 3., 6.], dtype=float32)
>>> activations.serialize(activations.get("silu")), activations.get(None) is activations.linear
('swish', True)

Two differences between the libraries, decided here as Keras 3 does: ``hard_sigmoid`` is
clip(x/6 + 1/2, 0, 1) (TF.js and Keras 2 use clip(0.2 x + 1/2, 0, 1)), and ``gelu`` is exact
(``gelu_new``, TF.js's name, is the tanh approximation).
"""
import math

import numpy as np

from . import ops
from ._checks import check_axis, check_bool, check_number
from .ops import activation as _act
from .engine.function import as_tensor
from .serialization import Registry

_registry = Registry("activation")


@_registry.register()
def linear(x):
    """f(x) = x (the input itself, unchanged)."""
    return x


@_registry.register()
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, Keras 3's general form: x where x > threshold, else 0; clipped to
    [0, max_value] when max_value is given; then minus negative_slope * max(threshold - x, 0).
    So f(threshold) = 0. The defaults give max(x, 0); ``max_value=6`` gives relu6."""
    negative_slope = check_number(negative_slope, "negative_slope", "relu", low=0)
    threshold = check_number(threshold, "threshold", "relu")
    max_value = check_number(max_value, "max_value", "relu", low=0, allow_none=True)
    if negative_slope == 0 and threshold == 0:
        if max_value is None:
            return ops.relu(x)
        return ops.relu6(x) if max_value == 6 else ops.clip(x, 0.0, max_value)
    x = as_tensor(x, "relu")
    y = ops.where(x.data > threshold, x, x * 0.0)
    if max_value is not None:
        y = ops.clip(y, 0.0, max_value)
    if negative_slope != 0:
        y = y - ops.relu(threshold - x) * negative_slope
    return y


@_registry.register()
def relu6(x):
    """f(x) = min(max(x, 0), 6) (MobileNet's activation)."""
    return ops.relu6(x)


@_registry.register()
def leaky_relu(x, negative_slope=0.2):
    """f(x) = x for x > 0, negative_slope * x otherwise (Keras default slope 0.2)."""
    return ops.leaky_relu(x, alpha=check_number(negative_slope, "negative_slope", "leaky_relu"))


@_registry.register()
def elu(x, alpha=1.0):
    """f(x) = x for x > 0, alpha (e^x - 1) otherwise (Clevert et al., 2016)."""
    return ops.elu(x, alpha=check_number(alpha, "alpha", "elu"))


@_registry.register()
def selu(x):
    """f(x) = scale * elu(x, alpha) with Klambauer et al.'s constants (~1.0507, ~1.6733)."""
    return ops.selu(x)


@_registry.register()
def sigmoid(x):
    """f(x) = 1 / (1 + e^-x)."""
    return ops.sigmoid(x)


@_registry.register()
def hard_sigmoid(x):
    """f(x) = clip(x / 6 + 1/2, 0, 1) (Keras 3; a piecewise-linear sigmoid)."""
    return ops.hard_sigmoid(x)


@_registry.register()
def tanh(x):
    """f(x) = tanh x."""
    return ops.tanh(x)


@_registry.register()
def softmax(x, axis=-1):
    """e^x / sum e^x along ``axis`` (default the last: one distribution per row)."""
    return ops.softmax(x, axis=axis)


@_registry.register()
def log_softmax(x, axis=-1):
    """x - log sum e^x along ``axis``, computed stably."""
    return ops.log_softmax(x, axis=axis)


@_registry.register()
def softplus(x):
    """f(x) = ln(1 + e^x)."""
    return ops.softplus(x)


@_registry.register()
def softsign(x):
    """f(x) = x / (1 + |x|)."""
    return ops.softsign(x)


@_registry.register()
def exponential(x):
    """f(x) = e^x."""
    return ops.exp(x)


@_registry.register("silu")
def swish(x):
    """f(x) = x sigmoid(x) (Ramachandran et al., 2017; also called SiLU)."""
    return ops.swish(x)


@_registry.register()
def gelu(x, approximate=False):
    """f(x) = x Phi(x), Phi the standard normal CDF (Hendrycks & Gimpel, 2016); with
    ``approximate=True`` the tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if not check_bool(approximate, "approximate", "gelu"):
        return ops.gelu(x)
    x = as_tensor(x, "gelu")
    inner = (x + x * x * x * 0.044715) * math.sqrt(2 / math.pi)
    return x * (ops.tanh(inner) + 1.0) * 0.5


@_registry.register()
def gelu_new(x):
    """TF.js's name for the tanh approximation of gelu: ``gelu(x, approximate=True)``."""
    return gelu(x, approximate=True)


@_registry.register()
def mish(x):
    """f(x) = x tanh(softplus(x)) (Misra, 2019)."""
    return _act.mish(x)


@_registry.register("hard_swish")
def hard_silu(x):
    """f(x) = x hard_sigmoid(x) = x relu6(x + 3) / 6 (MobileNetV3's h-swish)."""
    return _act.hard_silu(x)


@_registry.register()
def celu(x, alpha=1.0):
    """f(x) = x for x > 0, alpha (e^(x / alpha) - 1) otherwise (ELU made C^1 for every alpha)."""
    return _act.celu(x, alpha=alpha)


@_registry.register()
def hard_tanh(x):
    """f(x) = clip(x, -1, 1)."""
    return _act.hard_tanh(x)


@_registry.register()
def tanh_shrink(x):
    """f(x) = x - tanh x."""
    return x - ops.tanh(x)


@_registry.register()
def soft_shrink(x, threshold=0.5):
    """f(x) = x - threshold above threshold, x + threshold below -threshold, 0 between."""
    return _act.soft_shrink(x, threshold=threshold)


@_registry.register()
def hard_shrink(x, threshold=0.5):
    """f(x) = x where |x| > threshold, 0 elsewhere."""
    return _act.hard_shrink(x, threshold=threshold)


@_registry.register()
def threshold(x, threshold, default_value):
    """f(x) = x where x > threshold, ``default_value`` elsewhere (no default: Keras 3 needs both)."""
    threshold = check_number(threshold, "threshold", "threshold")
    default_value = check_number(default_value, "default_value", "threshold")
    x = as_tensor(x, "threshold")
    return ops.where(x.data > threshold, x, ops.cast(default_value, x.dtype))


@_registry.register()
def log_sigmoid(x):
    """f(x) = ln sigmoid(x) = -softplus(-x), computed stably (never ln 0)."""
    return -ops.softplus(-as_tensor(x, "log_sigmoid"))


@_registry.register()
def squareplus(x, b=4):
    """f(x) = (x + sqrt(x^2 + b)) / 2 (Barron, 2021): a smooth relu without exponentials."""
    return _act.squareplus(x, b=b)


@_registry.register()
def sparse_plus(x):
    """f(x) = 0 for x <= -1, (x + 1)^2 / 4 on (-1, 1), x for x >= 1."""
    return _act.sparse_plus(x)


@_registry.register()
def sparse_sigmoid(x):
    """f(x) = clip((x + 1) / 2, 0, 1): 0 below -1, 1 above 1, linear between."""
    return _act.sparse_sigmoid(x)


@_registry.register()
def glu(x, axis=-1):
    """Gated linear unit (Dauphin et al., 2017): split x in halves a, b along ``axis`` (its size
    must be even) and return a sigmoid(b)."""
    x = as_tensor(x, "glu")
    axis = check_axis(axis, "glu", ndim=x.ndim, multiple=False, allow_none=False)
    n = x.shape[axis]
    if n % 2:
        raise ValueError(f"glu: the size of axis {axis} must be even to split it in halves, got "
                         f"x of shape {tuple(x.shape)}")
    first = tuple(slice(None) if i != axis else slice(0, n // 2) for i in range(x.ndim))
    second = tuple(slice(None) if i != axis else slice(n // 2, n) for i in range(x.ndim))
    return x[first] * ops.sigmoid(x[second])


@_registry.register()
def sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo, 2016): the Euclidean projection of x onto the simplex along
    ``axis``, max(x - tau, 0) with tau chosen so the result sums to 1; unlike softmax it gives
    exact zeros. The support (which entries are > 0) is found on the data; on it the result is
    x - tau with tau = (sum of x over the support - 1) / its size, which is differentiable."""
    x = as_tensor(x, "sparsemax")
    axis = check_axis(axis, "sparsemax", ndim=x.ndim, multiple=False, allow_none=False)
    z = np.moveaxis(x.data, axis, -1)
    z_sorted = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1, dtype=z.dtype)
    # entry number k of the sorted row is in the support while 1 + k z_(k) > sum of the first k
    in_support = 1 + k * z_sorted > np.cumsum(z_sorted, axis=-1)
    k_max = in_support.sum(axis=-1, keepdims=True)
    tau_sorted = (np.take_along_axis(np.cumsum(z_sorted, axis=-1), k_max - 1, axis=-1) - 1) / k_max
    support = np.moveaxis(z > tau_sorted, -1, axis)
    mask = ops.cast(support.astype(x.dtype), x.dtype)
    tau = (ops.sum(x * mask, axis=axis, keepdims=True) - 1) / ops.sum(mask, axis=axis, keepdims=True)
    return ops.relu(x - tau) * mask


def get(identifier):
    """An activation function from a name (``"relu"``, TF.js ``"hardSigmoid"``), a
    ``{"class_name": ...}`` dict, or a callable (returned as is). None gives ``linear``."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    return _registry.get(identifier)


def serialize(activation):
    """The activation's name (``"relu"``), as Keras and TF.js write it in a layer's config."""
    return _registry.serialize(activation)


def deserialize(config):
    """The activation function for a name or a dict: ``{"class_name": "relu"}``, or Keras 3's
    ``{"class_name": "function", "config": "relu"}``."""
    if isinstance(config, dict) and config.get("class_name") == "function":
        return _registry.lookup(config.get("config"))
    return _registry.deserialize(config)
