#!/usr/bin/env node
'use strict';
/**
 * node make_fixtures.js
 *
 * Builds small TF.js models, sets every weight from a fixed PRNG, and saves
 * each one as a TF.js layers-model folder under tests/fixtures/tfjs/<name>/
 * (model.json + weights.bin, written exactly as tfjs-node's file:// handler
 * would) plus io.json = {"input": {shape, data}, "output": {shape, data},
 * "tfjs_reload": {...}}: TF.js's own prediction on a fixed input, and whether
 * TF.js could load its own folder back.
 *
 * minigrad's tests load these folders (mg.models.load_model) and must predict
 * io.json's output from io.json's input.
 *
 * Deterministic: same TF.js version + same script => byte-identical files.
 */
const fs = require('fs');
const path = require('path');
const {tf, setupTf, mulberry32, uniform, prod, tensorToJSON, setDeterministicWeights} = require('./common');
const {loadFolder, saveFolder} = require('./fs_io');

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'tfjs');

// ---------------------------------------------------------------------------
// The models. Layer names are left to TF.js in (a) and (c), so the files show
// TF.js's automatic naming ("conv2d_Conv2D1", ...); (b) names its layers.

/** (a) A MobileNet-v1 block in miniature; carries TF.js's depthwise_constraint bug. */
function mobilenetV1Tiny() {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({inputShape: [12, 12, 3], filters: 8, kernelSize: 3, strides: 2,
                          padding: 'same', useBias: false, dataFormat: 'channelsLast'}));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.reLU({maxValue: 6}));
  m.add(tf.layers.depthwiseConv2d({
    kernelSize: 3, padding: 'same', depthMultiplier: 1,
    depthwiseRegularizer: tf.regularizers.l2({l2: 1e-4}),
    // TF.js's maxNorm default axis is 0 (it is in Keras too).
    depthwiseConstraint: tf.constraints.maxNorm({maxValue: 2}),
  }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.reLU({maxValue: 6}));
  m.add(tf.layers.conv2d({filters: 16, kernelSize: 1}));
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dense({units: 10, activation: 'softmax'}));
  return m;
}

/**
 * (b) Functional model covering DepthwiseConv2D's arguments. The input is
 * 10x10 (even) so that 'same' with stride 2 pads asymmetrically (the extra
 * row/column at the bottom/right, TensorFlow's rule):
 *   a1: k3, depthMultiplier 2, same, stride 1, relu       10x10x3 -> 10x10x6
 *   a2: k3, stride 2, valid, maxNorm(3) constraint        10x10x6 -> 4x4x6
 *   b1: k[3,5], depthMultiplier 2, same, stride 2         10x10x3 -> 5x5x6
 *       (pads: rows 0 top / 1 bottom, cols 1 left / 2 right)
 *   b2: k2, valid, no bias                                5x5x6   -> 4x4x6
 *   add(a2, b2) -> flatten -> dense(5)
 */
function depthwiseVariants() {
  const inp = tf.input({shape: [10, 10, 3], name: 'image'});
  const a1 = tf.layers.depthwiseConv2d({name: 'dw_a1_dm2_same', kernelSize: 3, depthMultiplier: 2,
                                        padding: 'same', activation: 'relu'}).apply(inp);
  // a2 has a constraint but no regularizer: TF.js's getConfig bug then writes
  // "depthwise_constraint": null, i.e. the constraint silently vanishes.
  const a2 = tf.layers.depthwiseConv2d({name: 'dw_a2_s2_valid', kernelSize: 3, strides: 2,
                                        padding: 'valid',
                                        depthwiseConstraint: tf.constraints.maxNorm(
                                            {maxValue: 3, axis: [0, 1, 2]})}).apply(a1);
  const b1 = tf.layers.depthwiseConv2d({name: 'dw_b1_k3x5_s2_same', kernelSize: [3, 5],
                                        depthMultiplier: 2, strides: 2, padding: 'same'}).apply(inp);
  const b2 = tf.layers.depthwiseConv2d({name: 'dw_b2_k2_nobias', kernelSize: 2, padding: 'valid',
                                        useBias: false}).apply(b1);
  const sum = tf.layers.add({name: 'add'}).apply([a2, b2]);
  const flat = tf.layers.flatten({name: 'flatten'}).apply(sum);
  const out = tf.layers.dense({name: 'logits', units: 5}).apply(flat);
  return tf.model({inputs: inp, outputs: out, name: 'depthwise_variants'});
}

/** (c) A plain MLP; Dropout must be the identity at inference. */
function mlp() {
  const m = tf.sequential();
  m.add(tf.layers.flatten({inputShape: [4, 4]}));
  m.add(tf.layers.dense({units: 16, activation: 'relu'}));
  m.add(tf.layers.dropout({rate: 0.5}));
  m.add(tf.layers.dense({units: 3, activation: 'softmax'}));
  return m;
}

const SPECS = [
  {name: 'mobilenet_v1_tiny', build: mobilenetV1Tiny, seed: 1001, batch: 2},
  {name: 'depthwise_variants', build: depthwiseVariants, seed: 2002, batch: 2},
  {name: 'mlp', build: mlp, seed: 3003, batch: 3},
];

async function makeOne(spec) {
  const dir = path.join(FIXTURES, spec.name);
  fs.rmSync(dir, {recursive: true, force: true});
  const model = spec.build();
  setDeterministicWeights(model, spec.seed);

  // Fixed input from its own PRNG stream (seed + 1), values in [-1, 1).
  const inShape = [spec.batch, ...model.inputs[0].shape.slice(1)];
  const x = tf.tensor(uniform(mulberry32(spec.seed + 1), prod(inShape), -1, 1), inShape);
  const y = model.predict(x);

  await model.save(saveFolder(dir));

  // Can TF.js open what it just wrote? Record the answer instead of failing:
  // (a) is expected to trip over the depthwise_constraint bug.
  const reload = {ok: false};
  try {
    const back = await tf.loadLayersModel(loadFolder(dir));
    const y2 = back.predict(x);
    reload.ok = true;
    reload.max_abs_diff = tf.max(tf.abs(tf.sub(y, y2))).dataSync()[0];
    // What the reloaded DepthwiseConv2D layers actually hold as "constraint".
    const dws = back.layers.filter((l) => l.getClassName() === 'DepthwiseConv2D');
    if (dws.length) {
      reload.depthwise_constraint_classes = dws.map((l) =>
        (l.depthwiseConstraint == null ? null : l.depthwiseConstraint.getClassName()));
    }
  } catch (e) {
    reload.error = String(e && e.message ? e.message : e);
  }

  const io = {input: tensorToJSON(x), output: tensorToJSON(y), tfjs_reload: reload};
  fs.writeFileSync(path.join(dir, 'io.json'), JSON.stringify(io) + '\n');

  const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const names = mj.weightsManifest[0].weights.map((w) => `${w.name} ${JSON.stringify(w.shape)}`);
  const bytes = fs.statSync(path.join(dir, 'weights.bin')).size;
  console.log(`${spec.name}: ${bytes} bytes of weights, output ${JSON.stringify(y.shape)}, ` +
              `reload ${reload.ok ? `ok (max |diff| ${reload.max_abs_diff})` : `FAILED: ${reload.error}`}`);
  for (const n of names) console.log(`    ${n}`);
  return {name: spec.name, reload};
}

async function main() {
  await setupTf();
  fs.mkdirSync(FIXTURES, {recursive: true});
  for (const spec of SPECS) await makeOne(spec);
}

main().catch((e) => { console.error(e); process.exit(1); });
