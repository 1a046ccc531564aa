#!/usr/bin/env node
'use strict';
/**
 * node make_quantized_fixtures.js
 *
 * Writes tests/fixtures/tfjs/manifests/<variant>/: one small TF.js model whose
 * weights manifest takes the forms TF.js reads but TF.js's own model.save never
 * writes: weights quantized to uint8 / uint16 (`q * scale + min`) or float16,
 * several shards per group, two groups, a manifest order that is not the
 * model's, and weight names in the two other forms TF.js's loadWeights
 * accepts (an inner scope, "layer/cell/weight"; Keras 3's positional
 * "layer/0"). Quantization follows the TF.js converter's
 * `quantize_weights` (python/tensorflowjs/quantization.py: the range nudged
 * so that 0 is exact, halves rounded to even), ported below.
 *
 * Each folder is then loaded by real TF.js (tf.loadLayersModel through
 * fs_io.js, which reads shards and groups as TF.js's HTTP loader does) and
 * io.json records what TF.js made of the file:
 *   {"input": {shape, data}, "output": {shape, data},
 *    "weights": {"<model weight path>": base64 of the float32 little-endian
 *                bytes TF.js holds after loading}}
 * so minigrad's tests compare its dequantized weights with TF.js's bit for
 * bit and its prediction with TF.js's, without Node.
 *
 * Deterministic: same TF.js version + same script => byte-identical files.
 */
const fs = require('fs');
const path = require('path');
const {tf, setupTf, mulberry32, uniform, prod, tensorToJSON, setDeterministicWeights} = require('./common');
const {loadFolder, saveFolder} = require('./fs_io');

const OUT = path.resolve(__dirname, '..', 'fixtures', 'tfjs', 'manifests');
const SHARD_BYTES = 256;  // tiny shards, so that every group spans several files
const SEED = 4004;

/** The model: conv, batch norm, depthwise conv, dense; every layer named. */
function build() {
  const m = tf.sequential({name: 'quant_base'});
  m.add(tf.layers.conv2d({name: 'conv1', inputShape: [6, 6, 2], filters: 4, kernelSize: 3,
                          padding: 'same', activation: 'relu'}));
  m.add(tf.layers.batchNormalization({name: 'bn1'}));
  m.add(tf.layers.depthwiseConv2d({name: 'dw1', kernelSize: 3, padding: 'valid'}));
  m.add(tf.layers.flatten({name: 'flat'}));
  m.add(tf.layers.dense({name: 'logits', units: 3}));
  return m;
}

// -- the converter's quantization, ported ------------------------------------------------------

/** NumPy's np.round: halves to even. */
function roundHalfEven(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** quantize_weights(data, uint8 | uint16): [quantized typed array, {min, scale}]. */
function quantizeAffine(values, kind) {
  const qmax = kind === 'uint8' ? 255 : 65535;
  const Out = kind === 'uint8' ? Uint8Array : Uint16Array;
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const q = new Out(values.length);
  if (lo === hi) return [q, {min: lo, scale: 1.0}];  // one value: all zeros, min carries it
  const scale = (hi - lo) / qmax;
  let nmin = lo;
  let nmax = hi;
  if (lo <= 0 && 0 <= hi) {  // nudge so that 0 is a quantized value (zero padding stays exact)
    const zero = roundHalfEven((0 - lo) / scale);
    nmin = -zero * scale;
    nmax = qmax * scale + nmin;
  }
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(Math.max(values[i], nmin), nmax);
    q[i] = roundHalfEven((v - nmin) / scale);
  }
  return [q, {min: nmin, scale}];
}

/** float32 -> IEEE half bits, round to nearest even (what NumPy's astype(float16) does). */
function halfBits(f) {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, f);
  const x = view.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {  // a subnormal half (or zero)
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;  // a carry into the exponent is right
  return sign | h;
}

/** A weight's bytes and manifest entry, stored as `kind` (float32, uint8, uint16, float16). */
function encodeWeight(name, shape, values, kind) {
  const entry = {name, shape, dtype: 'float32'};
  if (kind === 'float32') return [entry, Buffer.from(Float32Array.from(values).buffer)];
  if (kind === 'float16') {
    entry.quantization = {dtype: 'float16'};
    return [entry, Buffer.from(Uint16Array.from(values, halfBits).buffer)];
  }
  const [q, meta] = quantizeAffine(values, kind);
  entry.quantization = {dtype: kind, min: meta.min, scale: meta.scale, original_dtype: 'float32'};
  return [entry, Buffer.from(q.buffer)];
}

