"""Every validation message of the layers: each names the layer, the argument, the value received
and what was expected, and is raised before any computation."""
import re

import numpy as np
import pytest

from minigrad import layers

L = layers


def _check(exc, match, make):
    with pytest.raises(exc, match=match):
        make()


# -- constructor arguments ---------------------------------------------------------------------------
@pytest.mark.parametrize("exc,match,make", [
    # DepthwiseConv2D (and every convolution, through BaseConv)
    (ValueError, r"^DepthwiseConv2D: depth_multiplier must be a positive integer, got 0$",
     lambda: L.DepthwiseConv2D(3, depth_multiplier=0)),
    (TypeError, r"DepthwiseConv2D: depth_multiplier must be a positive integer, got 1\.5",
     lambda: L.DepthwiseConv2D(3, depth_multiplier=1.5)),
    (TypeError, r"DepthwiseConv2D: depth_multiplier must be a positive integer, got True",
     lambda: L.DepthwiseConv2D(3, depth_multiplier=True)),
    (ValueError, r"DepthwiseConv2D: kernel_size must be a positive integer or a tuple of 2 positive "
                 r"integers, got 0", lambda: L.DepthwiseConv2D(0)),
    (ValueError, r"DepthwiseConv2D: kernel_size .*got \(3,\) \(length 1\)",
     lambda: L.DepthwiseConv2D((3,))),
    (TypeError, r"DepthwiseConv2D: kernel_size .*got 3\.0", lambda: L.DepthwiseConv2D(3.0)),
    (TypeError, r"DepthwiseConv2D: kernel_size .*got '3'", lambda: L.DepthwiseConv2D("3")),
    (ValueError, r"DepthwiseConv2D: strides must be a positive integer .*got \(1, 0\)",
     lambda: L.DepthwiseConv2D(3, strides=(1, 0))),
    (ValueError, r"DepthwiseConv2D: dilation_rate must be a positive integer .*got -1",
     lambda: L.DepthwiseConv2D(3, dilation_rate=-1)),
    (ValueError, r"DepthwiseConv2D: padding must be 'valid' or 'same', got 'full'",
     lambda: L.DepthwiseConv2D(3, padding="full")),
    (ValueError, r"DepthwiseConv2D: data_format must be 'channels_last' or 'channels_first', got "
                 r"'NHWC'", lambda: L.DepthwiseConv2D(3, data_format="NHWC")),
    (TypeError, r"DepthwiseConv2D: use_bias must be True or False, got 'yes'",
     lambda: L.DepthwiseConv2D(3, use_bias="yes")),
    (ValueError, r"DepthwiseConv2D: activation: unknown activation 'relu7'; known activations: .*relu6",
     lambda: L.DepthwiseConv2D(3, activation="relu7")),
    (ValueError, r"DepthwiseConv2D: depthwise_initializer: unknown initializer 'glorot'",
     lambda: L.DepthwiseConv2D(3, depthwise_initializer="glorot")),
    (ValueError, r"DepthwiseConv2D: depthwise_regularizer: unknown regularizer 'l3'",
     lambda: L.DepthwiseConv2D(3, depthwise_regularizer="l3")),
    (ValueError, r"DepthwiseConv2D: depthwise_constraint: unknown constraint 'max'",
     lambda: L.DepthwiseConv2D(3, depthwise_constraint="max")),
    (ValueError, r"DepthwiseConv2D: bias_initializer: unknown initializer",
     lambda: L.DepthwiseConv2D(3, bias_initializer="nope")),
    (TypeError, r"DepthwiseConv2D: unexpected keyword argument\(s\) filters",
     lambda: L.DepthwiseConv2D(3, filters=4)),
    (ValueError, r"DepthwiseConv2D: name must be a non-empty string without '/', got 'a/b'",
     lambda: L.DepthwiseConv2D(3, name="a/b")),
    (ValueError, r"Dense: name must be a non-empty string without '/', got ''",
     lambda: L.Dense(2, name="")),
    (TypeError, r"Dense: name must be a non-empty string without '/', got 3", lambda: L.Dense(2, name=3)),
    (ValueError, r"DepthwiseConv2D: dtype must be 'float32' or 'float64', got 'int32'",
     lambda: L.DepthwiseConv2D(3, dtype="int32")),
    # Keras dtype policies minigrad does not compute in: refused, not silently run in float32
    (ValueError, r"^Dense: dtype must be 'float32' or 'float64', got 'mixed_float16'; mixed "
                 r"precision is not supported$", lambda: L.Dense(2, dtype="mixed_float16")),
    (ValueError, r"^Dense: dtype must be 'float32' or 'float64', got 'mixed_bfloat16'",
     lambda: L.Dense(2, dtype={"module": "keras", "class_name": "DTypePolicy",
                               "config": {"name": "mixed_bfloat16"}, "registered_name": None})),
    (ValueError, r"^Dense: dtype must be 'float32' or 'float64', got 'float16'$",
     lambda: L.Dense(2, dtype=np.float16)),
    (ValueError, r"^Dense: dtype must be 'float32' or 'float64', got 3$",
     lambda: L.Dense(2, dtype=3)),
    (ValueError, r"^Conv2D: dtype must be 'float32' or 'float64', got 'mixed_float16'",
     lambda: L.Conv2D(4, 3, dtype="mixed_float16")),
    (ValueError, r"^Conv2D: dtype must be 'float32' or 'float64', got 'bfloat16'$",
     lambda: L.Conv2D(4, 3, dtype="bfloat16")),
    # Conv2D, SeparableConv2D
    (ValueError, r"Conv2D: filters must be a positive integer, got 0", lambda: L.Conv2D(0, 3)),
    (TypeError, r"Conv2D: filters must be a positive integer, got None", lambda: L.Conv2D(None, 3)),
    (ValueError, r"Conv2D: groups must divide the number of filters \(4\), got groups=3",
     lambda: L.Conv2D(4, 3, groups=3)),
    (ValueError, r"Conv2D: strides \(2, 2\) and dilation_rate \(1, 2\) cannot both be above 1",
     lambda: L.Conv2D(4, 3, strides=2, dilation_rate=(1, 2))),
    (ValueError, r"Conv2D: lora_rank must be None .*got 4", lambda: L.Conv2D(4, 3, lora_rank=4)),
    (ValueError, r"Conv2D: kernel_initializer: unknown initializer 'he'",
     lambda: L.Conv2D(4, 3, kernel_initializer="he")),
    (ValueError, r"SeparableConv2D: depth_multiplier must be a positive integer, got -2",
     lambda: L.SeparableConv2D(4, 3, depth_multiplier=-2)),
    (ValueError, r"SeparableConv2D: pointwise_initializer: unknown initializer",
     lambda: L.SeparableConv2D(4, 3, pointwise_initializer="nope")),
    # core
    (ValueError, r"Dense: units must be a positive integer, got 0", lambda: L.Dense(0)),
    (TypeError, r"Dense: units must be a positive integer, got '8'", lambda: L.Dense("8")),
    (ValueError, r"Dense: lora_rank must be None", lambda: L.Dense(2, lora_rank=2)),
    (ValueError, r"Dense: quantization_config must be None .*got 'int8'",
     lambda: L.Dense(2, quantization_config="int8")),
    (ValueError, r"Activation: activation: unknown activation 'rellu'",
     lambda: L.Activation("rellu")),
    (ValueError, r"ReLU: max_value must be a finite non-negative number, got -1",
     lambda: L.ReLU(max_value=-1)),
    (ValueError, r"ReLU: negative_slope must be a finite non-negative number, got -0\.1",
     lambda: L.ReLU(negative_slope=-0.1)),
    (ValueError, r"ReLU: threshold must be a finite non-negative number, got -2",
     lambda: L.ReLU(threshold=-2)),
    (TypeError, r"ReLU: max_value must be a finite non-negative number, got '6'",
     lambda: L.ReLU(max_value="6")),
    (ValueError, r"Dropout: rate must be a finite number in \[0, 1\), got 1\.0", lambda: L.Dropout(1.0)),
    (ValueError, r"Dropout: rate must be a finite number in \[0, 1\), got -0\.1",
     lambda: L.Dropout(-0.1)),
    (ValueError, r"Dropout: noise_shape must be None or a tuple .*got \(0, 1\)",
     lambda: L.Dropout(0.5, noise_shape=(0, 1))),
    (TypeError, r"Dropout: seed must be None or a non-negative integer, got 1\.5",
     lambda: L.Dropout(0.5, seed=1.5)),
    (ValueError, r"Dropout: seed must be None or a non-negative integer, got -1",
     lambda: L.Dropout(0.5, seed=-1)),
    (ValueError, r"Reshape: target_shape must be a tuple of positive integers with at most one "
                 r"-1, got \(-1, -1\)", lambda: L.Reshape((-1, -1))),
    (ValueError, r"Reshape: target_shape .*got \(0, 2\)", lambda: L.Reshape((0, 2))),
    (ValueError, r"Flatten: data_format must be", lambda: L.Flatten(data_format="nchw")),
    (ValueError, r"InputLayer: give exactly one of shape, batch_shape .*got none",
     lambda: L.InputLayer()),
    (ValueError, r"InputLayer: give exactly one of .*got shape, batch_shape",
     lambda: L.Input(shape=(2,), batch_shape=(None, 2))),
    (ValueError, r"InputLayer: shape must be a tuple of non-negative integers or None, got "
                 r"\(None, -3\)", lambda: L.Input(shape=(-3,))),
    (ValueError, r"InputLayer: sparse, ragged and optional inputs are not supported",
     lambda: L.InputLayer(shape=(2,), sparse=True)),
    # normalization
    (ValueError, r"BatchNormalization: momentum must be a finite number in \[0, 1\], got 1\.5",
     lambda: L.BatchNormalization(momentum=1.5)),
    (ValueError, r"BatchNormalization: epsilon must be a finite positive number, got 0",
     lambda: L.BatchNormalization(epsilon=0)),
    (TypeError, r"BatchNormalization: axis must be an integer \(the channel axis\), got \[1, 2\]",
     lambda: L.BatchNormalization(axis=[1, 2])),
    (TypeError, r"BatchNormalization: center must be True or False, got 1",
     lambda: L.BatchNormalization(center=1)),
    (ValueError, r"BatchNormalization: renorm must be False", lambda: L.BatchNormalization(renorm=True)),
    (ValueError, r"BatchNormalization: gamma_initializer: unknown initializer",
     lambda: L.BatchNormalization(gamma_initializer="two")),
    # pooling and padding
    (ValueError, r"MaxPooling2D: pool_size must be a positive integer .*got 0",
     lambda: L.MaxPooling2D(0)),
    (ValueError, r"AveragePooling2D: strides must be a positive integer .*got \(2, 2, 2\)",
     lambda: L.AveragePooling2D(2, strides=(2, 2, 2))),
    (ValueError, r"MaxPooling2D: padding must be 'valid' or 'same', got 'causal'",
     lambda: L.MaxPooling2D(padding="causal")),
    (ValueError, r"AveragePooling2D: data_format must be", lambda: L.AveragePooling2D(data_format=1)),
    (TypeError, r"GlobalAveragePooling2D: keepdims must be True or False, got 'no'",
     lambda: L.GlobalAveragePooling2D(keepdims="no")),
    (ValueError, r"ZeroPadding2D: padding must be a non-negative integer, a tuple of 2 .*got -1",
     lambda: L.ZeroPadding2D(-1)),
    (ValueError, r"ZeroPadding2D: padding must be .*got \(1, 2, 3\)",
     lambda: L.ZeroPadding2D((1, 2, 3))),
    (ValueError, r"ZeroPadding2D: padding must be .*got \(\(1, 2\), \(1, -1\)\)",
     lambda: L.ZeroPadding2D(((1, 2), (1, -1)))),
])
def test_constructor_validation(exc, match, make):
    _check(exc, match, make)


