"""cnnviz.filters: kernels, biases and statistics, checked against what the Keras layer computes."""

import keras
import numpy as np
import pytest
from keras import layers

from cnnviz import filters as F
from cnnviz.models import seed_model, tiny_vgg


def _conv_model(filters=3, in_ch=2, k=3, use_bias=True, seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((7, 7, in_ch))
    conv = layers.Conv2D(filters, k, use_bias=use_bias, name="c")
    model = keras.Model(inp, conv(inp))
    if use_bias:
        conv.bias.assign(np.arange(filters, dtype="float32") - 1.0)
    return model, conv


def test_conv_layers_in_order():
    model = seed_model()
    assert F.conv_layers(model) == [model.layers[0], model.layers[2], model.layers[4]]
    inp = keras.Input((8, 8, 1))
    inner = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, name="inner")], name="block")
    nested = keras.Model(inp, layers.Conv2D(1, 3, name="outer")(inner(inp)))
    assert [layer.name for layer in F.conv_layers(nested)] == ["inner", "outer"]
    dense = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    assert F.conv_layers(dense) == []


def test_filter_kernel_is_what_multiplies_the_input():
    """An impulse at (p, q) in channel c gives output[y, x, f] = kernel[p - y, q - x, c] of filter f."""
    model, conv = _conv_model()
    p, q, c = 3, 4, 1
    x = np.zeros((1, 7, 7, 2), dtype="float32")
    x[0, p, q, c] = 1.0
    out = keras.ops.convert_to_numpy(model(x))[0]
    b = F.bias(conv)
    for f in range(3):
        w = F.filter_kernel(conv, f)
        for y in range(5):
            for xx in range(5):
                i, j = p - y, q - xx
                expected = (w[i, j, c] if 0 <= i < 3 and 0 <= j < 3 else 0.0) + b[f]
                assert out[y, xx, f] == pytest.approx(expected, abs=1e-6)


def test_stats_per_filter():
    model, conv = _conv_model(filters=4, in_ch=3)
    stats = F.filter_stats(conv)
    assert tuple(stats) == F.STAT_COLUMNS
    weights, b = conv.get_weights()
    for f in range(4):
        w = weights[..., f]
        assert stats["mean"][f] == pytest.approx(w.mean(), abs=1e-6)
        assert stats["std"][f] == pytest.approx(w.std(), abs=1e-6)
        assert stats["min"][f] == pytest.approx(w.min())
        assert stats["max"][f] == pytest.approx(w.max())
        assert stats["l2_norm"][f] == pytest.approx(np.linalg.norm(w.ravel()), rel=1e-5)
        assert stats["bias"][f] == pytest.approx(b[f])
    assert list(stats["filter"]) == [0, 1, 2, 3]
    assert len(set(np.round(stats["mean"], 6))) == 4, "filters differ"


def test_no_bias():
    _, conv = _conv_model(use_bias=False)
    assert F.bias(conv) is None
    assert np.isnan(F.filter_stats(conv)["bias"]).all()


def test_bad_filter_index():
    _, conv = _conv_model()
    with pytest.raises(ValueError, match="3 filters"):
        F.filter_kernel(conv, 3)


def test_rgb_first_layer():
    vgg = tiny_vgg()
    convs = F.conv_layers(vgg)
    assert F.is_rgb_first_layer(vgg, convs[0])
    assert not F.is_rgb_first_layer(vgg, convs[1])
    seed = seed_model()
    assert not F.is_rgb_first_layer(seed, F.conv_layers(seed)[0])


# --- drawing (cnnviz.plots.filters) ---

from cnnviz.plots import filters as PF  # noqa: E402


def test_diverging_scale_is_centred_on_zero():
    lut = PF.diverging_colours(np.array([-2.0, 0.0, 2.0]), limit=2.0)
    assert tuple(lut[1]) == tuple(PF.lut(PF.DIVERGING)[128]) or tuple(lut[1]) == tuple(PF.lut(PF.DIVERGING)[127])
    assert lut[0][2] > lut[0][0], "negative is blue"
    assert lut[2][0] > lut[2][2], "positive is red"
    assert min(lut[1]) > 230, "zero is (nearly) white"
    assert PF.symmetric_limit([-3.0, 1.0]) == 3.0 and PF.symmetric_limit([0.0]) == 1.0


def test_kernel_grid_places_filter_rows_and_channel_columns():
    k = np.zeros((2, 2, 3, 4), dtype="float32")
    k[0, 1, 2, 3] = 5.0  # filter 3, input channel 2, row 0, col 1
    img = PF.kernel_grid(k, target=2, labels=False, max_width=0)  # zoom 1, one filter per row
    px = np.asarray(img)
    assert img.size == (3 * (2 + 3) + 3, 4 * (2 + 3) + 3)
    y, x = 3 + 3 * 5 + 0, 3 + 2 * 5 + 1
    assert tuple(px[y, x]) == tuple(PF.lut(PF.DIVERGING)[255]), "the one weight, the layer's max, is full red"
    assert px[y, x][0] > px[y, x][2] + 50
    assert min(px[3, 3]) > 230, "zeros are white"
    wide = PF.kernel_grid(k, target=2, labels=False, max_width=40)  # two filters side by side
    assert wide.size == (2 * 18, 2 * 5 + 3)
    assert tuple(np.asarray(wide)[3 + 5, 18 + 3 + 2 * 5 + 1]) == tuple(px[y, x]), "filter 3: row 1, block 1"


