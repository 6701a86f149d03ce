"""The step-by-step numbers equal real Keras layers at every output position."""

import zlib

import keras
import numpy as np
import pytest

from cnnviz import convolution as cv
from cnnviz.layers import pooling_layer

# (H, W, C, kernel, strides, padding, dilation): odd and even kernels, 'same' with even kernels,
# strides that do not divide the input, dilation, 1 and 3 channels.
CONV_CASES = [
    (5, 5, 1, (3, 3), (1, 1), "valid", (1, 1)),
    (6, 7, 3, (3, 3), (1, 1), "same", (1, 1)),
    (6, 6, 1, (2, 2), (1, 1), "same", (1, 1)),
    (7, 8, 3, (4, 2), (1, 1), "same", (1, 1)),
    (7, 7, 1, (3, 3), (2, 2), "valid", (1, 1)),
    (8, 7, 3, (3, 2), (3, 2), "same", (1, 1)),
    (9, 10, 1, (4, 4), (3, 3), "same", (1, 1)),
    (10, 9, 3, (5, 3), (2, 3), "valid", (1, 1)),
    (9, 9, 1, (3, 3), (1, 1), "valid", (2, 2)),
    (10, 11, 3, (3, 2), (1, 1), "same", (2, 3)),
    (12, 12, 3, (2, 2), (1, 1), "same", (3, 3)),
    (5, 12, 1, (1, 5), (1, 4), "same", (1, 1)),
]


def keras_conv(x, kernel, bias, strides, padding, dilation):
    layer = keras.layers.Conv2D(kernel.shape[3], kernel.shape[:2], strides=strides, padding=padding,
                                dilation_rate=dilation)
    layer.build((1, *x.shape))
    layer.set_weights([kernel.astype(np.float32), bias.astype(np.float32)])
    return keras.ops.convert_to_numpy(layer(x[None].astype(np.float32)))[0]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}x{c[1]}x{c[2]}-k{c[3]}-s{c[4]}-{c[5]}-d{c[6]}")
def test_conv_step_equals_keras_conv2d_at_every_position(case):
    h, w, c, k, s, padding, d = case
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()))
    x = rng.normal(size=(h, w, c))
    kernel = rng.normal(size=(*k, c, 2))
    bias = rng.normal(size=2)
    expected = keras_conv(x, kernel, bias, s, padding, d)
    ours = cv.conv_output(x, kernel, bias, s, padding, d)
    assert ours.shape == expected.shape
    positions = cv.geometry((h, w), k, s, padding, d).positions()
    assert len(positions) == expected.shape[0] * expected.shape[1]
    for f in range(2):
        for pos in positions:
            step = cv.conv_step(x, kernel, bias, pos, s, padding, d, filter_index=f)
            assert step.total == pytest.approx(float(expected[pos][f]), abs=1e-5)
            assert step.relu == pytest.approx(max(float(expected[pos][f]), 0.0), abs=1e-5)
            # The parts add up to the total that was compared with Keras.
            np.testing.assert_allclose(step.products.sum(axis=(0, 1)), step.channel_sums)
            assert step.channel_sums.sum() + step.bias == pytest.approx(step.total)
            np.testing.assert_allclose(step.window * step.kernel, step.products)
            assert np.all(step.window[step.window_padding] == 0), "padding cells are zeros"
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_same_padding_with_even_kernel_pads_bottom_right_like_keras():
    geo = cv.geometry((6, 6), (2, 2), 1, "same", 1)
    assert geo.pads == ((0, 1), (0, 1))
    step = cv.conv_step(np.ones((6, 6, 1)), np.ones((2, 2, 1)), 0.0, (5, 5), 1, "same")
    assert step.window_padding.tolist() == [[False, True], [True, True]]
    assert step.total == 1.0


def test_window_reads_dilated_cells():
    x = np.arange(49.0).reshape(7, 7, 1)
    step = cv.conv_step(x, np.ones((2, 2, 1)), 0.0, (1, 2), 1, "valid", 3)
    assert step.rows.tolist() == [1, 4] and step.cols.tolist() == [2, 5]
    assert step.window[:, :, 0].tolist() == [[9, 12], [30, 33]]


