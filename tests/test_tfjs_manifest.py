"""TF.js weights manifests as TF.js reads them: shards, groups, quantization, weight names.

The folders in ``tests/fixtures/tfjs/manifests/`` (made by
``tests/tfjs/make_quantized_fixtures.js``) hold one small model with uint8 / uint16 /
float16-quantized weights, several shards per group, two groups listed out of the model's order,
and names in the three forms TF.js's ``loadWeights`` accepts. Their ``io.json`` records what real
TF.js 4.22.0 made of each file: the float32 bytes of every weight after loading, and its
prediction. These tests need no Node: they compare minigrad with those stored answers (one
optional test asks TF.js itself, when it is installed).
"""
import base64
import json
import os
import shutil
import subprocess

import numpy as np
import pytest

from minigrad.io.safe_files import ModelFileError
from minigrad.io.weights_manifest import dequantize, js_round
from minigrad.models import load_model
from conftest import TFJS_DIR

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFESTS = os.path.join(HERE, "fixtures", "tfjs", "manifests")
VARIANTS = sorted(d for d in os.listdir(MANIFESTS)
                  if os.path.isfile(os.path.join(MANIFESTS, d, "io.json")))


def _io(name):
    with open(os.path.join(MANIFESTS, name, "io.json")) as f:
        return json.load(f)


def _array(entry):
    return np.asarray(entry["data"], dtype=np.float32).reshape(entry["shape"])


def _tfjs_weights(io):
    """{path: float32 array} of the weights TF.js held after loading the file."""
    return {name: np.frombuffer(base64.b64decode(data), dtype="<f4")
            for name, data in io["weights"].items()}


# -- the fixtures: minigrad reads them as TF.js does --------------------------------------------
def test_the_fixtures_cover_what_they_claim():
    assert {"uint8", "uint16", "float16", "mixed", "names_inner_scope",
            "names_by_position"} <= set(VARIANTS)
    with open(os.path.join(MANIFESTS, "mixed", "model.json")) as f:
        manifest = json.load(f)["weightsManifest"]
    kinds = {w.get("quantization", {}).get("dtype", "float32")
             for group in manifest for w in group["weights"]}
    assert kinds == {"uint8", "uint16", "float16", "float32"}
    assert len(manifest) == 2 and max(len(g["paths"]) for g in manifest) >= 2


@pytest.mark.parametrize("name", VARIANTS)
def test_dequantized_weights_are_tfjs_bits(name):
    io = _io(name)
    model = load_model(os.path.join(MANIFESTS, name))
    expected = _tfjs_weights(io)
    got = {w.path: w.data for w in model.weights}
    assert sorted(got) == sorted(expected)
    for path, value in expected.items():
        assert np.array_equal(got[path].ravel().view(np.uint32), value.view(np.uint32)), path


@pytest.mark.parametrize("name", VARIANTS)
def test_quantized_model_predicts_what_tfjs_predicted(name):
    io = _io(name)
    model = load_model(os.path.join(MANIFESTS, name))
    np.testing.assert_allclose(model.predict(_array(io["input"])), _array(io["output"]),
                               rtol=1e-5, atol=1e-6)


def test_quantization_really_changed_the_weights():
    """The variants are not float32 in disguise: uint8 has at most 256 levels per weight, and
    the converter's one-value case (min == max) gives exactly that value."""
    uint8, float16 = (_tfjs_weights(_io(v)) for v in ("uint8", "float16"))
    kernel = uint8["conv1/kernel"]
    assert len(np.unique(kernel)) <= 256 and not np.array_equal(kernel, float16["conv1/kernel"])
    assert np.all(uint8["conv1/bias"] == np.float32(0.125))


def test_load_weights_reads_a_quantized_sharded_folder_into_a_model():
    source = load_model(os.path.join(MANIFESTS, "uint8"))
    target = load_model(os.path.join(MANIFESTS, "float16"))
    target.load_weights(os.path.join(MANIFESTS, "uint8"))
    for a, b in zip(source.weights, target.weights):
        assert np.array_equal(a.data, b.data)


