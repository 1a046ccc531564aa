"""Lion: a step of the same size for every weight, in the direction of a momentum's sign."""
import numpy as np

from .._checks import check_number
from .optimizer import Optimizer, registry


@registry.register("lion")
class Lion(Optimizer):
    """Lion ("evoLved sIgn mOmeNtum", Chen et al., 2023), Keras 3's update:

        w <- w - lr sign(beta_1 m + (1 - beta_1) g)     (the step interpolates with beta_1)
        m <- beta_2 m + (1 - beta_2) g                  (slot "momentum", tracked with beta_2)

    Every weight moves by exactly lr (or 0), so Lion wants a learning rate 3-10x smaller than
    Adam's. beta_1 must be in (0, 1]: at 0 the update is signSGD.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="lion", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.beta_1 = check_number(beta_1, "beta_1", "Lion", low=0, high=1, low_open=True)
        self.beta_2 = check_number(beta_2, "beta_2", "Lion", low=0, high=1)

    def slot_names(self):
        return ("momentum",)

    def update_step(self, gradient, variable, slots, learning_rate):
        dt = variable.dtype.type
        beta_1, beta_2 = dt(self.beta_1), dt(self.beta_2)
        m = slots["momentum"]
        variable -= learning_rate * np.sign(m * beta_1 + gradient * (dt(1) - beta_1))
        m[...] = m * beta_2 + gradient * (dt(1) - beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
