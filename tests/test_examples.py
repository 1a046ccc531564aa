"""The example scripts run (on small data) and do what their docstrings say."""
import importlib.util
import os

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mobilenet_blocks_train_and_loss_goes_down(capsys):
    results = _load("mobilenet_block").main()
    assert set(results) == {"mobilenet_v1_block", "mobilenet_v2_block"}
    for losses in results.values():
        assert losses[-1] < losses[0] - 0.05
    assert "loss went from" in capsys.readouterr().out


def test_mnist_mobilenet_model_shape_and_quick_run(capsys):
    example = _load("mnist_mobilenet")
    model = example.build_model()
    assert model.compute_output_shape((None, 28, 28, 1)) == (None, 10)
    accuracy = example.main(["--limit", "256", "--epochs", "1", "--batch-size", "64"])
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == f"test accuracy: {accuracy:.4f}"
    assert 0.0 <= accuracy <= 1.0


def test_mnist_mobilenet_keeps_raw_pixels_and_rescales_in_the_model():
    """The default run keeps the images uint8 (a quarter of float32's memory) and the model's
    Rescaling layer divides by 255: the same network on the same pixels."""
    example = _load("mnist_mobilenet")
    (raw, y_raw), (raw_test, _) = example.load_mnist(limit=100, scale=False)
    (scaled, y_scaled), _ = example.load_mnist(limit=100)
    assert raw.dtype == np.uint8 and raw.shape == (100, 28, 28, 1) and raw_test.dtype == np.uint8
    np.testing.assert_array_equal(raw.astype(np.float32) / 255.0, scaled)
    np.testing.assert_array_equal(y_raw, y_scaled)
    plain, rescaled = example.build_model(), example.build_model(rescale=True)
    assert type(rescaled.layers[0]).__name__ == "Rescaling" and len(rescaled.layers) == \
        len(plain.layers) + 1
    rescaled.set_weights(plain.get_weights())
    np.testing.assert_allclose(rescaled.predict(raw[:8]), plain.predict(scaled[:8]), rtol=1e-4,
                               atol=1e-6)
    both = example.build_model(rescale=True, augment=True)
    assert [type(layer).__name__ for layer in both.layers[:5]] == [
        "Rescaling", "RandomRotation", "RandomTranslation", "RandomZoom", "Conv2D"]


def test_mnist_mobilenet_quick_look_learns(capsys):
    """The docs' quick look (225 steps): it used to test at 11% (BatchNorm's moving averages
    still at their starting values); now >= 90% (about 95%, in ~15 s on one thread)."""
    example = _load("mnist_mobilenet")
    threads = example.mg.get_num_threads()
    try:
        accuracy = example.main(["--limit", "5000", "--epochs", "3", "--threads", "1"])
    finally:
        example.mg.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "BatchNorm statistics recomputed on 5000 training images" in out
    assert accuracy >= 0.90, out[-600:]


def test_mnist_mobilenet_plot_without_matplotlib_stops_before_training(monkeypatch, capsys):
    example = _load("mnist_mobilenet")
    real_find_spec = example.importlib.util.find_spec
    monkeypatch.setattr(example.importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real_find_spec(name, *a))
    with pytest.raises(SystemExit) as stopped:
        example.main(["--limit", "256", "--plot", "curves.png"])
    assert stopped.value.code == 2
    captured = capsys.readouterr()
    assert 'pip install -e ".[plot]"' in captured.err and "Epoch" not in captured.out


def test_mnist_mlp_builds_a_dense_only_model():
    example = _load("mnist_mlp")
    model = example.build_model()
    kinds = {type(layer).__name__ for layer in model.layers}
    assert kinds == {"Flatten", "Dense"}
    out = model.predict(np.zeros((3, 28, 28), np.float32))
    assert out.shape == (3, 10) and np.allclose(out.sum(axis=1), 1, atol=1e-5)


def test_mnist_mobilenet_rejects_bad_flags():
    example = _load("mnist_mobilenet")
    with pytest.raises(SystemExit):
        example.main(["--epochs", "0"])


def test_the_onnx_example_runs_and_agrees_with_predict(tmp_path):
    """examples/mnist_onnx.py on 500 images: ONNX Runtime and minigrad give the same
    probabilities (it returns their largest difference)."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    module = _load("mnist_onnx")
    worst = module.main(["--limit", "500", "--output", str(tmp_path / "m.onnx")])
    assert worst < 1e-4
