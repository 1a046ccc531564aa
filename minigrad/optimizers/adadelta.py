"""Adadelta: step sizes from the ratio of running RMS of updates and of gradients."""
import numpy as np

from .._checks import check_number
from .optimizer import Optimizer, registry


@registry.register("adadelta")
class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), Keras 3's update (rms(x) = sqrt(x + epsilon)):

        a <- rho a + (1 - rho) g^2                  (slot "accumulated_grad")
        delta = -rms(d) g / rms(a)
        d <- rho d + (1 - rho) delta^2              (slot "accumulated_delta_var")
        w <- w + lr delta

    The same as PyTorch's Adadelta (whose default learning rate is 1.0; Keras's is 0.001).
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adadelta", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.rho = check_number(rho, "rho", "Adadelta", low=0, high=1)
        self.epsilon = check_number(epsilon, "epsilon", "Adadelta", low=0)

    def slot_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def update_step(self, gradient, variable, slots, learning_rate):
        rho, eps = self.rho, self.epsilon
        a, d = slots["accumulated_grad"], slots["accumulated_delta_var"]
        a[...] = rho * a + (1 - rho) * np.square(gradient)
        delta = -(np.sqrt(d + eps) * gradient) / np.sqrt(a + eps)
        d[...] = rho * d + (1 - rho) * np.square(delta)
        variable += learning_rate * delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
