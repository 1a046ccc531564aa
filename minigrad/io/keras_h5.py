"""Legacy Keras ``.h5`` / ``.hdf5`` full-model files (tf.keras 2, and Keras 3's
``model.save("x.h5")``), and the weights-only ``.h5`` files of tf.keras 2's ``save_weights``.

The layout::

    /                  attrs: model_config (JSON text: {"class_name", "config"}),
                              training_config (JSON text)?, keras_version, backend
    /model_weights     attrs: layer_names [the layers' names, in model.layers order],
                              keras_version, backend
    /model_weights/<layer name>          attrs: weight_names ["dense/kernel", ...]
    /model_weights/<layer name>/<weight name>   one dataset per weight name

(a weights-only file is ``/model_weights`` at the root). Weights are matched as Keras matches
them: by *order*, the layers that have weights in file order against the model's, each layer's
weights in ``weight_names`` order (tf.keras 2 writes ``depthwise_kernel:0`` where Keras 3 writes
``kernel``: the names do not need to agree). An attribute too large for an HDF5 object header is
split by Keras into ``layer_names0``, ``layer_names1``, ...; both spellings are read.

Like :mod:`~minigrad.io.keras_v3`, this module knows the format, not models: it reads and writes
a *layer tree* whose entries give a layer's ``name`` and its ``weights``
(``[(key, array or shape)]``, trainable weights first as Keras's legacy writer orders them).
The optimizer's variables go under ``/optimizer_weights`` (``weight_names`` attribute, one
dataset each) in Keras 3's order: the iteration count, the learning rate, each variable's slots.
"""
import json
import os

import numpy as np

from .._version import __version__
from .keras_common import h5_bytes, h5py_module, open_h5, read_dataset
from .safe_files import ModelFileError, atomic_write

ATTR_LIMIT = 64000  # bytes: HDF5 keeps attributes in a 64 KiB object header


