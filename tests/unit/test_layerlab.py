"""cnnviz.layerlab: the numbers the Layer lab shows, and its feature maps, against real Keras."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from cnnviz import layerlab  # noqa: E402
from cnnviz.kernels import kernel  # noqa: E402
from cnnviz.layers import pooling_layer  # noqa: E402

CASES = [
    layerlab.Settings(),
    layerlab.Settings(input_shape=(120, 60, 1), filters=12, kernel_size=(5, 5), padding="valid", pool_size=2),
    layerlab.Settings(input_shape=(17, 9, 3), filters=4, kernel_size=(3, 5), strides=2, padding="same",
                      activation="tanh", pool_kind="min", pool_size=3, pool_strides=2, pool_padding="same"),
    layerlab.Settings(input_shape=(20, 31, 2), filters=3, kernel_size=(2, 3), dilation_rate=3, padding="valid",
                      activation="linear", pool_kind="average", pool_size=2, pool_strides=1),
]


def _keras_model(s: layerlab.Settings) -> keras.Sequential:
    return keras.Sequential([
        keras.Input(shape=s.input_shape),
        keras.layers.Conv2D(s.filters, s.kernel_size, strides=s.strides, padding=s.padding,
                            dilation_rate=s.dilation_rate, activation=s.activation),
        pooling_layer(s.pool_kind, s.pool_size, s.pool_strides, s.pool_padding),
    ])


@pytest.mark.parametrize("settings", CASES)
def test_analysis_matches_a_real_keras_model(settings):
    model = _keras_model(settings)
    x = np.zeros((1, *settings.input_shape), np.float32)
    conv_out = model.layers[0](x)
    result = layerlab.analyse(settings)
    assert result.conv_error is None and result.pool_error is None
    assert result.conv_shape == tuple(conv_out.shape[1:])
    assert result.pool_shape == tuple(model(x).shape[1:])
    assert result.params == model.count_params()
    assert result.axes[0].out == conv_out.shape[1] and result.axes[1].out == conv_out.shape[2]
    assert {"conv_H", "conv_W", "params", "macs", "pool_H", "pool_W", "rf"} <= set(result.latex)
    # The formulas end with Keras's numbers.
    assert result.latex["conv_W"].endswith(f"= {conv_out.shape[2]}\\end{{aligned}}")


def test_same_split_shown_is_the_split_keras_pads_with():
    s = layerlab.Settings(input_shape=(10, 7, 1), filters=1, kernel_size=(4, 2), strides=3, padding="same")
    result = layerlab.analyse(s)
    (top, bottom), (left, right) = result.axes[0].pad, result.axes[1].pad
    x = np.random.default_rng(0).random((1, 10, 7, 1), dtype=np.float32)
    same = keras.layers.Conv2D(1, (4, 2), strides=3, padding="same")
    y = same(x)
    valid = keras.layers.Conv2D(1, (4, 2), strides=3, padding="valid")
    valid.build((1, 10 + top + bottom, 7 + left + right, 1))
    valid.set_weights(same.get_weights())
    np.testing.assert_allclose(valid(np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))), y, atol=1e-6)
    assert (top, bottom) != (bottom, top) or (left, right) != (right, left)  # an odd split is exercised


@pytest.mark.parametrize(
    "settings, where",
    [
        (layerlab.Settings(input_shape=(3, 3, 1), kernel_size=(5, 5), padding="valid"), "conv"),
        (layerlab.Settings(strides=2, dilation_rate=2), "conv"),
        (layerlab.Settings(input_shape=(4, 4, 1), kernel_size=(3, 3), padding="valid", pool_size=3), "pool"),
    ],
)
def test_bad_combinations_give_messages_keras_agrees_with(settings, where):
    with pytest.raises(ValueError):  # Keras refuses these too
        _keras_model(settings)
    result = layerlab.analyse(settings)
    if where == "conv":
        assert result.conv_error and result.conv_shape is None and result.pool_shape is None
        assert result.params > 0  # still shown: parameters do not depend on the input size
    else:
        assert result.conv_error is None and result.conv_shape == (2, 2, settings.filters)
        assert result.pool_error and "height" in result.pool_error


@pytest.mark.parametrize("settings", CASES)
@pytest.mark.parametrize("preset", ["sobel_x", "gaussian_blur", "random"])
def test_feature_maps_equal_a_real_keras_conv2d_with_every_filter(settings, preset):
    rng = np.random.default_rng(1)
    x = rng.random(settings.input_shape, dtype=np.float32)
    bank = layerlab.filter_bank(preset, settings.filters)
    kernels = layerlab.bank_kernels(bank, settings.kernel_size)
    maps = layerlab.feature_maps(x, settings, kernels, bias=-0.5, device="cpu:0")
    # Reference: a real Conv2D with F filters and the activation built in, weights set cell by cell
    # (filter f's 2-D kernel on every input channel, divided by C), then the pooling layer.
    c, f = x.shape[-1], settings.filters
    weights = np.zeros((*settings.kernel_size, c, f), np.float32)
    for i in range(f):
        for ch in range(c):
            weights[:, :, ch, i] = kernel(bank[i].name, settings.kernel_size, seed=bank[i].seed) / c
    conv = keras.layers.Conv2D(f, settings.kernel_size, strides=settings.strides, padding=settings.padding,
                               dilation_rate=settings.dilation_rate, activation=settings.activation)
    conv.build((1, *x.shape))
    conv.set_weights([weights, np.full((f,), -0.5, np.float32)])
    post = conv(x[None])
    pooled = pooling_layer(settings.pool_kind, settings.pool_size, settings.pool_strides, settings.pool_padding)(post)
    assert maps.post.shape[-1] == maps.pre.shape[-1] == maps.pooled.shape[-1] == f
    np.testing.assert_allclose(maps.post, np.asarray(post)[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(maps.pooled, np.asarray(pooled)[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(maps.weights, weights)
    assert maps.pre.shape == maps.post.shape
    if settings.activation == "relu":
        np.testing.assert_allclose(maps.post, np.maximum(maps.pre, 0), atol=1e-6)
        assert (maps.pre < 0).any()  # the 'before' map really differs from the 'after' one
    assert maps.device == "cpu:0"
    limit = maps.limit()
    assert limit == pytest.approx(max(np.abs(maps.pre).max(), np.abs(maps.post).max(), np.abs(maps.pooled).max()))


def test_filter_bank_is_the_chosen_kernel_then_a_fixed_labelled_bank_then_seeded_random():
    bank = layerlab.filter_bank("emboss", 10)
    assert [b.name for b in bank] == ["emboss", *layerlab.BANK, "random", "random", "random"]
    assert [b.seed for b in bank[7:]] == [7, 8, 9]  # each random filter its own seed: all different
    k = layerlab.bank_kernels(bank, (5, 3))
    assert k.shape == (10, 5, 3)
    assert not np.allclose(k[7], k[8])
    assert [b.name for b in layerlab.filter_bank("sobel_y", 1)] == ["sobel_y"]
    assert len(layerlab.filter_bank("identity", 64)) == 64
    np.testing.assert_array_equal(layerlab.bank_kernels(bank, 3)[0], kernel("emboss", 3))


def test_conv_weights_put_each_kernel_on_every_channel():
    k = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    w = layerlab.conv_weights(k, 4)
    assert w.shape == (3, 3, 4, 2)
    for f in range(2):
        for ch in range(4):
            np.testing.assert_allclose(w[:, :, ch, f], k[f] / 4)
    assert layerlab.conv_weights(k[0], 1).shape == (3, 3, 1, 1)


def test_limit_of_all_zero_maps_is_one():
    s = layerlab.Settings(input_shape=(6, 6, 1), filters=2, activation="relu")
    maps = layerlab.feature_maps(np.zeros((6, 6, 1), np.float32), s, np.zeros((2, 3, 3), np.float32))
    assert maps.limit() == 1.0


def test_feature_maps_skip_an_impossible_pooling():
    s = layerlab.Settings(input_shape=(4, 4, 1), kernel_size=(3, 3), padding="valid", pool_size=3)
    maps = layerlab.feature_maps(np.ones((4, 4, 1), np.float32), s, kernel("identity"))
    assert maps.pre.shape == (2, 2, 1) and maps.pooled is None


def test_feature_maps_refuse_impossible_conv():
    s = layerlab.Settings(strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="stride"):
        layerlab.feature_maps(np.ones((8, 8, 1), np.float32), s, kernel("identity"))


def test_image_to_input_shapes_and_range():
    from PIL import Image

    im = Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 30, 3), dtype=np.uint8))
    for c in (1, 2, 3, 4):
        x = layerlab.image_to_input(im, 17, 11, c)
        assert x.shape == (17, 11, c) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert layerlab.image_shape(im) == (40, 30, 3)
    assert layerlab.image_shape(im.convert("L")) == (40, 30, 1)
