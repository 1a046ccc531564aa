"""Batch normalization, as Keras 3 and TF.js do it.

Per channel (the ``axis`` of the input; -1 for channels_last, 1 for channels_first)::

    training:   y = gamma * (x - mean_B) / sqrt(var_B + epsilon) + beta
                (mean_B, var_B: the batch's mean and biased variance, divided by the count), then
                moving_mean     <- moving_mean     * momentum + mean_B * (1 - momentum)
                moving_variance <- moving_variance * momentum + var_B  * (1 - momentum)
    inference:  y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta

The biased batch variance in the moving average is what Keras 3 (``ops.moments``) and TF.js
(``tf.moments``) use; Keras 2's fused kernel used the unbiased one (times P / (P - 1)).

Layer and group normalization take each sample's own statistics (the same in training and
inference, no moving averages); see :mod:`minigrad.ops.layer_norm` for the math:

* ``LayerNormalization(axis)``: over the ``axis`` axes of each sample; gamma and beta have the
  shape of those axes ((C,) for ``axis=-1``).
* ``GroupNormalization(groups, axis)``: the C channels of ``axis`` in ``groups`` runs of C // groups;
  over each sample's group (its channels and every spatial position); gamma and beta are (C,).
"""
import numbers

from .. import constraints, initializers, regularizers
from .._checks import check_axis
from ..ops.layer_norm import group_norm, layer_norm
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
        self._update_moving_statistics(mean, variance)
        return outputs

    def _update_moving_statistics(self, mean, variance):
        """Fold one training batch's statistics into the moving ones (Keras's momentum rule)."""
        self.moving_mean.assign(moving_average_update(self.moving_mean.data, mean, self.momentum))
        self.moving_variance.assign(moving_average_update(self.moving_variance.data, variance,
                                                          self.momentum))

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


class _AffineNormalization(Layer):
    """What LayerNormalization and GroupNormalization share: epsilon, center / scale, and the
    initializers, regularizers and constraints of gamma and beta (Keras's arguments and keys)."""

    def __init__(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                 beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, **kwargs):
        super().__init__(**kwargs)
        who = type(self).__name__
        self.epsilon = check_number(epsilon, "epsilon", who, low=0)
        self.center = check_bool(center, "center", who)
        self.scale = check_bool(scale, "scale", who)
        self.beta_initializer = resolve(initializers, beta_initializer, "beta_initializer", who)
        self.gamma_initializer = resolve(initializers, gamma_initializer, "gamma_initializer", who)
        self.beta_regularizer = resolve(regularizers, beta_regularizer, "beta_regularizer", who)
        self.gamma_regularizer = resolve(regularizers, gamma_regularizer, "gamma_regularizer", who)
        self.beta_constraint = resolve(constraints, beta_constraint, "beta_constraint", who)
        self.gamma_constraint = resolve(constraints, gamma_constraint, "gamma_constraint", who)
        self.gamma = self.beta = None

    def _who(self):
        return f"{type(self).__name__} '{self.name}'"

    def _add_affine(self, shape, with_gamma, with_beta):
        """gamma then beta (Keras's order), each of ``shape``, where asked for."""
        if with_gamma:
            self.gamma = self.add_weight("gamma", shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if with_beta:
            self.beta = self.add_weight("beta", shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)

    def _known(self, input_shape, axes, what):
        sizes = tuple(input_shape[a] for a in axes)
        if None in sizes:
            raise ValueError(f"{self._who()}: {what} of the input must be known to build the "
                             f"layer, got input shape {tuple(input_shape)}")
        return tuple(int(s) for s in sizes)

    def compute_output_shape(self, input_shape):
        # as Keras: the shape is unchanged, once the axes are checked against its rank
        check_axis(self.axis, self._who(), len(input_shape), allow_none=False)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        })
        return config


