"""What the Keras file formats share: the optional h5py, HDF5 in memory, and Keras's spelling of
configs and group names.

HDF5 needs h5py, an optional dependency (``pip install "minigrad[keras]"``): it is imported only
when a ``.keras`` / ``.h5`` file is read or written, so the TF.js folders keep needing NumPy alone.

Both formats are built in memory and written with one :func:`~minigrad.io.safe_files.atomic_write`:
a reader sees the old file or the new one, never half of one.

>>> snake_case("DepthwiseConv2D"), snake_case("BatchNormalization")
('depthwise_conv2d', 'batch_normalization')
"""
import io
import re

from .safe_files import ModelFileError

EXTRA = 'pip install "minigrad[keras]"'


def h5py_module(who):
    """h5py, imported now; an ImportError naming the extra that installs it if it is absent."""
    try:
        import h5py
    except ImportError:
        raise ImportError(f"{who}: Keras .keras and .h5 files are HDF5 inside, which needs the "
                          f"optional dependency h5py: {EXTRA}") from None
    return h5py


def snake_case(name):
    """Keras's ``to_snake_case``: the group name a class gets in a ``.keras`` weights file."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def open_h5(data, path, who):
    """An h5py File reading the bytes ``data``; a ModelFileError if they are not HDF5 (a truncated
    or damaged file)."""
    h5py = h5py_module(who)
    try:
        return h5py.File(io.BytesIO(data), "r")
    except (OSError, ValueError) as e:
        raise ModelFileError(f"{path}: not a readable HDF5 file ({e}); it may be truncated or "
                             f"damaged") from None


def h5_bytes(fill, who):
    """The bytes of a new HDF5 file that ``fill(h5file)`` writes (built in memory)."""
    h5py = h5py_module(who)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        fill(f)
    return buffer.getvalue()


def read_dataset(node, path, where):
    """A float array from the HDF5 dataset ``node``; a ModelFileError if it is anything else."""
    import numpy as np
    h5py = h5py_module("load")
    if not isinstance(node, h5py.Dataset):
        raise ModelFileError(f"{path}: '{where}' is not a dataset")
    try:
        value = np.asarray(node[()])
    except (OSError, ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: cannot read '{where}' ({e}); the file may be "
                             f"damaged") from None
    if value.dtype.kind not in "fiu":
        raise ModelFileError(f"{path}: '{where}' holds {value.dtype}, not numbers")
    return value


# -- configs as Keras 3 writes them ---------------------------------------------------------------
# the module Keras 3 names for each kind of object in a config: Keras 3 reads an entry without
# one too, but writing it makes our files look like its own
_MODULES = {"initializer": "keras.initializers", "regularizer": "keras.regularizers",
            "constraint": "keras.constraints", "optimizer": "keras.optimizers",
            "loss": "keras.losses"}
MODEL_CLASSES = {"Model": "Functional", "Functional": "Functional", "Sequential": "Sequential"}


def keras3_entry(entry, kind):
    """``{"class_name", "config"}`` as a Keras 3 entry: with ``module`` and ``registered_name``."""
    if isinstance(entry, dict) and "class_name" in entry and "module" not in entry:
        return {"module": _MODULES[kind], **entry, "registered_name": None}
    return entry


def keras3_config(value):
    """A minigrad layer/model config spelled as Keras 3 writes it: every initializer,
    regularizer and constraint with its module, nested layers too. Keys stay as they are: a
    key Keras 3 would reject is for the layer's get_config to leave out."""
    if isinstance(value, list):
        return [keras3_config(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        for kind in ("initializer", "regularizer", "constraint"):
            if key.endswith(kind):
                item = keras3_entry(item, kind)
        out[key] = keras3_config(item)
    return out


def keras3_model(topology):
    """A model's ``{"class_name", "config"}`` as Keras 3 reads it: Keras's class names, module
    names on the objects, and a Sequential's input shape as a leading ``InputLayer`` (Keras 3
    reads a layer's ``batch_input_shape`` as a shape without the batch)."""
    class_name = MODEL_CLASSES.get(topology["class_name"], topology["class_name"])
    config = keras3_config(topology["config"])
    if class_name == "Sequential" and config.get("layers"):
        first = config["layers"][0]
        shape = first.get("config", {}).get("batch_input_shape")
        if shape is not None:
            first = {**first, "config": {k: v for k, v in first["config"].items()
                                         if k != "batch_input_shape"}}
            entry = {"class_name": "InputLayer",
                     "config": {"batch_shape": shape, "dtype": first["config"].get(
                         "dtype", "float32"), "name": f"{config.get('name', 'sequential')}_input"}}
            config = {**config, "layers": [entry, first] + config["layers"][1:]}
    else:  # nested models inside a functional one
        # a nested model's entry keeps its name and inbound nodes beside the class and config
        config = {**config, "layers": [{**e, **keras3_model(e)} if e.get("class_name") in
                                       MODEL_CLASSES and "layers" in e.get("config", {}) else e
                                       for e in config.get("layers", [])]}
    return {"class_name": class_name, "config": config}


# Keras classes that carry Python code (a Lambda's function is marshalled bytecode): minigrad
# refuses them by name, with the reason, before the registry would say "unknown layer"
CODE_CLASSES = ("Lambda", "__lambda__", "TFOpLambda", "SlicingOpLambda")


def refuse_code(value, path):
    """A ModelFileError if a config holds a Keras class that carries Python code; nothing in it
    is ever run or even decoded."""
    if isinstance(value, list):
        for item in value:
            refuse_code(item, path)
    elif isinstance(value, dict):
        if value.get("class_name") in CODE_CLASSES:
            name = (value.get("config") or {}).get("name") if isinstance(
                value.get("config"), dict) else None
            raise ModelFileError(f"{path}: the model holds a Keras {value['class_name']} "
                                 f"{name!r}: Python code stored in the file, which minigrad never "
                                 f"runs; rebuild that part with registered layers")
        for item in value.values():
            refuse_code(item, path)


__all__ = ["refuse_code", "CODE_CLASSES", "keras3_model", "EXTRA", "h5py_module", "snake_case", "open_h5", "h5_bytes", "read_dataset",
           "keras3_entry", "keras3_config", "MODEL_CLASSES"]
