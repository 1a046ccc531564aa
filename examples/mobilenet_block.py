"""MobileNet V1 and V2 blocks, built two ways, trained for a few steps on random data.

    python examples/mobilenet_block.py

V1 (Howard et al., 2017): depthwise 3x3 -> BN -> ReLU6 -> pointwise 1x1 -> BN -> ReLU6, a plain
stack, so ``Sequential`` builds it. V2 (Sandler et al., 2018): the *inverted residual*: 1x1 expand
-> BN -> ReLU6 -> depthwise 3x3 -> BN -> ReLU6 -> 1x1 project -> BN, then ``Add`` with the block's
input. The skip connection makes it a graph, not a stack: the functional API builds it.
Each model fits a fixed random batch for a few steps and prints its loss, which goes down.
"""
import minigrad as mg  # before NumPy: minigrad sets OpenBLAS's thread timeout (see _openmp_env)
import numpy as np
from minigrad import layers


def v1_block(input_shape, filters, stride=1):
    """MobileNet V1's depthwise-separable block as a Sequential model."""
    return mg.models.Sequential([
        layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False,
                               input_shape=input_shape),
        layers.BatchNormalization(),
        layers.ReLU(max_value=6.0),
        layers.Conv2D(filters, 1, use_bias=False),
        layers.BatchNormalization(),
        layers.ReLU(max_value=6.0),
    ], name="mobilenet_v1_block")


def v2_block(input_shape, expansion=4):
    """MobileNet V2's inverted residual block (stride 1, same channels in and out), functional."""
    channels = input_shape[-1]
    inputs = layers.Input(shape=input_shape)
    x = layers.Conv2D(channels * expansion, 1, use_bias=False)(inputs)     # expand
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(max_value=6.0)(x)
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)      # filter each channel
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(max_value=6.0)(x)
    x = layers.Conv2D(channels, 1, use_bias=False)(x)                     # project, linear
    x = layers.BatchNormalization()(x)
    outputs = layers.Add()([inputs, x])                                   # the residual
    return mg.models.Model(inputs, outputs, name="mobilenet_v2_block")


def with_classifier(block, input_shape, classes=10):
    """The block, then global average pooling and a softmax Dense, as one functional model
    (a model is a layer too: it can be called on a symbolic tensor)."""
    inputs = layers.Input(shape=input_shape)
    x = block(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return mg.models.Model(inputs, outputs, name=f"{block.name}_classifier")


def train_a_few_steps(model, x, y, steps=8):
    model.compile(optimizer=mg.optimizers.Adam(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    losses = []
    for step in range(1, steps + 1):
        loss, accuracy = model.train_on_batch(x, y)
        losses.append(loss)
        print(f"  step {step}: loss {loss:.4f}  accuracy {accuracy:.2f}")
    return losses


def main():
    mg.initializers.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 12, 12, 8)).astype(np.float32)
    y = rng.integers(0, 10, size=32)
    results = {}
    shape = x.shape[1:]
    for block in (v1_block(shape, 16), v2_block(shape)):
        model = with_classifier(block, shape)
        print(f"{block.name}: {model.count_params()} parameters")
        losses = train_a_few_steps(model, x, y)
        results[block.name] = losses
        print(f"  loss went from {losses[0]:.4f} to {losses[-1]:.4f}")
    return results


if __name__ == "__main__":
    main()
