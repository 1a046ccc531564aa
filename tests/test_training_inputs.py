"""fit / evaluate / predict inputs as Keras 3 takes them: class_weight, sample_weight,
steps_per_epoch, initial_epoch, validation_freq / validation_steps, and x as a source of
batches (a generator, a list of batches, a PyDataset-like object).

The Keras 3 comparisons train the same tiny Dense model from the same weights with SGD, without
shuffling, and compare the weights and the logged losses (rtol 1e-4)."""
import warnings

import numpy as np
import pytest

import minigrad as mg

from minigrad import layers as L, optimizers
from minigrad.models import Model, Sequential
from minigrad.training import data_adapter

RTOL = 1e-4


def _classification(n=20, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    labels = rng.integers(0, classes, size=n)
    return x, labels


def _model(classes=3, activation="softmax"):
    return Sequential([L.Dense(classes, activation=activation, input_shape=(4,))])


def _keras_model(keras, classes=3, activation="softmax"):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(classes,
                                                                  activation=activation)])


def _pair(keras, loss="sparse_categorical_crossentropy", lr=0.1, classes=3,
          activation="softmax", metrics=None):
    """The same model, weights, loss and SGD in Keras 3 and in minigrad."""
    kmodel = _keras_model(keras, classes, activation)
    kmodel.compile(keras.optimizers.SGD(lr), loss, metrics=metrics)
    model = _model(classes, activation)
    model.compile(optimizers.SGD(lr), loss, metrics=metrics)
    model.set_weights(kmodel.get_weights())
    return kmodel, model


def _same_training(khistory, kmodel, history, model):
    assert history.epoch == khistory.epoch
    assert set(history.history) == set(khistory.history)
    for key, values in khistory.history.items():
        np.testing.assert_allclose(history.history[key], values, rtol=RTOL, err_msg=key)
    for mine, theirs in zip(model.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL, atol=1e-6)