@registry.register()
class LayerNormalization(_AffineNormalization):
    """Normalize each sample over ``axis`` (an int or a list of ints; -1: the features):
    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``, mean and biased variance over those
    axes. Same in training and inference.

    Weights, in Keras order: ``gamma`` if ``scale`` (or ``rms_scaling``), ``beta`` if ``center``
    (and not ``rms_scaling``), both of the shape of the ``axis`` axes in increasing order, e.g.
    (H, W, C) for ``axis=[1, 2, 3]`` of (N, H, W, C) inputs (as Keras: axes given with both
    signs are sorted as written, so ``axis=[1, -1]`` gives (C, H), reshaped to (H, C) in use).

    ``rms_scaling=True`` is Keras 3's deprecated variant, computed as Keras does:
    ``y = gamma * x / sqrt(var + epsilon)`` (x not centred, scaled by its variance, not its root
    mean square; no beta).
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                         **kwargs)
        who = type(self).__name__
        axes = check_axis(axis, who, allow_none=False)
        self.axis = list(axes) if isinstance(axes, tuple) else axes   # Keras keeps a list as list
        self.rms_scaling = check_bool(rms_scaling, "rms_scaling", who)

    def build(self, input_shape):
        axes = check_axis(self.axis, self._who(), len(input_shape), allow_none=False)
        axes = sorted(axes if isinstance(axes, tuple) else (axes,))
        shape = self._known(input_shape, axes, f"axis {self.axis}")
        given = self.axis if isinstance(self.axis, list) else [self.axis]
        # Keras 3 sizes gamma and beta by the axes sorted as written (negative ones first:
        # axis=[1, -1] gives (C, H)) and reshapes them, without transposing, to the axes' order
        # when it normalizes; the same here, so that its weights load and compute as in Keras
        size = dict(zip(axes, shape))
        self._param_shape = shape
        self._add_affine(tuple(size[a % len(input_shape)] for a in sorted(given)),
                         self.scale or self.rms_scaling, self.center and not self.rms_scaling)
        # the sizes are fixed by the weights; the rank is not (axis -1 fits any rank, as Keras)
        self.input_spec = InputSpec(min_ndim=max(a + 1 if a >= 0 else -a for a in given),
                                    axes={a: int(input_shape[a]) for a in given})
        self.built = True

    def call(self, inputs, training=False):
        gamma, beta = (w if w is None or tuple(w.shape) == self._param_shape
                       else w.reshape(self._param_shape) for w in (self.gamma, self.beta))
        return layer_norm(inputs, gamma, beta, axis=self.axis, epsilon=self.epsilon,
                          rms_scaling=self.rms_scaling)

    def get_config(self):
        config = super().get_config()
        config["rms_scaling"] = self.rms_scaling
        return config


@registry.register()
class GroupNormalization(_AffineNormalization):
    """Group normalization (Wu and He, 2018): the C channels of ``axis`` split into ``groups``
    runs of C // groups consecutive channels, each sample's group normalized over its channels
    and every spatial position, then ``gamma * xhat + beta`` per channel.

    ``groups`` must divide C; -1 means C groups (instance normalization), 1 one group (layer
    normalization over all non-batch axes, with per-channel gamma and beta). ``axis``: the
    channel axis, -1 for channels_last, 1 for channels_first.

    Weights, in Keras order: ``gamma`` (C,) if ``scale``, ``beta`` (C,) if ``center``.
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                         **kwargs)
        who = type(self).__name__
        expected = "a positive integer or -1 (one group per channel)"
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
            raise TypeError(f"{who}: groups must be {expected}, got {groups!r}")
        if groups < 1 and groups != -1:
            raise ValueError(f"{who}: groups must be {expected}, got {groups!r}")
        self.groups = int(groups)
        self.axis = check_axis(axis, who, multiple=False, allow_none=False)
        self._groups = None   # the number of groups once the channels are known

    def build(self, input_shape):
        ndim = len(input_shape)
        c_axis = check_axis(self.axis, self._who(), ndim, multiple=False, allow_none=False)
        if c_axis == 0:
            raise ValueError(f"{self._who()}: axis must be a channel axis, not the batch axis 0 "
                             f"(input shape {tuple(input_shape)}), got {self.axis!r}")
        (c,) = self._known(input_shape, (c_axis,), f"axis {self.axis} (the channels)")
        groups = c if self.groups == -1 else self.groups
        if c % groups:
            raise ValueError(f"{self._who()}: groups must divide the number of channels {c} "
                             f"(axis {self.axis} of input shape {tuple(input_shape)}), got "
                             f"{self.groups}")
        self._groups = groups
        self._add_affine((c,), self.scale, self.center)
        self.input_spec = InputSpec(ndim=ndim, axes={self.axis: c})
        self.built = True

    def call(self, inputs, training=False):
        return group_norm(inputs, self.gamma, self.beta, self._groups, axis=self.axis,
                          epsilon=self.epsilon)

    def get_config(self):
        config = super().get_config()
        config["groups"] = self.groups
        return config
