"""Keras 3 (torch backend) as the oracle for one layer: the one comparison every layer test uses.

``match_keras_layer(keras, class_name, kwargs, input_shape)``:

1. builds the layer in Keras from ``kwargs`` and takes ``get_config()`` as Keras writes it
   (dtype policy objects and all);
2. builds minigrad's layer from that very dict (``layers.deserialize``) and builds both;
3. copies Keras's weights into minigrad's (Keras order; random values, so that zero biases or unit
   gammas hide nothing);
4. compares the outputs, then the gradients of a random projection of the output (sum(out * P))
   w.r.t. every input and every trainable weight, all in float32, to ``rtol`` (1e-4) / ``atol``;
5. compares ``compute_output_shape`` with the batch axis unknown.

It returns ``(ours, theirs)`` for a test's own further checks. The ``keras`` argument is the
``keras`` fixture of ``conftest.py`` (the test skips without Keras 3).
"""
import numpy as np
import pytest

import minigrad as mg
from minigrad import layers


def _torch():
    return pytest.importorskip("torch")


def _numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def match_keras_layer(keras, class_name, kwargs, input_shape, *, training=False, rtol=1e-4,
                      atol=1e-5, seed=7, weight_scale=0.5, input_data=None,
                      compare_weight_grads=True):
    """Build ``class_name(**kwargs)`` in Keras and in minigrad (from Keras's config), give both
    the same weights and inputs, and compare outputs and gradients. ``input_shape`` includes the
    batch axis; a list of shapes means a layer of several inputs."""
    torch = _torch()
    rng = np.random.default_rng(seed)
    several = isinstance(input_shape, list)
    shapes = input_shape if several else [input_shape]
    if input_data is None:
        xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    else:
        xs = [np.asarray(x, np.float32) for x in (input_data if several else [input_data])]

    theirs = getattr(keras.layers, class_name)(**kwargs)
    config = theirs.get_config()
    ours = layers.deserialize({"class_name": class_name, "config": config})
    assert type(ours).__name__ == class_name
    theirs.build(input_shape if several else tuple(input_shape))
    ours.build(input_shape if several else tuple(input_shape))

    # the same weights on both sides: Keras's own order and shapes
    keras_weights = [_numpy(w) for w in theirs.get_weights()]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in keras_weights], \
        f"{class_name}: weight shapes differ from Keras's"
    values = [(rng.uniform(-weight_scale, weight_scale, w.shape) + (1.0 if w.ndim == 1 and
               "variance" in getattr(v, "path", getattr(v, "name", "")) else 0.0)
               ).astype(np.float32) for w, v in zip(keras_weights, theirs.weights)]
    theirs.set_weights(values)
    ours.set_weights(values)

    # forward, then the gradient of sum(out * P) w.r.t. inputs and trainable weights
    t_in = [torch.tensor(x, requires_grad=True) for x in xs]
    t_out = theirs(t_in if several else t_in[0], training=training)
    proj = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
    (t_out * torch.tensor(proj)).sum().backward()
    m_in = [mg.Tensor(x, requires_grad=True) for x in xs]
    m_out = ours(m_in if several else m_in[0], training=training)
    (m_out * proj).sum().backward()

    np.testing.assert_allclose(m_out.numpy(), _numpy(t_out), rtol=rtol, atol=atol,
                               err_msg=f"{class_name}{kwargs}: outputs differ from Keras 3's")
    for i, (m, t) in enumerate(zip(m_in, t_in)):
        np.testing.assert_allclose(m.grad, _numpy(t.grad), rtol=rtol, atol=atol,
                                   err_msg=f"{class_name}{kwargs}: gradient w.r.t. input {i}")
    if compare_weight_grads:
        assert len(ours.trainable_weights) == len(theirs.trainable_weights), \
            f"{class_name}: {len(ours.trainable_weights)} trainable weights, Keras has " \
            f"{len(theirs.trainable_weights)}"
        for mw, tw in zip(ours.trainable_weights, theirs.trainable_weights):
            tgrad = tw.value.grad if hasattr(tw, "value") else None
            assert tgrad is not None, f"Keras gave no gradient for {tw.path}"
            np.testing.assert_allclose(mw.grad, _numpy(tgrad), rtol=rtol, atol=atol,
                                       err_msg=f"{class_name}{kwargs}: gradient w.r.t. "
                                               f"{tw.path}")

    unknown = [(None,) + tuple(s[1:]) for s in shapes]
    want = theirs.compute_output_shape(unknown if several else unknown[0])
    got = ours.compute_output_shape(unknown if several else unknown[0])
    assert tuple(got) == tuple(want), f"{class_name}: output shape {got} != Keras's {want}"
    return ours, theirs
