'use strict';
/**
 * File-system IO handlers for the pure-JS `@tensorflow/tfjs` package.
 *
 * The pure-JS package only knows browser storage and HTTP; the `file://`
 * handler lives in `@tensorflow/tfjs-node`, which needs a native TensorFlow
 * binary we do not want in a test oracle. These two handlers read and write
 * the same "layers-model" folder that tfjs-node's `NodeFileSystem` does:
 *
 *   DIR/model.json   {modelTopology, weightsManifest, format, generatedBy,
 *                     convertedBy[, trainingConfig][, userDefinedMetadata]}
 *   DIR/weights.bin  every weight's raw little-endian bytes, in manifest order
 *
 * Usage:
 *   const model = await tf.loadLayersModel(loadFolder('some/dir'));
 *   await model.save(saveFolder('some/dir'));
 */
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const MODEL_JSON_FILENAME = 'model.json';
const WEIGHTS_BINARY_FILENAME = 'weights.bin';

/** A Node Buffer -> a standalone ArrayBuffer (a Buffer may be a view into a shared pool). */
function toArrayBuffer(buf) {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
}

/**
 * An IOHandler whose `load()` reads DIR/model.json and every file named in its
 * `weightsManifest` (paths relative to DIR, concatenated group by group, path
 * by path, exactly as tfjs-node and the HTTP loader do).
 */
function loadFolder(dir) {
  const modelJsonPath = path.join(dir, MODEL_JSON_FILENAME);
  return {
    load: async () => {
      let modelJSON;
      try {
        modelJSON = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8'));
      } catch (e) {
        throw new Error(`cannot read ${modelJsonPath}: ${e.message}`);
      }
      // getModelArtifactsForJSON copies modelTopology, format, generatedBy,
      // convertedBy, trainingConfig, userDefinedMetadata, ... so the artifacts
      // are the same ones TF.js's own loaders would produce.
      return tf.io.getModelArtifactsForJSON(modelJSON, async (manifest) => {
        const buffers = [];
        const specs = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const weightPath = path.join(dir, p);
            if (!fs.existsSync(weightPath)) {
              throw new Error(`weight file ${weightPath} named in the manifest does not exist`);
            }
            buffers.push(toArrayBuffer(fs.readFileSync(weightPath)));
          }
          specs.push(...group.weights);
        }
        return [specs, tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

/**
 * A save handler (for `model.save(...)`) writing DIR/model.json and
 * DIR/weights.bin. The JSON is built with the same keys, in the same order,
 * and serialised the same way (compact JSON.stringify) as tfjs-node's
 * `file://` handler, so the files are what a TF.js user would have on disk.
 */
function saveFolder(dir) {
  return tf.io.withSaveHandler(async (artifacts) => {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error('saveFolder: binary (GraphDef) topology is not supported');
    }
    fs.mkdirSync(dir, {recursive: true});
    const modelJSON = {
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{paths: [WEIGHTS_BINARY_FILENAME], weights: artifacts.weightSpecs}],
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
    };
    if (artifacts.trainingConfig != null) modelJSON.trainingConfig = artifacts.trainingConfig;
    if (artifacts.userDefinedMetadata != null) {
      modelJSON.userDefinedMetadata = artifacts.userDefinedMetadata;
    }
    // In tfjs 4.x weightData may be one ArrayBuffer or a list of them.
    const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    fs.writeFileSync(path.join(dir, MODEL_JSON_FILENAME), JSON.stringify(modelJSON), 'utf8');
    fs.writeFileSync(path.join(dir, WEIGHTS_BINARY_FILENAME), Buffer.from(weightData));
    return {modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts)};
  });
}

module.exports = {loadFolder, saveFolder, MODEL_JSON_FILENAME, WEIGHTS_BINARY_FILENAME};
