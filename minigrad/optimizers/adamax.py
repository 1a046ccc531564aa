"""Adamax: Adam with the infinity norm in place of the second moment."""
import numpy as np

from .._checks import check_number
from .optimizer import Optimizer, registry


@registry.register("adamax")
class Adamax(Optimizer):
    """Adamax (Kingma & Ba, 2015, section 7), Keras 3's update at step t = iterations + 1:

        m <- m + (g - m)(1 - beta_1)          (slot "momentum")
        u <- max(beta_2 u, |g|)               (slot "norm")
        w <- w - lr m / ((1 - beta_1^t)(u + epsilon))

    PyTorch's Adamax puts epsilon inside the max, max(beta_2 u, |g| + eps): the same when
    epsilon = 0.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="adamax", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.beta_1 = check_number(beta_1, "beta_1", "Adamax", low=0, high=1, high_open=True)
        self.beta_2 = check_number(beta_2, "beta_2", "Adamax", low=0, high=1)
        self.epsilon = check_number(epsilon, "epsilon", "Adamax", low=0)

    def slot_names(self):
        return ("momentum", "norm")

    def update_step(self, gradient, variable, slots, learning_rate):
        dt = variable.dtype.type
        beta_1_power = dt(self.beta_1) ** dt(self.iterations + 1)
        m, u = slots["momentum"], slots["norm"]
        m += (gradient - m) * (1 - self.beta_1)
        np.maximum(u * self.beta_2, np.abs(gradient), out=u)
        variable -= (learning_rate * m) / ((1 - beta_1_power) * (u + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