def _fit_both(keras, kmodel, model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras's notes on shuffle= for generators
        khistory = kmodel.fit(*args, verbose=0, **kwargs)
    return khistory, kmodel, model.fit(*args, verbose=0, **kwargs), model


def _batches(x, y, size, sw=None):
    """A list of (x, y) or (x, y, sample_weight) batches."""
    out = []
    for start in range(0, len(x), size):
        part = slice(start, start + size)
        out.append((x[part], y[part]) if sw is None else (x[part], y[part], sw[part]))
    return out


# -- Keras 3 as the oracle -----------------------------------------------------------------------
@pytest.mark.parametrize("targets", ["sparse", "onehot"])
def test_class_weight_trains_as_keras(keras, targets):
    x, labels = _classification()
    loss = "sparse_categorical_crossentropy" if targets == "sparse" else \
        "categorical_crossentropy"
    y = labels if targets == "sparse" else np.eye(3, dtype=np.float32)[labels]
    kmodel, model = _pair(keras, loss)
    class_weight = {0: 0.5, 1: 2.0}  # class 2 is not named: weight 1
    _same_training(*_fit_both(keras, kmodel, model, x, y, batch_size=6, epochs=3,
                              shuffle=False, class_weight=class_weight))


def test_class_weight_weighs_only_the_training_part_of_a_split_as_keras(keras):
    x, labels = _classification(24)
    kmodel, model = _pair(keras)
    _same_training(*_fit_both(keras, kmodel, model, x, labels, batch_size=6, epochs=2,
                              shuffle=False, class_weight={0: 4.0, 2: 0.5},
                              validation_split=0.25))


def test_class_weight_binary_targets_as_keras(keras):
    x, labels = _classification(classes=2)
    y = labels.reshape(-1, 1).astype(np.float32)
    kmodel, model = _pair(keras, "binary_crossentropy", classes=1, activation="sigmoid")
    _same_training(*_fit_both(keras, kmodel, model, x, y, batch_size=8, epochs=2,
                              shuffle=False, class_weight={0: 3.0, 1: 0.25}))


def test_sample_weight_trains_and_evaluates_as_keras(keras):
    x, labels = _classification()
    sw = np.linspace(0.0, 2.0, len(x)).astype(np.float32)
    kmodel, model = _pair(keras)
    val = (x[:7], labels[:7], sw[:7][::-1].copy())
    _same_training(*_fit_both(keras, kmodel, model, x, labels, batch_size=6, epochs=2,
                              shuffle=False, sample_weight=sw, validation_data=val))
    np.testing.assert_allclose(model.evaluate(x, labels, sample_weight=sw, batch_size=5,
                                              verbose=0),
                               kmodel.evaluate(x, labels, sample_weight=sw, batch_size=5,
                                               verbose=0), rtol=RTOL)
    np.testing.assert_allclose(model.train_on_batch(x[:6], labels[:6], sample_weight=sw[:6]),
                               kmodel.train_on_batch(x[:6], labels[:6], sample_weight=sw[:6]),
                               rtol=RTOL)
    np.testing.assert_allclose(model.test_on_batch(x[:6], labels[:6], sample_weight=sw[:6]),
                               kmodel.test_on_batch(x[:6], labels[:6], sample_weight=sw[:6]),
                               rtol=RTOL)
    cw = {0: 0.2, 2: 5.0}
    np.testing.assert_allclose(model.train_on_batch(x[6:], labels[6:], class_weight=cw),
                               kmodel.train_on_batch(x[6:], labels[6:], class_weight=cw),
                               rtol=RTOL)
    for mine, theirs in zip(model.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL, atol=1e-6)


def test_generator_with_steps_per_epoch_trains_as_keras(keras):
    x, labels = _classification(24)
    batches = _batches(x, labels, 5)

    def forever():  # an endless generator: steps_per_epoch says where epochs end
        while True:
            yield from batches

    kmodel, model = _pair(keras)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        khistory = kmodel.fit(forever(), steps_per_epoch=3, epochs=3, verbose=0)
    history = model.fit(forever(), steps_per_epoch=3, epochs=3, verbose=0)
    _same_training(khistory, kmodel, history, model)
    assert model.optimizer.iterations == 9


def test_weighted_batches_from_a_dataset_as_keras(keras):
    """A PyDataset giving (x, y, sample_weight) batches; the same object feeds both."""
    x, labels = _classification(22)
    sw = np.linspace(0.5, 1.5, len(x)).astype(np.float32)

    class Batches(keras.utils.PyDataset):
        def __init__(self, weighted=True):
            super().__init__()
            self.parts = _batches(x, labels, 4, sw if weighted else None)

        def __len__(self):
            return len(self.parts)

        def __getitem__(self, i):
            return self.parts[i]

    kmodel, model = _pair(keras)
    _same_training(*_fit_both(keras, kmodel, model, Batches(), epochs=2, shuffle=False,
                              validation_data=Batches()))
    # class_weight applies to each (x, y) batch of a dataset
    _same_training(*_fit_both(keras, kmodel, model, Batches(weighted=False), epochs=2,
                              shuffle=False, class_weight={1: 0.25, 2: 3.0}))


def test_arrays_with_steps_per_epoch_as_keras(keras):
    """Keras 3: the data carries on across epochs; the epoch that reaches the end of the
    arrays stops there (with a warning); without batch_size, steps_per_epoch sets it."""
    x, labels = _classification(20)
    kmodel, model = _pair(keras)
    with pytest.warns(UserWarning, match="ran out of data"):
        _same_training(*_fit_both(keras, kmodel, model, x, labels, batch_size=4,
                                  steps_per_epoch=2, epochs=4, shuffle=False))
    assert model.optimizer.iterations == 2 + 2 + 1 + 2
    _same_training(*_fit_both(keras, kmodel, model, x, labels, steps_per_epoch=3, epochs=1,
                              shuffle=False))  # 3 batches of ceil(20 / 3) = 7


@pytest.mark.parametrize("kwargs", [
    {"epochs": 5, "initial_epoch": 2, "validation_freq": 2},
    {"epochs": 4, "validation_freq": [1, 4]},
    {"epochs": 3, "validation_freq": 1, "validation_steps": 1},
])
def test_history_with_initial_epoch_and_validation_freq_as_keras(keras, kwargs):
    x, labels = _classification(16)
    kmodel, model = _pair(keras, metrics=["accuracy"])
    _same_training(*_fit_both(keras, kmodel, model, x, labels, batch_size=4, shuffle=False,
                              validation_data=(x[:6], labels[:6]), **kwargs))


def test_weighted_metrics_as_keras(keras):
    """weighted_metrics weigh each sample (sample_weight or class_weight); a name that an
    unweighted metric has becomes weighted_<name>."""
    x, labels = _classification()
    sw = np.linspace(0.0, 2.0, len(x)).astype(np.float32)
    kmodel, model = _pair(keras, metrics=["accuracy"])
    weighted = ["accuracy", "sparse_categorical_accuracy"]
    kmodel.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                   metrics=["accuracy"], weighted_metrics=weighted)
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=weighted)
    _same_training(*_fit_both(keras, kmodel, model, x, labels, batch_size=6, epochs=2,
                              shuffle=False, sample_weight=sw,
                              validation_data=(x[:8], labels[:8], sw[:8])))
    assert "val_weighted_accuracy" in model.history.history
    _same_training(*_fit_both(keras, kmodel, model, x, labels, batch_size=7, epochs=1,
                              shuffle=False, class_weight={1: 3.0}))
    mine = model.evaluate(x, labels, sample_weight=sw, verbose=0, return_dict=True)
    theirs = kmodel.evaluate(x, labels, sample_weight=sw, verbose=0, return_dict=True)
    assert set(mine) == set(theirs)
    for key in theirs:
        assert mine[key] == pytest.approx(theirs[key], rel=RTOL), key
    config = model.get_compile_config()
    assert config["weighted_metrics"] == weighted
    again = _model()
    again.compile_from_config(config)
    assert again.metrics_names == ["loss"]  # built at the first data
    again.evaluate(x, labels, verbose=0)
    assert again.metrics_names == model.metrics_names == [
        "loss", "accuracy", "weighted_accuracy", "sparse_categorical_accuracy"]


