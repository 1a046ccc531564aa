#!/usr/bin/env node
'use strict';
/**
 * node predict.js MODEL_DIR INPUT_JSON
 *
 * Loads the layers-model folder MODEL_DIR (model.json + weights) with real
 * TF.js (`tf.loadLayersModel`), predicts on the input(s) in INPUT_JSON and
 * prints ONE JSON value on stdout:
 *   input  {"shape": [...], "data": [flat floats]}          (one model input)
 *          [{"shape", "data"}, ...]                          (several inputs, model order)
 *   output {"shape": [...], "data": [...]}  or a list of them (several outputs)
 * INPUT_JSON may also be an io.json-style object {"input": ..., ...}; then its
 * "input" member is used, so `predict.js DIR DIR/io.json` works on fixtures.
 *
 * A Python test runs this to prove that a folder saved by minigrad opens in
 * TF.js and predicts the same numbers. Exit codes: 0 ok, 2 usage / bad input,
 * 3 TF.js could not load the model, 4 predict failed. Messages go to stderr.
 */
const fs = require('fs');
const {setupTf, tensorToJSON, tensorFromJSON} = require('./common');
const {loadFolder} = require('./fs_io');

function fail(code, msg) {
  process.stderr.write(`predict.js: ${msg}\n`);
  process.exit(code);
}

async function main() {
  const [modelDir, inputPath] = process.argv.slice(2);
  if (!modelDir || !inputPath || process.argv.length !== 4) {
    fail(2, 'usage: node predict.js MODEL_DIR INPUT_JSON');
  }
  let spec;
  try {
    spec = JSON.parse(fs.readFileSync(inputPath, 'utf8'));
  } catch (e) {
    fail(2, `cannot read input JSON ${inputPath}: ${e.message}`);
  }
  if (spec && !Array.isArray(spec) && spec.input !== undefined && spec.shape === undefined) {
    spec = spec.input;
  }

  const tf = await setupTf();
  let model;
  try {
    model = await tf.loadLayersModel(loadFolder(modelDir));
  } catch (e) {
    fail(3, `TF.js could not load the model in ${modelDir}: ${e.stack || e}`);
  }

  const several = Array.isArray(spec);
  const specs = several ? spec : [spec];
  if (specs.length !== model.inputs.length) {
    fail(2, `the model has ${model.inputs.length} input(s), INPUT_JSON gives ${specs.length}`);
  }
  let inputs;
  try {
    inputs = specs.map((s, i) => tensorFromJSON(s, `input ${i}`));
  } catch (e) {
    fail(2, e.message);
  }

  let out;
  try {
    out = model.predict(several ? inputs : inputs[0]);
  } catch (e) {
    fail(4, `model.predict failed: ${e.stack || e}`);
  }
  const result = Array.isArray(out) ? out.map(tensorToJSON) : tensorToJSON(out);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((e) => fail(1, e.stack || String(e)));
