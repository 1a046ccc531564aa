"""Model files: one module per file format. They know formats, not models.

* :mod:`~minigrad.io.tfjs`: TF.js "layers-model" folders (``model.json`` + ``weights.bin``, and
  minigrad's ``optimizer.bin``), what ``model.save(folder)`` writes and ``tf.loadLayersModel``
  reads; its weights manifest is :mod:`~minigrad.io.weights_manifest`.
* Keras 3 ``.keras`` archives, legacy Keras ``.h5`` files and ONNX export will join them, one
  module each.

:mod:`minigrad.models.saving` turns models into what these modules write and back
(``model.save``, ``mg.models.load_model``, ``save_weights``, ``load_weights``), choosing the
format from the path as Keras 3 does.

The rules every format follows:

* A file holds JSON, HDF5, zip, protobuf and raw arrays only: no pickle, nothing evaluated.
* A class name read from a file is looked up in the one registry (``minigrad.serialization``),
  never imported or found with ``getattr``.
* A file or member name read from a file must stay inside its folder or archive.
* Writes are atomic (:func:`~minigrad.io.safe_files.atomic_write`: a temporary file, then
  ``os.replace``), the part that commits the save last.
* A file that cannot be read raises :class:`ModelFileError` (a ``ValueError``) naming the file
  and what is wrong, before any model is built.
"""
from .safe_files import ModelFileError
from . import tfjs, weights_manifest

__all__ = ["ModelFileError", "tfjs", "weights_manifest"]
