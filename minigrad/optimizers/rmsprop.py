"""RMSprop: divide the gradient by a running root mean square of recent gradients."""
import numpy as np

from .._checks import check_bool, check_number
from .optimizer import Optimizer, registry


@registry.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), Keras 3's update:

        v <- rho v + (1 - rho) g^2                             (slot "velocity")
        centered: a <- rho a + (1 - rho) g;  d = v - a^2 + eps  (slot "average_gradient")
        otherwise: d = v + eps
        step = lr g / sqrt(d)
        momentum > 0: b <- momentum b + step; w <- w - b        (slot "momentum")
        otherwise: w <- w - step

    PyTorch adds eps outside the square root, sqrt(d) + eps: the same update when epsilon = 0.
    TF.js calls ``rho`` ``decay`` in its config; that key is read as rho.
    """

    _config_aliases = {"decay": "rho"}

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="rmsprop", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.rho = check_number(rho, "rho", "RMSprop", low=0, high=1)
        self.momentum = check_number(momentum, "momentum", "RMSprop", low=0, high=1)
        self.epsilon = check_number(epsilon, "epsilon", "RMSprop", low=0)
        self.centered = check_bool(centered, "centered", "RMSprop")

    def slot_names(self):
        return (("velocity",) + (("momentum",) if self.momentum > 0 else ())
                + (("average_gradient",) if self.centered else ()))

    def slot_groups(self):
        return tuple((name,) for name in self.slot_names())  # Keras makes each one apart

    def update_step(self, gradient, variable, slots, learning_rate):
        rho = self.rho
        v = slots["velocity"]
        v[...] = rho * v + (1 - rho) * np.square(gradient)
        if self.centered:
            a = slots["average_gradient"]
            a[...] = rho * a + (1 - rho) * gradient
            denominator = v - np.square(a) + self.epsilon
        else:
            denominator = v + self.epsilon
        increment = learning_rate * gradient / np.sqrt(denominator)
        if self.momentum > 0:
            b = slots["momentum"]
            b[...] = self.momentum * b + increment
            variable -= b
        else:
            variable -= increment

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
