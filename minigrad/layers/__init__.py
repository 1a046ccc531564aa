"""Layers: the Keras/TF.js-style building blocks of models.

Every layer class is registered in one table (:data:`registry`), through which
:func:`serialize` and :func:`deserialize` (and model files) turn layers into
``{"class_name", "config"}`` entries and back:

>>> import minigrad as mg
>>> entry = mg.layers.serialize(mg.layers.ReLU(max_value=6.0, name="relu6"))
>>> entry["class_name"], entry["config"]["max_value"]
('ReLU', 6.0)
>>> mg.layers.deserialize(entry).name
'relu6'
"""
from ..variable import Variable
from .base import Layer, registry
from .input_spec import InputSpec
from .symbolic import SymbolicTensor
from .activation_layers import ELU, LeakyReLU, PReLU, Softmax
from .convolutional import BaseConv, Conv1D, Conv2D
from .depthwise import (BaseDepthwiseConv, BaseSeparableConv, DepthwiseConv1D, DepthwiseConv2D,
                        SeparableConv1D, SeparableConv2D)
from .conv_transpose import Conv2DTranspose
from .core import Activation, Dense, Dropout, Flatten, Input, InputLayer, ReLU, Reshape
from .merging import (Add, Average, Concatenate, Dot, Maximum, Merge, Minimum, Multiply,
                      Subtract, add, average, concatenate, dot, maximum, minimum, multiply,
                      subtract)
from .normalization import BatchNormalization, GroupNormalization, LayerNormalization
from .pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                      GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                      MaxPooling1D, MaxPooling2D, ZeroPadding2D)
from .reshaping import (Cropping1D, Cropping2D, Permute, RepeatVector, UpSampling1D,
                        UpSampling2D, ZeroPadding1D)
from .regularization import (GaussianDropout, GaussianNoise, SpatialDropout1D,
                             SpatialDropout2D)
from .preprocessing import CenterCrop, Rescaling, Resizing
from .augmentation import (RandomContrast, RandomFlip, RandomRotation, RandomTranslation,
                           RandomZoom)


# Keras 3's other names for the same classes (the registry reads them in files too)
Convolution1D, Convolution2D, Convolution2DTranspose = Conv1D, Conv2D, Conv2DTranspose
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = MaxPooling1D, MaxPooling2D, AveragePooling1D, \
    AveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D


def serialize(layer):
    """``{"class_name": ..., "config": layer.get_config()}``, the entry a model file holds."""
    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize: expected a Layer, got {type(layer).__name__}")
    return registry.serialize(layer)


def deserialize(entry):
    """A new layer from a ``{"class_name", "config"}`` entry (Keras, TF.js or minigrad); extra
    keys of a model file's entry (``name``, ``inbound_nodes``, ``module``...) are ignored."""
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ValueError(f'layers.deserialize: expected a {{"class_name": ..., "config": {{...}}}} '
                         f"dict, got {entry!r}")
    return registry.deserialize({"class_name": entry["class_name"],
                                 "config": entry.get("config") or {}})


def get(identifier):
    """A layer from a layer (returned as is) or a ``{"class_name", "config"}`` entry."""
    return identifier if isinstance(identifier, Layer) else deserialize(identifier)


__all__ = ["Layer", "Variable", "SymbolicTensor", "InputSpec", "BaseConv", "Conv2D",
           "Conv1D", "DepthwiseConv1D", "SeparableConv1D", "BaseDepthwiseConv", "BaseSeparableConv",
           "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Dense", "Activation",
           "ReLU", "Dropout",
           "Flatten", "Reshape", "InputLayer", "Input", "BatchNormalization", "MaxPooling2D",
           "AveragePooling2D", "GlobalAveragePooling2D", "ZeroPadding2D", "MaxPooling1D",
           "AveragePooling1D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAveragePooling1D",
           "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
           "Add", "Merge",
           "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "serialize", "deserialize", "get", "registry", "LeakyReLU", "PReLU", "ELU", "Softmax",
           "UpSampling1D", "UpSampling2D", "Cropping1D", "Cropping2D", "ZeroPadding1D", "Permute",
           "RepeatVector", "LayerNormalization", "GroupNormalization",
           "Rescaling", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation", "RandomZoom",
           "RandomTranslation", "RandomContrast",
           "Convolution1D", "Convolution2D", "Convolution2DTranspose", "SeparableConvolution1D",
           "SeparableConvolution2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalAvgPool1D", "GlobalAvgPool2D",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]
