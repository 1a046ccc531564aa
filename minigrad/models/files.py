"""Saving and loading models as TF.js layers-model folders (see :mod:`minigrad.saving`).

``model.save(folder)`` writes:

* ``model.json``: the topology (``{"class_name": "Sequential" | "Model", "config": ...}``, with
  L1 / L2 regularizers written as TF.js's ``L1L2``, the one regularizer class TF.js reads), the
  weights manifest (names ``<layer name>/<weight name>``, in ``model.weights`` order), TF.js's
  ``trainingConfig`` when TF.js can read the compile arguments, and under
  ``userDefinedMetadata.minigrad`` the full training configuration and the manifest of the
  optimizer's state;
* ``weights.bin``: the weights, float32 little-endian;
* ``optimizer.bin``: the optimizer's iteration count and slots, when the model is compiled.

``load_model(folder)`` reads such a folder, or one written by TF.js, checks every file before
building anything, sets the weights by name (without applying constraints, as Keras, so a round
trip is exact), and compiles the model and restores the optimizer when the file says how.
"""
import json
import os
import warnings

from .. import layers as layers_module
from .. import losses as losses_module
from .. import saving
from .._version import __version__

WEIGHTS_BIN, OPTIMIZER_BIN = "weights.bin", "optimizer.bin"
_TFJS_LOSSES = {losses_module.MeanSquaredError: "mean_squared_error",
                losses_module.MeanAbsoluteError: "mean_absolute_error",
                losses_module.CategoricalCrossentropy: "categorical_crossentropy",
                losses_module.SparseCategoricalCrossentropy: "sparse_categorical_crossentropy",
                losses_module.BinaryCrossentropy: "binary_crossentropy"}
_TFJS_METRICS = {"accuracy", "acc", "binary_accuracy", "categorical_accuracy", "mse", "mae"}
_MODEL_CLASSES = ("Sequential", "Model", "Functional")


# -- the training configuration ----------------------------------------------------------------
def training_config(config):
    """Keras's ``training_config`` (the file's name for it) from a model's compile config,
    ``model.get_compile_config()``."""
    return {"loss": config["loss"], "metrics": config["metrics"],
            "loss_weights": config["loss_weights"], "optimizer_config": config["optimizer"]}


def _tfjs_training_config(config):
    """TF.js's ``trainingConfig`` for a compile config, if TF.js can compile it exactly, else
    None: one loss with its default arguments, metrics by name, a plain SGD / Adam / RMSprop."""
    loss = config["loss"]
    if config["loss_weights"] is not None or not isinstance(loss, dict):
        return None  # several outputs (a list of losses) or weighted losses
    fn = losses_module.deserialize(loss)
    name = _TFJS_LOSSES.get(type(fn))
    defaults = type(fn)().get_config() if name else None
    if name is None or {k: v for k, v in fn.get_config().items() if k != "name"} != \
            {k: v for k, v in defaults.items() if k != "name"}:
        return None
    metrics = config["metrics"] or []
    if not isinstance(metrics, (list, tuple)) or not all(
            isinstance(m, str) and m.lower() in _TFJS_METRICS for m in metrics):
        return None
    kind, opt = config["optimizer"]["class_name"], config["optimizer"]["config"]
    if not isinstance(opt["learning_rate"], float) or any(
            opt.get(k) for k in ("clipnorm", "clipvalue", "global_clipnorm", "weight_decay")):
        return None
    lr = opt["learning_rate"]
    if kind == "SGD":
        tfjs = ("SGD", {"learningRate": lr}) if not opt["momentum"] else (
            "Momentum", {"learningRate": lr, "momentum": opt["momentum"],
                         "useNesterov": opt["nesterov"]})
    elif kind == "Adam" and not opt["amsgrad"]:
        tfjs = ("Adam", {"learningRate": lr, "beta1": opt["beta_1"], "beta2": opt["beta_2"],
                         "epsilon": opt["epsilon"]})
    elif kind == "RMSprop":
        tfjs = ("RMSProp", {"learningRate": lr, "decay": opt["rho"], "momentum": opt["momentum"],
                            "epsilon": opt["epsilon"], "centered": opt["centered"]})
    else:
        return None
    return {"loss": name, "metrics": list(metrics),
            "optimizer_config": {"class_name": tfjs[0], "config": tfjs[1]}}


def _compile_from(model, config):
    """Compile ``model`` from a Keras/minigrad ``training_config`` or TF.js's trainingConfig:
    both name the optimizer ``optimizer_config``, where a compile config says ``optimizer``."""
    model.compile_from_config({
        "optimizer": config["optimizer_config"], "loss": config.get("loss"),
        "metrics": config.get("metrics") or None,  # TF.js writes {} for "no metrics"
        "loss_weights": config.get("loss_weights")})


