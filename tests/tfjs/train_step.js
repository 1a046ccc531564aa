#!/usr/bin/env node
'use strict';
/**
 * node train_step.js
 *
 * The reference for "one training step must reproduce TF.js exactly".
 * Builds a small DepthwiseConv2D + BatchNormalization model with
 * deterministic weights and data, runs ONE `trainOnBatch` with SGD(0.1) and
 * categorical cross-entropy, and writes
 *   tests/fixtures/tfjs/train_step_model/   the model saved BEFORE training
 *                                            (as TF.js writes it, bug included)
 *   tests/fixtures/tfjs/train_step.json     layers, x, y, weights before,
 *                                            loss, weights after, findings
 *
 * It then re-derives the step by hand (plain tf ops + tf.grads, no layers
 * code) to settle three questions numerically instead of guessing:
 *   1. does the loss returned by trainOnBatch include the L2 penalty?
 *   2. does BN's moving_variance update use the biased (divide by N) or the
 *      unbiased (N - 1) batch variance?
 *   3. is the depthwise maxNorm constraint applied after the SGD update?
 * The answers go into train_step.json["findings"]; the script exits
 * non-zero if the hand-made step does not reproduce TF.js's.
 */
const fs = require('fs');
const path = require('path');
const {tf, setupTf, mulberry32, uniform, prod, tensorToJSON, layerWeightsToJSON,
       weightValues} = require('./common');
const {saveFolder} = require('./fs_io');

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'tfjs');
const SEED = 20240601;
const BATCH = 4;
const INPUT_SHAPE = [6, 6, 3];
const NUM_CLASSES = 4;
const LEARNING_RATE = 0.1;
const L2 = 0.01;
const BN_MOMENTUM = 0.99;
const BN_EPSILON = 1e-3;
// Inputs are "raw pixel"-sized, uniform in [-10, 10): large activations make
// the batch variance big enough that biased vs unbiased (x 144/143) shows up
// far above float32 rounding in moving_variance.
const INPUT_RANGE = 10;
// maxNorm over axes [0, 1, 2] of the (3, 3, 3, 1) depthwise kernel = one norm
// for the whole kernel (depthMultiplier 1). NB: TF.js's own default axis is 0
// (as in Keras), so the axis is given explicitly.
// Why 0.2 and not 1.0: BatchNormalization right after the depthwise conv
// makes the loss invariant to the kernel's scale, so its gradient is nearly
// orthogonal to the kernel and the L2 decay shrinks it; the norm grows in one
// SGD step only when the kernel is small. The kernel starts at norm 0.15
// (< 0.2, so setWeights, which applies the constraint, leaves it alone) and
// the step takes it to ~0.30 (> 0.2), so a trainer that applies the
// constraint after the update scales it by ~2/3. The script checks both facts.
const MAX_NORM = 0.2;
const MAX_NORM_AXIS = [0, 1, 2];
const INITIAL_KERNEL_NORM = 0.15;

function buildModel() {
  const m = tf.sequential({name: 'train_step'});
  m.add(tf.layers.depthwiseConv2d({
    name: 'depthwise', inputShape: INPUT_SHAPE, kernelSize: 3, padding: 'same',
    depthMultiplier: 1, useBias: true, dataFormat: 'channelsLast',
    depthwiseRegularizer: tf.regularizers.l2({l2: L2}),
    depthwiseConstraint: tf.constraints.maxNorm({maxValue: MAX_NORM, axis: MAX_NORM_AXIS}),
  }));
  m.add(tf.layers.batchNormalization({name: 'bn', momentum: BN_MOMENTUM, epsilon: BN_EPSILON}));
  m.add(tf.layers.reLU({name: 'relu6', maxValue: 6}));
  m.add(tf.layers.conv2d({name: 'pointwise', filters: 5, kernelSize: 1}));
  m.add(tf.layers.globalAveragePooling2d({name: 'gap'}));
  m.add(tf.layers.dense({name: 'classifier', units: NUM_CLASSES, activation: 'softmax'}));
  return m;
}