/** Cut `data` into SHARD_BYTES pieces named as the converter names them. */
function shard(data, group) {
  const n = Math.max(1, Math.ceil(data.length / SHARD_BYTES));
  const files = [];
  for (let i = 0; i < n; i++) {
    files.push([`group${group}-shard${i + 1}of${n}.bin`,
                data.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES)]);
  }
  return files;
}

// -- the variants ----------------------------------------------------------------------------

const KINDS = ['uint8', 'uint16', 'float16', 'float32'];
const VARIANTS = [
  // every weight one way; batch-norm weights in a second group, listed first
  {name: 'uint8', kind: () => 'uint8'},
  {name: 'uint16', kind: () => 'uint16'},
  {name: 'float16', kind: () => 'float16'},
  // one model, all four storages, weight by weight
  {name: 'mixed', kind: (i) => KINDS[i % 4]},
  // names with an inner scope ("conv1/conv1_cell/kernel"): TF.js drops the next-to-last part
  {name: 'names_inner_scope', kind: (i) => KINDS[i % 4],
   rename: (w) => { const p = w.name.split('/'); return [...p.slice(0, -1), `${p[0]}_cell`, p[p.length - 1]].join('/'); }},
  // Keras 3's positional names: "<layer>/<index in layer.weights>"
  {name: 'names_by_position', kind: () => 'uint8', rename: (w) => `${w.layer}/${w.index}`},
];

async function makeVariant(variant, model, topology, x) {
  const dir = path.join(OUT, variant.name);
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(dir, {recursive: true});
  // the model's weights in model order, then split into the two groups
  const all = [];
  for (const layer of model.layers) {
    layer.weights.forEach((w, index) => all.push(
        {name: w.originalName, layer: layer.name, index, shape: w.shape.slice(),
         values: Array.from(w.read().dataSync())}));
  }
  all.forEach((w, i) => { w.kind = variant.kind(i); });
  const bn = all.filter((w) => w.layer === 'bn1');
  const rest = all.filter((w) => w.layer !== 'bn1').reverse();  // not the model's order
  const manifest = [];
  [bn, rest].forEach((weights, g) => {
    const entries = [];
    const chunks = [];
    for (const w of weights) {
      const [entry, bytes] = encodeWeight(variant.rename ? variant.rename(w) : w.name, w.shape,
                                          w.values, w.kind);
      entries.push(entry);
      chunks.push(bytes);
    }
    const files = shard(Buffer.concat(chunks), g + 1);
    for (const [file, data] of files) fs.writeFileSync(path.join(dir, file), data);
    manifest.push({paths: files.map(([file]) => file), weights: entries});
  });
  const modelJSON = {modelTopology: topology, format: 'layers-model',
                     generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
                     convertedBy: 'tests/tfjs/make_quantized_fixtures.js',
                     weightsManifest: manifest};
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJSON));

  // what real TF.js makes of it
  const back = await tf.loadLayersModel(loadFolder(dir));
  const y = back.predict(x);
  const weights = {};
  for (const layer of back.layers) {
    for (const w of layer.weights) {
      weights[w.originalName] = Buffer.from(w.read().dataSync().buffer).toString('base64');
    }
  }
  const io = {input: tensorToJSON(x), output: tensorToJSON(y), weights};
  fs.writeFileSync(path.join(dir, 'io.json'), JSON.stringify(io) + '\n');
  const bytes = fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
  console.log(`${variant.name}: ${manifest.map((g) => g.paths.length).join(' + ')} shards, ` +
              `${bytes} bytes in all, output ${JSON.stringify(y.shape)}`);
}

async function main() {
  await setupTf();
  const model = build();
  setDeterministicWeights(model, SEED);
  // a constant weight: the converter's min == max case (all zeros, scale 1, min the value)
  const conv1 = model.getLayer('conv1');
  conv1.setWeights([conv1.getWeights()[0], tf.fill([4], 0.125)]);
  // the topology as TF.js writes it, from a float32 save
  const tmp = fs.mkdtempSync(path.join(require('os').tmpdir(), 'quant-'));
  await model.save(saveFolder(tmp));
  const topology = JSON.parse(fs.readFileSync(path.join(tmp, 'model.json'), 'utf8')).modelTopology;
  fs.rmSync(tmp, {recursive: true, force: true});
  const inShape = [2, 6, 6, 2];
  const x = tf.tensor(uniform(mulberry32(SEED + 1), prod(inShape), -1, 1), inShape);
  fs.mkdirSync(OUT, {recursive: true});
  for (const variant of VARIANTS) await makeVariant(variant, model, topology, x);
}

main().catch((e) => { console.error(e); process.exit(1); });
