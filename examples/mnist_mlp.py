"""The simplest first script: a multi-layer perceptron (Dense layers only) on MNIST.

    python examples/mnist_mlp.py               # 3 epochs: about 97.5-98% test accuracy
    python examples/mnist_mlp.py --epochs 1

Each 28x28 image is flattened to 784 numbers; two hidden layers of 256 ReLU units and a softmax
over the 10 digits. The last line printed is ``test accuracy: 0.XXXX``.
"""
import argparse
import os

import minigrad as mg  # before NumPy: minigrad sets OpenBLAS's thread timeout (see _openmp_env)
import numpy as np
from minigrad import layers

BUNDLED_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "data", "mnist")


def build_model():
    return mg.models.Sequential([
        layers.Flatten(input_shape=(28, 28)),
        layers.Dense(256, activation="relu"),
        layers.Dense(256, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="mnist_mlp")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train a Dense-only network on MNIST.")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    mg.initializers.set_random_seed(args.seed)
    path = BUNDLED_DATA if os.path.isdir(BUNDLED_DATA) else None
    (x_train, y_train), (x_test, y_test) = mg.datasets.mnist.load_data(path)
    x_train, x_test = x_train.astype(np.float32) / 255.0, x_test.astype(np.float32) / 255.0

    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=0.1, seed=args.seed)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