/** Deterministic weights; the depthwise kernel is rescaled to INITIAL_KERNEL_NORM. */
function setWeights(model, rng) {
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((w) => {
      let v = weightValues(rng, w.originalName, w.shape);
      if (w.originalName.endsWith('/depthwise_kernel')) {
        const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
        v = v.map((a) => a * INITIAL_KERNEL_NORM / norm);
      }
      return tf.tensor(v, w.shape);
    });
    layer.setWeights(values);
  }
}

/** The Keras-format (snake_case) layer list, with TF.js's depthwise_constraint bug undone. */
function kerasLayerList(model) {
  const topology = model.toJSON(null, false);  // same object model.json's modelTopology holds
  const layers = topology.config.layers;
  for (const entry of layers) {
    if (entry.class_name === 'DepthwiseConv2D') {
      entry.config.depthwise_constraint = {
        class_name: 'MaxNorm', config: {max_value: MAX_NORM, axis: MAX_NORM_AXIS}};
    }
  }
  return layers;
}

// ---------------------------------------------------------------------------
// The step by hand: only tf core ops, so nothing here shares code with
// tfjs-layers' training loop. p holds the weights before the step.

function maxNormApply(w, maxValue, axis) {
  // Keras/TF.js MaxNorm: w * clip(norm, 0, max) / (epsilon + norm), epsilon 1e-7.
  return tf.tidy(() => {
    const norms = tf.sqrt(tf.sum(tf.square(w), axis, true));
    return tf.mul(w, tf.div(tf.clipByValue(norms, 0, maxValue), tf.add(1e-7, norms)));
  });
}

function forwardTraining(p, x) {
  let h = tf.depthwiseConv2d(x, p.dk, 1, 'same');
  h = tf.add(h, p.db);
  // Normalise with the batch statistics (tf.moments divides by N; the
  // moving-average check below recomputes them in plain JS).
  const {mean, variance} = tf.moments(h, [0, 1, 2]);
  const hn = tf.batchNorm(h, mean, variance, p.beta, p.gamma, BN_EPSILON);
  const a = tf.clipByValue(tf.relu(hn), 0, 6);
  const c = tf.add(tf.conv2d(a, p.ck, 1, 'valid'), p.cb);
  const g = tf.mean(c, [1, 2]);
  const probs = tf.softmax(tf.add(tf.matMul(g, p.wk), p.wb));
  return {probs, h, mean, variance};
}

function crossEntropy(y, probs) {
  // Keras categorical_crossentropy on probabilities: renormalise, clip to
  // [eps, 1 - eps] with eps = 1e-7, -sum(y log p), mean over the batch.
  const p = tf.clipByValue(tf.div(probs, tf.sum(probs, -1, true)), 1e-7, 1 - 1e-7);
  return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.log(p)), -1)));
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Which of the named candidates is closest to `actual` (and by how much). */
function closest(actual, candidates) {
  const diffs = {};
  for (const [k, v] of Object.entries(candidates)) diffs[k] = maxAbsDiff(actual, v);
  const best = Object.keys(diffs).reduce((a, b) => (diffs[a] <= diffs[b] ? a : b));
  return {best, max_abs_diff: diffs};
}