# -- the decoder, against hand computations ------------------------------------------------------
def test_uint8_dequantization_by_hand():
    got = dequantize(np.array([0, 1, 4, 255], np.uint8), "float32",
                     {"dtype": "uint8", "min": -1.0, "scale": 0.25})
    assert got.dtype == np.float32
    assert got.tolist() == [-1.0, -0.75, 0.0, 62.75]


def test_affine_dequantization_is_one_float64_expression_rounded_once():
    """TF.js computes ``q * scale + min`` with JavaScript numbers (float64) and stores the
    result in a Float32Array: one rounding. Doing it in float32 gives another value here."""
    q, scale, low = 217, 0.0034280804238748333, -0.9590264760638053
    got = dequantize(np.array([q], np.uint16), "float32",
                     {"dtype": "uint16", "min": low, "scale": scale})
    assert got[0] == np.float32(-0.21513303)  # float32(217 * scale + min), computed in float64
    in_float32 = np.float32(q) * np.float32(scale) + np.float32(low)
    assert got[0] != in_float32


def test_int32_weights_round_as_javascript_math_round():
    # values -1, -0.5, 0, 0.5, 1.5: Math.round takes halves toward +inf, NumPy to even
    got = dequantize(np.array([0, 1, 2, 3, 5], np.uint8), "int32",
                     {"dtype": "uint8", "min": -1.0, "scale": 0.5})
    assert got.dtype == np.int32 and got.tolist() == [-1, 0, 0, 1, 2]
    assert js_round(np.array([-2.5, 2.5, 0.49999999999999994])).tolist() == [-2.0, 3.0, 0.0]


def _tfjs_float16_table_decoder(bits):
    """TF.js's getFloat16Decoder (three lookup tables), written out in NumPy."""
    def mantissa(i):
        m, e = i << 13, 0
        while not m & 0x00800000:
            e -= 0x00800000
            m <<= 1
        return (m & ~0x00800000) | (e + 0x38800000)
    mantissas = np.array([0] + [mantissa(i) for i in range(1, 1024)]
                         + [0x38000000 + ((i - 1024) << 13) for i in range(1024, 2048)], np.uint64)
    exponents = np.zeros(64, np.uint64)
    exponents[1:31] = [i << 23 for i in range(1, 31)]
    exponents[31], exponents[32], exponents[63] = 0x47800000, 0x80000000, 0xC7800000
    exponents[33:63] = [0x80000000 + ((i - 32) << 23) for i in range(33, 63)]
    offsets = np.full(64, 1024, np.uint64)
    offsets[0] = offsets[32] = 0
    bits = bits.astype(np.uint64)
    out = mantissas[offsets[bits >> 10] + (bits & 0x3FF)] + exponents[bits >> 10]
    return (out & 0xFFFFFFFF).astype(np.uint32)


def test_float16_decodes_every_bit_pattern_as_tfjs_does():
    bits = np.arange(65536, dtype=np.uint16)
    got = dequantize(bits.view(np.float16), "float32", {"dtype": "float16"})
    assert np.array_equal(got.view(np.uint32), _tfjs_float16_table_decoder(bits))
    hand = {0x3C00: 1.0, 0xC000: -2.0, 0x0001: 2.0 ** -24, 0x7BFF: 65504.0, 0xFC00: -np.inf}
    for b, value in hand.items():
        assert got[b] == value


