"""TF.js's weights manifest: named arrays as manifest entries plus raw little-endian bytes.

A manifest is a list of groups; each group names its binary files and the weights they hold::

    [{"paths": ["weights.bin"],
      "weights": [{"name": "dense/kernel", "shape": [4, 2], "dtype": "float32"},
                  {"name": "dense/bias", "shape": [2], "dtype": "float32"}]}]

A group's files (its shards: the converter cuts them at 4 MB) are read in ``paths`` order and
concatenated; the result holds the group's weights' bytes in entry order, with no padding. A
weight may be stored quantized, as ``tensorflowjs_converter --quantize_*`` writes it::

    {"name": "conv1/kernel", "shape": [3, 3, 3, 8], "dtype": "float32",
     "quantization": {"dtype": "uint8", "min": -0.52, "scale": 0.0041}}

(one byte per value, read as ``q * scale + min``; ``uint16`` likewise; ``float16`` has no
``min``/``scale``). TF.js's layers-model and graph-model folders both use the manifest
(:mod:`minigrad.io.tfjs` for the first). minigrad writes float32 / int32, one group, one file.

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
# what quantized weights are stored as (``"quantization": {"dtype": ...}``), as TF.js reads them
QUANTIZED_DTYPES = {"uint8": np.dtype("<u1"), "uint16": np.dtype("<u2"),
                    "float16": np.dtype("<f2")}


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


class _Spec:
    """One checked manifest entry: where its bytes come from and how they become an array."""

    def __init__(self, name, shape, dtype, group, quantization):
        self.name, self.shape, self.dtype, self.group = name, shape, dtype, group
        self.quantization = quantization  # None, or {"dtype": ..., "min": ..., "scale": ...}
        stored = QUANTIZED_DTYPES[quantization["dtype"]] if quantization else DTYPES[dtype]
        self.stored = stored  # the dtype of the bytes in the file
        self.nbytes = math.prod(shape) * stored.itemsize


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_quantization(name, dtype, quantization, json_path):
    """The checked ``quantization`` entry of weight ``name``: TF.js's three kinds, with the
    ``min`` and ``scale`` that uint8 / uint16 need (other keys, such as ``original_dtype``, are
    ignored, as TF.js ignores them)."""
    kind = quantization.get("dtype") if isinstance(quantization, dict) else None
    if kind not in QUANTIZED_DTYPES:
        raise ModelFileError(f"{json_path}: weight '{name}' has quantization "
                             f"{str(quantization)[:80]}; supported quantization dtypes are "
                             f"{', '.join(QUANTIZED_DTYPES)}")
    if kind == "float16":
        if dtype != "float32":
            raise ModelFileError(f"{json_path}: weight '{name}' is float16-quantized but has dtype "
                                 f"{dtype!r}; float16 quantization holds float32 weights only")
        return {"dtype": kind}
    if not (_number(quantization.get("min")) and _number(quantization.get("scale"))):
        raise ModelFileError(f"{json_path}: weight '{name}' is {kind}-quantized and needs finite "
                             f"numbers 'min' and 'scale', got min={quantization.get('min')!r}, "
                             f"scale={quantization.get('scale')!r}")
    return {"dtype": kind, "min": float(quantization["min"]), "scale": float(quantization["scale"])}


def _check_spec(spec, json_path):
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ModelFileError(f"{json_path}: each weightsManifest entry needs a 'name', 'shape' "
                             f"and 'dtype', got {str(spec)[:120]}")
    name, shape, dtype = spec["name"], spec.get("shape"), spec.get("dtype", "float32")
    if not isinstance(shape, list) or any(isinstance(d, bool) or not isinstance(d, int) or d < 0
                                          for d in shape):
        raise ModelFileError(f"{json_path}: weight '{name}' has shape {shape!r}; expected a list "
                             f"of non-negative integers")
    if dtype not in DTYPES:
        raise ModelFileError(f"{json_path}: weight '{name}' has dtype {dtype!r}; supported dtypes "
                             f"are {', '.join(DTYPES)}")
    quantization = None
    if "quantization" in spec:
        quantization = _check_quantization(name, dtype, spec["quantization"], json_path)
    return _Spec(name, tuple(shape), dtype, spec.get("group"), quantization)


def js_round(x):
    """JavaScript's ``Math.round`` on float64 values: the nearest integer, halves toward +inf
    (``Math.round(-2.5) == -2``), unlike NumPy's halves-to-even ``np.round``.

    >>> js_round(np.array([-2.5, -1.5, 0.5, 1.5, 2.4999]))
    array([-2., -1.,  1.,  2.,  2.])
    """
    x = np.asarray(x, dtype=np.float64)
    below = np.floor(x)
    # x - floor(x) is exact in float64, so the half test has no rounding of its own
    return below + (x - below >= 0.5)


def dequantize(raw, dtype, quantization):
    """The weight values stored as ``raw`` (the quantized numbers, any shape), computed exactly
    as TF.js's ``decodeWeight`` computes them.

    uint8 / uint16: ``q * scale + min`` in float64 (JavaScript numbers), stored as float32 (one
    rounding), or for int32 weights rounded with ``Math.round``. float16: widened to float32,
    which is exact (TF.js's table decoder gives the same bits, NaN and infinities included).

    >>> dequantize(np.array([0, 1, 255], np.uint8), "float32",
    ...            {"dtype": "uint8", "min": -1.0, "scale": 0.01})
    array([-1.  , -0.99,  1.55], dtype=float32)
    """
    kind = quantization["dtype"]
    if kind == "float16":
        return np.asarray(raw, dtype=np.float16).astype(np.float32)
    values = np.asarray(raw).astype(np.float64) * quantization["scale"] + quantization["min"]
    if dtype == "int32":
        return js_round(values).astype(np.int32)
    return values.astype(np.float32)


def _read_group(folder, index, group, specs, json_path, what, digests):
    """The arrays of one manifest group: its files concatenated in ``paths`` order, consumed by
    its weights in order from offset 0, as TF.js's weights loader reads a group."""
    paths = [(p, _safe_path(folder, p, json_path)) for p in group["paths"]]
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
    described = sum(spec.nbytes for spec in specs)
    if described != len(buffer):
        files = ", ".join(repr(r) for r, _ in paths) or "no files"
        problem = f"{len(buffer) - described} bytes too many"
        offset = 0
        for spec in specs:  # name the first weight that does not fit
            if offset + spec.nbytes > len(buffer):
                problem = (f"weight '{spec.name}' (bytes {offset}..{offset + spec.nbytes}) runs "
                           f"past the end")
                break
            offset += spec.nbytes
        raise ModelFileError(f"{json_path}: group {index} of '{what}' describes {described} bytes "
                             f"of weights but its files ({files}) hold {len(buffer)} bytes: "
                             f"{problem} (a truncated or mismatched weights file)")
    out, offset = [], 0
    for spec in specs:
        raw = np.frombuffer(buffer, dtype=spec.stored, count=math.prod(spec.shape), offset=offset)
        if spec.quantization is None:
            array = raw.astype(spec.stored.newbyteorder("="), copy=True)
        else:
            array = dequantize(raw, spec.dtype, spec.quantization)
        out.append((spec.name, array.reshape(spec.shape), spec.group))
        offset += spec.nbytes
    return out


def decode(folder, manifest, json_path, what="weightsManifest", digests=None):
    """Read every group of ``manifest`` and split the bytes into named arrays.

    Returns ``[(name, array, group)]`` in manifest order (``group`` is the entry's optional
    ``"group"`` key, e.g. ``"optimizer"``). As TF.js's weights loader does, each group's files
    are concatenated in ``paths`` order and hold that group's weights, in order, from byte 0;
    quantized weights are dequantized to float32 (or int32) as TF.js does it (:func:`dequantize`).
    Everything is checked before any array is made: the manifest's form, each weight's dtype,
    shape and quantization, duplicate names, missing files, the recorded digests
    (``{file name: {"bytes": n, "sha256": hex}}``) and each group's size, exactly.
    """
    if not isinstance(manifest, list):
        raise ModelFileError(f"{json_path}: '{what}' must be a list of groups, got "
                             f"{type(manifest).__name__}")
    groups = []
    for group in manifest:
        if not isinstance(group, dict) or not isinstance(group.get("paths"), list) \
                or not isinstance(group.get("weights"), list):
            raise ModelFileError(f"{json_path}: each '{what}' group needs 'paths' and 'weights' "
                                 f"lists, got {str(group)[:120]}")
        for p in group["paths"]:
            _safe_path(folder, p, json_path)
        groups.append([_check_spec(s, json_path) for s in group["weights"]])
    seen = set()
    for spec in (s for specs in groups for s in specs):
        if spec.name in seen:
            raise ModelFileError(f"{json_path}: the weight name '{spec.name}' appears twice in "
                                 f"'{what}'")
        seen.add(spec.name)
    out = []
    for index, (group, specs) in enumerate(zip(manifest, groups)):
        out += _read_group(folder, index, group, specs, json_path, what, digests)
    return out


__all__ = ["DTYPES", "QUANTIZED_DTYPES", "encode", "decode", "dequantize", "js_round"]
