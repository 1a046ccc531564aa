"""Keras 3 ``.keras`` archives, and the ``.weights.h5`` files of ``save_weights``.

A ``.keras`` file is a zip of three members (what ``keras.saving.save_model`` writes)::

    metadata.json      {"keras_version": ..., "date_saved": ...}
    config.json        {"module", "class_name", "config", "registered_name",
                        "build_config"?, "compile_config"?}
    model.weights.h5   the weights, HDF5 (a ``.weights.h5`` file is this member alone)

The weights file is laid out as the model's objects, not by the layers' names: each layer of
``model.layers`` is a group named after its *class* (``layers/dense``, ``layers/dense_1``, ...,
counted per class in ``model.layers`` order), holding its variables as ``vars/0``, ``vars/1``, ...
in the layer's order (a nested model's layers lie under its own ``layers/``). The optimizer's
variables lie beside them under ``optimizer/vars``: the iteration count, the learning rate, then
each slot of each trained variable.

This module knows the format, not models: :mod:`minigrad.models.saving` describes a model as a
*layer tree*, a list of ``{"class_name", "name", "weights": [(key, array or shape)],
"layers": subtree or None}`` in ``model.layers`` order, and gets ``{key: array}`` back.

Safety: the zip must hold exactly these members (no other names, so no ``../`` or absolute
paths are ever opened, nothing is extracted to disk), every array's shape is checked against the
model before anything is assigned, and files are written with one atomic rename.
"""
import datetime
import io
import json
import zipfile

from .._version import __version__
from .._checks import snake_case
from .keras_common import h5_bytes, h5py_module, open_h5, read_dataset
from .safe_files import ModelFileError, atomic_write

CONFIG_JSON, METADATA_JSON, WEIGHTS_H5 = "config.json", "metadata.json", "model.weights.h5"
MEMBERS = (METADATA_JSON, CONFIG_JSON, WEIGHTS_H5)
MAX_MEMBER_BYTES = 2 ** 33  # 8 GiB: a larger "uncompressed size" is a zip bomb, not a model


# -- the weights file ------------------------------------------------------------------------------
def _group_names(tree):
    """Each entry's group name: its class in snake case, numbered from the second of a class."""
    used, names = {}, []
    for entry in tree:
        name = snake_case(entry["class_name"])
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        names.append(name)
    return names


def _write_tree(group, tree):
    layers = group.create_group("layers")
    for name, entry in zip(_group_names(tree), tree):
        node = layers.create_group(name)
        own = node.create_group("vars")
        own.attrs["name"] = entry["name"]
        for i, (_, array) in enumerate(entry["weights"]):
            own.create_dataset(str(i), data=array)
        if entry.get("layers") is not None:
            _write_tree(node, entry["layers"])


def weights_file_bytes(tree, model_name, optimizer_vars=None, who="save"):
    """The HDF5 bytes of a Keras 3 weights file for the layer tree (arrays as weights), with
    ``optimizer_vars`` ([array]: iteration, learning rate, slots) under ``optimizer/vars``."""
    def fill(f):
        _write_tree(f, tree)
        f.create_group("vars").attrs["name"] = model_name
        if optimizer_vars is not None:
            group = f.create_group("optimizer").create_group("vars")
            for i, array in enumerate(optimizer_vars):
                group.create_dataset(str(i), data=array)
    return h5_bytes(fill, who)


def _numbered(group, path, where):
    """The datasets ``0, 1, ...`` of a ``vars`` group, in number order (h5py lists them as
    strings: 0, 1, 10, 2, ...); a ModelFileError for any other name or a gap."""
    names = list(group.keys())
    if sorted(names, key=lambda n: (len(n), n)) != [str(i) for i in range(len(names))]:
        raise ModelFileError(f"{path}: '{where}' must hold datasets named 0, 1, 2, ...; it "
                             f"holds {sorted(names)[:10]}")
    return [read_dataset(group[str(i)], path, f"{where}/{i}") for i in range(len(names))]


def _read_tree(group, tree, path, where, out):
    h5py = h5py_module("load")
    layers = group.get("layers") if isinstance(group, h5py.Group) else None
    for name, entry in zip(_group_names(tree), tree):
        here = f"{where}layers/{name}"
        node = layers.get(name) if layers is not None else None
        own = node.get("vars") if isinstance(node, h5py.Group) else None
        wanted = entry["weights"]
        if not isinstance(own, h5py.Group):
            if wanted:
                raise ModelFileError(f"{path}: no weights for layer '{entry['name']}' "
                                     f"({entry['class_name']}): '{here}/vars' is missing")
        else:
            arrays = _numbered(own, path, f"{here}/vars")
            if len(arrays) != len(wanted):
                raise ModelFileError(f"{path}: layer '{entry['name']}' ({entry['class_name']}) "
                                     f"has {len(wanted)} weights, '{here}/vars' holds "
                                     f"{len(arrays)}")
            for i, ((key, shape), array) in enumerate(zip(wanted, arrays)):
                if tuple(array.shape) != tuple(shape):
                    raise ModelFileError(f"{path}: '{here}/vars/{i}' has shape "
                                         f"{tuple(array.shape)}, layer '{entry['name']}' expects "
                                         f"{tuple(shape)} for {key}")
                out[key] = array
        if entry.get("layers") is not None:
            _read_tree(node, entry["layers"], path, f"{here}/", out)


