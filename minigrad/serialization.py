"""One registry: class name <-> class, for everything that travels in a model file.

Initializers, constraints, regularizers, activations, losses, metrics, optimizers and layers each
keep a :class:`Registry`. A registry maps names to classes (or plain functions, for activations)
and gives the three functions Keras has for every kind of object:

* ``get(identifier)``: a name (``"glorot_uniform"``, ``"GlorotUniform"``, TF.js's
  ``"glorotUniform"``), a ``{"class_name", "config"}`` dict, an object, or None -> an object.
* ``serialize(obj)`` -> ``{"class_name": ..., "config": {...}}`` (JSON-ready).
* ``deserialize(entry)`` -> the object again. Keras 3's entries (``{"module", "class_name",
  "config", "registered_name"}``) are read by their ``class_name`` alone: the ``module`` is
  never imported. A plain function written as ``{"class_name": "function", "config": "relu"}``
  is looked up by its name.

Names are matched without case and underscores, so Keras's ``l1_l2``, TF.js's ``L1L2`` and
``l1l2`` are one name. Loading a file resolves class names only through these tables: a file can
never make minigrad import a module or call an arbitrary function.
"""
import inspect
import re



class Configurable:
    """What every serializable object shares: ``get_config`` (its constructor arguments under
    Keras's JSON keys), ``from_config`` (``cls(**config)``, naming any key the constructor does not
    take) and a ``repr`` built from the config."""

    def get_config(self):
        """The constructor arguments, under their Keras JSON keys."""
        return {}

    @classmethod
    def from_config(cls, config):
        """``cls(**config)``; a key the constructor does not take is named in the error."""
        parameters = inspect.signature(cls.__init__).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in parameters):  # takes any key: let it decide
            return cls(**config)
        accepted = {p.name for p in parameters} - {"self"}
        config = _snake_case_keys(config, accepted)
        unknown = sorted(set(config) - accepted)
        if unknown:
            raise TypeError(f"{cls.__name__}.from_config: unknown config key(s) {unknown}; "
                            f"expected some of {sorted(accepted)}")
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _snake_case_keys(config, accepted):
    """``config`` with TF.js's camelCase keys (``maxValue``) renamed to the accepted snake_case
    ones (``max_value``); a key that is accepted as it is, or whose snake_case form is not, stays
    (and is named in the error about unknown keys)."""
    renamed = {}
    for key, value in config.items():
        snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower() if isinstance(key, str) \
            else key
        if key not in accepted and snake in accepted and snake not in config:
            key = snake
        renamed[key] = value
    return renamed


def _key(name):
    return name.replace("_", "").lower()


# Keras classes whose config carries code (Lambda: a marshalled function, "__lambda__" its
# Keras 3 form; TFOpLambda and SlicingOpLambda name TensorFlow ops): refused with a message that
# says why, by the registry and by the Keras file readers before anything is built
CODE_CARRIERS = ("Lambda", "__lambda__", "TFOpLambda", "SlicingOpLambda")


