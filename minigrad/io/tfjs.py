"""TF.js "layers-model" folders: ``model.json`` plus raw little-endian weight files.

The format (what ``tf.loadLayersModel`` reads and ``model.save`` writes in TF.js)::

    folder/model.json   {"modelTopology": {...}, "format": "layers-model", "generatedBy": ...,
                         "convertedBy": null,
                         "weightsManifest": [{"paths": ["weights.bin"], "weights": [
                             {"name": "dense/kernel", "shape": [4, 2], "dtype": "float32"}]}],
                         "trainingConfig": {...}?, "userDefinedMetadata": {...}?}
    folder/weights.bin  every weight's bytes, in manifest order, no padding

(the manifest and its bytes: :mod:`minigrad.io.weights_manifest`). minigrad reads what TF.js
reads: converter-written folders with several groups of shards (``group1-shard1of3.bin``, ...),
uint8 / uint16 / float16-quantized weights (dequantized to float32 as TF.js does), and weight
names matched as TF.js's ``loadWeights`` matches them (:meth:`LayersModelFolder.weights_for`).
What minigrad writes in it (:func:`write_model`): float32, one ``weights.bin``, and

* ``modelTopology``: ``{"class_name": "Sequential" | "Model", "config": ...}``, with L1 / L2
  regularizers written as TF.js's ``L1L2``, the one regularizer class TF.js reads;
* ``trainingConfig`` when TF.js can compile the model the same way (one loss with its default
  arguments, metrics by name, plain SGD / Adam / RMSprop);
* under ``userDefinedMetadata.minigrad``: the full training configuration (Keras's
  ``training_config``), the manifest of the optimizer's state (``optimizer.bin``: the iteration
  count and the slots), and each binary file's size and SHA-256.

This module knows the format, not models: :mod:`minigrad.models.saving` hands it a topology,
named arrays and a compile config, and rebuilds models from what :func:`read_model` returns
(``weights_for`` looks only at a model's layers and their weights' paths).

Safety: files are JSON and raw numbers only (no pickle, nothing evaluated), weight files must lie
inside the folder (no absolute paths, no ``..``), and each file is written to a temporary name
and moved into place with ``os.replace``, ``model.json`` last: a crash leaves the previous
``model.json`` in place. The recorded sizes and digests make a ``model.json`` paired with another
save's weights detected instead of loaded.
"""
import hashlib
import json
import os
import re
import warnings

from .. import losses as losses_module
from .._version import __version__
from .safe_files import ModelFileError, atomic_write, weights_mismatch
from .weights_manifest import decode, encode

MODEL_JSON, WEIGHTS_BIN, OPTIMIZER_BIN = "model.json", "weights.bin", "optimizer.bin"
MODEL_CLASSES = ("Sequential", "Model", "Functional")  # the topologies a layers-model can hold
# what makes JavaScript's parseInt give a number: TF.js's test for Keras 3's positional names
_JS_PARSEINT = re.compile(r"\s*[+-]?\d")
_TFJS_LOSSES = {losses_module.MeanSquaredError: "mean_squared_error",
                losses_module.MeanAbsoluteError: "mean_absolute_error",
                losses_module.CategoricalCrossentropy: "categorical_crossentropy",
                losses_module.SparseCategoricalCrossentropy: "sparse_categorical_crossentropy",
                losses_module.BinaryCrossentropy: "binary_crossentropy"}
_TFJS_METRICS = {"accuracy", "acc", "binary_accuracy", "categorical_accuracy", "mse", "mae"}


