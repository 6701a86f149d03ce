"""The Layer lab's and the step pages' pictures: the pixels show what they claim (cells, taps, values)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnviz import arithmetic as ar
from cnnviz.plots import activations as A
from cnnviz.plots import cells as C
from cnnviz.plots import convolution as PC
from cnnviz.plots import layer_lab as P


def rgb_at(img: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    return img.convert("RGB").getpixel((x, y))


def test_grid_cells_mark_padding_taps_and_unread_as_the_arithmetic_says():
    # 7x7 input, 3x3 kernel, stride 2, 'same': pads 1 on each side; output 4x4; position (1, 2)
    g = P.grid_cells((7, 7), (3, 3), 2, "same", 1, (1, 2), (4, 4))
    top, _ = ar.padding_split(7, 3, 2, "same", 1)
    assert list(g.rows) == list(range(-top, 7 + 1)) and g.padded_hw == (9, 9) and not g.zoomed
    taps_r, taps_c = ar.window(1, 3, 2, 1, top), ar.window(2, 3, 2, 1, top)
    for i, r in enumerate(g.rows):
        for j, c in enumerate(g.cols):
            pad = not (0 <= r < 7 and 0 <= c < 7)
            tap = r in taps_r and c in taps_c
            expected = (P.TAP_PAD if pad else P.TAP) if tap else (P.PADDING if pad else P.INPUT)
            assert g.kinds[i, j] == expected, (r, c)
    assert list(g.out_rows) == [0, 1, 2, 3]


def test_grid_cells_crop_big_inputs_around_the_window():
    g = P.grid_cells((200, 100), (5, 5), 1, "valid", 1, (150, 10), (196, 96), max_cells=40)
    assert g.zoomed and len(g.rows) == 40 and len(g.cols) == 40
    assert 150 in g.rows and 154 in g.rows  # the window's rows are in view
    assert 150 in g.out_rows and len(g.out_rows) == 40


def test_window_grid_image_paints_taps_in_the_tap_colour():
    g = P.grid_cells((6, 6), (3, 3), 1, "valid", 1, (0, 0), (4, 4))
    img = P.window_grid_image(g, width=120)
    cell = 120 // 6
    # the cell (row 1, col 1) is a tap: its centre has the tap colour (past the 26/16 px index margins)
    assert rgb_at(img, 26 + cell + cell // 2, 16 + cell + cell // 2) == C.rgb(P.COLORS[P.TAP])
    assert rgb_at(img, 26 + 5 * cell + cell // 2, 16 + 5 * cell + cell // 2) == C.rgb(P.COLORS[P.INPUT])
    assert img.width > 6 * cell + 26  # the output grid is drawn to the right


@pytest.mark.parametrize("size, out_pos, out_hw", [((6, 5), (2, 3), (4, 3)), ((200, 100), (150, 10), (196, 96))])
def test_output_box_finds_the_output_cells_in_the_picture(size, out_pos, out_hw):
    """The box a click is read in: the centre of its cell (i, j) has the selected colour exactly at the
    output position (cropped outputs included), the plain output colour elsewhere."""
    g = P.grid_cells(size, (5, 5) if size[0] > 50 else (3, 3), 1, "valid", 1, out_pos, out_hw)
    img = P.window_grid_image(g)
    left, top, cell_w, cell_h = P.output_box(g)
    selected = C.rgb(P.OUT_SELECTED)
    for i, r in enumerate(g.out_rows):
        for j, c in enumerate(g.out_cols):
            colour = rgb_at(img, int(left + (j + 0.5) * cell_w), int(top + (i + 0.5) * cell_h))
            assert (colour == selected) == ((r, c) == out_pos), (r, c, colour)
            assert colour in (selected, C.rgb(P.OUT_CELL))
    assert left + len(g.out_cols) * cell_w <= img.width and top + len(g.out_rows) * cell_h <= img.height


def test_output_box_is_none_without_an_output():
    assert P.output_box(P.grid_cells((2, 2), (3, 3), 1, "valid", 1, (0, 0), None)) is None


def test_maps_stages_one_column_per_filter_values_on_the_shared_scale():
    pre = np.zeros((8, 6, 3), np.float32)
    pre[..., 0], pre[..., 1] = 2.0, -2.0  # filter 0 at +limit, filter 1 at -limit, filter 2 zero
    post = np.maximum(pre, 0)
    pooled = post[::2, ::2]
    img = P.maps_stages([pre, post, pooled], limit=2.0, target=12, gap=4)
    assert img.mode == "P"
    scale = A.lut("RdBu_r")
    zoom = 2  # 8x6 at target 12: round(12 / 8) = 2
    col_w = 6 * zoom + 4
    top = 4 + 13  # gap, label
    assert rgb_at(img, 4 + 2, top + 2) == tuple(scale[-1])  # filter 0, pre: +limit, the scale's top
    assert rgb_at(img, 4 + col_w + 2, top + 2) == tuple(scale[0])  # filter 1, pre: -limit
    white_ish = rgb_at(img, 4 + 2 * col_w + 2, top + 2)  # filter 2: zero, the scale's white middle
    assert min(white_ish) > 230
    # the pooled tile (third stage) is half as tall: below it, the column is background again
    y_pooled = top + 8 * zoom + 4 + 8 * zoom + 4
    assert rgb_at(img, 4 + 2, y_pooled + 2) == tuple(scale[-1])
    assert rgb_at(img, 4 + 2, y_pooled + 4 * zoom + 2) == (255, 255, 255)


def test_maps_stages_wrap_many_filters_into_rows():
    maps = np.random.default_rng(0).normal(size=(10, 10, 64)).astype(np.float32)
    img = P.maps_stages([maps], limit=3.0, max_width=400)
    assert img.width <= 400 and img.height > 2 * (10 + 13)


def test_colour_bar_runs_from_blue_to_red_through_white():
    img = P.colour_bar(1.5, width=300)
    scale = A.lut("RdBu_r")
    assert rgb_at(img, 20, 5) == tuple(scale[0]) and rgb_at(img, 319, 5) == tuple(scale[-1])
    assert min(rgb_at(img, 170, 5)) > 230


def test_kernel_image_colours_weights_by_sign():
    k = np.array([[1.0, 0.0], [0.0, -1.0]], np.float32)
    img = P.kernel_image(k, cell=40)
    assert rgb_at(img, 3, 3)[0] > rgb_at(img, 3, 3)[2]  # +1: red
    assert rgb_at(img, 77, 77)[2] > rgb_at(img, 77, 77)[0]  # -1: blue


def test_kernels_strip_has_one_tile_per_filter():
    narrow = P.kernels_strip(np.ones((2, 3, 3), np.float32))
    wide = P.kernels_strip(np.ones((6, 3, 3), np.float32))
    assert wide.width > narrow.width


def test_map_figure_is_centred_on_the_given_limit():
    fig = P.map_figure(np.array([[0.5, -0.25]]), "t", limit=2.0)
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-2.0, 2.0)
    assert P.map_figure(np.zeros((2, 2)), "t").data[0].zmax == 1.0  # all zeros: a usable range


def test_number_grid_outlines_window_marks_winner_and_greys_padding():
    z = np.arange(16, dtype=float).reshape(4, 4)
    pad = np.zeros((4, 4), bool)
    pad[0, :] = True
    img = PC.number_grid(z, padding=pad, window=(np.array([1, 2]), np.array([1, 2])), marked=[(3, 3)], current=(2, 0))
    x0, y0 = 26, 16  # index margins
    cell = (img.width - x0) // 4  # cells widen to fit the longest number
    assert cell >= PC.CELL_PX and (img.height - y0) // 4 == cell
    assert rgb_at(img, x0 + cell // 2, y0 + 3) == C.rgb(PC.PAD_COLOR)  # a padding cell, away from its text
    assert rgb_at(img, x0 + cell + 1, y0 + cell + 1) == C.rgb(PC.WINDOW_COLOR)  # the window's outline
    assert rgb_at(img, x0 + 3 * cell + 1, y0 + 3 * cell + 1) == C.rgb(PC.WIN_COLOR)  # the winner's
    assert rgb_at(img, x0 + 1, y0 + 2 * cell + 1) == C.rgb(PC.CURRENT_COLOR)  # the current output cell
    # the numbers are written in: the cell of 15 holds dark and light pixels, not one flat colour
    tile = np.asarray(img.convert("L").crop((x0 + 3 * cell + 6, y0 + 3 * cell + 6, x0 + 4 * cell - 6, y0 + 4 * cell - 6)))
    assert tile.max() - tile.min() > 100


def test_output_map_is_diverging_only_with_negative_values():
    pos = PC.output_map(np.array([[0.0, 1.0]]), (0, 0))
    neg = PC.output_map(np.array([[-1.0, 1.0]]), (0, 1))
    cell = (neg.width - 26) // 2
    # RdBu runs red -> blue: -1 (the low end) is red, +1 blue (away from the red outline of the current cell)
    r, _, b = rgb_at(neg, 26 + cell // 2, 16 + 6)
    assert r > b
    r, _, b = rgb_at(neg, 26 + cell + cell // 2, 16 + cell - 8)
    assert b > r
    # without negative values the scale is Viridis: 0 is its dark violet end
    cell = (pos.width - 26) // 2
    assert rgb_at(pos, 26 + cell + 6, 16 + 6) == tuple(A.lut("Viridis")[-1])
    assert rgb_at(pos, 26 + 6, 16 + cell - 7) == tuple(A.lut("Viridis")[0])


def test_glyphs_are_drawn_once_and_reused():
    a = A._glyphs("123")
    assert A._glyphs("123") is a and A.text_width("123") == a.width
    img = Image.new("RGB", (40, 20), (255, 255, 255))
    A.put_text(img, (2, 2), "88", (0, 0, 0))
    assert np.asarray(img).min() < 100  # something dark was drawn
    assert A._font() is A._font()


@pytest.mark.parametrize("mode", ["RGB", "P"])
def test_png_bytes_round_trip_exactly(mode):
    img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (9, 7), dtype=np.uint8), "L").convert(mode)
    back = Image.open(__import__("io").BytesIO(A.png_bytes(img)))
    assert back.format == "PNG" and np.array_equal(np.asarray(back.convert("RGB")), np.asarray(img.convert("RGB")))
