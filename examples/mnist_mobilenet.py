"""Train a small MobileNet-style CNN on MNIST with minigrad, then test it on the 10,000 test images.

    python examples/mnist_mobilenet.py                 # default settings: >= 99.0% test accuracy
    python examples/mnist_mobilenet.py --epochs 1      # one epoch: >= 97.5%
    python examples/mnist_mobilenet.py --limit 5000 --epochs 3   # a quick look: >= 90%
    python examples/mnist_mobilenet.py --augment       # random rotation/shift/zoom while training

The network: a Rescaling layer (raw pixels 0..255 -> [0, 1]), a 3x3 stem convolution, then
depthwise-separable blocks (depthwise 3x3 -> BatchNorm -> ReLU6 -> pointwise 1x1 -> BatchNorm ->
ReLU6), two of them with stride 2, global average pooling and a softmax classifier. The last line
printed is ``test accuracy: 0.XXXX``.

The images stay uint8 (47 MB for the 60,000 training images; as float32 they would take 188 MB):
``fit`` and ``evaluate`` cast each batch to float32 as they take it, and the model's Rescaling
layer divides by 255, so a saved model also takes raw pixels. The default run peaks at about
265 MB of memory (``/usr/bin/time -v``; 700 MB with float32 images). (Rescaling multiplies by
float32(1/255), which for half of the pixel values differs from x / 255 in the last bit: a
perturbation far below float32 training noise, but the run's numbers are not those of the
float32-images version bit for bit.)

``--augment`` puts Keras-style augmentation layers in front of the network: RandomRotation (up
to +-10 degrees), RandomTranslation (up to +-10% of the height and width) and RandomZoom (+-10%),
with ``fill_mode="constant"`` (MNIST's background is 0). They change every training image anew
on each step (``fit`` calls the model with ``training=True``) and pass images through unchanged
in ``evaluate``/``predict``. It is off by default, so the default run is not slowed. (TF.js has
none of these layers: a model saved with ``--augment`` loads back in minigrad, and as a ``.keras``
file in Keras 3, but not in TF.js.)

BatchNormalization's moving statistics (what inference uses) are an average with Keras's
``momentum=0.99``, which still remembers its starting values after a few hundred steps, so a
short run would evaluate far worse than it trained (docs/04 shows by how much). Two things fix
that: a short run uses a lower momentum (``1 - 5 / steps_per_epoch``, so that the validation
numbers printed during training are right), and after training the statistics are recomputed
exactly on up to 10,000 training images (:func:`minigrad.utils.recompute_batch_norm_statistics`).
"""
import argparse
import importlib.util
import os
import sys
import time

import minigrad as mg  # before NumPy: minigrad sets OpenBLAS's thread timeout (see _openmp_env)
import numpy as np
from minigrad import layers
from minigrad.utils import recompute_batch_norm_statistics

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLED_DATA = os.path.join(HERE, os.pardir, "data", "mnist")

# (filters of the pointwise conv, stride of the depthwise conv) for each separable block
BLOCKS = ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1))
BN_IMAGES = 10_000  # training images for recomputing BatchNorm's moving statistics


def separable_block(filters, stride, name, bn_momentum=0.99):
    """Depthwise 3x3 -> BN -> ReLU6 -> pointwise 1x1 -> BN -> ReLU6 (MobileNet V1's block)."""
    return [
        layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, name=f"{name}_dw"),
        layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_dw_bn"),
        layers.ReLU(max_value=6.0, name=f"{name}_dw_relu"),
        layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw"),
        layers.BatchNormalization(momentum=bn_momentum, name=f"{name}_pw_bn"),
        layers.ReLU(max_value=6.0, name=f"{name}_pw_relu"),
    ]


def augmentation_layers(seed=0, input_shape=(28, 28, 1)):
    """Random rotation, shift and zoom, active only while training (the identity otherwise);
    ``input_shape`` goes to the first (None when another layer comes before them)."""
    shape = {} if input_shape is None else {"input_shape": input_shape}
    return [
        layers.RandomRotation(10 / 360, fill_mode="constant", seed=seed, name="rotate", **shape),
        layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1, name="shift"),
        layers.RandomZoom(0.1, fill_mode="constant", seed=seed + 2, name="zoom"),
    ]


