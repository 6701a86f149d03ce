"""Nothing said by colour alone (WCAG 1.4.1): padding is hatched and never-read cells crossed in the pictures,
which shows in their lightness (a greyscale copy), not only in their hue; and the sequential colour scales the
pages draw with are the colour-blind-safe ones, exactly as plotly defines them."""

from __future__ import annotations

import numpy as np
import plotly.colors
import pytest
from PIL import Image

from cnnviz.plots import activations as act
from cnnviz.plots import convolution as conv
from cnnviz.plots import layer_lab as ll
from cnnviz.plots import live
from cnnviz.plots.cells import MARGIN_LEFT, MARGIN_TOP


def grey(img: Image.Image) -> np.ndarray:
    """The picture as PIL's own greyscale (ITU-R 601 luma): what is left without hue."""
    return np.asarray(img.convert("L"), dtype="int64")


def cell_pixels(l: np.ndarray, r: int, c: int, cell: int, left: int = MARGIN_LEFT, top: int = MARGIN_TOP,
                gap: int = 1) -> np.ndarray:
    """The pixels of cell (r, c) without its gap line."""
    return l[top + r * cell: top + (r + 1) * cell - gap, left + c * cell: left + (c + 1) * cell - gap]


def test_padding_in_a_number_grid_is_hatched_in_lightness_not_only_in_hue():
    values = np.full((20, 20), 0.5)  # 20 cells a side: no numbers written, the cells are bare
    pad = np.zeros((20, 20), bool)
    pad[0, :] = pad[:, 0] = True
    img = conv.number_grid(values, padding=pad)
    cell = (img.width - MARGIN_LEFT) // 20
    assert cell * 20 == img.width - MARGIN_LEFT and cell >= 14
    l = grey(img)
    for r, c in [(0, 0), (0, 7), (9, 0)]:
        px = cell_pixels(l, r, c, cell)
        levels = np.unique(px)
        assert len(levels) == 2 and levels[1] - levels[0] > 80, (r, c, levels)  # dark lines on light grey
        assert 0.1 < (px == levels[0]).mean() < 0.4  # lines, not a filled cell
    for r, c in [(1, 1), (5, 12), (19, 19)]:
        assert np.unique(cell_pixels(l, r, c, cell)).size == 1  # the input's cells are plain


def test_cells_not_yet_computed_in_the_output_map_are_hatched():
    z = np.arange(400.0).reshape(20, 20)
    filled = np.zeros((20, 20), bool)
    filled[:3] = True
    img = conv.output_map(np.where(filled, z, np.nan), (2, 5), filled=filled)
    cell = (img.width - MARGIN_LEFT) // 20
    l = grey(img)
    assert np.unique(cell_pixels(l, 10, 10, cell)).size == 2
    assert np.unique(cell_pixels(l, 1, 10, cell)).size == 1