def test_weighted_metrics_of_several_outputs_are_named_per_output():
    inputs = L.Input(shape=(4,))
    hidden = L.Dense(3)(inputs)
    model = Model(inputs, [L.Dense(2, activation="softmax", name="a")(hidden),
                           L.Dense(2, activation="softmax", name="b")(hidden)])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy"])
    x, labels = _classification(classes=2)
    logs = model.evaluate(x, [labels, labels], sample_weight=np.ones(len(x)), verbose=0,
                          return_dict=True)
    assert list(logs) == ["loss", "a_loss", "b_loss", "a_accuracy", "b_accuracy",
                          "a_weighted_accuracy", "b_weighted_accuracy"]
    assert logs["a_weighted_accuracy"] == pytest.approx(logs["a_accuracy"])
    with pytest.raises(TypeError, match="weighted_metrics must be a list"):
        model.compile("sgd", "mse", weighted_metrics="mae")
    with pytest.raises(ValueError, match="weighted_metrics: .*no_such_metric"):
        model.compile("sgd", "mse", weighted_metrics=["no_such_metric"])


# -- sources of batches --------------------------------------------------------------------------
def test_a_list_of_batches_and_a_generator_train_as_arrays():
    x, labels = _classification(20)
    reference = _model()
    reference.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    weights = reference.get_weights()
    history = reference.fit(x, labels, batch_size=6, epochs=2, shuffle=False, verbose=0)

    def generator():
        for _ in range(2):
            yield from _batches(x, labels, 6)

    for data, kwargs in ((_batches(x, labels, 6), {"shuffle": False}),
                         (generator(), {"steps_per_epoch": 4})):
        model = _model()
        model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        model.set_weights(weights)
        got = model.fit(data, epochs=2, verbose=0, **kwargs)
        np.testing.assert_allclose(got.history["loss"], history.history["loss"], rtol=1e-6)
        for a, b in zip(model.get_weights(), reference.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_one_shot_generator_ends_training_when_exhausted():
    x, labels = _classification(20)
    model = _model()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its first pass ends without a warning
        model.fit(iter(_batches(x, labels, 5)), epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="ran out of data after 0 batches"):
        history = model.fit(iter(_batches(x, labels, 5)), epochs=3, verbose=0)
    assert history.epoch == [0] and model.optimizer.iterations == 4 + 4
    # with steps_per_epoch: 3 + 2 batches, the second epoch cut short
    with pytest.warns(UserWarning, match="ran out of data after 5 batches"):
        history = model.fit(iter(_batches(x, labels, 4)), steps_per_epoch=3, epochs=4,
                            verbose=0)
    assert history.epoch == [0, 1] and model.optimizer.iterations == 8 + 5
    with pytest.raises(ValueError, match="x gave no batches"):
        model.fit(iter([]), verbose=0)


def test_a_dataset_like_object_is_reread_and_shuffled_by_batch():
    x, labels = _classification(12)
    seen = []

    class Dataset:
        epochs_ended = 0

        def __len__(self):
            return 3

        def __getitem__(self, i):
            seen.append(i)
            return x[4 * i:4 * i + 4], labels[4 * i:4 * i + 4]

        def on_epoch_end(self):
            Dataset.epochs_ended += 1

    model = _model()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.fit(Dataset(), epochs=4, verbose=0, seed=3)
    assert len(seen) == 12 and Dataset.epochs_ended == 4
    assert all(sorted(seen[i:i + 3]) == [0, 1, 2] for i in range(0, 12, 3))
    assert seen != [0, 1, 2] * 4  # shuffle=True: a new batch order per epoch
    seen.clear()
    model.fit(Dataset(), epochs=2, verbose=0, shuffle=False)
    assert seen == [0, 1, 2] * 2


def test_evaluate_and_predict_take_batches():
    x, labels = _classification(13)
    model = _model()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    expected = model.evaluate(x, labels, batch_size=5, verbose=0)
    np.testing.assert_allclose(model.evaluate(_batches(x, labels, 5), verbose=0), expected,
                               rtol=1e-6)
    np.testing.assert_allclose(model.evaluate(iter(_batches(x, labels, 5)), verbose=0),
                               expected, rtol=1e-6)
    predicted = model.predict(x)
    inputs = (x[:5], (x[5:10],), x[10:])  # x alone or (x,)
    np.testing.assert_allclose(model.predict(b for b in inputs), predicted, rtol=1e-6)
    np.testing.assert_allclose(model.predict(x, steps=2, batch_size=4), predicted[:8],
                               rtol=1e-6)
    assert model.evaluate(x, labels, steps=1, batch_size=4, return_dict=True, verbose=0) == \
        model.evaluate(x[:4], labels[:4], return_dict=True, verbose=0)


def test_validation_data_as_batches():
    x, labels = _classification(16)
    model = _model()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    history = model.fit(x, labels, epochs=2, verbose=0, validation_data=_batches(x, labels, 8),
                        validation_steps=1)
    assert len(history.history["val_loss"]) == 2
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[:8], labels[:8], verbose=0), rel=1e-6)


