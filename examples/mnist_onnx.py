"""Train the MNIST MobileNet-style model briefly, export it to ONNX, run it in ONNX Runtime.

    python examples/mnist_onnx.py --limit 5000 --epochs 1

needs the optional onnx package (pip install -e ".[onnx]") and, to run the exported file,
onnxruntime (pip install onnxruntime). The file is what you ship: ONNX Runtime runs it from C++,
C#, Java, JavaScript and Python, on phones and servers, without minigrad.
"""
import argparse
import importlib.util
import os
import sys
import time

import numpy as np

import minigrad as mg
from minigrad.utils import recompute_batch_norm_statistics

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_mobilenet import build_model, load_mnist  # noqa: E402  (the example beside this one)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=5000, help="training images (default 5000)")
    parser.add_argument("--epochs", type=int, default=1, help="passes over them (default 1)")
    parser.add_argument("--output", default="mnist_mobilenet.onnx", help="the ONNX file to write")
    args = parser.parse_args(argv)
    for package, extra in (("onnx", '".[onnx]"'), ("onnxruntime", "onnxruntime")):
        if importlib.util.find_spec(package) is None:
            parser.error(f"this example needs {package}: pip install -e {extra}"
                         if package == "onnx" else f"this example needs {package}: "
                         f"pip install {extra}")
    import onnxruntime

    mg.initializers.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.limit)
    model = build_model(bn_momentum=0.9)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, verbose=2, seed=0)
    recompute_batch_norm_statistics(model, x_train)

    model.export(args.output)
    print(f"exported to {args.output} ({os.path.getsize(args.output) / 1024:.0f} KiB)")
    session = onnxruntime.InferenceSession(args.output, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    start = time.perf_counter()
    onnx_probs = np.concatenate([session.run(None, {name: x_test[i:i + 500]})[0]
                                 for i in range(0, len(x_test), 500)])
    seconds = time.perf_counter() - start
    probs = model.predict(x_test, batch_size=500)
    print(f"ONNX Runtime: {len(x_test)} test images in {seconds:.2f} s, accuracy "
          f"{np.mean(onnx_probs.argmax(1) == y_test):.4f}")
    print(f"minigrad:     accuracy {np.mean(probs.argmax(1) == y_test):.4f}")
    print(f"largest difference between the two: {np.abs(onnx_probs - probs).max():.1e}")
    return np.abs(onnx_probs - probs).max()


if __name__ == "__main__":
    main()
