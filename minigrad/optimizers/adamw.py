"""AdamW: Adam with decoupled weight decay switched on."""
from .adam import Adam
from .optimizer import registry


@registry.register("adamw")
class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019), Keras 3's: :class:`Adam` whose ``weight_decay``
    defaults to 0.004. Before each Adam step every variable not excluded (see
    ``exclude_from_weight_decay``) shrinks towards zero, independently of its gradient:

        w <- w - w * weight_decay * lr
        then the Adam update (m, v, and v_hat with ``amsgrad``)

    Plain Adam with an L2 penalty adds weight_decay * w to the gradient instead, which Adam's
    per-weight scaling then distorts: "decoupled" means the decay is kept out of that scaling.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="adam_w", **kwargs):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, name=name, **kwargs)
