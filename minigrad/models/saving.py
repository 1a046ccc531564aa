"""Saving and loading models: ``model.save``, ``mg.models.load_model``, ``save_weights``,
``load_weights``.

The format is chosen from the path, as Keras 3 does: ``….keras`` names a Keras 3 archive
(:mod:`minigrad.io.keras_v3`), ``….weights.h5`` a Keras 3 weights file (``save_weights`` /
``load_weights``), ``….h5`` / ``….hdf5`` a legacy Keras HDF5 file (:mod:`minigrad.io.keras_h5`),
anything else a TF.js layers-model folder (:mod:`minigrad.io.tfjs`: ``model.json`` +
``weights.bin``, plus ``optimizer.bin`` when the model is compiled). The Keras files need the
optional h5py (``pip install "minigrad[keras]"``).

This module knows models, the :mod:`minigrad.io` modules know formats: saving checks the model
(built, unique float32 weights) and hands the format its topology, weights and compile state;
loading rebuilds the model through the layer registry, sets the weights (without applying
constraints, as Keras, so a round trip is exact), and compiles the model and restores the
optimizer when the file says how.
"""
import os
import warnings

import numpy as np

from .. import layers as layers_module
from ..optimizers import Nadam
from ..io import keras_h5, keras_v3, tfjs
from ..io.keras_common import MODEL_CLASSES, h5py_module, keras3_entry, refuse_code
from ..io.safe_files import ModelFileError, weights_mismatch
from .keras_json import keras_config

# Keras's own file formats, told apart by the name's extension as Keras does
KERAS_EXTENSIONS = (".keras", ".h5", ".hdf5")


def _kind(filepath):
    """"keras", "weights.h5", "h5" or "tfjs" for ``filepath``, by its name as Keras 3 tells."""
    name = os.fspath(filepath).rstrip("/\\").lower()
    if name.endswith(".weights.h5"):
        return "weights.h5"
    ext = os.path.splitext(name)[1]
    return {".keras": "keras", ".h5": "h5", ".hdf5": "h5"}.get(ext, "tfjs")


def format_for(filepath, who):
    """The :mod:`minigrad.io` module for ``filepath``, chosen by its name as Keras 3 does:
    ``.keras`` and ``.weights.h5`` :mod:`~minigrad.io.keras_v3`, ``.h5`` / ``.hdf5``
    :mod:`~minigrad.io.keras_h5`, else the TF.js folder format :mod:`~minigrad.io.tfjs`. The
    Keras formats need h5py: without it, an ImportError naming ``minigrad[keras]``.

    >>> format_for("my_model", "save").__name__
    'minigrad.io.tfjs'
    """
    kind = _kind(filepath)
    if kind == "tfjs":
        return tfjs
    h5py_module(who)  # fail before anything is computed or written
    return keras_h5 if kind == "h5" else keras_v3


# -- save ----------------------------------------------------------------------------------------
def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Write ``model`` to ``filepath``: its topology, weights and, with ``include_optimizer``
    and a compiled model, its training configuration and optimizer state."""
    _save(model, filepath, overwrite, include_optimizer)


def save_weights(model, filepath, overwrite=True):
    """Write ``model``'s weights to ``filepath``: a Keras 3 weights file for a name ending in
    ``.weights.h5``, else the folder format (its topology kept for checking); no optimizer
    state."""
    if _kind(filepath) in ("keras", "h5"):  # Keras 3 refuses these names too
        raise ValueError(f"{type(model).__name__} '{model.name}'.save_weights: filepath "
                         f"{os.fspath(filepath)!r} names a full-model Keras file; a Keras weights "
                         f"file's name ends in '.weights.h5' (or give a folder name)")
    _save(model, filepath, overwrite, include_optimizer=False, weights_only=True)


def _save(model, filepath, overwrite, include_optimizer, weights_only=False):
    # warnings point at the line that called model.save: _save < save_model < Model.save < it
    who = f"{type(model).__name__} '{model.name}'.save" + ("_weights" if weights_only else "")
    file_format = format_for(filepath, who)
    if not model.built:
        raise ValueError(f"{who}: the model is not built yet (no input shape): build it or call it "
                         f"on data before saving")
    weights = model.weights
    names = [w.path for w in weights]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"{who}: weight names must be unique in a model file, these repeat: "
                         f"{duplicated} (give the layers distinct names)")
    wide = [w.path for w in weights if w.data.dtype != "float32"]
    if wide:
        raise TypeError(f"{who}: layers-model files hold float32 weights; these are not float32: "
                        f"{wide}")
    topology = {"class_name": model.file_class_name, "config": model.get_config()}
    compile_config = optimizer_state = None
    if include_optimizer and model.compiled:
        try:
            compile_config = model.get_compile_config()
        except (ValueError, TypeError) as e:
            warnings.warn(f"{who}: the training configuration cannot be saved ({e}); the file "
                          f"holds the model without it", stacklevel=4)
        else:
            optimizer_state = model.optimizer.get_state()
    if file_format is not tfjs:
        _save_keras(model, os.fspath(filepath).rstrip("/\\"), weights_only, compile_config,
                    optimizer_state, overwrite, who)
        return
    file_format.write_model(filepath, topology, [(w.path, w.data) for w in weights],
                            compile_config=compile_config, optimizer_state=optimizer_state,
                            overwrite=overwrite, who=who, stacklevel=5)


# -- Keras files: the model as a layer tree ------------------------------------------------------
def _tree(layers, value):
    """The layer tree the Keras 3 formats lay weights out by: each layer's class (Keras's name
    for it), name and own weights (``(path, value(w))``), a nested model's layers below it."""
    tree = []
    for layer in layers:
        nested = getattr(layer, "file_class_name", None) is not None
        tree.append({"class_name": MODEL_CLASSES[layer.file_class_name] if nested
                     else type(layer).__name__, "name": layer.name,
                     "weights": [] if nested else [(w.path, value(w)) for w in layer.weights],
                     "layers": _tree(layer.layers, value) if nested else None})
    return tree