# -- calls: rank, channels, sizes -----------------------------------------------------------------
def _built(layer, shape):
    layer(np.zeros(shape, np.float32))
    return layer


@pytest.mark.parametrize("exc,match,make", [
    (ValueError, r"DepthwiseConv2D 'dw': expected an input of rank 4, got shape \(2, 5, 5\)",
     lambda: L.DepthwiseConv2D(3, name="dw")(np.zeros((2, 5, 5)))),
    (ValueError, r"DepthwiseConv2D 'dw': was built for inputs with 3 at axis 3 \(channels\), got "
                 r"shape \(1, 5, 5, 4\)",
     lambda: _built(L.DepthwiseConv2D(3, name="dw"), (1, 5, 5, 3))(np.zeros((1, 5, 5, 4)))),
    (ValueError, r"DepthwiseConv2D 'dwf': was built for inputs with 3 at axis 1 \(channels\)",
     lambda: _built(L.DepthwiseConv2D(3, data_format="channels_first", name="dwf"),
                    (1, 3, 5, 5))(np.zeros((1, 2, 5, 5)))),
    (ValueError, r"Conv2D 'c': was built for inputs with 2 at axis 3",
     lambda: _built(L.Conv2D(4, 1, name="c"), (1, 3, 3, 2))(np.zeros((1, 3, 3, 1)))),
    (ValueError, r"SeparableConv2D 's': was built for inputs with 2 at axis 3",
     lambda: _built(L.SeparableConv2D(4, 1, name="s"), (1, 3, 3, 2))(np.zeros((1, 3, 3, 5)))),
    (ValueError, r"DepthwiseConv2D 'dw': input shape \(1, 2, 2, 1\) is smaller than the window "
                 r"\(kernel_size \(3, 3\), dilation_rate \(1, 1\)\) with padding 'valid'",
     lambda: L.DepthwiseConv2D(3, name="dw")(np.zeros((1, 2, 2, 1)))),
    (ValueError, r"DepthwiseConv2D 'dw': input shape \(None, 4, 4, 1\) is smaller than the window "
                 r"\(kernel_size \(2, 2\), dilation_rate \(4, 4\)\)",
     lambda: L.DepthwiseConv2D(2, dilation_rate=4, name="dw")(L.Input(shape=(4, 4, 1)))),
    (ValueError, r"DepthwiseConv2D 'dw': the channel axis of the input must be known",
     lambda: L.DepthwiseConv2D(3, name="dw")(L.Input(shape=(5, 5, None)))),
    (ValueError, r"Dense 'd': was built for inputs with 3 at axis -1",
     lambda: _built(L.Dense(2, name="d"), (1, 3))(np.zeros((1, 4)))),
    (ValueError, r"Dense 'd': expected an input of rank >= 2, got shape \(3,\)",
     lambda: L.Dense(2, name="d")(np.zeros(3))),
    (ValueError, r"Reshape 'r': cannot reshape an input of shape \(2, 5\) \(5 values per sample\) "
                 r"to target_shape \(2, 2\) \(4 values\)",
     lambda: L.Reshape((2, 2), name="r")(np.zeros((2, 5)))),
    (ValueError, r"Reshape 'r': .*5 is not a multiple of 2",
     lambda: L.Reshape((-1, 2), name="r")(np.zeros((2, 5)))),
    (ValueError, r"BatchNormalization 'bn': axis 3 is out of range for an input of shape \(2, 3\)",
     lambda: L.BatchNormalization(axis=3, name="bn")(np.zeros((2, 3)))),
    (ValueError, r"BatchNormalization 'bn': was built for inputs with 3 at axis 1",
     lambda: _built(L.BatchNormalization(name="bn"), (2, 3))(np.zeros((2, 4)))),
    (ValueError, r"BatchNormalization 'bn': expected an input of rank 2, got shape \(2, 3, 3\)",
     lambda: _built(L.BatchNormalization(name="bn"), (2, 3))(np.zeros((2, 3, 3)))),
    (ValueError, r"MaxPooling2D 'p': input shape \(1, 1, 3, 2\) is smaller than pool_size \(2, 2\)",
     lambda: L.MaxPooling2D(name="p")(np.zeros((1, 1, 3, 2)))),
    (ValueError, r"GlobalAveragePooling2D 'g': expected an input of rank 4, got shape \(2, 3\)",
     lambda: L.GlobalAveragePooling2D(name="g")(np.zeros((2, 3)))),
    (ValueError, r"Add 'a': expected a list of at least 2 inputs, got a single input of shape "
                 r"\(2, 3\)", lambda: L.Add(name="a")(np.zeros((2, 3)))),
    (ValueError, r"Add 'a': all inputs must have the same shape, got \[\(2, 3\), \(2, 4\)\]",
     lambda: L.Add(name="a")([np.zeros((2, 3)), np.zeros((2, 4))])),
])
def test_call_validation(exc, match, make):
    _check(exc, match, make)


def test_a_refused_call_builds_nothing():
    layer = L.DepthwiseConv2D(3)
    with pytest.raises(ValueError, match="expected an input of rank 4"):
        layer(np.zeros((5, 5, 3)))
    assert not layer.built and layer.weights == []


# -- (de)serialization ----------------------------------------------------------------------------
@pytest.mark.parametrize("exc,match,make", [
    (ValueError, r"unknown layer 'Conv9D'; known layers: .*DepthwiseConv2D",
     lambda: L.deserialize({"class_name": "Conv9D", "config": {}})),
    (ValueError, re.escape('layers.deserialize: expected a {"class_name": ..., "config": {...}} dict'),
     lambda: L.deserialize("Conv2D")),
    (TypeError, r"layers.serialize: expected a Layer, got str", lambda: L.serialize("Conv2D")),
    (TypeError, r"DepthwiseConv2D: unexpected keyword argument\(s\) depthwiseInitializer",
     lambda: L.deserialize({"class_name": "DepthwiseConv2D",
                            "config": {"kernel_size": 3, "depthwiseInitializer": "zeros"}})),
])
def test_serialization_errors(exc, match, make):
    _check(exc, match, make)