class WeightsFile:
    """A Keras 3 weights file (HDF5 bytes), read lazily against a model's layer tree."""

    def __init__(self, data, path, h5=None):
        self.path = path
        self.h5 = open_h5(data, path, "load") if h5 is None else h5

    def layer_weights(self, tree):
        """``{key: array}`` for every weight of the layer tree (shapes given), all checked."""
        out = {}
        _read_tree(self.h5, tree, self.path, "", out)
        return out

    def optimizer_vars(self):
        """The optimizer's variables ([array] in order), or [] if the file has none."""
        group = self.h5.get("optimizer/vars")
        return [] if group is None else _numbered(group, self.path, "optimizer/vars")


def write_weights_file(path, tree, model_name, optimizer_vars=None, overwrite=True, who="save"):
    """``model.save_weights("x.weights.h5")``: the weights file alone."""
    _check_overwrite(path, overwrite)
    atomic_write(path, weights_file_bytes(tree, model_name, optimizer_vars, who))


def read_weights_file(path):
    """A ``.weights.h5`` file, opened (checked to be HDF5)."""
    return WeightsFile(_read_bytes(path), path)


# -- the archive --------------------------------------------------------------------------------------
def _check_overwrite(path, overwrite):
    import os
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save: '{path}' exists and overwrite=False")


def _read_bytes(path):
    import os
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_model: '{path}' does not exist")
    if not os.path.isfile(path):
        raise ModelFileError(f"load_model: '{path}' is not a file")
    with open(path, "rb") as f:
        return f.read()


def write_archive(path, config, tree, optimizer_vars=None, overwrite=True, who="save"):
    """Write a ``.keras`` archive: ``config`` is config.json's object (the model's Keras 3 entry,
    with ``compile_config`` when compiled), ``tree`` the layer tree with arrays."""
    h5 = weights_file_bytes(tree, config["config"].get("name", "model"), optimizer_vars, who)
    metadata = {"keras_version": f"minigrad {__version__}",
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(METADATA_JSON, json.dumps(metadata))
        z.writestr(CONFIG_JSON, json.dumps(config, allow_nan=False))
        z.writestr(WEIGHTS_H5, h5)
    _check_overwrite(path, overwrite)
    atomic_write(path, buffer.getvalue())


class KerasArchive:
    """A ``.keras`` archive, read and checked: its members, config.json and the weights file."""

    def __init__(self, path):
        self.path = path
        data = _read_bytes(path)
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
            infos = z.infolist()
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise ModelFileError(f"{path}: not a .keras archive (a zip file): {e}; it may be "
                                 f"truncated") from None
        names = [i.filename for i in infos]
        # only the expected names, each once: nothing else (../x, /etc/x, assets) is ever read
        odd = [n for n in names if n not in MEMBERS or names.count(n) > 1]
        if odd or CONFIG_JSON not in names or WEIGHTS_H5 not in names:
            raise ModelFileError(f"{path}: a .keras archive must hold {', '.join(MEMBERS)} "
                                 f"and nothing else; it holds {names[:10]}")
        for info in infos:
            if info.file_size > MAX_MEMBER_BYTES:
                raise ModelFileError(f"{path}: member {info.filename} claims {info.file_size} "
                                     f"bytes, too large for a model")
        try:
            members = {n: z.read(n) for n in names}
        except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile) as e:
            raise ModelFileError(f"{path}: a member cannot be read ({e}); the archive may be "
                                 f"damaged") from None
        try:
            self.config = json.loads(members[CONFIG_JSON].decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ModelFileError(f"{path}: {CONFIG_JSON} is not valid JSON ({e})") from None
        if not isinstance(self.config, dict) or not isinstance(self.config.get("config"), dict):
            raise ModelFileError(f"{path}: {CONFIG_JSON} must be an object with a 'config' "
                                 f"object (a model's Keras entry)")
        self.weights_file = WeightsFile(members[WEIGHTS_H5], path)

    def topology(self):
        """``{"class_name", "config"}`` of the saved model."""
        return {"class_name": self.config.get("class_name"), "config": self.config["config"]}

    @property
    def compile_config(self):
        return self.config.get("compile_config") or None


def read_archive(path):
    """The ``.keras`` archive ``path``, read and checked (nothing extracted, nothing run)."""
    return KerasArchive(path)


__all__ = ["write_archive", "read_archive", "KerasArchive", "write_weights_file",
           "read_weights_file", "WeightsFile", "weights_file_bytes", "MEMBERS"]
