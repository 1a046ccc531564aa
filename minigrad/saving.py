"""TF.js "layers-model" folders: ``model.json`` plus raw little-endian weight files.

The format (what ``tf.loadLayersModel`` reads and ``model.save`` writes in TF.js)::

    folder/model.json   {"modelTopology": {...}, "format": "layers-model", "generatedBy": ...,
                         "convertedBy": null,
                         "weightsManifest": [{"paths": ["weights.bin"], "weights": [
                             {"name": "dense/kernel", "shape": [4, 2], "dtype": "float32"}]}],
                         "trainingConfig": {...}?, "userDefinedMetadata": {...}?}
    folder/weights.bin  every weight's bytes, in manifest order, no padding

This module knows the format, not models: it encodes and decodes named arrays, writes a folder
safely, and reads one with every check done before anything is returned.

Safety: files are JSON and raw numbers only (no pickle, nothing evaluated), weight files must lie
inside the folder (no absolute paths, no ``..``), and each file is written to a temporary name
and moved into place with ``os.replace``, ``model.json`` last: a crash leaves the previous
``model.json`` in place. minigrad also records each binary file's size and SHA-256 in
``userDefinedMetadata.minigrad.files``, so a ``model.json`` paired with another save's weights is
detected instead of loaded.
"""
import hashlib
import json
import math
import os
import secrets

import numpy as np

MODEL_JSON = "model.json"
# TF.js stores these; little-endian on disk whatever the machine
DTYPES = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4")}


class ModelFileError(ValueError):
    """A model file that cannot be read: the message names the file and what is wrong."""


# -- writing ---------------------------------------------------------------------------------------
def encode(named_arrays, group=None):
    """``(specs, bytes)`` for ``[(name, array)]``: manifest entries and the concatenated data."""
    specs, chunks = [], []
    for name, array in named_arrays:
        array = np.asarray(array)
        if array.dtype.kind == "f":
            dtype = "float32"
        elif array.dtype.kind in "iu":
            dtype = "int32"
        else:
            raise TypeError(f"save: weight '{name}' has dtype {array.dtype}; a layers-model file "
                            f"holds float32 and int32 arrays")
        spec = {"name": name, "shape": [int(d) for d in array.shape], "dtype": dtype}
        if group is not None:
            spec["group"] = group
        specs.append(spec)
        chunks.append(np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes())
    return specs, b"".join(chunks)


def _atomic_write(path, data):
    """Write ``data`` to a temporary file next to ``path``, flush it to disk, then rename it
    over ``path`` (atomic on POSIX and Windows): readers see the old file or the new one."""
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never write through an existing file or link; 0o666 & umask, as open() would
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
        _atomic_write(os.path.join(folder, name), data)
    _atomic_write(json_path, text)  # last: the commit point


# -- reading ---------------------------------------------------------------------------------------
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


def _safe_path(folder, relative, json_path):
    """``folder/relative``, refusing paths that leave the folder."""
    parts = relative.replace("\\", "/").split("/") if isinstance(relative, str) else None
    if not parts or os.path.isabs(relative) or any(p in ("", ".", "..") for p in parts) \
            or ":" in relative:
        raise ModelFileError(f"{json_path}: weights path {relative!r} must be a file name "
                             f"relative to the model's folder (no absolute paths, no '..')")
    return os.path.join(folder, *parts)


def _check_spec(spec, json_path):
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ModelFileError(f"{json_path}: each weightsManifest entry needs a 'name', 'shape' "
                             f"and 'dtype', got {str(spec)[:120]}")
    name, shape, dtype = spec["name"], spec.get("shape"), spec.get("dtype", "float32")
    if not isinstance(shape, list) or any(isinstance(d, bool) or not isinstance(d, int) or d < 0
                                          for d in shape):
        raise ModelFileError(f"{json_path}: weight '{name}' has shape {shape!r}; expected a list "
                             f"of non-negative integers")
    if "quantization" in spec:
        raise ModelFileError(f"{json_path}: weight '{name}' is quantized "
                             f"({str(spec['quantization'])[:80]}); quantized weights are not "
                             f"supported, save the model unquantized")
    if dtype not in DTYPES:
        raise ModelFileError(f"{json_path}: weight '{name}' has dtype {dtype!r}; supported dtypes "
                             f"are {', '.join(DTYPES)}")
    return name, tuple(shape), DTYPES[dtype], spec.get("group")


def decode(folder, manifest, json_path, what="weightsManifest", digests=None):
    """Read every group of ``manifest`` and split the bytes into named arrays.

    Returns ``[(name, array, group)]`` in manifest order. As TF.js does, the files of all groups
    are read in order and concatenated, and the specs consume that data in order. Checked first:
    the manifest's form, each weight's dtype and shape, missing files, the total size, the
    recorded digests, and duplicate names.
    """
    if not isinstance(manifest, list):
        raise ModelFileError(f"{json_path}: '{what}' must be a list of groups, got "
                             f"{type(manifest).__name__}")
    specs, paths = [], []
    for group in manifest:
        if not isinstance(group, dict) or not isinstance(group.get("paths"), list) \
                or not isinstance(group.get("weights"), list):
            raise ModelFileError(f"{json_path}: each '{what}' group needs 'paths' and 'weights' "
                                 f"lists, got {str(group)[:120]}")
        paths += [(p, _safe_path(folder, p, json_path)) for p in group["paths"]]
        specs += [_check_spec(s, json_path) for s in group["weights"]]
    seen = set()
    for name, _, _, _ in specs:
        if name in seen:
            raise ModelFileError(f"{json_path}: the weight name '{name}' appears twice in '{what}'")
        seen.add(name)
    chunks = []
    for relative, full in paths:
        if not os.path.isfile(full):
            raise ModelFileError(f"{json_path}: the weights file '{relative}' named in '{what}' "
                                 f"is missing from '{folder}'")
        with open(full, "rb") as f:
            data = f.read()
        expected = (digests or {}).get(relative)
        if isinstance(expected, dict) and (
                expected.get("bytes") != len(data)
                or expected.get("sha256") != hashlib.sha256(data).hexdigest()):
            raise ModelFileError(f"{json_path}: '{relative}' is not the file this model.json was "
                                 f"saved with (size or SHA-256 differs): truncated, corrupted, or "
                                 f"from another save")
        chunks.append(data)
    buffer = b"".join(chunks)
    sizes = [math.prod(shape) * dtype.itemsize for _, shape, dtype, _ in specs]
    if sum(sizes) != len(buffer):
        files = ", ".join(r for r, _ in paths) or "no files"
        raise ModelFileError(f"{json_path}: '{what}' describes {sum(sizes)} bytes of weights but "
                             f"{files} hold{'s' if len(paths) == 1 else ''} {len(buffer)} bytes "
                             f"(a truncated or mismatched weights file)")
    out, offset = [], 0
    for (name, shape, dtype, group), size in zip(specs, sizes):
        array = np.frombuffer(buffer, dtype=dtype, count=math.prod(shape), offset=offset)
        out.append((name, array.reshape(shape).astype(dtype.newbyteorder("="), copy=True), group))
        offset += size
    return out


__all__ = ["ModelFileError", "encode", "write_folder", "read_model_json", "decode", "MODEL_JSON"]
