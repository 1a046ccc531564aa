"""``Optimizer``: what every optimizer shares (Keras 3 semantics).

One update, ``optimizer.apply_gradients([(grad, variable), ...])``, does in order:

1. drop the pairs whose gradient is None (a warning names them; all None is an error);
2. clip the gradients: ``clipnorm`` (each gradient to that L2 norm), ``global_clipnorm`` (all
   together) or ``clipvalue`` (elementwise), at most one of them;
3. weight decay, if set: w <- w - w * weight_decay * lr, except for the variables named in
   :meth:`Optimizer.exclude_from_weight_decay`;
4. ``update_step`` for each variable: the algorithm (SGD, Adam, ...), in place on ``variable.data``
   in the variable's dtype, with the learning rate evaluated once at the current ``iterations``;
5. ``use_ema``: the moving average of every variable the optimizer knows,
   a <- mu a + (1 - mu) w with mu = ema_momentum (mu = 0 on the first update, so a starts at w);
   every ``ema_overwrite_frequency`` updates the variables are overwritten with their averages;
6. constraints: each variable's ``constraint`` (or the one given in ``constraints=``) projects it;
7. ``iterations += 1``.

Per-variable state (Adam's moments, momentum buffers, the EMA "average"...) lives in "slots",
created on the first update, in the order the variables were first seen. ``get_state()`` returns
it as a flat list of (name, ndarray) and ``set_state()`` puts it back, so that training resumes
bit for bit. ``finalize_variable_values`` (which ``fit`` calls at the end, as Keras's does) puts
the averages into the variables when ``use_ema`` is on.
"""
import re
import warnings

import numpy as np

from .. import schedules
from .._checks import check_bool, check_int, check_number, snake_case
from ..engine.autograd import no_grad
from ..serialization import Registry
from ..engine.tensor import Tensor

registry = Registry("optimizer")

# Keras 3 config keys that minigrad accepts only at their default values
_FIXED_KERAS_ARGS = {"loss_scale_factor": None, "gradient_accumulation_steps": None}
# Keras 2 (tf.keras 2.11+) config keys that do not change the math, accepted and dropped
_KERAS2_NO_OP_KEYS = ("jit_compile", "is_legacy_optimizer")
# TF.js writes optimizer configs with camelCase keys
_TFJS_KEYS = {"learningRate": "learning_rate", "beta1": "beta_1", "beta2": "beta_2",
              "initialAccumulatorValue": "initial_accumulator_value", "useNesterov": "nesterov"}


def _variable_name(variable, index):
    return getattr(variable, "path", None) or getattr(variable, "name", None) or f"variable_{index}"