def _set_names(node, key, names):
    """Write a list of names as an attribute, split in chunks as Keras does when it is large."""
    array = np.array([n.encode("utf-8") for n in names], dtype="S") if names else \
        np.zeros(0, dtype="float64")  # what Keras writes for "no weights"
    chunks = max(1, -(-array.nbytes // ATTR_LIMIT))
    if chunks == 1:
        node.attrs[key] = array
    else:
        for i, part in enumerate(np.array_split(array, chunks)):
            node.attrs[f"{key}{i}"] = part


def _get_names(node, key, path):
    """A names attribute (whole or in chunks) as a list of str."""
    if key in node.attrs:
        parts = [node.attrs[key]]
    else:
        parts, i = [], 0
        while f"{key}{i}" in node.attrs:
            parts.append(node.attrs[f"{key}{i}"])
            i += 1
    names = []
    for part in parts:
        for n in np.atleast_1d(part):
            n = n.decode("utf-8") if isinstance(n, bytes) else n
            if not isinstance(n, str):
                raise ModelFileError(f"{path}: attribute '{key}' must hold names, got {n!r}")
            names.append(n)
    return names


def _text_attr(node, key):
    value = node.attrs.get(key)
    return value.decode("utf-8") if isinstance(value, bytes) else value


def write_model(path, topology, tree, training_config=None, optimizer_weights=None,
                overwrite=True, who="save"):
    """Write a legacy full-model ``.h5``: ``topology`` ``{"class_name", "config"}`` as Keras 3
    reads it, ``tree`` the top-level layers with their weights (arrays), ``training_config``
    Keras's form (``optimizer_config``, ``loss``, ``metrics``, ``loss_weights``) or None,
    ``optimizer_weights`` ``[(name, array)]`` in Keras 3's order (``optimizer.variables``)."""
    version = f"minigrad {__version__}".encode("utf-8")

    def fill(f):
        f.attrs["keras_version"] = version
        f.attrs["backend"] = b"minigrad"
        f.attrs["model_config"] = json.dumps(topology, allow_nan=False).encode("utf-8")
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode("utf-8")
        group = f.create_group("model_weights")
        group.attrs["keras_version"], group.attrs["backend"] = version, b"minigrad"
        _set_names(group, "layer_names", [e["name"] for e in tree])
        for entry in tree:
            node = group.create_group(entry["name"])
            _set_names(node, "weight_names", [key for key, _ in entry["weights"]])
            for key, array in entry["weights"]:
                node.create_dataset(key, data=array)
        _set_names(group.create_group("top_level_model_weights"), "weight_names", [])
        if optimizer_weights:
            node = f.create_group("optimizer_weights")
            _set_names(node, "weight_names", [name for name, _ in optimizer_weights])
            for name, array in optimizer_weights:
                node.create_dataset(name, data=array)

    data = h5_bytes(fill, who)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save: '{path}' exists and overwrite=False")
    atomic_write(path, data)


class LegacyH5:
    """A legacy ``.h5`` file (full model or weights only), read and checked."""

    def __init__(self, path):
        if not os.path.exists(path):
            raise FileNotFoundError(f"load_model: '{path}' does not exist")
        self.path = path
        with open(path, "rb") as f:
            self.h5 = open_h5(f.read(), path, "load")
        h5py = h5py_module("load")
        group = self.h5.get("model_weights", self.h5)
        if not isinstance(group, h5py.Group):
            raise ModelFileError(f"{path}: 'model_weights' is not a group")
        self.group = group

    def topology(self):
        """``{"class_name", "config"}`` from the ``model_config`` attribute."""
        text = _text_attr(self.h5, "model_config")
        if text is None:
            raise ModelFileError(f"{self.path}: no model_config attribute: a weights-only file "
                                 f"(use load_weights), not a saved model")
        try:
            topology = json.loads(text)
        except (ValueError, TypeError) as e:
            raise ModelFileError(f"{self.path}: model_config is not valid JSON ({e})") from None
        if not isinstance(topology, dict) or not isinstance(topology.get("config"), dict):
            raise ModelFileError(f"{self.path}: model_config must be a {{class_name, config}} "
                                 f"object")
        return topology

    @property
    def training_config(self):
        text = _text_attr(self.h5, "training_config")
        if text is None:
            return None
        try:
            config = json.loads(text)
        except (ValueError, TypeError) as e:
            raise ModelFileError(f"{self.path}: training_config is not valid JSON "
                                 f"({e})") from None
        return config if isinstance(config, dict) else None

    @property
    def keras_version(self):
        return _text_attr(self.h5, "keras_version") or ""

    def optimizer_vars(self):
        """The optimizer's saved variables ([array], in the file's ``weight_names`` order), or
        [] when the file has none."""
        node = self.h5.get("optimizer_weights")
        if node is None:
            return []
        out = []
        for name in _get_names(node, "weight_names", self.path):
            if name not in node:
                raise ModelFileError(f"{self.path}: optimizer weight '{name}' is listed but "
                                     f"missing")
            out.append(read_dataset(node[name], self.path, f"optimizer_weights/{name}"))
        return out

    def layer_weights(self, tree):
        """``{key: array}`` for the layer tree (shapes given), matched by order as Keras does."""
        h5py = h5py_module("load")
        saved = []
        for name in _get_names(self.group, "layer_names", self.path):
            node = self.group.get(name)
            if not isinstance(node, h5py.Group):
                raise ModelFileError(f"{self.path}: layer_names names '{name}', which is not a "
                                     f"group of the file")
            weight_names = _get_names(node, "weight_names", self.path)
            if weight_names:
                saved.append((name, node, weight_names))
        wanted = [e for e in tree if e["weights"]]
        if len(saved) != len(wanted):
            raise ModelFileError(f"{self.path}: the model has {len(wanted)} layers with weights, "
                                 f"the file {len(saved)} ({[s[0] for s in saved][:10]})")
        out = {}
        for entry, (name, node, weight_names) in zip(wanted, saved):
            if len(weight_names) != len(entry["weights"]):
                raise ModelFileError(f"{self.path}: layer '{entry['name']}' has "
                                     f"{len(entry['weights'])} weights, the file's '{name}' "
                                     f"{len(weight_names)}")
            for (key, shape), weight_name in zip(entry["weights"], weight_names):
                if weight_name not in node:
                    raise ModelFileError(f"{self.path}: weight '{name}/{weight_name}' is listed "
                                         f"but missing")
                array = read_dataset(node[weight_name], self.path, f"{name}/{weight_name}")
                if tuple(array.shape) != tuple(shape):
                    raise ModelFileError(f"{self.path}: weight '{name}/{weight_name}' has shape "
                                         f"{tuple(array.shape)}, layer '{entry['name']}' expects "
                                         f"{tuple(shape)}")
                out[key] = array
        return out


def read_model(path):
    """The legacy ``.h5`` file ``path``, opened and checked to be HDF5."""
    return LegacyH5(path)


__all__ = ["write_model", "read_model", "LegacyH5"]