def test_rgb_patches_and_filter_heatmaps():
    _, conv = _conv_model(filters=5, in_ch=3)
    k = F.kernel(conv)
    img = PF.rgb_patches(k, target=3)
    assert img.size[0] == 5 * (3 + 3) + 3
    with pytest.raises(ValueError):
        PF.rgb_patches(k[:, :, :2])
    fig = PF.filter_heatmaps(F.filter_kernel(conv, 4))
    assert len(fig.data) == 3
    np.testing.assert_array_equal(np.asarray(fig.data[1].z), k[:, :, 1, 4])
    assert fig.data[0].zmid == 0
    bars = PF.bias_bars(F.bias(conv))
    np.testing.assert_allclose(bars.data[0].y, F.bias(conv))


# --- other kernel layers, BatchNormalization ---


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_depthwise_part_is_one_single_channel_kernel_per_output_channel():
    keras.utils.set_random_seed(21)
    inp = keras.Input((9, 9, 3))
    dw = layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")
    model = keras.Model(inp, dw(inp))
    dw.bias.assign(np.arange(6, dtype="float32") / 10)
    x = np.random.default_rng(0).random((1, 9, 9, 3), dtype="float32")
    out = _np(model(x))[0]
    (part,) = F.parts(dw)
    assert part.key == "depthwise" and part.kernel.shape == (3, 3, 1, 6)
    for o in range(6):
        c = o // 2  # output channel c * multiplier + m reads input channel c
        alone = _np(keras.ops.conv(x[..., c:c + 1], part.kernel[..., o:o + 1]))[0, ..., 0] + part.bias[o]
        np.testing.assert_allclose(out[..., o], alone, rtol=1e-5, atol=1e-5)


def test_separable_parts_are_depthwise_then_pointwise():
    keras.utils.set_random_seed(22)
    inp = keras.Input((8, 8, 2))
    sep = layers.SeparableConv2D(4, 3, depth_multiplier=2, padding="same", name="sep")
    model = keras.Model(inp, sep(inp))
    x = np.random.default_rng(1).random((1, 8, 8, 2), dtype="float32")
    depth, point = F.parts(sep)
    assert (depth.key, point.key) == ("depthwise", "pointwise") and depth.bias is None
    assert depth.kernel.shape == (3, 3, 1, 4) and point.kernel.shape == (1, 1, 4, 4)
    mid = np.concatenate([_np(keras.ops.conv(x[..., o // 2:o // 2 + 1], depth.kernel[..., o:o + 1], padding="same"))
                          for o in range(4)], axis=-1)
    expected = _np(keras.ops.conv(mid, point.kernel)) + point.bias
    np.testing.assert_allclose(_np(model(x)), expected, rtol=1e-5, atol=1e-5)


def test_transposed_kernel_scatters_each_input_value():
    """An impulse at (p, q) in channel c gives output[p + i, q + j, f] = part[i, j, c, f] + bias[f]."""
    keras.utils.set_random_seed(23)
    inp = keras.Input((5, 5, 2))
    tr = layers.Conv2DTranspose(3, 3, name="tr")
    model = keras.Model(inp, tr(inp))
    (part,) = F.parts(tr)
    assert part.kernel.shape == (3, 3, 2, 3)
    p, q, c = 2, 1, 1
    x = np.zeros((1, 5, 5, 2), "float32")
    x[0, p, q, c] = 1.0
    out = _np(model(x))[0]
    for f in range(3):
        np.testing.assert_allclose(out[p:p + 3, q:q + 3, f], part.kernel[:, :, c, f] + part.bias[f], atol=1e-6)


def test_kernel_layers_by_path_and_stats_of_a_part():
    inner = keras.Sequential([keras.Input((8, 8, 3)), layers.DepthwiseConv2D(3, name="dw")], name="blk")
    inp = keras.Input((8, 8, 3))
    model = keras.Model(inp, layers.Conv2DTranspose(2, 3, name="up")(layers.Conv2D(3, 1, name="pw")(inner(inp))))
    assert list(F.kernel_layers(model)) == ["blk/dw", "pw", "up"]
    dw = F.kernel_layers(model)["blk/dw"]
    stats = F.filter_stats(dw, F.parts(dw)[0])
    assert len(stats["mean"]) == 3
    np.testing.assert_allclose(stats["max"], F.parts(dw)[0].kernel.reshape(-1, 3).max(axis=0))


def test_batchnorm_folded_into_the_kernel_equals_keras():
    keras.utils.set_random_seed(24)
    inp = keras.Input((8, 8, 2))
    conv = layers.Conv2D(3, 3, name="c")
    bn = layers.BatchNormalization(name="bn")
    model = keras.Model(inp, layers.ReLU(name="act")(bn(conv(inp))))
    rng = np.random.default_rng(3)
    bn.moving_mean.assign(rng.normal(size=3).astype("float32"))
    bn.moving_variance.assign(rng.uniform(0.5, 2, size=3).astype("float32"))
    bn.gamma.assign(rng.normal(size=3).astype("float32"))
    bn.beta.assign(rng.normal(size=3).astype("float32"))
    assert F.batchnorm_after(model, "c") == ("bn", bn)
    assert F.batchnorm_after(model, "bn") is None
    assert F.folds_into(conv, bn)
    x = rng.random((1, 8, 8, 2), dtype="float32")
    eff = F.folded(conv, bn)
    by_keras = _np(bn(conv(x), training=False))
    np.testing.assert_allclose(_np(keras.ops.conv(x, eff.kernel)) + eff.bias, by_keras, rtol=1e-4, atol=1e-5)
    scale, shift = F.bn_scale_shift(bn)
    np.testing.assert_allclose(_np(conv(x)) * scale + shift, by_keras, rtol=1e-4, atol=1e-5)
    relu_conv = layers.Conv2D(3, 3, activation="relu")
    relu_conv.build((None, 8, 8, 2))
    assert not F.folds_into(relu_conv, bn)  # a non-linear activation sits between them