# -- save ----------------------------------------------------------------------------------------
def tfjs_portable(value):
    """A config in which TF.js can read every regularizer: TF.js knows only ``L1L2``, so Keras's
    ``L1`` / ``L2`` entries are written as the ``L1L2`` with the same penalty."""
    if isinstance(value, list):
        return [tfjs_portable(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key.endswith("regularizer") and isinstance(item, dict) \
                and item.get("class_name") in ("L1", "L2") and isinstance(item.get("config"), dict):
            item = {"class_name": "L1L2", "config": {"l1": float(item["config"].get("l1", 0.0)),
                                                      "l2": float(item["config"].get("l2", 0.0))}}
        out[key] = tfjs_portable(item)
    return out


def _model_json(model):
    return {"class_name": model.file_class_name, "config": tfjs_portable(model.get_config()),
            "keras_version": f"minigrad {__version__}",
            "backend": "minigrad"}


# Keras's own file formats, told apart by the name's extension as Keras does
KERAS_EXTENSIONS = (".keras", ".h5", ".hdf5")


def check_not_a_keras_file(filepath, who):
    """A ValueError for a path named like a Keras file: minigrad reads and writes TF.js
    layers-model folders only, and a folder named ``m.keras`` would fool the next reader."""
    ext = os.path.splitext(os.fspath(filepath).rstrip("/\\"))[1].lower()
    if ext in KERAS_EXTENSIONS:
        raise ValueError(f"{who}: filepath {os.fspath(filepath)!r} names a Keras {ext} file, a "
                         f"format minigrad cannot read or write yet; minigrad uses TF.js "
                         f"layers-model folders (model.json + weights.bin): give a folder name "
                         f"without {ext!r}")


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Write ``model`` as a TF.js layers-model folder (see the module docstring)."""
    who = f"{type(model).__name__} '{model.name}'.save"
    check_not_a_keras_file(filepath, who)
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
    specs, data = saving.encode([(w.path, w.data) for w in weights])
    topology = _model_json(model)
    _warn_about_hard_sigmoid(topology, who)
    document = {"modelTopology": topology, "format": "layers-model",
                "generatedBy": f"minigrad {__version__}", "convertedBy": None,
                "weightsManifest": [{"paths": [WEIGHTS_BIN], "weights": specs}]}
    binaries = {WEIGHTS_BIN: data}
    meta = {"version": __version__}
    if include_optimizer and model.compiled:
        try:
            compile_config = model.get_compile_config()
        except (ValueError, TypeError) as e:
            warnings.warn(f"{who}: the training configuration cannot be saved ({e}); the file "
                          f"holds the model without it", stacklevel=3)
        else:
            meta["training_config"] = training_config(compile_config)
            tfjs = _tfjs_training_config(compile_config)
            if tfjs is not None:
                document["trainingConfig"] = tfjs
            state = model.optimizer.get_state()
            state[0] = (state[0][0], state[0][1].astype("int32"))  # TF.js has no int64
            opt_specs, opt_data = saving.encode(state)
            meta["optimizer_weights"] = [{"paths": [OPTIMIZER_BIN], "weights": opt_specs}]
            binaries[OPTIMIZER_BIN] = opt_data
    document["userDefinedMetadata"] = {"minigrad": meta}
    saving.write_folder(filepath, document, binaries, overwrite=overwrite)


def _warn_about_hard_sigmoid(topology, who):
    """hard_sigmoid is the one activation TF.js and Keras 3 define differently: minigrad follows
    Keras 3, clip(x / 6 + 0.5, 0, 1); TF.js 4.x computes clip(0.2 x + 0.5, 0, 1). Say so when a
    file that TF.js may open uses it."""
    if '"hard_sigmoid"' in json.dumps(topology):
        warnings.warn(f"{who}: this model uses hard_sigmoid, which minigrad computes as Keras 3 "
                      f"does, clip(x / 6 + 0.5, 0, 1); TF.js computes clip(0.2 x + 0.5, 0, 1), so "
                      f"TF.js will predict differently from this file", stacklevel=3)


# -- load ----------------------------------------------------------------------------------------
def _topology(document, json_path):
    topology = document["modelTopology"]
    topology = topology.get("model_config", topology)  # Keras's HDF5-derived files nest it
    class_name = topology.get("class_name") if isinstance(topology, dict) else None
    if class_name not in _MODEL_CLASSES:
        raise saving.ModelFileError(f"{json_path}: modelTopology has class_name {class_name!r}; "
                                    f"known model classes: {', '.join(_MODEL_CLASSES)}")
    return {"class_name": class_name, "config": topology.get("config")}


def _weight_table(model, entries, json_path):
    """Check the file's weights against the model's (names, shapes); (variable, array) pairs."""
    mine = {w.path: w for w in model.weights}
    theirs = {name: array for name, array, group in entries if group != "optimizer"}
    missing, unexpected = sorted(set(mine) - set(theirs)), sorted(set(theirs) - set(mine))
    if missing or unexpected:
        raise saving.ModelFileError(
            f"{json_path}: the weights do not match the model: "
            + (f"missing from the file: {missing}" if missing else "")
            + ("; " if missing and unexpected else "")
            + (f"in the file but not in the model: {unexpected}" if unexpected else ""))
    pairs = []
    for name, w in mine.items():
        if theirs[name].shape != w.data.shape:
            raise saving.ModelFileError(f"{json_path}: weight '{name}' has shape "
                                        f"{theirs[name].shape} in the file, the model expects "
                                        f"{w.data.shape}")
        pairs.append((w, theirs[name].astype(w.data.dtype)))
    return pairs


def _read(filepath):
    check_not_a_keras_file(filepath, "load_model")
    folder, json_path, document = saving.read_model_json(filepath)
    meta = (document.get("userDefinedMetadata") or {}).get("minigrad") or {}
    digests = meta.get("files") if isinstance(meta, dict) else None
    entries = saving.decode(folder, document.get("weightsManifest") or [], json_path,
                            digests=digests)
    return folder, json_path, document, meta, digests, entries


def load_weights(model, filepath):
    """Set ``model``'s weights by name from a layers-model folder (all checked first)."""
    _, json_path, _, _, _, entries = _read(filepath)
    for variable, value in _weight_table(model, entries, json_path):
        variable.assign(value)


def load_model(filepath, compile=True):
    """The model saved in ``filepath`` (a folder, or its model.json), by minigrad or TF.js.

    Checked before any model is built: the JSON, the manifest, the weight files' sizes (and the
    digests minigrad records). The weights are set exactly as stored (constraints are not
    applied). With ``compile=True`` a saved training configuration compiles the model, and a
    saved optimizer state is restored so that training resumes exactly.
    """
    folder, json_path, document, meta, digests, entries = _read(filepath)
    topology = _topology(document, json_path)
    try:
        model = layers_module.deserialize(topology)
    except (ValueError, TypeError, KeyError) as e:
        raise saving.ModelFileError(f"{json_path}: cannot rebuild the model from modelTopology: "
                                    f"{e}") from None
    pairs = _weight_table(model, entries, json_path)
    opt_entries = None
    if compile and meta.get("optimizer_weights"):
        opt_entries = saving.decode(folder, meta["optimizer_weights"], json_path,
                                    what="optimizer_weights", digests=digests)
    for variable, value in pairs:
        variable.assign(value)
    if not compile:
        return model
    if meta.get("training_config"):
        try:
            _compile_from(model, meta["training_config"])
        except (ValueError, TypeError, KeyError) as e:
            raise saving.ModelFileError(f"{json_path}: the saved training configuration cannot "
                                        f"be used: {e}") from None
        if opt_entries:
            _restore_optimizer(model, opt_entries, json_path)
    elif document.get("trainingConfig"):
        try:
            _compile_from(model, document["trainingConfig"])
        except (ValueError, TypeError, KeyError) as e:
            warnings.warn(f"{json_path}: the model was loaded uncompiled: its trainingConfig "
                          f"could not be used ({e})", stacklevel=2)
            return model
        tfjs_state = [(n, a) for n, a, g in entries if g == "optimizer"]
        for name, array in tfjs_state:
            if name == "iter" and array.size == 1:
                model.optimizer.iterations = int(array.reshape(()))
        if any(name != "iter" for name, _ in tfjs_state):
            warnings.warn(f"{json_path}: TF.js's optimizer slots are not restored (only its "
                          f"iteration count); training continues with fresh slots", stacklevel=2)
    return model


def _restore_optimizer(model, entries, json_path):
    """Put the saved optimizer state back: variables in the saved order, found by path."""
    by_path = {w.path: w for w in model.trainable_weights}
    state = [(name, array) for name, array, _ in entries]
    order = []
    for name, _ in state[1:]:
        path = name.rsplit("/", 1)[0]
        if path not in by_path:
            raise saving.ModelFileError(f"{json_path}: optimizer state '{name}' belongs to no "
                                        f"trainable weight of the model")
        if path not in order:
            order.append(path)
    model.optimizer.build([by_path[p] for p in order])
    try:
        model.optimizer.set_state(state)
    except ValueError as e:
        raise saving.ModelFileError(f"{json_path}: the optimizer state does not fit: {e}") from None
