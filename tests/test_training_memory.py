"""fit / evaluate / predict on arrays cast each batch to the model's dtype as they take it
(minigrad/training/data_adapter.py, epoch_iterator.py): uint8 images are not copied whole as
float32, and the results are those of float32 arrays, bit for bit."""
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
from minigrad import layers
from minigrad.training.epoch_iterator import ArrayBatches


def _data(n=600, features=48):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, features), dtype=np.uint8)
    y = (x[:, :features // 2].sum(axis=1) > x[:, features // 2:].sum(axis=1)).astype(np.int64)
    return x, y


def _model():
    mg.initializers.set_random_seed(1)
    model = mg.models.Sequential([layers.Input((48,)), layers.Rescaling(1 / 255),
                                  layers.Dense(8, activation="relu"), layers.Dense(2)])
    model.compile(optimizer=mg.optimizers.Adam(0.01), metrics=["accuracy"],
                  loss=mg.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_uint8_arrays_train_evaluate_and_predict_as_their_float32_copy():
    x, y = _data()
    runs = []
    for data in (x, x.astype(np.float32)):
        model = _model()
        history = model.fit(data, y, batch_size=32, epochs=2, validation_split=0.2,
                            shuffle=True, seed=5, verbose=0)
        runs.append((history.history, model.evaluate(data, y, batch_size=64, verbose=0),
                     model.predict(data, batch_size=50), model.get_weights()))
    (h8, e8, p8, w8), (h32, e32, p32, w32) = runs
    assert h8 == h32 and e8 == e32
    np.testing.assert_array_equal(p8, p32)
    for a, b in zip(w8, w32):
        np.testing.assert_array_equal(a, b)


def test_fit_does_not_copy_uint8_arrays_whole():
    x, y = _data(n=20_000)
    model = _model()
    model.fit(x[:64], y[:64], batch_size=32, epochs=1, verbose=0)   # built, warmed up
    whole = x.size * 4                                               # x as float32: 3.8 MB
    tracemalloc.start()
    try:
        model.fit(x, y, batch_size=32, epochs=1, validation_split=0.1, verbose=0)
        model.evaluate(x, y, batch_size=256, verbose=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < whole / 4, (peak, whole)


@pytest.mark.parametrize("shuffle", [False, True])
def test_array_batches_cast_each_batch_of_x_only(shuffle):
    x, y = _data(n=70)
    sw = np.linspace(0.5, 1.5, 70, dtype=np.float32)
    batches = ArrayBatches([x], [y], sw, 32, shuffle=shuffle, seed=3, dtype="float32")
    plain = ArrayBatches([x.astype(np.float32)], [y], sw, 32, shuffle=shuffle, seed=3)
    got, expected = list(batches.iterate(1)), list(plain.iterate(1))
    assert [len(b[0][0]) for b in got] == [32, 32, 6]
    for (bx, by, bsw), (ex, ey, esw) in zip(got, expected):
        assert bx[0].dtype == np.float32 and by[0].dtype == np.int64
        np.testing.assert_array_equal(bx[0], ex[0])
        np.testing.assert_array_equal(by[0], ey[0])
        np.testing.assert_array_equal(bsw, esw)
    seen = np.concatenate([b[1][0] for b in got])
    assert sorted(seen.tolist()) == sorted(y.tolist())


def test_train_on_batch_still_takes_uint8_arrays():
    x, y = _data(n=32)
    model = _model()
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss[0])
    np.testing.assert_array_equal(model.predict_on_batch(x),
                                  model.predict_on_batch(x.astype(np.float32)))