# -- the folder ------------------------------------------------------------------------------------
def write_folder(folder, model_json, binaries, overwrite=True):
    """Write ``binaries`` ({file name: bytes}) then ``model.json`` into ``folder``.

    The binaries' sizes and SHA-256 digests are added to
    ``model_json["userDefinedMetadata"]["minigrad"]["files"]``.
    """
    folder = os.fspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise FileExistsError(f"save: '{folder}' exists and is not a folder; a layers-model is "
                              f"a folder holding {MODEL_JSON} and weights.bin")
    json_path = os.path.join(folder, MODEL_JSON)
    if not overwrite and os.path.exists(json_path):
        raise FileExistsError(f"save: '{json_path}' exists and overwrite=False")
    os.makedirs(folder, exist_ok=True)
    meta = model_json.setdefault("userDefinedMetadata", {}).setdefault("minigrad", {})
    meta["files"] = {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                     for name, data in binaries.items()}
    text = json.dumps(model_json, indent=None, allow_nan=False).encode("utf-8")
    for name, data in binaries.items():
        atomic_write(os.path.join(folder, name), data)
    atomic_write(json_path, text)  # last: the commit point


def read_model_json(path):
    """``(folder, json_path, document)`` for a folder (or its ``model.json``), checked to be a
    JSON object with a ``modelTopology`` object and, if given, ``format == "layers-model"``."""
    path = os.fspath(path)
    if os.path.isdir(path):
        folder, json_path = path, os.path.join(path, MODEL_JSON)
    elif os.path.isfile(path) and path.endswith(".json"):
        folder, json_path = os.path.dirname(path) or ".", path
    elif not os.path.exists(path):
        raise FileNotFoundError(f"load_model: '{path}' does not exist")
    else:
        raise ModelFileError(f"load_model: '{path}' is neither a layers-model folder nor its "
                             f"{MODEL_JSON}")
    if not os.path.isfile(json_path):
        raise FileNotFoundError(f"load_model: there is no {MODEL_JSON} in '{folder}'")
    try:
        with open(json_path, "rb") as f:
            document = json.loads(f.read().decode("utf-8"))
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{json_path}: not valid JSON ({e.msg} at line {e.lineno}, column "
                             f"{e.colno}); the file may be truncated") from None
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{json_path}: not UTF-8 text ({e.reason} at byte "
                             f"{e.start})") from None
    if not isinstance(document, dict):
        raise ModelFileError(f"{json_path}: expected a JSON object, got {type(document).__name__}")
    fmt = document.get("format")
    if fmt is not None and fmt != "layers-model":
        raise ModelFileError(f"{json_path}: format is {fmt!r}; only 'layers-model' files (TF.js "
                             f"Layers models) can be loaded as models")
    if not isinstance(document.get("modelTopology"), dict):
        raise ModelFileError(f"{json_path}: 'modelTopology' must be a JSON object, got "
                             f"{str(document.get('modelTopology'))[:100]}")
    return folder, json_path, document


