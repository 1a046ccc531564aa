"""Adam: per-weight step sizes from running averages of the gradient and its square."""
import numpy as np

from .._checks import check_bool, check_number
from .flat import FlatSlots
from .optimizer import Optimizer, registry


@registry.register("adam")
class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), Keras 3's update at step t = iterations + 1:

        m <- m + (g - m)(1 - beta_1)                    (slot "momentum")
        v <- v + (g^2 - v)(1 - beta_2)                  (slot "velocity")
        amsgrad: v_hat <- max(v_hat, v), used for v     (slot "velocity_hat")
        alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w <- w - alpha m / (sqrt(v) + epsilon)

    PyTorch divides by sqrt(v / (1 - beta_2^t)) + eps instead: the same update when epsilon = 0,
    and a slightly different one otherwise (its epsilon is larger by 1 / sqrt(1 - beta_2^t)).

    ``update_step`` is the formula for one variable; a step updates all variables at once on
    flat arrays (:mod:`minigrad.optimizers.flat`), with the same operations in the same order, so
    the same bits, in ~12 NumPy calls instead of ~10 per variable.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="adam", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.beta_1 = check_number(beta_1, "beta_1", "Adam", low=0, high=1, high_open=True)
        self.beta_2 = check_number(beta_2, "beta_2", "Adam", low=0, high=1, high_open=True)
        self.epsilon = check_number(epsilon, "epsilon", "Adam", low=0)
        self.amsgrad = check_bool(amsgrad, "amsgrad", "Adam")
        self._flat = None   # the FlatSlots of the update over all variables, made on first use

    def slot_names(self):
        return ("momentum", "velocity", "velocity_hat") if self.amsgrad else ("momentum", "velocity")

    def slot_groups(self):
        # Keras makes velocity_hat apart, after the others: it comes last in the state
        return (("momentum", "velocity"),) + ((("velocity_hat",),) if self.amsgrad else ())

    def update_step(self, gradient, variable, slots, learning_rate):
        dt = variable.dtype.type
        t = dt(self.iterations + 1)
        beta_1_power, beta_2_power = dt(self.beta_1) ** t, dt(self.beta_2) ** t
        m, v = slots["momentum"], slots["velocity"]
        m += (gradient - m) * (1 - self.beta_1)
        v += (np.square(gradient) - v) * (1 - self.beta_2)
        if self.amsgrad:
            np.maximum(slots["velocity_hat"], v, out=slots["velocity_hat"])
            v = slots["velocity_hat"]
        alpha = learning_rate * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        variable -= (m * alpha) / (np.sqrt(v) + self.epsilon)

    def _update_variables(self, grads, variables, learning_rate):
        """``update_step`` for every variable at once, on flat arrays (in place: the slots are
        views of them, and each variable is updated with one subtraction)."""
        if type(self).update_step is not Adam.update_step:   # a subclass's own formula
            return super()._update_variables(grads, variables, learning_rate)
        if self._flat is None:
            self._flat = FlatSlots(self.slot_names())
        state = self._flat.prepare(variables, [self._slots[self._index[id(v)]] for v in variables])
        if state is None:   # variables of several dtypes: one by one
            return super()._update_variables(grads, variables, learning_rate)
        flat, g, (delta, tmp), deltas = state
        np.concatenate([x.reshape(-1) for x in grads], out=g)
        dt = g.dtype.type
        t = dt(self.iterations + 1)
        beta_1_power, beta_2_power = dt(self.beta_1) ** t, dt(self.beta_2) ** t
        m, v = flat["momentum"], flat["velocity"]
        # m += (g - m) * (1 - beta_1);  v += (g^2 - v) * (1 - beta_2), as in update_step
        np.multiply(np.subtract(g, m, out=tmp), 1 - self.beta_1, out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(np.subtract(np.square(g, out=tmp), v, out=tmp), 1 - self.beta_2, out=tmp)
        np.add(v, tmp, out=v)
        if self.amsgrad:
            v = np.maximum(flat["velocity_hat"], v, out=flat["velocity_hat"])
        alpha = dt(learning_rate) * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        # delta = (m * alpha) / (sqrt(v) + epsilon); each variable's part is a view of delta
        np.divide(np.multiply(m, alpha, out=delta),
                  np.add(np.sqrt(v, out=tmp), self.epsilon, out=tmp), out=delta)
        for variable, d in zip(variables, deltas):
            np.subtract(variable.data, d, out=variable.data)
        return None

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}