def _run_tfjs(node, script):
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=120,
                          cwd=TFJS_DIR)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_tfjs_itself_decodes_float16_and_uint8_as_minigrad(node):
    """Oracle: TF.js's own decodeWeights on every float16 bit pattern and every uint8 value."""
    script = """
    const tf = require('@tensorflow/tfjs');
    const halves = new Uint16Array(65536).map((_, i) => i);
    const bytes = new Uint8Array(256).map((_, i) => i);
    const q = {dtype: 'uint8', min: -0.9590264760638053, scale: 0.0034280804238748333};
    const all = Buffer.concat([halves, bytes, bytes].map((a) => Buffer.from(a.buffer)));
    const w = tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.length), [
        {name: 'h', shape: [65536], dtype: 'float32', quantization: {dtype: 'float16'}},
        {name: 'u', shape: [256], dtype: 'float32', quantization: q},
        {name: 'i', shape: [256], dtype: 'int32',
         quantization: {dtype: 'uint8', min: -64, scale: 0.5}}]);
    const b64 = (t) => Buffer.from(t.dataSync().buffer).toString('base64');
    process.stdout.write(JSON.stringify({h: b64(w.h), u: b64(w.u), i: b64(w.i)}));
    """
    out = json.loads(_run_tfjs(node, script))
    tfjs = {k: base64.b64decode(v) for k, v in out.items()}
    halves = np.arange(65536, dtype=np.uint16).view(np.float16)
    q = np.arange(256, dtype=np.uint8)
    assert dequantize(halves, "float32", {"dtype": "float16"}).tobytes() == tfjs["h"]
    assert dequantize(q, "float32", {"dtype": "uint8", "min": -0.9590264760638053,
                                     "scale": 0.0034280804238748333}).tobytes() == tfjs["u"]
    assert dequantize(q, "int32", {"dtype": "uint8", "min": -64.0, "scale": 0.5}).astype(
        "<i4").tobytes() == tfjs["i"]


# -- refusals: ModelFileError naming the file and the weight, nothing changed ---------------------
@pytest.fixture
def folder(tmp_path):
    """A writable copy of the uint8 fixture."""
    path = tmp_path / "m"
    shutil.copytree(os.path.join(MANIFESTS, "uint8"), path)
    return path


def _edit(folder, change):
    doc = json.loads((folder / "model.json").read_text())
    change(doc["weightsManifest"])
    (folder / "model.json").write_text(json.dumps(doc))


def _refused_untouched(folder, match):
    """load_model refuses ``folder``; load_weights refuses it and leaves the model as it was."""
    with pytest.raises(ModelFileError, match=match):
        load_model(folder)
    model = load_model(os.path.join(MANIFESTS, "float16"))
    before = [w.data.copy() for w in model.weights]
    with pytest.raises(ModelFileError, match=match):
        model.load_weights(str(folder))
    assert all(np.array_equal(a, w.data) for a, w in zip(before, model.weights))


def _last_shard(folder):
    doc = json.loads((folder / "model.json").read_text())
    group = doc["weightsManifest"][-1]
    return folder / group["paths"][-1], group["weights"][-1]["name"]


def test_a_shard_shorter_than_the_manifest_says_is_refused_naming_file_and_weight(folder):
    shard, last = _last_shard(folder)
    shard.write_bytes(shard.read_bytes()[:-1])
    _refused_untouched(folder, rf"{shard.name}.*weight '{last}' \(bytes \d+\.\.\d+\) runs past")


def test_a_shard_longer_than_the_manifest_says_is_refused(folder):
    shard, _ = _last_shard(folder)
    shard.write_bytes(shard.read_bytes() + b"\0")
    _refused_untouched(folder, rf"{shard.name}.*1 bytes too many")


def test_a_missing_shard_is_refused_naming_it(folder):
    shard, _ = _last_shard(folder)
    shard.unlink()
    _refused_untouched(folder, rf"'{shard.name}' .* is missing")


@pytest.mark.parametrize("quantization, match", [
    ({"dtype": "int4", "min": 0.0, "scale": 1.0}, "quantization .*int4.*supported quantization"),
    ({"dtype": "uint8", "min": 0.0}, "uint8-quantized and needs finite numbers 'min' and 'scale'"),
    ({"dtype": "uint16", "min": 0.0, "scale": "1"}, "uint16-quantized and needs"),
    ({"dtype": "uint8", "min": float("nan"), "scale": 1.0}, "needs finite numbers"),
    ("uint8", "quantization 'uint8'|quantization uint8"),
])
def test_a_bad_quantization_entry_is_refused_naming_the_weight(folder, quantization, match):
    def change(manifest):
        manifest[1]["weights"][0]["quantization"] = quantization
    _edit(folder, change)
    doc = json.loads((folder / "model.json").read_text())
    name = doc["weightsManifest"][1]["weights"][0]["name"]
    _refused_untouched(folder, rf"weight '{name}'.*({match})")


