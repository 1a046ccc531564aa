"""Adagrad: per-weight step sizes that shrink with the sum of all past squared gradients."""
import numpy as np

from .._checks import check_number
from .optimizer import Optimizer, registry


@registry.register("adagrad")
class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), Keras 3's update:

        a <- a + g^2                        (slot "accumulator", starts at initial_accumulator_value)
        w <- w - lr g / sqrt(a + epsilon)

    PyTorch adds eps outside the square root, sqrt(a) + eps: the same update when epsilon = 0.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="adagrad", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.initial_accumulator_value = check_number(
            initial_accumulator_value, "initial_accumulator_value", "Adagrad", low=0)
        self.epsilon = check_number(epsilon, "epsilon", "Adagrad", low=0)

    def slot_names(self):
        return ("accumulator",)

    def initial_slot(self, name, variable):
        return np.full_like(variable.data, self.initial_accumulator_value)

    def update_step(self, gradient, variable, slots, learning_rate):
        a = slots["accumulator"]
        a += np.square(gradient)
        variable -= learning_rate * gradient / np.sqrt(a + self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