def test_two_dimensional_kernel_applies_to_every_channel():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 5, 3))
    k2 = rng.normal(size=(3, 3))
    step = cv.conv_step(x, k2, 0.5, (1, 1))
    expected = keras_conv(x, np.repeat(k2[:, :, None], 3, axis=2)[..., None], np.array([0.5]), 1, "valid", 1)
    assert step.total == pytest.approx(float(expected[1, 1, 0]), abs=1e-5)


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(position=(3, 0)), "outside"),
        (dict(kernel=np.ones((6, 6, 1))), "does not fit"),
        (dict(strides=2, dilation=2), "stride above 1 together with a dilation"),
        (dict(kernel=np.ones((3, 3, 2))), "channels"),
        (dict(x=np.full((5, 5, 1), np.nan)), "not a number"),
    ],
)
def test_bad_settings_give_readable_errors(bad, message):
    args = dict(x=np.ones((5, 5, 1)), kernel=np.ones((3, 3, 1)), bias=0.0, position=(0, 0), strides=1,
                padding="valid", dilation=1)
    args.update(bad)
    with pytest.raises(ValueError, match=message):
        cv.conv_step(**args)


POOL_CASES = [
    (6, 6, 1, (2, 2), None, "valid"),
    (7, 7, 3, (2, 2), None, "valid"),
    (7, 7, 3, (2, 2), None, "same"),
    (7, 8, 1, (3, 3), (2, 2), "same"),
    (8, 7, 3, (3, 2), (2, 3), "same"),
    (9, 9, 1, (3, 3), (1, 1), "same"),
    (10, 9, 3, (4, 4), (3, 3), "same"),
    (9, 10, 1, (2, 3), (3, 2), "valid"),
]


@pytest.mark.parametrize("kind", cv.POOL_KINDS)
@pytest.mark.parametrize("case", POOL_CASES, ids=lambda c: f"{c[0]}x{c[1]}x{c[2]}-p{c[3]}-s{c[4]}-{c[5]}")
def test_pool_step_equals_keras_at_every_position(kind, case):
    h, w, c, p, s, padding = case
    rng = np.random.default_rng(zlib.crc32(repr(case).encode()))
    # Negative values too: max pooling must not let zero padding win, min pooling neither.
    x = rng.normal(size=(h, w, c)) - (1.5 if kind == "max" else -1.5)
    expected = keras.ops.convert_to_numpy(pooling_layer(kind, p, s, padding)(x[None].astype(np.float32)))[0]
    ours = cv.pool_output(x, kind, p, s, padding)
    assert ours.shape == expected.shape
    for pos in cv.pool_geometry((h, w), p, s, padding).positions():
        step = cv.pool_step(x, kind, pos, p, s, padding)
        np.testing.assert_allclose(step.values, expected[pos], atol=1e-5)
        for ch in range(c):
            if kind == "average":
                assert step.values[ch] == pytest.approx(step.sums[ch] / step.counts[ch])
            else:
                r, q = step.winners[ch]
                assert not step.window_padding[r, q], "a padding cell never wins"
                assert step.window[r, q, ch] == step.values[ch]
    np.testing.assert_allclose(ours, expected, atol=1e-5)


def test_average_same_padding_divides_by_real_cells_only():
    x = np.ones((3, 3, 1))
    step = cv.pool_step(x, "average", (1, 1), 2, None, "same")
    assert step.counts[0] == 1 and step.values[0] == 1.0
    keras_value = keras.ops.convert_to_numpy(pooling_layer("average", 2, None, "same")(x[None].astype("float32")))
    assert keras_value[0, 1, 1, 0] == pytest.approx(1.0)


def test_pooling_keeps_channels_and_has_no_parameters():
    layer = pooling_layer("max", 2)
    out = layer(np.zeros((1, 8, 6, 3), dtype="float32"))
    assert layer.count_params() == 0
    assert cv.pool_output(np.zeros((8, 6, 3)), "max").shape == tuple(out.shape[1:]) == (4, 3, 3)


def test_model_filters_reads_conv_weights():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="c"),
                              keras.layers.MaxPooling2D(), keras.layers.Conv2D(2, 2, padding="same", name="d")])
    found = cv.model_filters(model)
    assert [f.layer for f in found] == ["c", "d"]
    assert found[0].kernel.shape == (3, 3, 3, 4) and found[0].channels == 3 and found[0].filters == 4
    assert found[1].padding == "same"
    np.testing.assert_array_equal(found[0].kernel, model.get_layer("c").get_weights()[0])
