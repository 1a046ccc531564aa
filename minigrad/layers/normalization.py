"""Batch normalization, as Keras 3 and TF.js do it.

Per channel (the ``axis`` of the input; -1 for channels_last, 1 for channels_first)::

    training:   y = gamma * (x - mean_B) / sqrt(var_B + epsilon) + beta
                (mean_B, var_B: the batch's mean and biased variance, divided by the count), then
                moving_mean     <- moving_mean     * momentum + mean_B * (1 - momentum)
                moving_variance <- moving_variance * momentum + var_B  * (1 - momentum)
    inference:  y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta

The biased batch variance in the moving average is what Keras 3 (``ops.moments``) and TF.js
(``tf.moments``) use; Keras 2's fused kernel used the unbiased one (times P / (P - 1)).
"""
import numbers

from .. import constraints, initializers, regularizers
from ..ops.normalization import batch_norm, batch_norm_train, moving_average_update
from .base import InputSpec, Layer, check_bool, check_number, registry, resolve


@registry.register()
class BatchNormalization(Layer):
    """Normalize each channel with batch statistics while training, moving ones at inference.

    Weights, in Keras order: ``gamma`` (C,) if ``scale``, ``beta`` (C,) if ``center`` (both
    trainable), ``moving_mean`` (C,) and ``moving_variance`` (C,) (non-trainable, updated in place
    by each training call). As in Keras 3, a layer with ``trainable=False`` runs in inference mode
    even when called with ``training=True`` (the usual way to fine-tune a pretrained network).

    ``synchronized`` (Keras 3: statistics across devices) is accepted with either value and has no
    effect on one device; ``renorm`` must be False (then Keras ignores ``renorm_clipping`` and
    ``renorm_momentum`` too). Keras 2's dialect is read too: ``axis`` as a one-item list,
    ``fused`` (any value), ``virtual_batch_size`` (None only).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, fused=None, virtual_batch_size=None, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]  # Keras 2 (and so the TF.js converter) writes the axis as a list: [3]
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            several = isinstance(axis, (list, tuple)) and len(axis) > 1
            raise TypeError(f"{who}: axis must be an integer (the channel axis), got {axis!r}"
                            + (" (normalizing over several axes is not supported)" if several
                               else ""))
        self.axis = int(axis)
        # Keras 2 keys: ``fused`` picks a kernel, not the inference math (accepted, dropped; the
        # training statistics follow Keras 3, see the module docstring); ``virtual_batch_size``
        # (Ghost Batch Normalization) changes the math and is refused
        if fused not in (None, True, False):
            raise ValueError(f"{who}: fused must be None, True or False, got {fused!r}")
        if virtual_batch_size is not None:
            raise ValueError(f"{who}: virtual_batch_size must be None (ghost batch normalization "
                             f"is not supported), got {virtual_batch_size!r}")
        self.momentum = check_number(momentum, "momentum", who, low=0, high=1)
        self.epsilon = check_number(epsilon, "epsilon", who, low=0, low_open=True)
        self.center = check_bool(center, "center", who)
        self.scale = check_bool(scale, "scale", who)
        self.beta_initializer = resolve(initializers, beta_initializer, "beta_initializer", who)
        self.gamma_initializer = resolve(initializers, gamma_initializer, "gamma_initializer", who)
        self.moving_mean_initializer = resolve(initializers, moving_mean_initializer,
                                               "moving_mean_initializer", who)
        self.moving_variance_initializer = resolve(initializers, moving_variance_initializer,
                                                   "moving_variance_initializer", who)
        self.beta_regularizer = resolve(regularizers, beta_regularizer, "beta_regularizer", who)
        self.gamma_regularizer = resolve(regularizers, gamma_regularizer, "gamma_regularizer", who)
        self.beta_constraint = resolve(constraints, beta_constraint, "beta_constraint", who)
        self.gamma_constraint = resolve(constraints, gamma_constraint, "gamma_constraint", who)
        self.synchronized = check_bool(synchronized, "synchronized", who)
        if renorm:
            raise ValueError(f"{who}: renorm must be False (batch renormalization is not "
                             f"supported), got {renorm!r}")
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None
        self._axis = None  # the axis as a non-negative index, once the input rank is known

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"{type(self).__name__} '{self.name}': axis {self.axis} is out of "
                             f"range for an input of shape {tuple(input_shape)}")
        self._axis = self.axis % ndim
        c = input_shape[self._axis]
        if c is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': axis {self.axis} of the input "
                             f"must be known to build the layer, got input shape "
                             f"{tuple(input_shape)}")
        if self.scale:
            self.gamma = self.add_weight("gamma", (c,), initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", (c,), initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", (c,),
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", (c,),
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.input_spec = InputSpec(ndim=ndim, axes={self._axis: int(c)})
        self.built = True

    def call(self, inputs, training=False):
        return self._normalize(inputs, training)

    def _normalize(self, inputs, training, activation=None):
        """What :meth:`call` computes. ``activation`` ("relu" or "relu6") is clipped in inside the
        same kernels: a model's execution plan asks for it when this layer's only consumer is such
        a ReLU layer (see :mod:`minigrad.models.plan`)."""
        if not (training and self.trainable):
            return batch_norm(inputs, self.gamma, self.beta, self.moving_mean,
                              self.moving_variance, epsilon=self.epsilon, axis=self._axis,
                              activation=activation)
        outputs, mean, variance = batch_norm_train(inputs, self.gamma, self.beta,
                                                   epsilon=self.epsilon, axis=self._axis,
                                                   activation=activation)
        self.moving_mean.assign(moving_average_update(self.moving_mean.data, mean, self.momentum))
        self.moving_variance.assign(moving_average_update(self.moving_variance.data, variance,
                                                          self.momentum))
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
            "synchronized": self.synchronized,
        })
        return config
