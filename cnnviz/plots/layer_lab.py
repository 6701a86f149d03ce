"""Pictures of the Layer lab: the padded input grid with one window, the layer's maps, its kernels.

Everything that changes with a slider is a PNG (PIL), not a plotly figure: a browser draws an image
in a few milliseconds, where each plotly chart costs it tens to hundreds. Only the optional zoomed map
(`map_figure`, values on hover) is plotly. Texts in the images are digits only (the default font has
no Korean); labels in words are the page's to write beside them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from cnnviz import arithmetic as ar
from cnnviz.plots.cells import MARGIN_LEFT, MARGIN_TOP, draw_cells, rgb, with_indices
from cnnviz.plots.activations import _tile_size, channel_grid, lut, put_text
from cnnviz.plots.filters import DIVERGING, diverging_colours

# Cell kinds of the input grid, in drawing order.
INPUT, PADDING, UNREAD, TAP, TAP_PAD = range(5)
KINDS = ("input", "padding", "unread", "tap", "tap_pad")  # names of the kinds, for the page's legend
COLORS = {
    INPUT: "#e8eef7",
    PADDING: "#fbe3c0",
    UNREAD: "#b9b9b9",
    TAP: "#2b6cb0",
    TAP_PAD: "#dd6b20",
}
OUT_CELL, OUT_SELECTED = "#e6f4ea", "#2f855a"
WINDOW = "#1a202c"
_INK = (90, 90, 90)  # the colour bar's numbers


def _crop(lo: int, hi: int, focus_lo: int, focus_hi: int, max_cells: int) -> tuple[int, int]:
    """A range of at most max_cells inside [lo, hi) that shows [focus_lo, focus_hi] when it can."""
    if hi - lo <= max_cells:
        return lo, hi
    centre = (focus_lo + focus_hi) // 2
    start = min(max(centre - max_cells // 2, lo), hi - max_cells)
    return start, start + max_cells


@dataclass(frozen=True)
class Grid:
    """The cells of the padded input around one window, and of the output around its position."""

    kinds: np.ndarray  # (rows, cols) of INPUT..TAP_PAD
    rows: np.ndarray  # input row index of each grid row (negative / >= H: padding)
    cols: np.ndarray
    padded_hw: tuple[int, int]  # the whole padded input
    out_rows: np.ndarray  # output rows/cols shown (empty when the output is impossible)
    out_cols: np.ndarray
    out_pos: tuple[int, int]

    @property
    def zoomed(self) -> bool:
        return (len(self.rows), len(self.cols)) != self.padded_hw


def grid_cells(size_hw, kernel_hw, stride, padding, dilation, out_pos, out_hw=None, max_cells=40) -> Grid:
    """The padded input with the taps of output position out_pos = (row, col) marked, cropped around
    the window to at most max_cells per side, and the output cells around that position."""
    (h, w), (kh, kw) = size_hw, kernel_hw
    (top, bottom) = ar.padding_split(h, kh, stride, padding, dilation)
    (left, right) = ar.padding_split(w, kw, stride, padding, dilation)
    unread_r = set(ar.unread_indices(h, kh, stride, padding, dilation)) if out_hw else set(range(h))
    unread_c = set(ar.unread_indices(w, kw, stride, padding, dilation)) if out_hw else set(range(w))
    r, c = out_pos
    taps_r = ar.window(r, kh, stride, dilation, top) if out_hw else []
    taps_c = ar.window(c, kw, stride, dilation, left) if out_hw else []

    r0, r1 = _crop(-top, h + bottom, min(taps_r, default=0), max(taps_r, default=0), max_cells)
    c0, c1 = _crop(-left, w + right, min(taps_c, default=0), max(taps_c, default=0), max_cells)
    rows, cols = np.arange(r0, r1), np.arange(c0, c1)
    pad = ((rows < 0) | (rows >= h))[:, None] | ((cols < 0) | (cols >= w))[None, :]
    z = np.where(pad, PADDING, INPUT)
    unread = np.isin(rows, list(unread_r))[:, None] | np.isin(cols, list(unread_c))[None, :]
    z = np.where(~pad & unread, UNREAD, z)
    tap = np.isin(rows, taps_r)[:, None] & np.isin(cols, taps_c)[None, :]
    z = np.where(tap & ~pad, TAP, z)
    z = np.where(tap & pad, TAP_PAD, z)
    if out_hw:
        oh, ow = out_hw
        out_rows, out_cols = np.arange(*_crop(0, oh, r, r, max_cells)), np.arange(*_crop(0, ow, c, c, max_cells))
    else:
        out_rows = out_cols = np.arange(0)
    return Grid(z, rows, cols, (h + top + bottom, w + left + right), out_rows, out_cols, (r, c))


def _cell_size(n_rows: int, n_cols: int, width: int) -> int:
    return int(np.clip(width // max(n_rows, n_cols, 1), 5, 26))


def window_grid_image(grid: Grid, width: int = 520) -> Image.Image:
    """The padded input (left) with the window's taps and its outline, and the output (right) with the
    window's position: one image, about `width` px for the input part."""
    n_r, n_c = grid.kinds.shape
    cell = _cell_size(n_r, n_c, width)
    gap = 1 if cell >= 8 else 0
    palette = np.array([rgb(COLORS[k]) for k in range(5)], dtype="uint8")
    # not by colour alone: padding is hatched (a tap on it too), cells no window reads are crossed
    left = draw_cells(palette[grid.kinds], cell, gap, hatched=np.isin(grid.kinds, (PADDING, TAP_PAD)),
                      crossed=grid.kinds == UNREAD)
    taps = np.argwhere(np.isin(grid.kinds, (TAP, TAP_PAD)))
    if taps.size:
        (y0, x0), (y1, x1) = taps.min(axis=0), taps.max(axis=0)
        ImageDraw.Draw(left).rectangle([x0 * cell - 1, y0 * cell - 1, (x1 + 1) * cell, (y1 + 1) * cell],
                                       outline=rgb(WINDOW), width=2)
    left = with_indices(left, grid.rows, grid.cols, cell)
    if not len(grid.out_rows):
        return left
    r, c = grid.out_pos
    selected = (grid.out_rows[:, None] == r) & (grid.out_cols[None, :] == c)
    out_palette = np.array([rgb(OUT_CELL), rgb(OUT_SELECTED)], dtype="uint8")
    o_cell = _out_cell(grid, width)
    right = with_indices(draw_cells(out_palette[selected.astype(int)], o_cell, 1 if o_cell >= 8 else 0),
                          grid.out_rows, grid.out_cols, o_cell)
    img = Image.new("RGB", (left.width + _SPACE + right.width, max(left.height, right.height)), (255, 255, 255))
    img.paste(left, (0, 0))
    img.paste(right, (left.width + _SPACE, 0))
    return img


