"""TF.js's weights manifest: named arrays as manifest entries plus raw little-endian bytes.

A manifest is a list of groups; each group names its binary files and the weights they hold::

    [{"paths": ["weights.bin"],
      "weights": [{"name": "dense/kernel", "shape": [4, 2], "dtype": "float32"},
                  {"name": "dense/bias", "shape": [2], "dtype": "float32"}]}]

The files of all groups, read in order and concatenated, hold every weight's bytes in entry
order, with no padding. TF.js's layers-model and graph-model folders both use it
(:mod:`minigrad.io.tfjs` for the first).

>>> import numpy as np
>>> specs, data = encode([("dense/bias", np.array([1.0, 2.0]))])
>>> specs
[{'name': 'dense/bias', 'shape': [2], 'dtype': 'float32'}]
>>> len(data)  # two float32 numbers
8
"""
import hashlib
import math
import os

import numpy as np

from .safe_files import ModelFileError

# TF.js stores these; little-endian on disk whatever the machine
DTYPES = {"float32": np.dtype("<f4"), "int32": np.dtype("<i4")}


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
    recorded digests (``{file name: {"bytes": n, "sha256": hex}}``), and duplicate names.
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


__all__ = ["DTYPES", "encode", "decode"]