async function main() {
  await setupTf();
  const rng = mulberry32(SEED);

  const model = buildModel();
  setWeights(model, rng);
  const x = tf.tensor(uniform(rng, BATCH * prod(INPUT_SHAPE), -INPUT_RANGE, INPUT_RANGE),
                      [BATCH, ...INPUT_SHAPE]);
  // One sample per class, in a PRNG-chosen rotation, so every softmax column gets a gradient.
  const offset = Math.floor(rng() * NUM_CLASSES);
  const labels = Array.from({length: BATCH}, (_, i) => (3 * i + offset) % NUM_CLASSES);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), NUM_CLASSES).toFloat();

  model.compile({optimizer: tf.train.sgd(LEARNING_RATE), loss: 'categoricalCrossentropy'});

  // Save BEFORE training, with the optimizer, as a TF.js user would.
  const modelDir = path.join(FIXTURES, 'train_step_model');
  fs.rmSync(modelDir, {recursive: true, force: true});
  await model.save(saveFolder(modelDir), {includeOptimizer: true});

  const layerNames = model.layers.map((l) => l.name);
  const before = model.layers.flatMap(layerWeightsToJSON);
  const get = (list, name) => list.find((w) => w.name === name).data;

  // ---- the step under test ----
  const loss = await model.trainOnBatch(x, y);

  const after = model.layers.flatMap(layerWeightsToJSON);

  // ---- the same step by hand ----
  const P = (name) => tf.tensor(get(before, name), before.find((w) => w.name === name).shape);
  const p = {
    dk: P('depthwise/depthwise_kernel'), db: P('depthwise/bias'),
    gamma: P('bn/gamma'), beta: P('bn/beta'), mm: P('bn/moving_mean'), mv: P('bn/moving_variance'),
    ck: P('pointwise/kernel'), cb: P('pointwise/bias'),
    wk: P('classifier/kernel'), wb: P('classifier/bias'),
  };
  const trainable = ['dk', 'db', 'gamma', 'beta', 'ck', 'cb', 'wk', 'wb'];
  const weightName = {dk: 'depthwise/depthwise_kernel', db: 'depthwise/bias', gamma: 'bn/gamma',
                      beta: 'bn/beta', ck: 'pointwise/kernel', cb: 'pointwise/bias',
                      wk: 'classifier/kernel', wb: 'classifier/bias'};

  const fwd = forwardTraining(p, x);
  const ce = crossEntropy(y, fwd.probs).dataSync()[0];
  // The L2 penalty in plain float64 JS: l2 * sum(w^2).
  const penalty = L2 * get(before, 'depthwise/depthwise_kernel').reduce((s, w) => s + w * w, 0);

  // Gradients of CE + penalty w.r.t. the trainable weights, then plain SGD.
  const lossFn = (...ws) => {
    const q = {...p};
    trainable.forEach((k, i) => { q[k] = ws[i]; });
    return tf.add(crossEntropy(y, forwardTraining(q, x).probs), tf.mul(L2, tf.sum(tf.square(q.dk))));
  };
  const grads = tf.grads(lossFn)(trainable.map((k) => p[k]));
  const sgd = {};
  trainable.forEach((k, i) => { sgd[k] = tf.sub(p[k], tf.mul(LEARNING_RATE, grads[i])); });

  // 1. loss: with or without the penalty?
  const lossCheck = closest([loss], {cross_entropy_only: [ce], cross_entropy_plus_l2_penalty: [ce + penalty]});

  // 2. BN moving statistics: biased or unbiased batch variance?
  // Batch statistics of the BN input recomputed in plain float64 JS from the
  // depthwise output (NHWC, channel innermost), so "biased" means divide by N
  // here and does not rest on what tf.moments happens to do.
  const C = INPUT_SHAPE[2];
  const hData = fwd.h.dataSync();
  const n = hData.length / C;  // BATCH * 6 * 6 values per channel
  const mean = new Float64Array(C);
  const sq = new Float64Array(C);
  for (let i = 0; i < hData.length; i++) mean[i % C] += hData[i] / n;
  for (let i = 0; i < hData.length; i++) sq[i % C] += (hData[i] - mean[i % C]) ** 2;
  const varBiased = tf.tensor(Array.from(sq, (v) => v / n));
  const varUnbiased = tf.tensor(Array.from(sq, (v) => v / (n - 1)));
  const ema = (old, v) => tf.sub(old, tf.mul(tf.sub(old, v), 1 - BN_MOMENTUM)).dataSync();
  const mvCheck = closest(get(after, 'bn/moving_variance'), {
    biased_batch_variance: ema(p.mv, varBiased), unbiased_batch_variance: ema(p.mv, varUnbiased)});
  const mmCheck = maxAbsDiff(get(after, 'bn/moving_mean'), ema(p.mm, tf.tensor(Array.from(mean))));

  // 3. constraint: is the updated kernel projected by maxNorm?
  const dkUpdated = sgd.dk;
  const normOf = (t) => Math.sqrt(tf.sum(tf.square(t)).dataSync()[0]);
  const dkProjected = maxNormApply(dkUpdated, MAX_NORM, MAX_NORM_AXIS);
  const dkAfter = get(after, 'depthwise/depthwise_kernel');
  const constraintCheck = closest(dkAfter, {
    sgd_update_without_constraint: dkUpdated.dataSync(), sgd_update_then_maxnorm: dkProjected.dataSync()});
  const norms = {before: normOf(p.dk), after_sgd_unconstrained: normOf(dkUpdated),
                 tfjs_after: normOf(tf.tensor(dkAfter)), max_value: MAX_NORM};

  // Every other trainable weight must follow plain SGD (sanity check of the hand-made step).
  const sgdDiffs = {};
  for (const k of trainable) sgdDiffs[weightName[k]] = maxAbsDiff(get(after, weightName[k]), sgd[k].dataSync());

  // A finding counts only if one candidate matches TF.js to float32 rounding
  // (values are O(1)) and the other is at least 10x the tolerance away.
  const TOL = 1e-6;
  const problems = [];
  const decided = (what, check) => {
    const diffs = Object.values(check.max_abs_diff).sort((a, b) => a - b);
    if (diffs[0] > TOL) problems.push(`${what}: no candidate reproduces TF.js: ${JSON.stringify(check)}`);
    else if (diffs[1] < 10 * TOL) problems.push(`${what}: candidates too close to tell apart: ${JSON.stringify(check)}`);
  };
  if (!(norms.before < MAX_NORM && norms.after_sgd_unconstrained > MAX_NORM)) {
    problems.push(`the SGD step does not take the kernel norm across max_value: ${JSON.stringify(norms)}`);
  }
  decided('loss', lossCheck);
  decided('bn/moving_variance', mvCheck);
  decided('depthwise/depthwise_kernel', constraintCheck);
  if (mmCheck > TOL) problems.push(`bn/moving_mean not reproduced: ${mmCheck}`);
  for (const [k, d] of Object.entries(sgdDiffs)) {
    if (d > TOL && k !== 'depthwise/depthwise_kernel') problems.push(`${k} is not plain SGD: ${d}`);
  }

  const findings = {
    loss_includes_regularization: lossCheck.best === 'cross_entropy_plus_l2_penalty',
    loss_check: {tfjs_loss: loss, cross_entropy: ce, l2_penalty: penalty, ...lossCheck},
    bn_moving_variance_uses: mvCheck.best === 'biased_batch_variance' ? 'biased' : 'unbiased',
    bn_moving_variance_check: {n_per_channel: n, ...mvCheck},
    bn_moving_mean_max_abs_diff: mmCheck,
    bn_update_rule: 'moving = moving - (moving - batch_stat) * (1 - momentum)',
    constraint_applied_after_update: constraintCheck.best === 'sgd_update_then_maxnorm',
    constraint_check: {kernel_norms: norms, ...constraintCheck},
    sgd_check_max_abs_diff: sgdDiffs,
  };

  // The depthwise kernel as a Keras-semantics trainer (constraint applied
  // after the optimizer update) would leave it; TF.js itself does not.
  const kerasKernel = {name: 'depthwise/depthwise_kernel', shape: dkUpdated.shape,
                       data: Array.from(dkProjected.dataSync())};

  const out = {
    description: 'One TF.js trainOnBatch step (tfjs 4.22.0, cpu backend). Weights are listed ' +
                 'layer by layer in Keras get_weights order. See tests/fixtures/tfjs/README.md.',
    tfjs_version: tf.version.tfjs,
    model_dir: 'train_step_model',
    layers: kerasLayerList(model),
    layer_names: layerNames,
    compile: {optimizer: {class_name: 'SGD', config: {learning_rate: LEARNING_RATE}},
              loss: 'categorical_crossentropy'},
    x: tensorToJSON(x),
    y: tensorToJSON(y),
    weights_before: before,
    loss,
    weights_after: after,
    depthwise_kernel_after_if_constraint_applied: kerasKernel,
    findings,
  };
  fs.writeFileSync(path.join(FIXTURES, 'train_step.json'), JSON.stringify(out, null, 1) + '\n');

  console.log(JSON.stringify(findings, null, 2));
  if (problems.length) {
    console.error('train_step.js: the hand-made step does not match TF.js:\n  ' + problems.join('\n  '));
    process.exit(1);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
