"""Model files: one module per file format. They know formats, not models.

* :mod:`~minigrad.io.tfjs`: TF.js "layers-model" folders (``model.json`` + ``weights.bin``, and
  minigrad's ``optimizer.bin``), what ``model.save(folder)`` writes and ``tf.loadLayersModel``
  reads; its weights manifest is :mod:`~minigrad.io.weights_manifest`.
* :mod:`~minigrad.io.keras_v3`: Keras 3 ``.keras`` archives (a zip of ``config.json``,
  ``metadata.json`` and ``model.weights.h5``) and ``.weights.h5`` files.
* :mod:`~minigrad.io.keras_h5`: legacy Keras ``.h5`` / ``.hdf5`` full-model files.
* :mod:`~minigrad.io.keras_common`: what those two share; HDF5 needs the optional h5py
  (``pip install "minigrad[keras]"``), imported only when such a file is read or written.

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
from . import keras_common, keras_h5, keras_v3, tfjs, weights_manifest

__all__ = ["ModelFileError", "tfjs", "weights_manifest", "keras_v3", "keras_h5", "keras_common"]