# -- what TF.js reads differently --------------------------------------------------------------
def portable(value):
    """A config in which TF.js can read every regularizer: TF.js knows only ``L1L2``, so Keras's
    ``L1`` / ``L2`` entries are written as the ``L1L2`` with the same penalty. LeakyReLU's
    ``negative_slope`` is written as ``alpha``, TF.js's name for it.

    >>> portable({"kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.5}}})
    {'kernel_regularizer': {'class_name': 'L1L2', 'config': {'l1': 0.0, 'l2': 0.5}}}
    """
    if isinstance(value, list):
        return [portable(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") == "LeakyReLU" and isinstance(value.get("config"), dict) \
            and "negative_slope" in value["config"]:
        # TF.js reads the slope under its Keras 2 name, alpha (and would use its 0.3 default)
        config = dict(value["config"])
        config["alpha"] = config.pop("negative_slope")
        value = dict(value, config=config)
    out = {}
    for key, item in value.items():
        if key.endswith("regularizer") and isinstance(item, dict) \
                and item.get("class_name") in ("L1", "L2") and isinstance(item.get("config"), dict):
            item = {"class_name": "L1L2", "config": {"l1": float(item["config"].get("l1", 0.0)),
                                                      "l2": float(item["config"].get("l2", 0.0))}}
        out[key] = portable(item)
    return out


def training_config(compile_config):
    """Keras's ``training_config`` (the file's name for it) from a model's compile config,
    ``model.get_compile_config()``."""
    return {"loss": compile_config["loss"], "metrics": compile_config["metrics"],
            "loss_weights": compile_config["loss_weights"],
            "optimizer_config": compile_config["optimizer"]}


def compile_config_from(config):
    """The compile config (``model.compile_from_config``'s form) in a Keras/minigrad
    ``training_config`` or TF.js's ``trainingConfig``: both name the optimizer
    ``optimizer_config``, where a compile config says ``optimizer``."""
    return {"optimizer": config["optimizer_config"], "loss": config.get("loss"),
            "metrics": config.get("metrics") or None,  # TF.js writes {} for "no metrics"
            "loss_weights": config.get("loss_weights")}


def tfjs_training_config(config):
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
            opt.get(k) for k in ("clipnorm", "clipvalue", "global_clipnorm", "weight_decay",
                                 "use_ema")):
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


# -- a model's folder --------------------------------------------------------------------------
def write_model(folder, topology, weights, compile_config=None, optimizer_state=None,
                overwrite=True, who="save", stacklevel=2):
    """Write a model as the layers-model folder ``folder`` (see the module docstring).

    ``topology``: ``{"class_name": ..., "config": model.get_config()}``; ``weights``:
    ``[(path, float32 array)]`` in the model's order; ``compile_config``: the model's
    ``get_compile_config()``, or None; ``optimizer_state``: ``optimizer.get_state()`` (the
    iteration count first), or None. ``who`` begins the warnings' messages; ``stacklevel`` says,
    as ``warnings.warn``'s does, whose line they point at.
    """
    specs, data = encode(weights)
    topology = {"class_name": topology["class_name"], "config": portable(topology["config"]),
                "keras_version": f"minigrad {__version__}", "backend": "minigrad"}
    # hard_sigmoid is the one activation TF.js and Keras 3 define differently: minigrad follows
    # Keras 3, clip(x / 6 + 0.5, 0, 1); TF.js 4.x computes clip(0.2 x + 0.5, 0, 1)
    if '"hard_sigmoid"' in json.dumps(topology):
        warnings.warn(f"{who}: this model uses hard_sigmoid, which minigrad computes as Keras 3 "
                      f"does, clip(x / 6 + 0.5, 0, 1); TF.js computes clip(0.2 x + 0.5, 0, 1), so "
                      f"TF.js will predict differently from this file", stacklevel=stacklevel)
    document = {"modelTopology": topology, "format": "layers-model",
                "generatedBy": f"minigrad {__version__}", "convertedBy": None,
                "weightsManifest": [{"paths": [WEIGHTS_BIN], "weights": specs}]}
    binaries = {WEIGHTS_BIN: data}
    meta = {"version": __version__}
    if compile_config is not None:
        meta["training_config"] = training_config(compile_config)
        tfjs = tfjs_training_config(compile_config)
        if tfjs is not None:
            document["trainingConfig"] = tfjs
    if optimizer_state is not None:
        state = list(optimizer_state)
        state[0] = (state[0][0], state[0][1].astype("int32"))  # TF.js has no int64
        opt_specs, opt_data = encode(state)
        meta["optimizer_weights"] = [{"paths": [OPTIMIZER_BIN], "weights": opt_specs}]
        binaries[OPTIMIZER_BIN] = opt_data
    document["userDefinedMetadata"] = {"minigrad": meta}
    write_folder(folder, document, binaries, overwrite=overwrite)


class LayersModelFolder:
    """A layers-model folder, read and checked: what a model is rebuilt from.

    Made by :func:`read_model`. ``path`` is the ``model.json`` (errors name it); ``weights`` the
    model's weights, ``{name in the file: array}`` in file order, dequantized
    (:meth:`weights_for` matches them to a model's weights); ``training_config`` minigrad's saved
    training configuration (Keras's form) or None; ``tfjs_training_config`` TF.js's
    ``trainingConfig`` or None; ``tfjs_optimizer_weights`` TF.js's optimizer weights
    (``[(name, array)]``, e.g. its ``iter``).
    """

    def __init__(self, filepath):
        self.folder, self.path, self.document = read_model_json(filepath)
        user = self._object(self.document, "userDefinedMetadata")
        self._meta = self._object(user, "minigrad", "userDefinedMetadata.")  # minigrad's own
        self._digests = self._object(self._meta, "files", "userDefinedMetadata.minigrad.")
        entries = decode(self.folder, self.document.get("weightsManifest") or [], self.path,
                         digests=self._digests)
        self.weights = {name: array for name, array, group in entries if group != "optimizer"}
        self.tfjs_optimizer_weights = [(n, a) for n, a, group in entries if group == "optimizer"]

    def weights_for(self, model):
        """The file's weights as ``{model weight path: array}``, matched by name as TF.js's
        ``loadWeights`` matches them (the manifest's order plays no part):

        * a name equal to a weight's path (``"conv1/kernel"``);
        * else the name without its next-to-last part (``"lstm/lstm_cell/kernel"`` is
          ``"lstm/kernel"``: TF 2.2+ puts an RNN cell's name there);
        * Keras 3's names by position (``"conv1/0"``, ``"conv1/1"``: the layer, then the index
          of the weight in ``layer.weights``), when the manifest's first name ends in a number.

        A name that matches no weight of the model, or a model weight that no name matches, is a
        ModelFileError naming them (the caller has changed nothing yet).
        """
        names = list(self.weights)
        by_position = bool(names) and _JS_PARSEINT.match(names[0].rsplit("/", 1)[-1]) is not None
        targets = {}
        for layer in model.layers:
            for index, w in enumerate(layer.weights):
                key = f"{w.path.rsplit('/', 1)[0]}/{index}" if by_position else w.path
                if key in targets:
                    raise ModelFileError(f"{self.path}: two weights of the model are both named "
                                         f"'{key}', so the file's weights cannot be matched")
                targets[key] = w.path
        out, unmatched = {}, []
        for name in names:
            key = name
            if key not in targets:
                parts = name.split("/")
                key = "/".join(parts[:-2] + parts[-1:])
            if key in targets:
                out[targets.pop(key)] = self.weights[name]
            else:
                unmatched.append(name)
        if unmatched or targets:
            raise weights_mismatch(self.path, sorted(targets.values()), unmatched)
        return out

    def _object(self, parent, key, where=""):
        """``parent[key]`` if it is a JSON object, ``{}`` if absent, else a ModelFileError."""
        value = parent.get(key)
        if value is not None and not isinstance(value, dict):
            raise ModelFileError(f"{self.path}: '{where}{key}' must be a JSON object, got "
                                 f"{str(value)[:100]}")
        return value or {}

    @property
    def training_config(self):
        return self._meta.get("training_config")

    @property
    def tfjs_training_config(self):
        return self.document.get("trainingConfig")

    def topology(self):
        """``{"class_name": ..., "config": ...}`` of the saved model, checked to name a model."""
        topology = self.document["modelTopology"]
        topology = topology.get("model_config", topology)  # Keras's HDF5-derived files nest it
        class_name = topology.get("class_name") if isinstance(topology, dict) else None
        if class_name not in MODEL_CLASSES:
            raise ModelFileError(f"{self.path}: modelTopology has class_name {class_name!r}; "
                                 f"known model classes: {', '.join(MODEL_CLASSES)}")
        return {"class_name": class_name, "config": topology.get("config")}

    def optimizer_state(self):
        """minigrad's saved optimizer state, ``[(name, array)]`` with the iteration count first
        (read and checked now, from ``optimizer.bin``), or ``[]`` when none was saved."""
        manifest = self._meta.get("optimizer_weights")
        if not manifest:
            return []
        return [(name, array) for name, array, _ in decode(
            self.folder, manifest, self.path, what="optimizer_weights", digests=self._digests)]


def read_model(filepath):
    """The layers-model folder ``filepath`` (or its model.json), by minigrad or TF.js, read and
    checked: the JSON, the manifest, the weight files' sizes and the digests minigrad records."""
    return LayersModelFolder(filepath)


__all__ = ["ModelFileError", "MODEL_JSON", "write_model", "read_model", "LayersModelFolder",
           "write_folder", "read_model_json", "portable", "training_config",
           "compile_config_from", "tfjs_training_config"]
