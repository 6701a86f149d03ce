"""PNG grids and figures of cnnviz.plots.activations: the pixels show the values they claim to."""

import io

import numpy as np
import pytest
from PIL import Image

from cnnviz.plots import activations as P


def _maps(h=5, w=4, c=3, seed=0):
    return np.random.default_rng(seed).normal(size=(h, w, c)).astype("float32")


def test_normalise_per_channel_layer_network():
    m = _maps()
    m[..., 1] *= 10
    ch = P.normalise(m, "channel")
    for k in range(3):
        assert ch[..., k].min() == pytest.approx(0) and ch[..., k].max() == pytest.approx(1)
    layer = P.normalise(m, "layer")
    assert layer.min() == pytest.approx(0) and layer.max() == pytest.approx(1)
    assert layer[..., 0].max() < 0.9, "a weak channel stays dim on the layer scale"
    net = P.normalise(m, "network", vrange=(-100.0, 100.0))
    np.testing.assert_allclose(net, (m + 100) / 200, rtol=1e-6)
    with pytest.raises(ValueError):
        P.normalise(m, "bogus")


def test_constant_and_nan_channels_do_not_break():
    m = np.zeros((3, 3, 2), dtype="float32")
    m[0, 0, 1] = np.nan
    for scale in P.SCALES:
        out = P.normalise(m, scale, vrange=(0.0, 0.0))
        assert np.isfinite(out).all()
    P.channel_grid(m, "channel")
    assert P.value_range([np.nan, 1.0, -2.0]) == (-2.0, 1.0)
    assert P.value_range([np.nan]) == (0.0, 0.0)


def test_grid_pixels_are_the_lut_colours_of_each_channel():
    m = _maps(h=6, w=5, c=7)
    img = P.channel_grid(m, "layer", cols=3, target=6, labels=False)  # zoom 1
    assert img.size == (3 * (5 + 4) + 4, 3 * (6 + 4) + 4)
    px = np.asarray(img)
    norm = P.normalise(m, "layer")
    lut = P.lut()
    for ch in range(7):
        r, k = divmod(ch, 3)
        x0, y0 = 4 + k * 9, 4 + r * 10
        for (i, j) in [(0, 0), (5, 4), (2, 3)]:
            expected = lut[int(round(norm[i, j, ch] * 255))]
            assert tuple(px[y0 + i, x0 + j]) == tuple(expected), (ch, i, j)


def test_small_maps_are_enlarged_and_labelled():
    m = _maps(h=4, w=2, c=2)
    img = P.channel_grid(m, "channel", target=40)
    # zoom 10: each tile 40 x 20 px, plus the label band above it
    assert img.size == (2 * (20 + 4) + 4, 40 + 12 + 4 + 4)
    assert len(P.png_bytes(img)) > 0
    assert Image.open(io.BytesIO(P.png_bytes(img))).size == img.size


def test_vector_strip():
    v = np.arange(100, dtype="float32")
    img = P.vector_strip(v)
    assert img.size == (32 * 20, 4 * 20)
    px = np.asarray(img)
    lut = P.lut()
    assert tuple(px[0, 0]) == tuple(lut[0])
    assert tuple(px[3 * 20, 3 * 20]) == tuple(lut[255])  # value 99 = index 3*32+3
    assert tuple(px[-1, -1]) == (255, 255, 255), "cells past the end are blank"
    assert P.channel_grid(v).size == img.size


def test_network_range():
    assert P.network_range({"a": np.array([1.0, 2.0]), "b": np.array([-3.0, 0.5])}) == (-3.0, 2.0)


def test_channel_heatmap_hover_shows_values():
    ch = _maps(c=1)[..., 0]
    fig = P.channel_heatmap(ch, "conv1 / channel 0")
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), ch)
    assert "%{z" in fig.data[0].hovertemplate
    assert fig.layout.yaxis.autorange == "reversed", "row 0 on top, as in the image"


