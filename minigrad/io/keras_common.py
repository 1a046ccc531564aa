"""What the Keras file formats share: the optional h5py, HDF5 in memory, the module names Keras 3
writes on compile objects, and the refusal of classes that carry code. (A model's config in
Keras 3's spelling is :func:`minigrad.models.keras_json.keras_config`, the one ``to_json`` uses.)

HDF5 needs h5py, an optional dependency (``pip install "minigrad[keras]"``): it is imported only
when a ``.keras`` / ``.h5`` file is read or written, so the TF.js folders keep needing NumPy alone.

Both formats are built in memory and written with one :func:`~minigrad.io.safe_files.atomic_write`:
a reader sees the old file or the new one, never half of one.
"""
import io

from ..serialization import CODE_CARRIERS
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
_MODULES = {"optimizer": "keras.optimizers", "loss": "keras.losses",
            "schedule": "keras.optimizers.schedules"}
MODEL_CLASSES = {"Model": "Functional", "Functional": "Functional", "Sequential": "Sequential"}


def keras3_entry(entry, kind):
    """``{"class_name", "config"}`` as a Keras 3 entry: with ``module`` and ``registered_name``."""
    if isinstance(entry, dict) and "class_name" in entry and "module" not in entry:
        entry = {"module": _MODULES[kind], **entry, "registered_name": None}
        config = entry.get("config")
        if kind == "optimizer" and isinstance(config, dict) and isinstance(
                config.get("learning_rate"), dict):
            # a schedule inside: Keras 3 cannot find its class without the module
            entry["config"] = {**config,
                               "learning_rate": keras3_entry(config["learning_rate"], "schedule")}
    return entry


def refuse_code(value, path):
    """A ModelFileError if a config holds a Keras class that carries Python code; nothing in it
    is ever run or even decoded."""
    if isinstance(value, list):
        for item in value:
            refuse_code(item, path)
    elif isinstance(value, dict):
        if value.get("class_name") in CODE_CARRIERS:
            name = (value.get("config") or {}).get("name") if isinstance(
                value.get("config"), dict) else None
            raise ModelFileError(f"{path}: the model holds a Keras {value['class_name']} "
                                 f"{name!r}: Python code stored in the file, which minigrad never "
                                 f"runs; rebuild that part with registered layers")
        for item in value.values():
            refuse_code(item, path)


__all__ = ["refuse_code", "EXTRA", "h5py_module", "open_h5", "h5_bytes",
           "read_dataset", "keras3_entry", "MODEL_CLASSES"]
