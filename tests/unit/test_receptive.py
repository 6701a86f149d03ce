"""cnnviz.receptive (the box a unit reads) against the unit's real input-gradient, and
cnnviz.attribution.unit_gradient."""

import keras
import numpy as np
import pytest
from keras import layers

from cnnviz import attribution, receptive


def _support(model, x, layer, row, col):
    g = attribution.unit_gradient(model, x, layer, row, col)
    ys, xs = np.nonzero(g)
    return (ys.min(), xs.min(), ys.max(), xs.max())


def _positive_linear(model):
    """All-positive kernels, no activations: every input pixel in the receptive field moves the unit."""
    for w in model.weights:
        w.assign(np.abs(np.random.default_rng(0).normal(size=w.shape)).astype("float32") + 0.1)
    return model


def _chain(*stack, shape=(23, 19, 1)):
    inp = keras.Input(shape)
    h = inp
    for layer in stack:
        h = layer(h)
    return _positive_linear(keras.Model(inp, h))


@pytest.mark.parametrize("stack", [
    lambda: [layers.Conv2D(2, 3, name="a"), layers.Conv2D(2, 5, strides=2, name="b")],
    lambda: [layers.Conv2D(2, 3, dilation_rate=2, name="a"), layers.AveragePooling2D(2, name="b")],
    lambda: [layers.Conv2D(2, (3, 5), strides=(2, 1), padding="same", name="a"), layers.Conv2D(1, 4, padding="same", name="b")],
    lambda: [layers.DepthwiseConv2D(3, name="a"), layers.SeparableConv2D(2, 3, strides=2, name="b")],
])
def test_box_is_exactly_where_the_gradient_is(stack):
    model = _chain(*stack())
    x = np.random.default_rng(1).random((23, 19, 1)).astype("float32")
    out = model.output_shape
    for row, col in [(0, 0), (out[1] // 2, out[2] // 2), (out[1] - 1, out[2] - 1)]:
        box = receptive.theoretical(model, "b", row, col).clipped(23, 19)
        assert (box.top, box.left, box.bottom, box.right) == _support(model, x, "b", row, col)


def test_same_padding_reaches_outside_the_input():
    model = _chain(layers.Conv2D(1, 5, padding="same", name="b"))
    box = receptive.theoretical(model, "b", 0, 0)
    assert (box.top, box.left, box.bottom, box.right) == (-2, -2, 2, 2) and box.size == (5, 5)
    assert box.clipped(23, 19) == receptive.Box(0, 0, 2, 2)


def test_branches_are_merged_and_relu_stays_inside():
    inp = keras.Input((20, 20, 1))
    a = layers.Conv2D(2, 3, padding="same", activation="relu")(inp)
    b = layers.Conv2D(2, 7, padding="same")(inp)
    merged = layers.Add(name="merged")([a, b])
    h = layers.BatchNormalization(name="bn")(merged)
    model = keras.Model(inp, layers.MaxPooling2D(2, name="pool")(h))
    box = receptive.theoretical(model, "pool", 3, 4)
    assert (box.top, box.left, box.bottom, box.right) == (6 - 3, 8 - 3, 7 + 3, 9 + 3)  # the 7x7 branch wins
    x = np.random.default_rng(0).random((20, 20, 1)).astype("float32")
    top, left, bottom, right = _support(model, x, "pool", 3, 4)
    assert box.top <= top and box.left <= left and bottom <= box.bottom and right <= box.right


def test_nested_and_any_size():
    base = keras.Sequential([keras.Input((None, None, 3)), layers.Conv2D(2, 3, strides=2, padding="same", name="c")],
                            name="base")
    inp = keras.Input((None, None, 3))
    model = keras.Model(inp, layers.Conv2D(1, 3, name="top")(base(inp)))
    box = receptive.theoretical(model, "top", 1, 1, input_shape=(16, 12, 3))
    assert box.size == (7, 7) and (box.top, box.left) == (2 - 0, 2 - 0)  # 'same' with stride 2 on 16: pads 0 before
    assert receptive.theoretical(model, "base/c", 0, 0, input_shape=(15, 11, 3)).top == -1  # odd size: pads 1 before


def test_layers_without_a_field():
    model = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, name="c"), layers.UpSampling2D(name="up"),
                              layers.Flatten(name="flat"), layers.Dense(2, name="d")])
    with pytest.raises(receptive.FieldError) as err:
        receptive.theoretical(model, "up", 0, 0)
    assert err.value.layer == "up"
    with pytest.raises(receptive.FieldError):
        receptive.theoretical(model, "d", 0, 0)


def test_unit_gradient_errors():
    model = _chain(layers.Conv2D(2, 3, name="b"))
    x = np.zeros((23, 19, 1), "float32")
    for args in [(21, 0, None), (0, 17, None), (0, 0, 2), (-1, 0, None)]:
        with pytest.raises(attribution.AttributionError) as err:
            attribution.unit_gradient(model, x, "b", *args)
        assert err.value.key == "unit_range"
    with pytest.raises(attribution.AttributionError) as err:
        attribution.unit_gradient(model, x, "nope", 0, 0)
    assert err.value.key == "no_layer"
    assert attribution.unit_gradient(model, x, "b", 0, 0, channel=1).shape == (23, 19)