def test_the_layer_lab_grid_hatches_padding_and_crosses_what_no_window_reads():
    # 'same' padding, stride 2, dilation 2 on 12x12: a padding ring, and every other row and column never read
    g = ll.grid_cells((12, 12), (3, 3), 2, "same", 2, (5, 5), (6, 6))
    kinds = g.kinds
    assert {ll.PADDING, ll.UNREAD, ll.INPUT} <= set(np.unique(kinds).tolist())
    img = ll.window_grid_image(g)
    n = kinds.shape[0]
    cell = int(np.clip(520 // n, 5, 26))
    l = grey(img)
    ink = 95  # cells.HATCH_INK is grey 95: darker than every cell colour it is drawn on
    by_kind = {}
    for (r, c), k in np.ndenumerate(kinds):
        by_kind.setdefault(int(k), []).append(cell_pixels(l, r, c, cell) <= ink)
    hatched, crossed, plain = by_kind[ll.PADDING][0], by_kind[ll.UNREAD][0], by_kind[ll.INPUT][0]
    assert not any(p.any() for p in by_kind[ll.INPUT])
    assert all(p.any() for p in by_kind[ll.PADDING]) and all(p.any() for p in by_kind[ll.UNREAD])
    assert not plain.any()
    # hatching reaches the cell's corners; a × stays off its edges and crosses in the middle
    assert hatched[0, 0] and hatched[-1].any() and hatched[:, -1].any()
    m = cell // 2
    assert not crossed[0].any() and not crossed[:, 0].any() and crossed[m - 1: m + 1, m - 1: m + 1].any()
    # the × is two diagonals: mirror images of each other (over the whole cell, its gap line included)
    r, c = map(int, np.argwhere(kinds == ll.UNREAD)[0])
    whole = cell_pixels(l, r, c, cell, gap=0) <= ink
    np.testing.assert_array_equal(whole, whole[:, ::-1])
    # a tap on padding is hatched too (under the tap's colour), a tap on the input is not
    taps_pad = ll.grid_cells((6, 6), (3, 3), 1, "same", 1, (0, 0), (6, 6))
    img = ll.window_grid_image(taps_pad)
    cell = int(np.clip(520 // taps_pad.kinds.shape[0], 5, 26))
    l = grey(img)
    assert taps_pad.kinds[0, 0] == ll.TAP_PAD and taps_pad.kinds[1, 1] == ll.TAP
    assert (cell_pixels(l, 0, 0, cell) <= ink).any()
    inner = cell_pixels(l, 1, 1, cell)[3:-3, 3:-3]  # inside the window's outline
    assert np.unique(inner).size == 1


def test_small_cells_still_carry_the_patterns():
    g = ll.grid_cells((120, 60), (3, 3), 2, "same", 2, (3, 1), (60, 30))
    img = ll.window_grid_image(g)
    cell = int(np.clip(520 // max(g.kinds.shape), 5, 26))
    l = grey(img)
    r, c = map(int, np.argwhere(g.kinds == ll.UNREAD)[0])
    assert (cell_pixels(l, r, c, cell, gap=1 if cell >= 8 else 0) <= 95).any()
    r, c = map(int, np.argwhere(g.kinds == ll.PADDING)[0])
    assert (cell_pixels(l, r, c, cell, gap=1 if cell >= 8 else 0) <= 95).any()


def interpolated(stops: list[str], n: int = 256) -> np.ndarray:
    """plotly's evenly spaced hex stops, linearly interpolated to n colours (RGB 0-255)."""
    rgb = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in stops], dtype="float64")
    at = np.linspace(0, 1, n)
    where = np.linspace(0, 1, len(stops))
    return np.stack([np.interp(at, where, rgb[:, k]) for k in range(3)], axis=1)


@pytest.mark.parametrize("name", ["Viridis", "Cividis", "Inferno"])
def test_the_sequential_scales_are_plotlys_own(name):
    stops = getattr(plotly.colors.sequential, name)
    np.testing.assert_allclose(act.lut(name).astype("float64"), interpolated(stops), atol=1.0)


@pytest.mark.parametrize("name", ["Viridis", "Cividis", "Inferno"])
def test_the_sequential_scales_say_their_order_in_lightness(name):
    """Colour-blind safe: the scale's lightness rises from one end to the other, so a value is read without hue."""
    colours = act.lut(name).astype("float64") / 255
    linear = np.where(colours <= 0.04045, colours / 12.92, ((colours + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])  # WCAG's relative luminance
    steps = np.diff(luminance[::8])
    assert (steps > 0).all(), name


def test_the_pages_draw_with_colour_blind_safe_scales():
    """The fixed sequential scales of the Activations, Layer lab and Live maps (Viridis) and of the Explain and
    Live heat maps (Inferno): no page offers a choice of scale, so these are what everyone sees."""
    assert act.COLORSCALE == "Viridis" and live.CAM_COLORSCALE == "Inferno"
    np.testing.assert_array_equal(act.lut(), act.lut("Viridis"))