def _legacy_tree(layers, value):
    """The legacy ``.h5`` layout: each top-level layer with all its weights, trainable first
    (as Keras's legacy writer lists them)."""
    return [{"class_name": type(layer).__name__, "name": layer.name,
             "weights": [(w.path, value(w))
                         for w in list(layer.trainable_weights) + list(layer.non_trainable_weights)]}
            for layer in layers]


def _keras3_topology(model):
    """The model's Keras 3 entry, as ``to_json`` writes it (Keras 3 reads it back)."""
    return keras_config(model)


def _keras3_compile_config(config):
    """A compile config as Keras 3 writes it in config.json (module names on the objects)."""
    loss = config["loss"]
    loss = [keras3_entry(entry, "loss") for entry in loss] if isinstance(loss, list) \
        else keras3_entry(loss, "loss")
    return {"optimizer": keras3_entry(config["optimizer"], "optimizer"), "loss": loss,
            "loss_weights": config["loss_weights"], "metrics": config["metrics"]}


def _save_keras(model, path, weights_only, compile_config, optimizer_state, overwrite, who):
    data = lambda w: w.data  # noqa: E731
    kind = _kind(path)
    if kind == "weights.h5" and weights_only:
        # as Keras 3's save_weights: the optimizer's variables too, once it has slots
        state = model.optimizer.get_state() if model.compiled else None
        keras_v3.write_weights_file(path, _tree(model.layers, data), model.name,
                                    _keras_optimizer_vars(model, state) if state and len(state) > 1
                                    else None, overwrite=overwrite, who=who)
    elif kind == "keras":
        config = _keras3_topology(model)
        optimizer_vars = None
        if compile_config is not None:
            config["compile_config"] = _keras3_compile_config(compile_config)
            optimizer_vars = _keras_optimizer_vars(model, optimizer_state)
        keras_v3.write_archive(path, config, _tree(model.layers, data), optimizer_vars,
                               overwrite=overwrite, who=who)
    else:  # .h5 / .hdf5 (and model.save("x.weights.h5"), which Keras 3 also writes so)
        training_config = optimizer_weights = None
        if compile_config is not None:
            training_config = tfjs.training_config(_keras3_compile_config(compile_config))
            arrays = _keras_optimizer_vars(model, optimizer_state)
            if arrays:  # Keras 3 names them <optimizer>/iteration, .../conv2d_kernel_momentum
                prefix = model.optimizer.name
                names = ["iteration"] + (["learning_rate"] if len(arrays) > len(
                    optimizer_state) else []) + [n.replace("/", "_") for n, _ in optimizer_state[1:]]
                optimizer_weights = [(f"{prefix}/{n}", a) for n, a in zip(names, arrays)]
        keras_h5.write_model(path, _keras3_topology(model), _legacy_tree(model.layers, data),
                             training_config, optimizer_weights, overwrite=overwrite, who=who)


def _keras_optimizer_vars(model, state):
    """Keras 3's optimizer variables: the iteration count (int32), the learning rate (when it is
    a number, not a schedule), then each variable's slots, as minigrad's state orders them."""
    if not state:
        return None
    out = [np.asarray(state[0][1], dtype=np.int32)]
    lr = model.optimizer.get_config().get("learning_rate")
    if isinstance(lr, float):
        out.append(np.asarray(lr, dtype=np.float32))
    out += [array for _, array in state[1:]]
    if isinstance(model.optimizer, Nadam):  # Keras's Nadam keeps its momentum product last
        out.append(np.asarray(model.optimizer._u_product or 1.0, dtype=np.float32))
    return out


