"""Stochastic gradient descent, with optional (Nesterov) momentum."""
from .._checks import check_bool, check_number
from .optimizer import Optimizer, registry


@registry.register("sgd", "momentum")
class SGD(Optimizer):
    """Gradient descent, Keras 3's update (g: gradient, lr: learning rate, mu: momentum):

        mu = 0:    w <- w - lr g
        mu > 0:    m <- mu m - lr g;   w <- w + m                 (m: the "momentum" slot, from 0)
        nesterov:  m <- mu m - lr g;   w <- w + mu m - lr g       (looks one step ahead)

    With a constant learning rate this is PyTorch's SGD (its buffer b is -m / lr).
    TF.js's ``"Momentum"`` optimizer config (``learningRate``, ``momentum``, ``useNesterov``)
    loads as this class.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
        self.momentum = check_number(momentum, "momentum", "SGD", low=0, high=1)
        self.nesterov = check_bool(nesterov, "nesterov", "SGD")

    def slot_names(self):
        return ("momentum",) if self.momentum != 0 else ()

    def update_step(self, gradient, variable, slots, learning_rate):
        if self.momentum == 0:
            variable -= gradient * learning_rate
            return
        mu = variable.dtype.type(self.momentum)
        m = slots["momentum"]
        m *= mu
        m -= gradient * learning_rate
        if self.nesterov:
            variable += m * mu - gradient * learning_rate
        else:
            variable += m

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