class Registry:
    """Names -> classes (or functions) for one kind of object, e.g. ``Registry("initializer")``."""

    def __init__(self, kind, public_name=None):
        self.kind = kind
        # how users reach this registry (``"minigrad.layers.registry"``), for errors that say how
        # to register a class of one's own; None for the tables that only minigrad fills
        self.public_name = public_name
        self._entries = {}   # normalised name -> class or function
        self._names = {}     # class or function -> its canonical (serialized) name

    def register(self, *aliases, name=None):
        """Decorator: register a class or function under its own name and any ``aliases``.

        ``name`` overrides the canonical name written by :meth:`serialize`.
        """
        def decorate(obj):
            canonical = name or obj.__name__
            self._names[obj] = canonical
            for n in (canonical, obj.__name__) + aliases:
                self._entries[_key(n)] = obj
            return obj
        return decorate

    def known(self):
        """The canonical names, sorted (used in error messages)."""
        return sorted(set(self._names.values()))

    def lookup(self, name):
        """The class or function registered as ``name``; a ValueError listing the known ones."""
        if not isinstance(name, str):
            raise TypeError(f"unknown {self.kind}: expected a name (str), got {name!r}")
        if name.startswith("Custom>"):  # tf.keras 2.11+ writes its own optimizers so ("Custom>Adam")
            name = name[len("Custom>"):]
        try:
            return self._entries[_key(name)]
        except KeyError:
            if name in CODE_CARRIERS:  # a file that asks for them asks to run its own code
                raise ValueError(f"{name!r} {self.kind}s hold Python code (a function or its "
                                 f"bytecode), and minigrad never runs code from a file: build "
                                 f"that part of the model in Python instead") from None
            raise ValueError(f"unknown {self.kind} {name!r}; known {self.kind}s: "
                             f"{', '.join(self.known())}{self._how_to_register(name)}") from None

    def name_of(self, obj):
        """The canonical name of ``obj``'s class (or of a registered function)."""
        target = obj if obj in self._names else type(obj)
        if target not in self._names:
            raise ValueError(f"cannot serialize {obj!r}: it is not a registered {self.kind} "
                             f"(known: {', '.join(self.known())})"
                             f"{self._how_to_register(getattr(target, '__name__', ''))}")
        return self._names[target]

    def _how_to_register(self, class_name):
        """The end of an error about an unregistered class: the one line that registers it."""
        if self.public_name is None:
            return ""
        if not class_name.isidentifier():
            class_name = f"My{self.kind.title().replace(' ', '')}"
        return (f". To save and load a {self.kind} class of your own, register it: put "
                f"@{self.public_name}.register() on the line above `class {class_name}`, or call "
                f"{self.public_name}.register()({class_name}) before saving or loading")

    def serialize(self, obj):
        """``{"class_name", "config"}`` for an object (a plain function serializes to its name)."""
        if obj is None:
            return None
        name = self.name_of(obj)
        if isinstance(obj, type) or callable(obj) and not hasattr(obj, "get_config"):
            return name
        return {"class_name": name, "config": obj.get_config()}

    def deserialize(self, entry, **overrides):
        """Rebuild an object from a name or a ``{"class_name", "config"}`` dict."""
        if entry is None:
            return None
        if isinstance(entry, str):
            target = self.lookup(entry)
            return target if not isinstance(target, type) else target(**overrides)
        if not isinstance(entry, dict) or "class_name" not in entry:
            raise ValueError(f"cannot deserialize {self.kind} from {entry!r}: expected a name or a "
                             f'{{"class_name": ..., "config": {{...}}}} dict')
        if entry["class_name"] == "function" and isinstance(entry.get("config"), str):
            # Keras 3 writes a plain function (an activation, a loss) as {"class_name":
            # "function", "config": "<its name>"}: the name goes through this registry too
            return self.deserialize(entry["config"], **overrides)
        target = self.lookup(entry["class_name"])
        config = entry.get("config") or {}
        if not isinstance(config, dict):
            raise ValueError(f"cannot deserialize {self.kind} {entry['class_name']!r}: its "
                             f"'config' must be a dict, got {config!r}")
        config = dict(config)
        config.update(overrides)
        if not isinstance(target, type):  # a registered function, e.g. an activation
            return target
        return target.from_config(config) if hasattr(target, "from_config") else target(**config)

    def get(self, identifier):
        """An object from a name, a dict, an object (returned as is) or None (returns None)."""
        if identifier is None:
            return None
        if isinstance(identifier, (str, dict)):
            return self.deserialize(identifier)
        if isinstance(identifier, type) and identifier in self._names:
            return identifier()
        if callable(identifier) or hasattr(identifier, "get_config"):
            return identifier
        raise ValueError(f"could not interpret {self.kind} identifier {identifier!r}: expected a "
                         f"name, a config dict or a {self.kind} object")