def _read_keras(filepath, who):
    """The Keras file ``filepath`` opened by its kind: ``(kind, file)``."""
    path = os.fspath(filepath).rstrip("/\\")
    format_for(path, who)
    kind = _kind(path)
    if os.path.isfile(os.path.join(path, tfjs.MODEL_JSON)):  # older minigrad wrote these
        raise ModelFileError(f"{who}: '{path}' is a TF.js layers-model folder named like a Keras "
                             f"file (minigrad before Keras files made these); rename the folder "
                             f"without its {os.path.splitext(path)[1]!r} ending to load it")
    if kind == "keras":
        return kind, keras_v3.read_archive(path)
    if kind == "weights.h5":
        h5 = keras_h5.read_model(path)
        # a Keras 3 weights file has layers/..., a legacy one layer_names
        if "layers" in h5.h5 or "vars" in h5.h5:
            return kind, keras_v3.WeightsFile(None, path, h5=h5.h5)
        return "h5", h5
    return kind, keras_h5.read_model(path)


def _keras_pairs(model, kind, file):
    """(variable, array) for every weight of ``model`` from a Keras file, all checked first."""
    shape = lambda w: w.data.shape  # noqa: E731
    if kind == "h5":
        arrays = file.layer_weights(_legacy_tree(model.layers, shape))
    else:
        weights_file = file.weights_file if kind == "keras" else file
        arrays = weights_file.layer_weights(_tree(model.layers, shape))
    return [(w, arrays[w.path].astype(w.data.dtype)) for w in model.weights]


def _load_keras(filepath, compile):
    kind, file = _read_keras(filepath, "load_model")
    if kind == "weights.h5":
        raise ModelFileError(f"{file.path}: a weights file holds no model: build the model and "
                             f"call model.load_weights")
    topology = file.topology()
    if topology.get("class_name") not in MODEL_CLASSES:
        raise ModelFileError(f"{file.path}: the file's model has class_name "
                             f"{topology.get('class_name')!r}; known model classes: "
                             f"{', '.join(MODEL_CLASSES)}")
    refuse_code(topology, file.path)
    try:
        model = layers_module.deserialize({"class_name": topology["class_name"],
                                           "config": topology["config"]})
    except (ValueError, TypeError, KeyError) as e:
        raise ModelFileError(f"{file.path}: cannot rebuild the model from its config: "
                             f"{e}") from None
    for variable, value in _keras_pairs(model, kind, file):
        variable.assign(value)
    if not compile:
        return model
    config = file.compile_config if kind == "keras" else file.training_config
    if config:
        try:
            model.compile_from_config(config if kind == "keras"
                                      else tfjs.compile_config_from(config))
        except (ValueError, TypeError, KeyError) as e:
            warnings.warn(f"{file.path}: the model was loaded uncompiled: its training "
                          f"configuration could not be used ({e})", stacklevel=3)
            return model
        if kind == "keras":
            _restore_keras_optimizer(model, file.weights_file.optimizer_vars(), file.path)
        elif file.keras_version.startswith(("3.", "minigrad")):
            _restore_keras_optimizer(model, file.optimizer_vars(), file.path)
        else:  # tf.keras 2's optimizers order their variables their own way: not guessed
            saved = file.optimizer_vars()
            if len(saved) == 1 and np.size(saved[0]) == 1:  # the iteration count alone
                model.optimizer.iterations = int(np.asarray(saved[0]).reshape(()))
            elif saved:
                warnings.warn(f"{file.path}: the optimizer state of Keras "
                              f"{file.keras_version} is not restored; training continues with "
                              f"fresh optimizer slots", stacklevel=3)
    return model


def _restore_keras_optimizer(model, saved, path):
    """Put Keras 3's optimizer variables back when they fit minigrad's state (same count of
    slots, same shapes); else warn: training then continues with fresh slots."""
    if not saved:
        return
    model.optimizer.build(model.trainable_weights)
    state = model.optimizer.get_state()
    if isinstance(model.optimizer, Nadam) and len(saved) in (len(state) + 1, len(state) + 2) \
            and np.ndim(saved[-1]) == 0:
        saved = saved[:-1]  # Keras's u_product, which set_state rebuilds from the iterations
    if len(saved) == len(state) + 1:  # the learning rate, which the config already gives
        saved = saved[:1] + saved[2:]
    if len(saved) != len(state) or any(np.shape(a) != np.shape(b)
                                       for a, (_, b) in zip(saved[1:], state[1:])):
        warnings.warn(f"{path}: the optimizer's saved variables do not fit minigrad's "
                      f"{type(model.optimizer).__name__} ({len(saved)} for {len(state)}); training "
                      f"continues with fresh optimizer slots", stacklevel=4)
        return
    model.optimizer.set_state([(name, np.asarray(a, dtype=b.dtype))
                               for a, (name, b) in zip(saved, state)])