def build_model(stem_filters=16, blocks=BLOCKS, bn_momentum=0.99, augment=False, seed=0,
                rescale=False):
    """The MobileNet-style network for 28x28x1 images in [0, 1], as a Sequential model; with
    ``rescale``, for raw pixels 0..255: a ``Rescaling(1 / 255)`` layer comes first; with
    ``augment``, the :func:`augmentation_layers` come next."""
    model = mg.models.Sequential(name="mnist_mobilenet")
    front = [layers.Rescaling(1 / 255, name="rescale", input_shape=(28, 28, 1))] if rescale else []
    if augment:
        front += augmentation_layers(seed, None if rescale else (28, 28, 1))
    for layer in front:
        model.add(layer)
    # the first layer says the input's shape
    model.add(layers.Conv2D(stem_filters, 3, padding="same", use_bias=False, name="stem",
                            **({} if front else {"input_shape": (28, 28, 1)})))
    model.add(layers.BatchNormalization(momentum=bn_momentum, name="stem_bn"))
    model.add(layers.ReLU(max_value=6.0, name="stem_relu"))
    for i, (filters, stride) in enumerate(blocks):
        for layer in separable_block(filters, stride, f"block{i + 1}", bn_momentum):
            model.add(layer)
    model.add(layers.GlobalAveragePooling2D(name="pool"))
    model.add(layers.Dense(10, activation="softmax", name="classifier"))
    return model


def load_mnist(limit=None, scale=True):
    """MNIST images with a channel axis, and integer labels: float32 in [0, 1], or with
    ``scale=False`` the raw uint8 pixels 0..255 (a quarter of the memory; for a model that
    rescales them itself, ``build_model(rescale=True)``)."""
    path = BUNDLED_DATA if os.path.isdir(BUNDLED_DATA) else None  # a fresh clone trains offline
    (x_train, y_train), (x_test, y_test) = mg.datasets.mnist.load_data(path)
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
    if scale:
        prepare = lambda x: (x.astype(np.float32) / 255.0)[..., None]  # noqa: E731
    else:
        prepare = lambda x: x[..., None]  # noqa: E731  (a view: no copy)
    return (prepare(x_train), y_train.astype(np.int64)), (prepare(x_test), y_test.astype(np.int64))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=4, help="passes over the training set (default 4)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    parser.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--learning-rate", type=float, default=2e-3, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling")
    parser.add_argument("--augment", action="store_true",
                        help="random rotation/translation/zoom of the training images")
    parser.add_argument("--save", metavar="DIR", help="save the trained model (TF.js layers format)")
    parser.add_argument("--plot", metavar="FILE", help="write a PNG of the loss/accuracy curves")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or (args.limit is not None and args.limit < 1):
        parser.error("--epochs, --batch-size and --limit must be positive")
    if args.plot and importlib.util.find_spec("matplotlib") is None:  # say so before training
        parser.error('--plot needs matplotlib: pip install -e ".[plot]" (or pip install matplotlib)')
    if args.augment and args.save:  # minigrad loads such a folder back; TF.js itself cannot
        print(f"note: TF.js has no RandomRotation/RandomTranslation/RandomZoom layers, so TF.js "
              f"cannot load {args.save} (minigrad's load_model can)")

    if args.threads is not None:
        mg.set_num_threads(args.threads)
    np.random.seed(args.seed)
    mg.initializers.set_random_seed(args.seed)  # the same weights on every run
    # raw uint8 pixels: fit and evaluate cast each batch, the model's first layer rescales
    (x_train, y_train), (x_test, y_test) = load_mnist(args.limit, scale=False)
    print(f"minigrad {mg.__version__}: {len(x_train)} training images, {len(x_test)} test images, "
          f"{mg.get_num_threads()} thread(s)")

    steps_per_epoch = -(-int(len(x_train) * 0.95) // args.batch_size)
    # Keras's 0.99, unless an epoch is too short for the moving averages to forget their start
    # (0.99**75 = 0.47): then the validation numbers printed during training would be wrong too
    model = build_model(bn_momentum=min(0.99, max(0.0, 1.0 - 5.0 / steps_per_epoch)),
                        augment=args.augment, seed=args.seed, rescale=True)
    schedule = mg.optimizers.schedules.CosineDecay(args.learning_rate,
                                                   decay_steps=args.epochs * steps_per_epoch,
                                                   alpha=0.02)
    model.compile(optimizer=mg.optimizers.Adam(learning_rate=schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_split=0.05, shuffle=True, seed=args.seed)
    print(f"trained in {time.perf_counter() - start:.1f} s")
    # one forward pass; after a long run it changes little, after a short one it is essential
    recompute_batch_norm_statistics(model, x_train[:BN_IMAGES])
    print(f"BatchNorm statistics recomputed on {min(len(x_train), BN_IMAGES)} training images")

    if args.save:
        model.save(args.save)
        print(f"saved to {args.save}")
    if args.plot:
        plot_history(history.history, args.plot)
    loss, accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    print(f"test loss: {loss:.4f}")
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


def plot_history(history, path):
    """Loss and accuracy per epoch (training and validation) as a PNG; needs matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('--plot needs matplotlib: pip install -e ".[plot]" (or pip install matplotlib)',
              file=sys.stderr)
        return
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, key in zip(axes, ("loss", "accuracy")):
        epochs = range(1, len(history[key]) + 1)
        ax.plot(epochs, history[key], "o-", label="training")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"curves written to {path}")


if __name__ == "__main__":
    main()