def test_is_batch_source():
    x = np.zeros((4, 3), dtype=np.float32)
    assert not data_adapter.is_batch_source(x)
    assert not data_adapter.is_batch_source([x, x])  # two inputs
    assert not data_adapter.is_batch_source([(1.0, 2.0), (3.0, 4.0)])  # nested lists: an array
    assert data_adapter.is_batch_source([(x, x)])
    assert data_adapter.is_batch_source(b for b in [(x, x)])
    assert data_adapter.is_batch_source(iter([(x, x)]))

    class ArrayLike:  # indexable with a length, but an array (a torch tensor, an h5py dataset)
        def __array__(self, dtype=None, copy=None):
            return x

        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return x[i]

    assert not data_adapter.is_batch_source(ArrayLike())
    assert not data_adapter.is_dataset_like(ArrayLike())


# -- errors name the argument --------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, match", [
    ({"class_weight": [1.0, 2.0]}, TypeError, r"class_weight must be a dict"),
    ({"class_weight": {-1: 2.0}}, ValueError, r"class_weight keys must be class indices"),
    ({"class_weight": {"a": 2.0}}, TypeError, r"class_weight keys must be class indices"),
    ({"class_weight": {0.0: 2.0}}, TypeError, r"class_weight keys must be class indices"),
    ({"class_weight": {0: "a"}}, TypeError, r"class_weight values must be finite"),
    ({"class_weight": {0: float("nan")}}, ValueError, r"class_weight values must be finite"),
    ({"class_weight": {3: 1.0}}, ValueError, r"class_weight names class 3, but the output "
                                             r"has 3 classes"),
    ({"class_weight": {0: 2.0}, "sample_weight": np.ones(20)}, ValueError,
     r"class_weight and sample_weight cannot be given together"),
    ({"steps_per_epoch": 0}, ValueError, r"steps_per_epoch must be None or a positive integer"),
    ({"validation_steps": 1.5}, TypeError, r"validation_steps"),
    ({"validation_freq": 0}, ValueError, r"validation_freq must be a positive integer"),
    ({"validation_freq": "2"}, TypeError, r"validation_freq must be a positive integer or a "
                                          r"list"),
    ({"validation_freq": [0, 2]}, ValueError, r"validation_freq entries"),
    ({"initial_epoch": -1}, ValueError, r"initial_epoch must be a non-negative integer"),
])
def test_fit_argument_errors(kwargs, error, match):
    x, labels = _classification()
    model = _model()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    before = model.get_weights()
    with pytest.raises(error, match=match):
        model.fit(x, labels, verbose=0, **kwargs)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.parametrize("kwargs, match", [
    ({"y": np.zeros(20)}, r"y must be None when x gives batches"),
    ({"batch_size": 4}, r"batch_size must be left at its default when x gives batches.*got 4"),
    ({"sample_weight": np.ones(20)}, r"sample_weight must be None when x gives batches"),
    ({"validation_split": 0.2}, r"validation_split=0.2 needs x and y as arrays"),
])
def test_batches_with_arguments_that_only_arrays_take(kwargs, match):
    x, labels = _classification()
    model = _model()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=match):
        model.fit(_batches(x, labels, 5), verbose=0, **kwargs)


