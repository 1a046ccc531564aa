'use strict';
/**
 * Small helpers shared by the TF.js oracle scripts: backend setup, a seeded
 * PRNG, and the `{"shape": [...], "data": [...]}` JSON form of a tensor.
 */
const tf = require('@tensorflow/tfjs');

/**
 * Pin the pure-JS CPU backend. In Node the package also registers 'webgl',
 * which fails and falls back with warnings; choosing 'cpu' up front makes the
 * numbers come from one known implementation (float32 Float32Array kernels).
 */
async function setupTf() {
  await tf.setBackend('cpu');
  await tf.ready();
  // The CPU backend prints a one-time "install tfjs-node to speed things up"
  // banner on its first tensor; we use the pure-JS backend on purpose, so mark
  // the banner as shown to keep stderr for real errors.
  tf.backend().firstUse = false;
  if (tf.getBackend() !== 'cpu') throw new Error(`expected the cpu backend, got ${tf.getBackend()}`);
  return tf;
}

/**
 * mulberry32: a tiny 32-bit seeded PRNG. We set every weight and input from it
 * instead of relying on TF.js's seeded initializers, so the fixture numbers do
 * not depend on TF.js's RNG internals and can be regenerated exactly.
 * Returns a function giving floats in [0, 1).
 */
function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n floats uniform in [lo, hi), rounded to float32 so JSON holds exactly what TF.js sees. */
function uniform(rng, n, lo, hi) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

const prod = (shape) => shape.reduce((a, b) => a * b, 1);

/** A tensor -> {shape, data} with data a flat row-major (C-order) list of numbers. */
function tensorToJSON(t) {
  return {shape: t.shape.slice(), data: Array.from(t.dataSync())};
}

/** {shape, data} -> a float32 tensor, checking that the sizes agree. */
function tensorFromJSON(obj, what = 'tensor') {
  if (obj == null || !Array.isArray(obj.shape) || !Array.isArray(obj.data)) {
    throw new Error(`${what}: expected {"shape": [...], "data": [...]}, got ${JSON.stringify(obj).slice(0, 200)}`);
  }
  if (prod(obj.shape) !== obj.data.length) {
    throw new Error(`${what}: shape ${JSON.stringify(obj.shape)} holds ${prod(obj.shape)} values ` +
                    `but data has ${obj.data.length}`);
  }
  return tf.tensor(obj.data, obj.shape, 'float32');
}

/**
 * Weights of one layer in Keras `get_weights()` order (trainable weights, then
 * non-trainable, in creation order; e.g. BatchNormalization gives gamma, beta,
 * moving_mean, moving_variance), as {name, shape, data}. `name` is the
 * variable's originalName (`<layer name>/<weight name>`), the same string the
 * saved manifest uses.
 */
function layerWeightsToJSON(layer) {
  return layer.weights.map((w) => ({name: w.originalName, shape: w.shape.slice(),
                                    data: Array.from(w.read().dataSync())}));
}

/**
 * Values for one weight, chosen by what the weight is (its name after the
 * last '/'), so that every weight is non-trivial: BatchNormalization gets
 * moving statistics and gamma/beta far from (0, 1, 1, 0), so inference is not
 * the identity, and kernels get Glorot-sized values so activations stay O(1).
 */
function weightValues(rng, name, shape) {
  const n = prod(shape);
  const kind = name.split('/').pop();
  switch (kind) {
    case 'gamma': return uniform(rng, n, 0.5, 1.5);
    case 'beta': return uniform(rng, n, -0.5, 0.5);
    case 'moving_mean': return uniform(rng, n, -0.5, 0.5);
    case 'moving_variance': return uniform(rng, n, 0.5, 2.0);
    case 'bias': return uniform(rng, n, -0.2, 0.2);
    default: {  // kernel, depthwise_kernel, ...: Glorot-uniform-like limit
      const receptive = shape.length > 2 ? prod(shape.slice(0, -2)) : 1;
      const fanIn = receptive * shape[shape.length - 2];
      const fanOut = receptive * shape[shape.length - 1];
      const lim = Math.sqrt(6 / (fanIn + fanOut));
      return uniform(rng, n, -lim, lim);
    }
  }
}

/**
 * Overwrite every weight of `model` from mulberry32(seed), layer by layer in
 * Keras get_weights order. Note: Layer.setWeights goes through
 * LayerVariable.write, which applies the weight's constraint, so a
 * constrained kernel may differ from the drawn values by rounding; we always
 * read values back from the model, never from the draw.
 */
function setDeterministicWeights(model, seed) {
  const rng = mulberry32(seed);
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    layer.setWeights(layer.weights.map(
        (w) => tf.tensor(weightValues(rng, w.originalName, w.shape), w.shape)));
  }
}

/** Every layer's weights, layer by layer (Keras order), flattened into one list. */
function modelWeightsToJSON(model) {
  return model.layers.flatMap(layerWeightsToJSON);
}

module.exports = {tf, setupTf, mulberry32, uniform, prod, tensorToJSON, tensorFromJSON,
                  layerWeightsToJSON, modelWeightsToJSON, weightValues,
                  setDeterministicWeights};
