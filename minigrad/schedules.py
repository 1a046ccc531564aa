"""Learning-rate schedules: the learning rate as a function of the optimizer's step count.

Give one to an optimizer instead of a number, ``SGD(learning_rate=ExponentialDecay(0.1, 1000,
0.5))``, and the optimizer evaluates it at its ``iterations`` (0 for the first update) before each
update. Formulas are Keras 3's. Also reachable as ``minigrad.optimizers.schedules``.

>>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> schedule(0), schedule(10), schedule(20)
(0.1, 0.05, 0.025)
"""
import math

from ._checks import check_bool, check_number
from .serialization import Configurable, Registry

_registry = Registry("learning rate schedule")


def _step(step, who):
    step = getattr(step, "item", lambda: step)()  # a 0-d array (an optimizer's count) is fine
    return check_number(step, "step", who, low=0)


class LearningRateSchedule(Configurable):
    """Base class: ``schedule(step) -> float``, ``get_config()``, ``from_config(config)``."""

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(step)")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")


@_registry.register("exponential_decay")
class ExponentialDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps).

    With ``staircase=True`` the exponent is floor(step / decay_steps): the rate drops in steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        who = "ExponentialDecay"
        self.initial_learning_rate = check_number(initial_learning_rate, "initial_learning_rate",
                                                  who, low=0)
        self.decay_steps = check_number(decay_steps, "decay_steps", who, low=0, low_open=True)
        self.decay_rate = check_number(decay_rate, "decay_rate", who, low=0, low_open=True)
        self.staircase = check_bool(staircase, "staircase", who)
        self.name = name

    def __call__(self, step):
        p = _step(step, "ExponentialDecay") / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


@_registry.register("cosine_decay")
class CosineDecay(LearningRateSchedule):
    """Half a cosine from a peak down to ``alpha * peak`` over ``decay_steps``, after an optional
    linear warmup.

    Without warmup (``warmup_target=None``), with s = min(step, decay_steps):
        lr = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)
    With warmup, for step < warmup_steps the rate goes linearly from ``initial_learning_rate`` to
    ``warmup_target``; afterwards it is the cosine above started from ``warmup_target`` at
    step - warmup_steps (and it stays at the end value after warmup_steps + decay_steps).
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        who = "CosineDecay"
        self.initial_learning_rate = check_number(initial_learning_rate, "initial_learning_rate",
                                                  who, low=0)
        self.decay_steps = check_number(decay_steps, "decay_steps", who, low=0, low_open=True)
        self.alpha = check_number(alpha, "alpha", who)
        self.name = name
        self.warmup_target = check_number(warmup_target, "warmup_target", who, low=0,
                                          allow_none=True)
        self.warmup_steps = check_number(warmup_steps, "warmup_steps", who, low=0)

    def _decay(self, step, peak):
        fraction = step / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return peak * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = _step(step, "CosineDecay")
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            delta = self.warmup_target - self.initial_learning_rate
            return delta * fraction + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


def get(identifier):
    """A schedule from a ``{"class_name", "config"}`` dict (Keras's, whose extra keys such as
    ``"module"`` are ignored) or a schedule object."""
    return _registry.get(identifier)


def serialize(schedule):
    """``{"class_name": ..., "config": {...}}``."""
    return _registry.serialize(schedule)


def deserialize(config):
    """A schedule from a ``{"class_name", "config"}`` dict."""
    return _registry.deserialize(config)