def test_bad_batches_and_class_weight_with_several_outputs():
    x, labels = _classification()
    model = _model()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"each batch of x must be a tuple \(x, y\)"):
        model.fit((b for b in [x[:4]]), verbose=0)
    with pytest.raises(ValueError, match=r"each batch of x must be .* a tuple of 4 items"):
        model.fit(iter([(x, labels, labels, labels)]), verbose=0)
    with pytest.raises(ValueError, match="class_weight and sample_weight"):
        model.fit(_batches(x, labels, 5, np.ones(20)), class_weight={0: 2.0}, verbose=0)
    with pytest.raises(ValueError, match=r"validation_data must be \(x_val, y_val\)"):
        model.fit(x, labels, validation_data=(x,), verbose=0)
    inputs = L.Input(shape=(4,))
    hidden = L.Dense(3)(inputs)
    multi = Model(inputs, [L.Dense(2, activation="softmax")(hidden),
                           L.Dense(2, activation="softmax")(hidden)])
    multi.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="class_weight is only supported for models with a "
                                         "single output"):
        multi.fit(x, [labels % 2, labels % 2], class_weight={0: 1.0}, verbose=0)


def test_class_weight_to_sample_weight():
    cw = {0: 0.5, 2: 4.0}
    sparse = np.array([0, 1, 2, 5, -1])
    np.testing.assert_array_equal(
        data_adapter.class_weight_to_sample_weight(sparse, cw, "t"), [0.5, 1, 4, 1, 1])
    onehot = np.eye(3)[[2, 0, 1]]
    np.testing.assert_array_equal(
        data_adapter.class_weight_to_sample_weight(onehot, cw, "t"), [4, 0.5, 1])
    binary = np.array([[0.2], [0.9]])  # rounded to the class
    np.testing.assert_array_equal(
        data_adapter.class_weight_to_sample_weight(binary, {0: 3.0}, "t"), [3, 1])
    with pytest.raises(ValueError, match=r"class_weight needs targets of shape"):
        data_adapter.class_weight_to_sample_weight(np.zeros((2, 3, 3)), cw, "t")


def test_class_weight_on_a_model_built_by_its_first_data():
    x, labels = _classification()
    model = Sequential([L.Dense(3, activation="softmax")])  # no input shape: built by fit
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="class_weight names class 5, but the output has 3"):
        model.fit(x, labels, class_weight={5: 2.0}, verbose=0)
    reference = _model()
    reference.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    reference.set_weights(model.get_weights())
    sw = np.where(labels == 1, 3.0, 1.0).astype(np.float32)
    assert model.train_on_batch(x, labels, class_weight={1: 3.0}) == pytest.approx(
        reference.train_on_batch(x, labels, sample_weight=sw), rel=1e-6)


def test_a_torch_data_loader_gives_batches():
    torch = pytest.importorskip("torch")
    x, labels = _classification(18)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(labels)),
        batch_size=5, shuffle=False)
    reference = _model()
    reference.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model = _model()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.set_weights(reference.get_weights())
    expected = reference.fit(x, labels, batch_size=5, epochs=2, shuffle=False, verbose=0)
    history = model.fit(loader, epochs=2, verbose=0)  # re-read each epoch, 4 batches
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-6)
    assert model.optimizer.iterations == 8
    np.testing.assert_allclose(model.predict(loader), reference.predict(x), rtol=1e-6)