def test_zoom_map_draws_each_cell_in_its_colour_with_a_colour_bar():
    ch = _maps(c=1)[..., 0]
    z = P.zoom_map(ch)
    rows, cols = ch.shape
    assert (z.rows, z.cols) == (rows, cols) and z.box == (0, 0, z.cell, z.cell_h) and z.cell == z.cell_h
    assert (z.lo, z.hi) == P.value_range(ch)
    img = np.asarray(z.image)
    lut = P.lut()
    lo_r, lo_c = np.unravel_index(np.argmin(ch), ch.shape)
    hi_r, hi_c = np.unravel_index(np.argmax(ch), ch.shape)
    assert (img[lo_r * z.cell, lo_c * z.cell] == lut[0]).all() and (img[hi_r * z.cell + z.cell - 1, hi_c * z.cell] == lut[255]).all()
    bar_x = cols * z.cell + 10 + 7
    assert (img[0, bar_x] == lut[255]).all() and (img[z.image.height - 1, bar_x] == lut[0]).all(), "max on top"
    fixed = P.zoom_map(ch, vrange=(ch.min() - 10, ch.max() + 10))
    assert not (np.asarray(fixed.image)[hi_r * z.cell, hi_c * z.cell] == lut[255]).all(), "the given range is used"
    vector = P.zoom_map(np.array([0.0, np.nan, 2.0], "float32"))
    assert vector.rows == 1 and vector.cell_h >= 28, "a vector is one row of tall cells"
    assert tuple(np.asarray(vector.image)[0, vector.cell + 1]) == (200, 200, 200), "NaN is grey"
    with pytest.raises(ValueError):
        P.zoom_map(np.zeros((2, 2, 2)))


def test_many_classes_show_the_top_ones_in_order():
    p = np.random.default_rng(1).dirichlet(np.ones(1000))
    names = [f"class{i}" for i in range(1000)]
    fig = P.probability_bars(p, names)
    top = np.argsort(-p)[:P.TOP_BARS]
    assert list(fig.data[0].x) == [f"class{i} ({i})" for i in top]
    np.testing.assert_allclose(fig.data[0].y, p[top])
    assert fig.data[0].marker.color[0] == "#d62728", "the winner first, highlighted"
    assert list(P.probability_bars(p).data[0].x) == [str(i) for i in top], "no names: the index alone"


def test_probability_bars_with_class_names():
    p = np.array([0.1, 0.6, 0.2, 0.1])
    fig = P.probability_bars(p, ["circle", "square", "triangle", "cross"])
    assert list(fig.data[0].x) == ["circle", "square", "triangle", "cross"]
    np.testing.assert_allclose(fig.data[0].y, p)
    assert fig.data[0].marker.color[1] != fig.data[0].marker.color[0], "the winner stands out"
    assert list(P.probability_bars(p).data[0].x) == ["0", "1", "2", "3"]


def test_input_image():
    x = np.linspace(0, 1, 120 * 60, dtype="float32").reshape(120, 60, 1)
    img = P.input_image(x, target=240)
    assert img.size == (120, 240) and img.mode == "L"
    rgb = P.input_image(np.ones((8, 8, 3), dtype="float32"), target=8)
    assert rgb.mode == "RGB" and np.asarray(rgb).min() == 255


def test_more_than_three_axes_are_stacked_into_the_height_and_a_scalar_is_refused():
    """A 5-D tensor (2, 3, 4, 5 per image: a Conv3D's D, H, W, C) draws as 5 channels of (2 x 3) x 4."""
    a = np.arange(120, dtype="float32").reshape(2, 3, 4, 5)
    out = P.normalise(a, "layer")
    assert out.shape == (6, 4, 5)
    np.testing.assert_allclose(out, a.reshape(6, 4, 5) / 119.0)
    with pytest.raises(ValueError, match="Cannot draw"):
        P.normalise(np.float32(1.0))