# -- load ----------------------------------------------------------------------------------------
def _read(filepath):
    return format_for(filepath, "load_model").read_model(filepath)


def _weight_table(model, file):
    """Check the file's weights against the model's (names, shapes); (variable, array) pairs."""
    mine = {w.path: w for w in model.weights}
    # a format that matches names its own way (TF.js: see LayersModelFolder.weights_for) says so
    theirs = file.weights_for(model) if hasattr(file, "weights_for") else file.weights
    missing, unexpected = sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine))
    if missing or unexpected:
        raise weights_mismatch(file.path, missing, unexpected)
    pairs = []
    for name, w in mine.items():
        if theirs[name].shape != w.data.shape:
            raise ModelFileError(f"{file.path}: weight '{name}' has shape {theirs[name].shape} in "
                                 f"the file, the model expects {w.data.shape}")
        pairs.append((w, theirs[name].astype(w.data.dtype)))
    return pairs


def load_weights(model, filepath):
    """Set ``model``'s weights from ``filepath`` (all checked first: nothing changes if anything
    is wrong): by name from a folder, by layer as Keras does from a ``.keras``, ``.weights.h5``
    or legacy ``.h5`` file."""
    if _kind(filepath) != "tfjs":
        kind, file = _read_keras(filepath, "load_weights")
        pairs = _keras_pairs(model, kind, file)
    else:
        kind, pairs = "tfjs", _weight_table(model, _read(filepath))
    for variable, value in pairs:
        variable.assign(value)
    if kind in ("keras", "weights.h5") and model.compiled:  # as Keras 3: the optimizer's too
        weights_file = file.weights_file if kind == "keras" else file
        _restore_keras_optimizer(model, weights_file.optimizer_vars(), file.path)


def load_model(filepath, compile=True):
    """The model saved in ``filepath``: a folder (or its model.json) by minigrad or TF.js, a
    Keras 3 ``.keras`` archive or a legacy Keras ``.h5`` file (by Keras or minigrad).

    Checked before any model is built: the JSON, the manifest, the weight files' sizes (and the
    digests minigrad records). The weights are set exactly as stored (constraints are not
    applied). With ``compile=True`` a saved training configuration compiles the model, and a
    saved optimizer state is restored so that training resumes exactly.
    """
    if _kind(filepath) != "tfjs":
        return _load_keras(filepath, compile)
    file = _read(filepath)
    topology = file.topology()
    try:
        model = layers_module.deserialize(topology)
    except (ValueError, TypeError, KeyError) as e:
        raise ModelFileError(f"{file.path}: cannot rebuild the model from modelTopology: "
                             f"{e}") from None
    pairs = _weight_table(model, file)
    optimizer_state = file.optimizer_state() if compile else None
    for variable, value in pairs:
        variable.assign(value)
    if not compile:
        return model
    if file.training_config:
        try:
            model.compile_from_config(tfjs.compile_config_from(file.training_config))
        except (ValueError, TypeError, KeyError) as e:
            raise ModelFileError(f"{file.path}: the saved training configuration cannot be "
                                 f"used: {e}") from None
        if optimizer_state:
            _restore_optimizer(model, optimizer_state, file.path)
    elif file.tfjs_training_config:
        try:
            model.compile_from_config(tfjs.compile_config_from(file.tfjs_training_config))
        except (ValueError, TypeError, KeyError) as e:
            warnings.warn(f"{file.path}: the model was loaded uncompiled: its trainingConfig "
                          f"could not be used ({e})", stacklevel=2)
            return model
        for name, array in file.tfjs_optimizer_weights:
            if name == "iter" and array.size == 1:
                model.optimizer.iterations = int(array.reshape(()))
        if any(name != "iter" for name, _ in file.tfjs_optimizer_weights):
            warnings.warn(f"{file.path}: TF.js's optimizer slots are not restored (only its "
                          f"iteration count); training continues with fresh slots", stacklevel=2)
    return model


def _restore_optimizer(model, state, json_path):
    """Put the saved optimizer state back: variables in the saved order, found by path."""
    by_path = {w.path: w for w in model.trainable_weights}
    order = []
    for name, _ in state[1:]:
        path = name.rsplit("/", 1)[0]
        if path not in by_path:
            raise ModelFileError(f"{json_path}: optimizer state '{name}' belongs to no trainable "
                                 f"weight of the model")
        if path not in order:
            order.append(path)
    model.optimizer.build([by_path[p] for p in order])
    try:
        model.optimizer.set_state(state)
    except ValueError as e:
        raise ModelFileError(f"{json_path}: the optimizer state does not fit: {e}") from None


__all__ = ["save_model", "save_weights", "load_model", "load_weights", "format_for"]