def test_batches_for_a_model_with_two_inputs():
    a, b = L.Input(shape=(4,), name="a"), L.Input(shape=(2,), name="b")
    model = Model([a, b], L.Dense(1)(L.Concatenate()([a, b])))
    model.compile(optimizers.SGD(0.05), "mse")
    rng = np.random.default_rng(1)
    xa, xb = rng.normal(size=(12, 4)).astype(np.float32), rng.normal(size=(12, 2)).astype(
        np.float32)
    y = rng.normal(size=(12, 1)).astype(np.float32)
    expected = model.evaluate([xa, xb], y, batch_size=4, verbose=0)
    as_tuples = [((xa[i:i + 4], xb[i:i + 4]), y[i:i + 4]) for i in range(0, 12, 4)]
    as_dicts = [({"a": xa[i:i + 4], "b": xb[i:i + 4]}, y[i:i + 4]) for i in range(0, 12, 4)]
    for batches in (as_tuples, as_dicts):
        assert model.evaluate(batches, verbose=0) == pytest.approx(expected, rel=1e-6)
    np.testing.assert_allclose(model.predict(iter([((xa, xb),)])), model.predict([xa, xb]),
                               rtol=1e-6)
    model.fit(as_dicts, epochs=1, verbose=0)
    assert model.optimizer.iterations == 3


def test_an_endless_dataset_needs_steps():
    x, labels = _classification(8)

    class Endless:  # num_batches None: batch i for every i, as an endless PyDataset
        num_batches = None

        def __getitem__(self, i):
            j = 4 * (i % 2)
            return x[j:j + 4], labels[j:j + 4]

    model = _model()
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    for call, match in ((lambda: model.fit(Endless(), verbose=0), "steps_per_epoch must be"),
                        (lambda: model.evaluate(Endless(), verbose=0), "steps must be"),
                        (lambda: model.predict(Endless()), "steps must be"),
                        (lambda: model.fit(x, labels, validation_data=Endless(), verbose=0),
                         "validation_steps must be")):
        with pytest.raises(ValueError, match=match + r" given when x never ends"):
            call()
    history = model.fit(Endless(), steps_per_epoch=3, epochs=2, verbose=0,
                        validation_data=Endless(), validation_steps=2)
    assert model.optimizer.iterations == 6 and len(history.history["val_loss"]) == 2
    assert model.predict(Endless(), steps=3).shape == (12, 3)


def test_batch_size_defaults_to_32_as_the_api_says():
    """The contract writes ``batch_size=32``; left at it, the size is Keras 3's "not given":
    32 for arrays, the batches' own size for a generator."""
    import inspect
    for method in (Model.fit, Model.evaluate, Model.predict):
        default = inspect.signature(method).parameters["batch_size"].default
        assert default == 32 and repr(default) == "32", method.__name__
    x, labels = _classification(70)
    model = Sequential([L.Input(shape=(x.shape[1],)), L.Dense(3)])
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    steps = []
    model.fit(x, labels, epochs=1, verbose=0,
              callbacks=[mg.callbacks.LambdaCallback(
                  on_train_batch_end=lambda batch, logs: steps.append(batch))])
    assert len(steps) == 3                    # 70 samples in batches of 32
    model.fit(((x[i:i + 7], labels[i:i + 7]) for i in range(0, 70, 7)), epochs=1, verbose=0)
    assert model.optimizer.iterations == 3 + 10


def test_a_metric_with_one_value_per_class_is_logged_as_an_array():
    """F1Score by name (average=None): the logs and History hold one score per class, as
    Keras 3; the progress bar shows their mean."""
    x, labels = _classification(24)
    onehot = np.eye(3, dtype=np.float32)[labels]
    model = Sequential([L.Input(shape=(x.shape[1],)), L.Dense(3, activation="softmax")])
    model.compile(optimizers.SGD(0.1), "categorical_crossentropy", metrics=["f1_score"])
    history = model.fit(x, onehot, batch_size=8, epochs=2, verbose=0,
                        validation_data=(x, onehot))
    assert [np.shape(v) for v in history.history["f1_score"]] == [(3,), (3,)]
    assert np.shape(history.history["val_f1_score"][-1]) == (3,)
    logs = model.evaluate(x, onehot, return_dict=True, verbose=0)
    want = model.metrics[-1].result()
    np.testing.assert_allclose(logs["f1_score"], np.asarray(want))
    from minigrad.training.progbar import format_value
    assert format_value(np.array([0.25, 0.75])) == "0.5000"
