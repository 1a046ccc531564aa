"""Models: ``Sequential`` stacks and functional ``Model`` graphs of layers, trained with
``compile`` / ``fit`` and saved as TF.js layers-model folders.

>>> import numpy as np, minigrad as mg
>>> model = mg.models.Sequential([mg.layers.Dense(2, input_shape=(3,))])
>>> model.compile(optimizer="sgd", loss="mse")
>>> round(model.evaluate(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0), 6)
0.0
"""
from .functional import Model
from .keras_json import model_from_config, model_from_json
from .saving import load_model
from .sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "model_from_json", "model_from_config"]
