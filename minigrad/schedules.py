"""Learning-rate schedules: the learning rate as a function of the optimizer's step count.

Give one to an optimizer instead of a number, ``SGD(learning_rate=ExponentialDecay(0.1, 1000,
0.5))``, and the optimizer evaluates it at its ``iterations`` (0 for the first update) before each
update. Formulas are Keras 3's. Also reachable as ``minigrad.optimizers.schedules``.

>>> schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
>>> schedule(0), schedule(10), schedule(20)
(0.1, 0.05, 0.025)
"""
import bisect
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


class _StepDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: their arguments, their config, and the
    progress p = step / decay_steps (floored with ``staircase``)."""
    rate_may_be_zero = False

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        who = type(self).__name__
        self.initial_learning_rate = check_number(initial_learning_rate, "initial_learning_rate",
                                                  who, low=0)
        self.decay_steps = check_number(decay_steps, "decay_steps", who, low=0, low_open=True)
        self.decay_rate = check_number(decay_rate, "decay_rate", who, low=0,
                                       low_open=not self.rate_may_be_zero)
        self.staircase = check_bool(staircase, "staircase", who)
        self.name = name

    def _progress(self, step):
        p = _step(step, type(self).__name__) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


@_registry.register("exponential_decay")
class ExponentialDecay(_StepDecay):
    """lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps).

    With ``staircase=True`` the exponent is floor(step / decay_steps): the rate drops in steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


@_registry.register("piecewise_constant_decay")
class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant rate between boundaries: with boundaries [b0, b1, ...] and values
    [v0, v1, v2, ...], lr = v0 for step <= b0, v1 for b0 < step <= b1, ..., and the last value
    after the last boundary (one more value than boundaries)."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        who = "PiecewiseConstantDecay"
        if not isinstance(boundaries, (list, tuple)) or not isinstance(values, (list, tuple)):
            raise TypeError(f"{who}: boundaries and values must be lists, got boundaries="
                            f"{boundaries!r} and values={values!r}")
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"{who}: values must have one more entry than boundaries, got "
                             f"boundaries={boundaries!r} ({len(boundaries)}) and values={values!r} "
                             f"({len(values)})")
        self.boundaries = [check_number(b, "boundaries", who) for b in boundaries]
        if any(a > b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"{who}: boundaries must be in increasing order, got {boundaries!r}")
        self.values = [check_number(v, "values", who) for v in values]
        # Keras writes back what it was given (ints stay ints)
        self._given = (list(boundaries), list(values))
        self.name = name

    def __call__(self, step):
        # the first boundary >= step: exactly the interval (b_{i-1}, b_i] that holds step
        return self.values[bisect.bisect_left(self.boundaries, _step(step, type(self).__name__))]

    def get_config(self):
        return {"boundaries": self._given[0], "values": self._given[1], "name": self.name}


@_registry.register("polynomial_decay")
class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` down to ``end_learning_rate`` along (1 - p)^power,
    p = step / decay_steps:

        lr = (initial_learning_rate - end_learning_rate) * (1 - p) ** power + end_learning_rate

    Without ``cycle`` the step stops at decay_steps (lr stays at the end value); with it, the
    decay starts again, stretched: decay_steps is multiplied by ceil(step / decay_steps)
    (1 at step 0), so each cycle ends a little higher than the end value.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        who = "PolynomialDecay"
        self.initial_learning_rate = check_number(initial_learning_rate, "initial_learning_rate",
                                                  who, low=0)
        self.decay_steps = check_number(decay_steps, "decay_steps", who, low=0, low_open=True)
        self.end_learning_rate = check_number(end_learning_rate, "end_learning_rate", who, low=0)
        self.power = check_number(power, "power", who)
        self.cycle = check_bool(cycle, "cycle", who)
        self.name = name

    def __call__(self, step):
        step = _step(step, "PolynomialDecay")
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power \
            + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


@_registry.register("inverse_time_decay")
class InverseTimeDecay(_StepDecay):
    """lr = initial_learning_rate / (1 + decay_rate * step / decay_steps); with ``staircase``
    the ratio step / decay_steps is floored, so the rate drops every decay_steps steps."""
    rate_may_be_zero = True

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step))


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


@_registry.register("cosine_decay_restarts")
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter, 2017).

    The first period lasts ``first_decay_steps``; each next one ``t_mul`` times longer and
    starting ``m_mul`` times lower. In period i (from 0), at fraction f of it:

        lr = initial_learning_rate * ((1 - alpha) * m_mul^i * 0.5 * (1 + cos(pi f)) + alpha)

    With x = step / first_decay_steps, period i starts at x = (1 - t_mul^i) / (1 - t_mul) (at
    x = i when t_mul = 1), so i = floor(log(1 - x (1 - t_mul)) / log(t_mul)).
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        who = "CosineDecayRestarts"
        self.initial_learning_rate = check_number(initial_learning_rate, "initial_learning_rate",
                                                  who, low=0)
        self.first_decay_steps = check_number(first_decay_steps, "first_decay_steps", who, low=0,
                                              low_open=True)
        self.t_mul = check_number(t_mul, "t_mul", who, low=0, low_open=True)
        self.m_mul = check_number(m_mul, "m_mul", who, low=0)
        self.alpha = check_number(alpha, "alpha", who)
        self.name = name

    def _period_start(self, i):
        """Where period i starts, in units of first_decay_steps."""
        t = self.t_mul
        return float(i) if t == 1.0 else (1.0 - t ** i) / (1.0 - t)

    def __call__(self, step):
        x = _step(step, "CosineDecayRestarts") / self.first_decay_steps
        t = self.t_mul
        i = math.floor(x) if t == 1.0 else math.floor(math.log(1.0 - x * (1.0 - t)) / math.log(t))
        # at a restart the logarithm can land a hair off a whole number: put i where x lies
        if self._period_start(i + 1) <= x:
            i += 1
        elif self._period_start(i) > x:
            i -= 1
        fraction = (x - self._period_start(i)) / t ** i
        cosine = 0.5 * self.m_mul ** i * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


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