def test_float16_quantization_of_an_int32_weight_is_refused(folder):
    def change(manifest):
        manifest[0]["weights"][0].update(dtype="int32", quantization={"dtype": "float16"})
    _edit(folder, change)
    _refused_untouched(folder, "float16-quantized but has dtype 'int32'")


def test_an_unknown_weight_dtype_is_refused(folder):
    def change(manifest):
        manifest[0]["weights"][0]["dtype"] = "bfloat16"
    _edit(folder, change)
    _refused_untouched(folder, "dtype 'bfloat16'; supported dtypes")


def test_a_weight_missing_from_the_manifest_is_refused_naming_it(folder):
    # drop the first group's last entry and its bytes (uint8: one byte per value)
    doc = json.loads((folder / "model.json").read_text())
    group = doc["weightsManifest"][0]
    dropped = group["weights"].pop()
    assert len(group["paths"]) == 1 and dropped["quantization"]["dtype"] == "uint8"
    shard = folder / group["paths"][0]
    shard.write_bytes(shard.read_bytes()[:-int(np.prod(dropped["shape"]))])
    (folder / "model.json").write_text(json.dumps(doc))
    _refused_untouched(folder, rf"missing from the file: \['{dropped['name']}'\]")


def test_a_name_that_matches_no_weight_is_refused_naming_it(folder):
    def change(manifest):
        manifest[1]["weights"][0]["name"] = "nothing/here"
    _edit(folder, change)
    _refused_untouched(folder, r"in the file but not in the model: \['nothing/here'\]")


def test_two_names_for_one_weight_are_refused(folder):
    """``conv1/cell/kernel`` and ``conv1/kernel`` both mean conv1's kernel: as in TF.js, the first
    in the file takes it (the group lists conv1's bias before its kernel) and the second is left
    without a target; minigrad refuses the file, naming both sides."""
    def change(manifest):
        names = [w["name"] for w in manifest[1]["weights"]]
        assert names.index("conv1/bias") < names.index("conv1/kernel")
        manifest[1]["weights"][names.index("conv1/bias")]["name"] = "conv1/cell/kernel"
    _edit(folder, change)
    _refused_untouched(folder, r"missing from the file: \['conv1/bias'\]; in the file but not in "
                               r"the model: \['conv1/kernel'\]")


def test_a_name_without_its_layer_is_refused_as_tfjs_refuses_it(folder):
    """TF.js 4.22 refuses ``gamma`` for ``bn1/gamma`` ("Provided weight data has no target
    variable: gamma"); only the forms in LayersModelFolder.weights_for are accepted."""
    def change(manifest):
        assert manifest[0]["weights"][0]["name"] == "bn1/gamma"
        manifest[0]["weights"][0]["name"] = "gamma"
    _edit(folder, change)
    _refused_untouched(folder, r"missing from the file: \['bn1/gamma'\]; in the file but not in "
                               r"the model: \['gamma'\]")


def test_each_group_holds_exactly_its_own_weights(folder):
    """One byte moved from group 1's file to group 2's: the total is right, but each group is
    read from its own files (TF.js's weights loader does so), so the file is refused."""
    doc = json.loads((folder / "model.json").read_text())
    first = folder / doc["weightsManifest"][0]["paths"][-1]
    second = folder / doc["weightsManifest"][1]["paths"][0]
    data = first.read_bytes()
    first.write_bytes(data[:-1])
    second.write_bytes(data[-1:] + second.read_bytes())
    _refused_untouched(folder, rf"group 0 of 'weightsManifest' .*'{first.name}'.* runs past")
