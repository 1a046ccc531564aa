"""One flat array per slot: an elementwise optimizer's update for all variables at once.

Adam's update is elementwise: every number of every variable is updated by the same formula
from the same-placed numbers of its gradient and slots. Done variable by variable, a network of
35 small weights costs 35 x ~10 NumPy calls per step, and each call's fixed cost (a few
microseconds) is far above its arithmetic. :class:`FlatSlots` keeps each slot ("momentum",
"velocity", ...) of all variables as *one* 1-D array, laid out variable after variable::

    flat[offset_i : offset_i + size_i] == slots_i[name].ravel()     (a view: the same memory)

so the optimizer writes the gradients into one flat array and runs each formula once, on
N = sum(size_i) numbers. The per-variable slots (``optimizer._slots[i][name]``, what
``get_state`` saves) are views into the flat arrays, so they always hold the current state.
Each number goes through the same float operations in the same order as the per-variable code,
so the results are the same to the bit.

When the set of variables changes (a gradient that is None this time) or someone replaces a
slot array (``set_state``), the next step lays the flat arrays out afresh from the slots as they
are; nothing is lost.
"""
import numpy as np


class FlatSlots:
    """Flat slot arrays, scratch space and per-variable views for one list of variables.

    ``prepare(variables, slots)`` returns ``(flat, grad, scratch, deltas)`` or None:

    * ``flat``: {slot name: 1-D array of N numbers};
    * ``grad``: a 1-D array of N numbers for the gradients; ``scratch``: two more;
    * ``deltas``: per variable, the view of ``scratch[0]`` shaped like it (where the update
      ``w -= delta`` is read from).

    None when the variables do not all share one dtype, or one comes twice (the caller then
    updates them one by one).
    """

    def __init__(self, names):
        self.names = tuple(names)
        self._variables = ()   # the variables (and their data arrays) of the current layout
        self._datas = ()
        self._views = ()       # per variable: the tuple of its slot views, in ``names`` order
        self._state = None

    def prepare(self, variables, slots):
        if self._is_current(variables, slots):
            return self._state
        dtype = variables[0].data.dtype
        if any(v.data.dtype != dtype for v in variables) or \
                len({id(v) for v in variables}) != len(variables):
            self._variables, self._state = (), None
            return None
        sizes = [v.data.size for v in variables]
        offsets = np.cumsum([0] + sizes)
        n = int(offsets[-1])
        flat = {name: np.concatenate([s[name].astype(dtype, copy=False).reshape(-1)
                                      for s in slots]) if n else np.empty(0, dtype)
                for name in self.names}
        grad, scratch = np.empty(n, dtype), (np.empty(n, dtype), np.empty(n, dtype))
        views, deltas = [], []
        for v, s, a, b in zip(variables, slots, offsets[:-1], offsets[1:]):
            shape = v.data.shape
            own = tuple(flat[name][a:b].reshape(shape) for name in self.names)
            for name, view in zip(self.names, own):
                s[name] = view
            views.append(own)
            deltas.append(scratch[0][a:b].reshape(shape))
        self._variables, self._datas = tuple(variables), tuple(v.data for v in variables)
        self._views = tuple(views)
        self._state = (flat, grad, scratch, deltas)
        return self._state

    def _is_current(self, variables, slots):
        """Whether the layout still fits: the same variables, with the same data arrays, whose
        slots are still the views handed out."""
        if len(variables) != len(self._variables) or self._state is None:
            return False
        for v, old, data, s, own in zip(variables, self._variables, self._datas, slots,
                                        self._views):
            if v is not old or v.data is not data:
                return False
            for name, view in zip(self.names, own):
                if s[name] is not view:
                    return False
        return True
