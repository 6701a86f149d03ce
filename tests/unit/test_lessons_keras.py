"""The property test of issue 29: 1,000 generated exercises per kind (levels 1-3 in turn) have answers equal
to what Keras computes, layer by layer, and none is impossible (every one is made, every window fits).

Shapes and parameters against Keras layers built symbolically (compute_output_shape, count_params after
build); values against the real layers (Conv2D, MaxPooling2D, AveragePooling2D) on the exercise's array;
the 'same' split against Keras's own 'same' convolution (a zero-padded 'valid' one with the split must
give the same map); the receptive field against Keras convolutions of one-hot inputs (the input pixels
that reach one output unit).
"""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.lessons import exercises as ex

keras = pytest.importorskip("keras")

N = 1000


def generated(kind: str):
    for i in range(N):
        yield ex.make(kind, ex.LEVELS[i % 3], i // 3 + 100 * (i % 3))


def _f32(a) -> np.ndarray:
    return np.asarray(a, dtype="float32")


def test_output_shapes_are_keras_conv2d():
    for e in generated("shape"):
        s = e.settings
        layer = keras.layers.Conv2D(s["f"], s["kernel"], strides=s["stride"], padding=s["padding"],
                                    dilation_rate=s["dilation"])
        out = layer.compute_output_shape((None, s["h"], s["w"], s["c"]))
        assert tuple(out[1:]) == e.truth, e.id
        assert min(e.truth) >= 1, e.id


def test_parameter_counts_are_keras_conv2d():
    counts: dict = {}  # one Keras layer per distinct (kernel, channels, filters)
    for e in generated("params"):
        s = e.settings
        key = (tuple(s["kernel"]), s["c"], s["f"])
        if key not in counts:
            layer = keras.layers.Conv2D(s["f"], s["kernel"], strides=s["stride"], padding=s["padding"],
                                        kernel_initializer="zeros")
            layer.build((None, s["h"], s["w"], s["c"]))
            counts[key] = layer.count_params()
        assert counts[key] == e.truth[0], e.id


def test_same_split_is_how_keras_pads():
    rng = np.random.default_rng(0)
    for e in generated("same_split"):
        s = e.settings
        top, bottom, left, right = e.truth
        x = _f32(rng.normal(size=(1, s["h"], s["w"], 1)))
        k = _f32(rng.normal(size=(*s["kernel"], 1, 1)))  # not symmetric: a wrong split gives another map
        same = keras.ops.conv(x, k, strides=s["stride"], padding="same", dilation_rate=s["dilation"])
        padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        valid = keras.ops.conv(padded, k, strides=s["stride"], padding="valid", dilation_rate=s["dilation"])
        np.testing.assert_allclose(np.asarray(valid), np.asarray(same), rtol=1e-5, atol=1e-5, err_msg=e.id)


def _groups(exercises, key):
    groups: dict = {}
    for e in exercises:
        groups.setdefault(key(e.settings), []).append(e)
    return groups.values()


def test_conv_values_are_keras_conv2d():
    """One real Conv2D per geometry: exercise b of a group is filter b on input b (its kernel and bias)."""
    exercises = list(generated("conv_value"))
    for group in _groups(exercises, lambda s: (s["x"].shape, s["k"].shape, s["stride"], s["padding"])):
        s0 = group[0].settings
        layer = keras.layers.Conv2D(len(group), s0["k"].shape, strides=s0["stride"], padding=s0["padding"])
        layer.build((None, *s0["x"].shape, 1))
        layer.set_weights([_f32(np.stack([e.settings["k"] for e in group], axis=-1))[:, :, None, :],
                           _f32([e.settings["bias"] for e in group])])
        out = np.asarray(layer(_f32(np.stack([e.settings["x"] for e in group]))[:, :, :, None]))
        for b, e in enumerate(group):
            i, j = e.settings["position"]
            assert 0 <= i < out.shape[1] and 0 <= j < out.shape[2], e.id
            assert out[b, i, j, b] == pytest.approx(e.truth[0], rel=1e-5, abs=1e-4), e.id


def test_pooled_grids_are_keras_pooling():
    exercises = list(generated("pool"))
    for group in _groups(exercises, lambda s: (s["x"].shape, s["kind"], s["pool"], s["stride"], s["padding"])):
        s = group[0].settings
        x = _f32(np.stack([e.settings["x"] for e in group]))[:, :, :, None]
        args = dict(pool_size=s["pool"], strides=s["stride"], padding=s["padding"])
        if s["kind"] == "max":
            out = keras.layers.MaxPooling2D(**args)(x)
        elif s["kind"] == "average":
            out = keras.layers.AveragePooling2D(**args)(x)
        else:  # min pooling is max pooling of the negated input
            out = -keras.layers.MaxPooling2D(**args)(-x)
        for b, e in enumerate(group):
            np.testing.assert_allclose(np.asarray(out)[b, :, :, 0].ravel(), np.array(e.truth, dtype=float),
                                       rtol=1e-5, atol=1e-5, err_msg=e.id)


def _keras_field(layers) -> int:
    """The span of the input pixels that reach output unit 0 (first to last; a dilated kernel skips some in
    between): Keras's own 1-D convolutions and pooling of every one-hot input (all-ones kernels, so every
    tap adds a positive amount)."""
    n = 200
    x = _f32(np.eye(n))[:, :, None]  # (batch n, length n, 1 channel): one-hot at each position
    for kind, k, s, d in layers:
        if kind == "pool":
            x = keras.ops.average_pool(x, k, strides=s, padding="valid")
        else:
            x = keras.ops.conv(x, _f32(np.ones((k, 1, 1))), strides=s, padding="valid", dilation_rate=d)
    reached = np.flatnonzero(np.asarray(x)[:, 0, 0] > 0)
    return int(reached[-1] - reached[0] + 1)


def test_receptive_fields_are_what_keras_layers_read():
    seen: dict = {}
    for e in generated("receptive_field"):
        layers = e.settings["layers"]
        if layers not in seen:
            seen[layers] = _keras_field(layers)
        assert seen[layers] == e.truth[0], e.id


def test_kernel_maps_are_keras_conv2d_and_tell_the_kernels_apart():
    """One Conv2D whose filters are the six preset kernels, on all 1,000 pictures in one batch."""
    from cnnviz import kernels
    from cnnviz.lessons.exercises import KERNEL_CHOICES, _similar

    names = KERNEL_CHOICES[3]
    layer = keras.layers.Conv2D(len(names), 3, padding="same", use_bias=False)
    layer.build((None, 20, 20, 1))
    layer.set_weights([_f32(np.stack([kernels.kernel(n, 3) for n in names], axis=-1))[:, :, None, :]])
    exercises = list(generated("kernel"))
    out = np.asarray(layer(_f32(np.stack([e.settings["x"] for e in exercises]))[:, :, :, None]))
    for b, e in enumerate(exercises):
        maps = {n: out[b, :, :, names.index(n)] for n in e.options}
        (name,) = e.truth
        np.testing.assert_allclose(maps[name], e.settings["map"], rtol=1e-5, atol=1e-5, err_msg=e.id)
        assert not any(_similar(maps[name], maps[o]) for o in e.options if o != name), e.id


def test_lecture_model_shapes_are_keras_layer_by_layer():
    from cnnviz import models

    model = models.seed_model()
    for e in generated("lecture_model"):
        s = e.settings
        shape = (None, s["h"], s["w"], s["c"])
        expected = []
        for layer in model.layers[: len(s["layers"])]:
            shape = layer.compute_output_shape(shape)
            expected.extend(shape[1:])
        assert tuple(expected) == e.truth, e.id
        assert [layer.name for layer in model.layers[: len(s["layers"])]] == list(s["layers"])