_SPACE = 36  # px between the input and the output part


def _out_cell(grid: Grid, width: int) -> int:
    return _cell_size(len(grid.out_rows), len(grid.out_cols), int(width * 0.6))


def output_box(grid: Grid, width: int = 520) -> tuple[int, int, int, int] | None:
    """Where window_grid_image(grid, width) draws the output's cells: (left, top, cell width, cell height)
    in the picture's pixels; None when it draws no output."""
    if not len(grid.out_rows):
        return None
    n_r, n_c = grid.kinds.shape
    input_width = MARGIN_LEFT + n_c * _cell_size(n_r, n_c, width)
    o_cell = _out_cell(grid, width)
    return input_width + _SPACE + MARGIN_LEFT, MARGIN_TOP, o_cell, o_cell


_SCALE_STEPS = 254  # palette entries of the diverging scale; two more for the background and the labels
_WHITE_INDEX, _INK_INDEX = 254, 255


def _stages_palette() -> list[int]:
    scale = lut(DIVERGING)[np.linspace(0, 255, _SCALE_STEPS).round().astype("int64")]
    return np.concatenate([scale, [[255, 255, 255], [60, 60, 60]]]).astype("uint8").ravel().tolist()


def maps_stages(stages: list[np.ndarray], limit: float, max_width: int = 1100, target: int = 96,
                gap: int = 4) -> Image.Image:
    """Every filter's maps through the layers, one column per filter: the stages (H_s, W_s, F) top to
    bottom (before the activation, after it, after pooling), all at one zoom, so a pooled map shows how
    much smaller it is, and all on the diverging scale [-limit, limit] (zero white). Filter indices on top;
    columns wrap into rows of filters within max_width.

    A palette image ("P": the scale's colours, white, the labels' grey): a third of the bytes of RGB to
    build and to encode, on every change of a slider."""
    stages = [np.asarray(a, dtype="float32") for a in stages]
    f = stages[0].shape[-1]
    h0, w0 = stages[0].shape[:2]
    th0, tw0 = _tile_size(h0, w0, target)
    sizes = [(max(1, round(a.shape[0] * th0 / h0)), max(1, round(a.shape[1] * tw0 / w0))) for a in stages]
    label = 13
    col_w = max(w for _, w in sizes) + gap
    col_h = label + sum(h + gap for h, _ in sizes)
    per_row = max(1, min(f, (max_width - gap) // col_w))
    rows = -(-f // per_row)
    canvas = np.full((rows * col_h + gap, per_row * col_w + gap), _WHITE_INDEX, dtype="uint8")
    y_off = label  # of this stage's tiles inside a column
    for a, (th, tw) in zip(stages, sizes):
        v = np.clip(np.nan_to_num(a), -limit, limit) / limit  # -1..1
        idx = ((v + 1.0) / 2.0 * (_SCALE_STEPS - 1)).round().astype("uint8")  # (h, w, F)
        if (th, tw) != a.shape[:2]:
            if th % a.shape[0] == 0 and tw % a.shape[1] == 0:  # whole-number zoom: crisp pixels
                idx = np.repeat(np.repeat(idx, th // a.shape[0], axis=0), tw // a.shape[1], axis=1)
            else:
                idx = np.stack([np.asarray(Image.fromarray(idx[:, :, k]).resize((tw, th), Image.Resampling.NEAREST))
                                for k in range(f)], axis=2)
        for k in range(f):
            r, c = divmod(k, per_row)
            y, x = gap + r * col_h + y_off, gap + c * col_w
            canvas[y:y + th, x:x + tw] = idx[:, :, k]
        y_off += th + gap
    img = Image.fromarray(canvas, "P")
    img.putpalette(_stages_palette())
    for k in range(f):
        r, c = divmod(k, per_row)
        put_text(img, (gap + c * col_w, gap + r * col_h - 1), str(k), _INK_INDEX)
    return img


def colour_bar(limit: float, width: int = 300, height: int = 12) -> Image.Image:
    """The legend of maps_stages: the diverging scale from -limit to +limit with -limit, 0, +limit written."""
    ramp = lut(DIVERGING)[np.linspace(0, 255, width).round().astype("int64")]
    bar = Image.fromarray(np.repeat(ramp[None], height, axis=0).astype("uint8"), "RGB")
    img = Image.new("RGB", (width + 40, height + 16), (255, 255, 255))
    img.paste(bar, (20, 0))
    for value, x in ((-limit, 20), (0.0, 20 + width // 2), (limit, 20 + width)):
        text = f"{value:.3g}"
        put_text(img, (x - 3 * len(text), height + 2), text, _INK)
    return img


def kernel_image(kernel2d: np.ndarray, cell: int = 36) -> Image.Image:
    """One 2-D kernel as cells on a zero-centred diverging scale with each weight written in (up to 11x11)."""
    k = np.asarray(kernel2d, dtype="float32")
    m = float(np.max(np.abs(k))) or 1.0
    cell = max(14, min(cell, 260 // max(k.shape)))
    img = draw_cells(diverging_colours(k, m), cell, 1)
    if max(k.shape) <= 11:
        for (i, j), v in np.ndenumerate(k):
            text = f"{v:.2g}"
            ink = (255, 255, 255) if abs(v) > 0.6 * m else (30, 30, 30)
            put_text(img, (j * cell + max(1, (cell - 6 * len(text)) // 2), i * cell + (cell - 11) // 2), text, ink)
    return img


def kernels_strip(kernels: np.ndarray, target: int = 40) -> Image.Image:
    """The F 2-D kernels (F, kh, kw) side by side with their filter index, each on its own symmetric range."""
    k = np.asarray(kernels, dtype="float32")
    limits = np.abs(k).reshape(len(k), -1).max(axis=1)
    norm = k / np.where(limits > 0, limits, 1.0)[:, None, None]
    return channel_grid(np.transpose(norm, (1, 2, 0)), scale="network", vrange=(-1.0, 1.0), colorscale=DIVERGING,
                        target=target)


def map_figure(values: np.ndarray, title: str, limit: float | None = None, height: int = 380) -> go.Figure:
    """A 2-D map (H, W) as a heatmap with rows downwards and values on hover, on the grids' diverging
    scale [-limit, limit] (its own largest |value| when not given)."""
    v = np.asarray(values, dtype=np.float32)
    m = limit or float(np.max(np.abs(v[np.isfinite(v)]), initial=0.0)) or 1.0
    fig = go.Figure(go.Heatmap(z=v, colorscale=DIVERGING, zmin=-m, zmax=m, colorbar=dict(thickness=10),
                               hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showgrid=False, zeroline=False)
    fig.update_xaxes(constrain="domain", showgrid=False, zeroline=False)
    fig.update_layout(title=dict(text=f"{title}<br><sup>{v.shape[0]}×{v.shape[1]}</sup>", x=0, font=dict(size=14)),
                      height=height, margin=dict(l=10, r=10, t=60, b=10), plot_bgcolor="white")
    return fig