class Optimizer:
    """Base class. Subclasses give ``slot_names()``, ``update_step()`` and their config.

    Args:
        learning_rate: a non-negative number, a :class:`~minigrad.schedules.LearningRateSchedule`
            (called with ``iterations``), or a function of no arguments.
        weight_decay: decoupled weight decay (w -= w * weight_decay * lr before each update).
        clipnorm / clipvalue / global_clipnorm: gradient clipping (positive; at most one).
        use_ema: keep an exponential moving average of the variables (slot "average").
        ema_momentum: its momentum mu in [0, 1]: a <- mu a + (1 - mu) w.
        ema_overwrite_frequency: None, or every how many updates the variables are set to
            their averages.
        name: each optimizer's default is Keras's ("adam", "rmsprop", "SGD"...); None gives the
            class name in snake case.
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name=None, **kwargs):
        who = type(self).__name__
        for key, default in _FIXED_KERAS_ARGS.items():
            value = kwargs.pop(key, default)
            if value != default:
                raise ValueError(f"{who}: {key}={value!r} is not supported by minigrad "
                                 f"(only {key}={default!r})")
        decay = kwargs.pop("decay", None)
        if decay not in (None, 0, 0.0):
            raise ValueError(f"{who}: decay (learning-rate decay of old Keras/TF.js optimizers) is "
                             f"not supported, got decay={decay!r}; use a schedule from "
                             f"minigrad.schedules")
        if kwargs:
            raise TypeError(f"{who}: unexpected argument(s) {', '.join(sorted(kwargs))}")
        self.name = name if name is not None else snake_case(who)
        self._learning_rate = self._check_learning_rate(learning_rate)
        self.weight_decay = None if weight_decay is None else check_number(
            weight_decay, "weight_decay", who, low=0)
        clip = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = {k: v for k, v in clip.items() if v is not None}
        if len(given) > 1:
            raise ValueError(f"{who}: only one of clipnorm, clipvalue and global_clipnorm can be "
                             f"set, got {given}")
        for key, value in given.items():
            check_number(value, key, who, low=0, low_open=True)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema = check_bool(use_ema, "use_ema", who)
        self.ema_momentum = check_number(ema_momentum, "ema_momentum", who, low=0, high=1)
        self.ema_overwrite_frequency = check_int(ema_overwrite_frequency,
                                                 "ema_overwrite_frequency", who, low=1,
                                                 allow_none=True)
        self._excluded_ids = set()   # exclude_from_weight_decay(var_list=...)
        self._excluded_pattern = None  # ... and var_names=, as one regular expression
        self.iterations = 0
        self._variables = []   # in the order first seen: the order of the slots and of get_state()
        self._index = {}       # id(variable) -> position in _variables
        self._slots = []       # per variable: {slot name: ndarray shaped like the variable}

    # -- learning rate ------------------------------------------------------------------------
    def _check_learning_rate(self, value):
        if isinstance(value, schedules.LearningRateSchedule) or callable(value):
            return value
        return check_number(value, "learning_rate", type(self).__name__, low=0)

    @property
    def learning_rate(self):
        """The learning rate for the next update (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            return float(lr(self.iterations))
        return float(lr()) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(self._learning_rate, schedules.LearningRateSchedule) and not callable(value):
            raise TypeError(f"{type(self).__name__}: this optimizer's learning rate is a schedule "
                            f"({type(self._learning_rate).__name__}); it cannot be set to a "
                            f"number. Make the optimizer with a number to change it later.")
        self._learning_rate = self._check_learning_rate(value)

    # -- variables and their slots ------------------------------------------------------------
    def slot_names(self):
        """Names of the per-variable state arrays this optimizer keeps, in order."""
        return ()

    def slot_groups(self):
        """``slot_names()`` grouped as Keras 3 creates them (one ``add_optimizer_variables`` call
        per group), which sets the order of :meth:`get_state`: group by group, each variable's
        slots of that group. One group by default."""
        return (tuple(self.slot_names()),)

    def _all_slot_names(self):
        """The algorithm's slots, then the EMA's "average" when ``use_ema`` is on."""
        return tuple(self.slot_names()) + (("average",) if self.use_ema else ())

    def initial_slot(self, name, variable):
        """The starting value of slot ``name`` for ``variable`` (an ndarray); zeros by default,
        the variable itself for the EMA's average (the first update overwrites it anyway)."""
        if name == "average":
            return variable.data.copy()
        return np.zeros_like(variable.data)

    def build(self, variables):
        """Create the slots of variables not seen before (the first update does this too)."""
        for variable in variables:
            if not isinstance(variable, Tensor):
                raise TypeError(f"{type(self).__name__}: variables must be minigrad Tensors, got "
                                f"{type(variable).__name__}")
            if id(variable) not in self._index:
                self._index[id(variable)] = len(self._variables)
                self._variables.append(variable)
                self._slots.append({n: self.initial_slot(n, variable)
                                    for n in self._all_slot_names()})

    @property
    def variables(self):
        """The variables this optimizer has state for, in slot order."""
        return list(self._variables)

    # -- the update ---------------------------------------------------------------------------
    def update_step(self, gradient, variable, slots, learning_rate):
        """Update ``variable`` (ndarray, in place) and its ``slots`` from ``gradient``.

        ``gradient`` has the variable's shape and dtype (never modify it: it may be the caller's
        ``.grad``); ``learning_rate`` is a scalar of the variable's dtype.
        """
        raise NotImplementedError(f"{type(self).__name__} must define update_step")

    def apply_gradients(self, grads_and_vars, constraints=None):
        """Apply one update; returns ``iterations`` (after it is incremented).

        Args:
            grads_and_vars: pairs (gradient: ndarray, Tensor or None, variable: Tensor).
            constraints: optional {variable: fn} (or a list aligned with the pairs) of
                projections ``fn(ndarray) -> ndarray`` applied after the update; a variable's
                own ``constraint`` attribute is used where none is given here.
        """
        who = type(self).__name__
        pairs = []
        for i, pair in enumerate(grads_and_vars):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError(f"{who}.apply_gradients: expected (gradient, variable) pairs, got "
                                f"{pair!r} at position {i}")
            pairs.append(tuple(pair))
        if not pairs:
            return self.iterations  # nothing to do, as Keras
        variables = [v for _, v in pairs]
        fns = self._constraints_for(variables, constraints)
        self.build(variables)
        kept = [(g, v, c) for (g, v), c in zip(pairs, fns) if g is not None]
        if not kept:
            raise ValueError(f"{who}: no gradients provided for any variable (all are None)")
        if len(kept) < len(pairs):
            missing = [_variable_name(v, self._index[id(v)]) for g, v in pairs if g is None]
            warnings.warn(f"{who}: gradients do not exist for variables {missing}; they are not "
                          f"updated", stacklevel=2)
        grads = self._clip_gradients([self._as_gradient(g, v) for g, v, _ in kept])
        lr = self.learning_rate
        with no_grad():
            if self.weight_decay:
                for _, v, _ in kept:
                    if self._use_weight_decay(v):
                        dt = v.data.dtype.type
                        v.data -= v.data * dt(self.weight_decay) * dt(lr)
            self._update_variables(grads, [v for _, v, _ in kept], lr)
            if self.use_ema:
                self._update_averages()
            for _, v, c in kept:
                if c is not None:
                    self._constrain(v, c)
        self.iterations += 1
        return self.iterations

    def _update_variables(self, grads, variables, learning_rate):
        """``update_step`` on each variable (Keras's ``_backend_update_step``: a subclass with
        state shared by all variables, as Nadam's, updates it here once per step)."""
        for g, v in zip(grads, variables):
            self.update_step(g, v.data, self._slots[self._index[id(v)]],
                             v.data.dtype.type(learning_rate))

    def step(self, params, constraints=None):
        """Update every parameter that requires grad from its ``.grad`` (PyTorch style)."""
        params = [p for p in params if not isinstance(p, Tensor) or p.requires_grad]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}.step: params must be Tensors, got "
                                f"{type(p).__name__}")
        return self.apply_gradients([(p.grad, p) for p in params], constraints)

    def _as_gradient(self, grad, variable):
        g = getattr(grad, "data", grad)
        g = np.asarray(g)
        if g.shape != variable.data.shape:
            raise ValueError(f"{type(self).__name__}: the gradient of "
                             f"'{_variable_name(variable, self._index[id(variable)])}' has shape "
                             f"{g.shape}, expected the variable's shape {variable.data.shape}")
        if g.dtype.kind not in "biuf":
            raise TypeError(f"{type(self).__name__}: gradients must be numeric, got {g.dtype}")
        return g.astype(variable.data.dtype, copy=False)

    def _constraints_for(self, variables, constraints):
        if constraints is None:
            given = [None] * len(variables)
        elif isinstance(constraints, dict):
            by_id = {id(k): c for k, c in constraints.items()}
            given = [by_id.get(id(v)) for v in variables]
        elif isinstance(constraints, (list, tuple)) and len(constraints) == len(variables):
            given = list(constraints)
        else:
            raise TypeError(f"{type(self).__name__}.apply_gradients: constraints must be a dict "
                            f"{{variable: fn}} or a list with one entry per pair, got {constraints!r}")
        out = [c if c is not None else getattr(v, "constraint", None) for v, c in zip(variables, given)]
        for c in out:
            if c is not None and not callable(c):
                raise TypeError(f"{type(self).__name__}: a constraint must be callable, got {c!r}")
        return out

    def _constrain(self, variable, constraint):
        value = constraint(variable.data)
        value = np.asarray(getattr(value, "data", value))
        if value.shape != variable.data.shape:
            raise ValueError(f"{type(self).__name__}: constraint {constraint!r} returned shape "
                             f"{value.shape} for a variable of shape {variable.data.shape}")
        variable.data[...] = value

    # -- weight decay exclusions and the moving average (EMA) ---------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Leave some variables out of weight decay (replaces any earlier call's choice).

        Args:
            var_list: variables (Tensors) to exclude.
            var_names: strings; a variable whose name contains one of them (searched as a
                regular expression, as Keras does: ``["bias"]`` excludes every bias) is excluded.
                The name is the variable's ``name`` (``"kernel"``), or its ``path`` if it has none.
        """
        who = f"{type(self).__name__}.exclude_from_weight_decay"
        if var_list is not None and (isinstance(var_list, Tensor) or not all(
                isinstance(v, Tensor) for v in var_list)):
            raise TypeError(f"{who}: var_list must be a list of minigrad Tensors, got {var_list!r}")
        if var_names is not None and (isinstance(var_names, str) or not all(
                isinstance(n, str) for n in var_names)):
            raise TypeError(f"{who}: var_names must be a list of strings, got {var_names!r}")
        self._excluded_ids = {id(v) for v in var_list or ()}
        names = sorted(set(var_names or ()))
        self._excluded_pattern = re.compile("|".join(names)) if names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._excluded_ids:
            return False
        name = getattr(variable, "name", None) or getattr(variable, "path", None) or ""
        return self._excluded_pattern is None or self._excluded_pattern.search(name) is None

    def _update_averages(self):
        """Keras's EMA step, on every variable known (not only those updated now)."""
        for v, slots in zip(self._variables, self._slots):
            dt = v.data.dtype.type
            mu = dt(self.ema_momentum if self.iterations != 0 else 0.0)
            average = slots["average"]
            average[...] = mu * average + (dt(1) - mu) * v.data
        frequency = self.ema_overwrite_frequency
        if frequency and (self.iterations + 1) % frequency == 0:
            for v, slots in zip(self._variables, self._slots):
                v.data[...] = slots["average"]

    def finalize_variable_values(self, var_list):
        """With ``use_ema``: overwrite the variables with their moving averages (``fit`` calls
        this when training ends, as Keras's does); otherwise nothing changes."""
        if not self.use_ema or not self._variables:
            return
        for i, v in enumerate(var_list):
            if id(v) not in self._index:
                raise ValueError(f"{type(self).__name__}.finalize_variable_values: variable "
                                 f"'{_variable_name(v, i)}' is not one this optimizer has "
                                 f"updated, so it has no moving average")
        with no_grad():
            for v in var_list:
                v.data[...] = self._slots[self._index[id(v)]]["average"]

    # -- clipping (Keras's formulas) ----------------------------------------------------------
    def _clip_gradients(self, grads):
        if self.clipnorm:
            out = []
            for g in grads:
                norm = np.sqrt(np.sum(np.square(g)))
                c = g.dtype.type(self.clipnorm)
                out.append(g * c / np.maximum(norm, c))  # g unchanged when its norm <= clipnorm
            return out
        if self.global_clipnorm:
            norm = np.sqrt(np.sum(np.array([np.sum(np.square(g)) for g in grads])))
            c = self.global_clipnorm
            with np.errstate(divide="ignore", invalid="ignore"):
                # min(1/norm, 1/c) * c: 1 when norm <= c; a NaN/inf norm makes everything NaN
                scale = c * np.minimum(1.0 / norm, 1.0 / c) + (norm - norm)
            return [g * g.dtype.type(scale) for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    # -- state: what a model file stores to resume training exactly -----------------------------
    def get_state(self):
        """[("iteration", int64 0-d array), then ("<variable path>/<slot>", ndarray copy) in
        Keras 3's order: with ``use_ema`` every variable's "average" first, then for each slot
        group (see :meth:`slot_groups`), each variable (in slot order) with its slots]."""
        state = [("iteration", np.array(self.iterations, dtype=np.int64))]
        state.extend((f"{_variable_name(self._variables[i], i)}/{n}", self._slots[i][n].copy())
                     for i, n in self._state_order())
        return state

    def _state_order(self):
        """(variable index, slot name) pairs, in the order of get_state (Keras's order of its
        optimizer variables: the EMA's averages, then the slot groups)."""
        groups = ((("average",),) if self.use_ema else ()) + tuple(self.slot_groups())
        return [(i, n) for group in groups for i in range(len(self._variables)) for n in group]

    def set_state(self, state):
        """Restore what :meth:`get_state` returned. The optimizer must know its variables already
        (``build(model.trainable_weights)``), in the same order. Everything is checked before
        anything changes."""
        who = f"{type(self).__name__}.set_state"
        entries = list(state)
        for e in entries:
            if not (isinstance(e, (tuple, list)) and len(e) == 2 and isinstance(e[0], str)):
                raise ValueError(f"{who}: expected (name, array) pairs, got {e!r}")
        if not entries or entries[0][0] != "iteration":
            raise ValueError(f"{who}: the state must start with ('iteration', n), got "
                             f"{entries[0][0] if entries else 'an empty list'!r}")
        iteration = np.asarray(entries[0][1])
        if iteration.size != 1 or iteration.dtype.kind not in "iuf" or iteration.item() < 0 \
                or iteration.item() != int(iteration.item()):
            raise ValueError(f"{who}: iteration must be a non-negative integer, got {entries[0][1]!r}")
        slots = self._all_slot_names()
        expected = self._state_order()
        if len(entries) - 1 != len(expected):
            hint = (" (call build(variables) first: this optimizer has no variables yet)"
                    if not self._variables and len(entries) > 1 else "")
            raise ValueError(f"{who}: expected {len(expected)} slot arrays ({len(self._variables)} "
                             f"variables x {list(slots)}), got {len(entries) - 1}{hint}")
        # a state in another order of the same names (minigrad before it took Keras's) is sorted
        by_name = dict(entries[1:])
        names = [f"{_variable_name(self._variables[i], i)}/{slot}" for i, slot in expected]
        if len(by_name) == len(names) and set(by_name) == set(names):
            entries = entries[:1] + [(n, by_name[n]) for n in names]
        values = []
        for (name, array), (i, slot) in zip(entries[1:], expected):
            variable = self._variables[i]
            array = np.asarray(array)
            if not name.endswith("/" + slot) or array.shape != variable.data.shape:
                raise ValueError(f"{who}: entry {name!r} of shape {array.shape} does not match slot "
                                 f"'{_variable_name(variable, i)}/{slot}' of shape "
                                 f"{variable.data.shape}")
            values.append(np.array(array, dtype=variable.data.dtype, copy=True))
        self.iterations = int(iteration.item())
        for (i, slot), value in zip(expected, values):
            self._slots[i][slot] = value

    # -- config -------------------------------------------------------------------------------
    def get_config(self):
        """Keras 3's keys: name, learning_rate (a number or a serialized schedule), clipping..."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            raise ValueError(f"{type(self).__name__}.get_config: a learning_rate function cannot be "
                             f"serialized; use a schedule from minigrad.schedules or a number")
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency, **_FIXED_KERAS_ARGS}

    _config_aliases = {}  # a subclass's extra TF.js keys

    @classmethod
    def from_config(cls, config):
        """The optimizer from a Keras config, or a TF.js one (camelCase keys); no state."""
        config = dict(config)
        # Keras 2.11+ writes how it compiled the step and which optimizer family it was: neither
        # changes the update
        for key in _KERAS2_NO_OP_KEYS:
            config.pop(key, None)
        for old, new in {**_TFJS_KEYS, **cls._config_aliases}.items():
            if old in config:
                config[new] = config.pop(old)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self._learning_rate!r} " \
               f"iterations={self.iterations}>"
