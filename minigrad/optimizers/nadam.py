"""Nadam: Adam with Nesterov momentum (the first moment is read one step ahead)."""
import numpy as np

from .._checks import check_number
from .optimizer import Optimizer, registry


@registry.register("nadam")
class Nadam(Optimizer):
    """Nadam (Dozat, 2016), Keras 3's update at step t = iterations + 1. The momentum factor
    warms up over the first steps, u_t = beta_1 (1 - 0.5 * 0.96^t), and the optimizer keeps
    their running product P_t = u_1 u_2 ... u_t (one scalar shared by all variables, updated
    once per step before the variables):

        m <- m + (g - m)(1 - beta_1)                     (slot "momentum")
        v <- v + (g^2 - v)(1 - beta_2)                   (slot "velocity")
        m_hat = u_{t+1} m / (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t)
        v_hat = v / (1 - beta_2^t)
        w <- w - lr m_hat / (sqrt(v_hat) + epsilon)

    P_t is a function of t alone, so it is not part of ``get_state()``: ``set_state`` rebuilds it
    by the same products, in the same dtype, which gives the same bits.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="nadam", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.beta_1 = check_number(beta_1, "beta_1", "Nadam", low=0, high=1, high_open=True)
        self.beta_2 = check_number(beta_2, "beta_2", "Nadam", low=0, high=1, high_open=True)
        self.epsilon = check_number(epsilon, "epsilon", "Nadam", low=0)
        self._u_product = None  # P_t, in the dtype of the first variable (as Keras), from build

    def slot_names(self):
        return ("momentum", "velocity")

    def _u(self, t, dt):
        """The momentum factor u_t in dtype ``dt``."""
        return dt(self.beta_1) * (dt(1) - dt(0.5) * dt(0.96) ** dt(t))

    def build(self, variables):
        super().build(variables)
        if self._u_product is None and self._variables:
            self._u_product = self._variables[0].data.dtype.type(1)

    def _update_variables(self, grads, variables, learning_rate):
        dt = type(self._u_product)
        self._u_product = self._u_product * self._u(self.iterations + 1, dt)
        super()._update_variables(grads, variables, learning_rate)

    def set_state(self, state):
        super().set_state(state)
        dt = np.float32 if self._u_product is None else type(self._u_product)
        product = dt(1)
        for t in range(1, self.iterations + 1):  # the products update_variables made, in order
            product = product * self._u(t, dt)
        self._u_product = product

    def update_step(self, gradient, variable, slots, learning_rate):
        dt = variable.dtype.type
        t = self.iterations + 1
        u_t, u_next = self._u(t, dt), self._u(t + 1, dt)
        product = dt(self._u_product)
        m, v = slots["momentum"], slots["velocity"]
        m += (gradient - m) * dt(1 - self.beta_1)
        v += (np.square(gradient) - v) * dt(1 - self.beta_2)
        m_hat = (u_next * m / (dt(1) - product * u_next)
                 + (dt(1) - u_t) * gradient / (dt(1) - product))
        v_hat = v / (dt(1) - dt(self.beta_2) ** dt(t))
        variable -= m_hat * learning_rate / (np.sqrt(v_hat) + dt(self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
