"""Regularization layers that add noise while training: SpatialDropout1D/2D, GaussianNoise and
GaussianDropout (Keras's ``keras.layers.regularization``; ``Dropout`` itself is in :mod:`.core`).

Each is the identity at inference (``training=False``, the default) and keeps its shape:

* ``SpatialDropout1D(rate)``: (N, L, C); one keep decision per (sample, channel), mask (N, 1, C).
* ``SpatialDropout2D(rate, data_format)``: (N, H, W, C), mask (N, 1, 1, C) (channels_first:
  (N, C, H, W), mask (N, C, 1, 1)). Kept channels are scaled by 1 / (1 - rate).
* ``GaussianNoise(stddev)``: y = x + e, e ~ N(0, stddev^2) for every element.
* ``GaussianDropout(rate)``: y = x * m, m ~ N(1, rate / (1 - rate)) for every element: the mean
  and variance of inverted dropout, with a smooth multiplier.

With a ``seed`` the draws are reproducible, as for ``Dropout``: the layer owns a generator seeded
once, and each training call draws the next noise from it.
"""
import numpy as np

from ..ops.geometry import normalize_data_format
from ..ops.noise import gaussian_dropout, gaussian_noise, spatial_dropout
from .._checks import check_number, check_seed
from .base import Layer, registry
from .core import Dropout
from .input_spec import InputSpec


class _SpatialDropout(Dropout):
    """Dropout with a mask shared along the spatial axes (Keras's ``BaseSpatialDropout``): the
    config has ``rate`` and ``seed`` (no ``noise_shape``: the layout fixes it)."""

    data_format = "channels_last"   # SpatialDropout2D's may be "channels_first"

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        return spatial_dropout(inputs, self.rate, rng=self._rng,
                               data_format=self.data_format)

    def get_config(self):
        config = super().get_config()
        # Keras 3's spatial dropouts write neither noise_shape nor trainable (their __init__
        # refuses trainable, so a config with it could not be loaded by Keras)
        del config["noise_shape"], config["trainable"]
        return config


@registry.register()
class SpatialDropout1D(_SpatialDropout):
    """Drops whole 1-D feature maps of (N, L, C) while training: mask (N, 1, C)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=3)


@registry.register()
class SpatialDropout2D(_SpatialDropout):
    """Drops whole 2-D feature maps of (N, H, W, C) while training: mask (N, 1, 1, C)
    (channels_first: (N, C, H, W), mask (N, C, 1, 1))."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = normalize_data_format(data_format, type(self).__name__)
        self.input_spec = InputSpec(ndim=4)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


@registry.register()
class GaussianNoise(Layer):
    """Adds N(0, stddev^2) noise to every element while training (0 <= stddev <= 1, as Keras)."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.stddev = check_number(stddev, "stddev", who, low=0, high=1)
        self.seed = check_seed(seed, who)
        self._rng = np.random.default_rng(self.seed)

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        return gaussian_noise(inputs, self.stddev, rng=self._rng)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


@registry.register()
class GaussianDropout(Layer):
    """Multiplies every element by N(1, rate / (1 - rate)) noise while training (0 <= rate < 1:
    rate 1 would need an infinite standard deviation)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.rate = check_number(rate, "rate", who, low=0, high=1, high_open=True)
        self.seed = check_seed(seed, who)
        self._rng = np.random.default_rng(self.seed)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        return gaussian_dropout(inputs, self.rate, rng=self._rng)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
