"""Saving and loading models: ``model.save``, ``mg.models.load_model``, ``save_weights``,
``load_weights``.

The format is chosen from the path, as Keras 3 does: ``….keras`` names a Keras 3 archive,
``….h5`` / ``….hdf5`` a legacy Keras HDF5 file, anything else a TF.js layers-model folder
(:mod:`minigrad.io.tfjs`: ``model.json`` + ``weights.bin``, plus ``optimizer.bin`` when the model
is compiled). Only the folder is implemented yet, so Keras's names are refused rather than made
into folders that would fool the next reader.

This module knows models, the :mod:`minigrad.io` modules know formats: saving checks the model
(built, unique float32 weights) and hands the format its topology, weights and compile state;
loading rebuilds the model through the layer registry, sets the weights by name (without applying
constraints, as Keras, so a round trip is exact), and compiles the model and restores the
optimizer when the file says how.
"""
import os
import warnings

from .. import layers as layers_module
from ..io import tfjs
from ..io.safe_files import ModelFileError

# Keras's own file formats, told apart by the name's extension as Keras does
KERAS_EXTENSIONS = (".keras", ".h5", ".hdf5")


def format_for(filepath, who):
    """The :mod:`minigrad.io` module for ``filepath``, chosen by its name: a ValueError for a
    Keras ``.keras`` / ``.h5`` / ``.hdf5`` name (formats not written yet), else the TF.js folder
    format, :mod:`minigrad.io.tfjs`.

    >>> format_for("my_model", "save").__name__
    'minigrad.io.tfjs'
    """
    ext = os.path.splitext(os.fspath(filepath).rstrip("/\\"))[1].lower()
    if ext in KERAS_EXTENSIONS:
        raise ValueError(f"{who}: filepath {os.fspath(filepath)!r} names a Keras {ext} file, a "
                         f"format minigrad cannot read or write yet; minigrad uses TF.js "
                         f"layers-model folders (model.json + weights.bin): give a folder name "
                         f"without {ext!r}")
    return tfjs


# -- save ----------------------------------------------------------------------------------------
def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Write ``model`` to ``filepath``: its topology, weights and, with ``include_optimizer``
    and a compiled model, its training configuration and optimizer state."""
    _save(model, filepath, overwrite, include_optimizer)


def save_weights(model, filepath, overwrite=True):
    """Write ``model``'s weights to ``filepath`` (the same folder format; its topology is kept
    for checking; no optimizer state)."""
    _save(model, filepath, overwrite, include_optimizer=False)


def _save(model, filepath, overwrite, include_optimizer):
    # warnings point at the line that called model.save: _save < save_model < Model.save < it
    who = f"{type(model).__name__} '{model.name}'.save"
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
    file_format.write_model(filepath, topology, [(w.path, w.data) for w in weights],
                            compile_config=compile_config, optimizer_state=optimizer_state,
                            overwrite=overwrite, who=who, stacklevel=5)


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
        raise ModelFileError(
            f"{file.path}: the weights do not match the model: "
            + (f"missing from the file: {missing}" if missing else "")
            + ("; " if missing and unexpected else "")
            + (f"in the file but not in the model: {unexpected}" if unexpected else ""))
    pairs = []
    for name, w in mine.items():
        if theirs[name].shape != w.data.shape:
            raise ModelFileError(f"{file.path}: weight '{name}' has shape {theirs[name].shape} in "
                                 f"the file, the model expects {w.data.shape}")
        pairs.append((w, theirs[name].astype(w.data.dtype)))
    return pairs


def load_weights(model, filepath):
    """Set ``model``'s weights by name from ``filepath`` (all checked first: nothing changes if
    anything is wrong)."""
    for variable, value in _weight_table(model, _read(filepath)):
        variable.assign(value)


def load_model(filepath, compile=True):
    """The model saved in ``filepath`` (a folder, or its model.json), by minigrad or TF.js.

    Checked before any model is built: the JSON, the manifest, the weight files' sizes (and the
    digests minigrad records). The weights are set exactly as stored (constraints are not
    applied). With ``compile=True`` a saved training configuration compiles the model, and a
    saved optimizer state is restored so that training resumes exactly.
    """
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
