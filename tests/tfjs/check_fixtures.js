#!/usr/bin/env node
'use strict';
/**
 * node check_fixtures.js
 *
 * Checks that the committed fixtures under tests/fixtures/tfjs/ are
 * consistent with TF.js, using predict.js the way a Python test would (as a
 * child process), and exits non-zero on any mismatch:
 *
 *  - <fixture>/ with io.json and tfjs_reload.ok: `predict.js DIR DIR/io.json`
 *    must exit 0 and print io.json's output.
 *  - <fixture>/ with tfjs_reload.ok === false (TF.js cannot read the file it
 *    wrote, see README): predict.js must fail with exit code 3 (still the
 *    same TF.js bug), and a copy with every DepthwiseConv2D
 *    "depthwise_constraint" set to null (constraints play no part in
 *    inference) must predict io.json's output, which shows that everything
 *    else in the folder is right.
 *  - train_step_model/ + train_step.json: same bug; the patched copy must
 *    load and hold exactly train_step.json's weights_before, and the findings
 *    must be present.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const {spawnSync} = require('child_process');

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'tfjs');
const PREDICT = path.join(__dirname, 'predict.js');
const TOL = 1e-6;  // same TF.js, same kernels: the numbers should agree exactly

let failures = 0;
const ok = (msg) => console.log(`ok    ${msg}`);
const bad = (msg) => { failures++; console.log(`FAIL  ${msg}`); };

function runPredict(dir, inputJson) {
  const r = spawnSync(process.execPath, [PREDICT, dir, inputJson], {encoding: 'utf8'});
  let out = null;
  if (r.status === 0) {
    try { out = JSON.parse(r.stdout); } catch (e) { out = null; }
  }
  return {status: r.status, out, stderr: r.stderr, stdout: r.stdout};
}

function maxAbsDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function sameTensor(got, want) {
  return got != null && JSON.stringify(got.shape) === JSON.stringify(want.shape) &&
         maxAbsDiff(got.data, want.data) <= TOL;
}

/** A temporary copy of `dir` with every DepthwiseConv2D depthwise_constraint set to null. */
function patchedCopy(dir) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tfjs-fixture-'));
  for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(tmp, f));
  const mj = JSON.parse(fs.readFileSync(path.join(tmp, 'model.json'), 'utf8'));
  let n = 0;
  for (const layer of mj.modelTopology.config.layers) {
    if (layer.class_name === 'DepthwiseConv2D') { layer.config.depthwise_constraint = null; n++; }
  }
  fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(mj));
  return {tmp, patched: n};
}

function checkIoFixture(name) {
  const dir = path.join(FIXTURES, name);
  const ioPath = path.join(dir, 'io.json');
  const io = JSON.parse(fs.readFileSync(ioPath, 'utf8'));
  const r = runPredict(dir, ioPath);
  if (io.tfjs_reload && io.tfjs_reload.ok === false) {
    if (r.status === 3) ok(`${name}: TF.js still cannot load its own file (exit 3), as recorded`);
    else bad(`${name}: expected predict.js to fail loading (exit 3), got exit ${r.status}`);
    const {tmp, patched} = patchedCopy(dir);
    const r2 = runPredict(tmp, ioPath);
    if (r2.status === 0 && sameTensor(r2.out, io.output)) {
      ok(`${name}: with ${patched} depthwise_constraint(s) nulled, predict.js reproduces io.json`);
    } else {
      bad(`${name}: patched copy: exit ${r2.status}, ${r2.stderr.trim().split('\n').pop()}`);
    }
    fs.rmSync(tmp, {recursive: true, force: true});
  } else if (r.status === 0 && sameTensor(r.out, io.output)) {
    ok(`${name}: predict.js reproduces io.json (${JSON.stringify(io.output.shape)})`);
  } else {
    bad(`${name}: predict.js exit ${r.status}; ${r.status === 0 ? 'output differs from io.json' :
        r.stderr.trim().split('\n').pop()}`);
  }
}

async function checkTrainStep() {
  const jsonPath = path.join(FIXTURES, 'train_step.json');
  const dir = path.join(FIXTURES, 'train_step_model');
  if (!fs.existsSync(jsonPath) || !fs.existsSync(path.join(dir, 'model.json'))) {
    bad('train_step: train_step.json or train_step_model/ is missing (run node train_step.js)');
    return;
  }
  const ts = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  for (const k of ['layers', 'x', 'y', 'weights_before', 'loss', 'weights_after', 'findings']) {
    if (ts[k] === undefined) bad(`train_step.json has no "${k}"`);
  }
  // The saved (pre-training) folder, bug patched out, must hold weights_before.
  const {tf, setupTf} = require('./common');
  const {loadFolder} = require('./fs_io');
  await setupTf();
  const {tmp} = patchedCopy(dir);
  try {
    const model = await tf.loadLayersModel(loadFolder(tmp));
    const byName = new Map(model.weights.map((w) => [w.originalName, Array.from(w.read().dataSync())]));
    const diffs = ts.weights_before.map((w) => maxAbsDiff(byName.get(w.name) || [], w.data));
    if (diffs.every((d) => d === 0) && byName.size === ts.weights_before.length) {
      ok(`train_step_model: holds train_step.json weights_before (${byName.size} weights)`);
    } else {
      bad(`train_step_model: weights differ from weights_before: ${JSON.stringify(diffs)}`);
    }
  } catch (e) {
    bad(`train_step_model: patched copy does not load: ${e.message}`);
  }
  fs.rmSync(tmp, {recursive: true, force: true});
}

async function main() {
  const names = fs.readdirSync(FIXTURES).filter(
      (d) => fs.existsSync(path.join(FIXTURES, d, 'io.json'))).sort();
  for (const want of ['mobilenet_v1_tiny', 'depthwise_variants', 'mlp']) {
    if (!names.includes(want)) bad(`${want}: fixture missing (run node make_fixtures.js)`);
  }
  // make_quantized_fixtures.js's quantized / sharded folders, one level down
  const manifests = path.join(FIXTURES, 'manifests');
  if (fs.existsSync(manifests)) {
    names.push(...fs.readdirSync(manifests).sort()
        .filter((d) => fs.existsSync(path.join(manifests, d, 'io.json')))
        .map((d) => `manifests/${d}`));
  }
  for (const name of names) checkIoFixture(name);
  await checkTrainStep();
  if (failures) {
    console.log(`${failures} check(s) failed`);
    process.exit(1);
  }
  console.log('all fixture checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
