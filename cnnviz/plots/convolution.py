"""Pictures for the convolution, pooling and probability pages: number grids (images) and bar charts.

Number grids change at every step, so they are PIL images (cheap for a browser to redraw); the bar charts
of the probability page are plotly figures. Titles and labels come in already translated and the pages
write them above the images (the images hold digits only).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from cnnviz.plots import cells as C
from cnnviz.plots.activations import lut

PAD_COLOR = "#d9d9d9"  # plot background: padding cells are left empty (NaN) so it shows through
WINDOW_COLOR = "#ff7f0e"
CURRENT_COLOR = "#d62728"
WIN_COLOR = "#2ca02c"
CELL_PX = 34
GRID_ORIGIN = (C.MARGIN_LEFT, C.MARGIN_TOP)  # where the cells of a number grid start in its picture (px)


def _fmt(v: float, decimals: int) -> str:
    if not np.isfinite(v):
        return ""
    text = f"{v:.{decimals}f}"
    return "0" if text.strip("-0.") == "" else text  # no "-0.00"


def _colours(z: np.ndarray, pad: np.ndarray, colorscale: str, diverging: bool) -> np.ndarray:
    """RGB per cell: the values on their own range (symmetric around 0 when diverging), padding grey."""
    finite = z[~pad & np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if diverging:
        bound = max(abs(lo), abs(hi), 1e-9)
        lo, hi = -bound, bound
    span = hi - lo if hi > lo else 1.0
    idx = ((np.nan_to_num(z, nan=lo) - lo) / span * 255).round().clip(0, 255).astype("int64")
    colours = lut("RdBu" if diverging else colorscale)[idx]
    colours[pad | ~np.isfinite(z)] = C.rgb(PAD_COLOR)
    return colours


def number_grid(values, padding=None, window=None, marked=(), decimals: int = 2, colorscale: str = "gray",
                diverging: bool = False, pad_text: str = "0", origin=(0, 0), current=None) -> Image.Image:
    """A 2-D array as coloured cells with each number written in, and its row and column numbers.

    padding: (H, W) bool, cells drawn grey and hatched (cells.hatch_mask) with `pad_text`; window: (rows, cols)
    index arrays, each cell outlined in orange (a dilated window shows its gaps); marked: cells outlined in
    green (a pooling winner); current: one (row, col) outlined in red (the output cell being computed).
    origin: the (row, col) label of the top-left cell, so padded grids number the input from 0.
    """
    z = np.array(values, dtype=np.float64)
    h, w = z.shape
    pad = np.zeros((h, w), dtype=bool) if padding is None else np.asarray(padding, dtype=bool)
    text = [[pad_text if pad[r, c] else _fmt(z[r, c], decimals) for c in range(w)] for r in range(h)]
    colours = _colours(z, pad, colorscale, diverging)
    longest = max((len(s) for row in text for s in row), default=1)
    cell = max(CELL_PX, 7 * longest + 8) if max(h, w) <= 16 else max(14, 480 // max(h, w))
    img = C.draw_cells(colours, cell, 1, hatched=pad | ~np.isfinite(z))
    if cell >= 26:
        C.write_numbers(img, text, cell, C.dark(colours))
    if window is not None:
        rows, cols = window
        C.outline(img, [(int(r), int(c)) for r in rows for c in cols], cell, WINDOW_COLOR, 3)
    C.outline(img, [(int(r), int(c)) for r, c in marked], cell, WIN_COLOR, 4)
    if current is not None:
        C.outline(img, [(int(current[0]), int(current[1]))], cell, CURRENT_COLOR, 4)
    r0, c0 = origin
    return C.with_indices(img, np.arange(h) - r0, np.arange(w) - c0, cell)


def output_map(values, current, decimals: int = 2, filled=None) -> Image.Image:
    """The output map with the current cell outlined in red; `filled` (bool) greys out (and hatches) cells not
    yet computed."""
    z = np.array(values, dtype=np.float64)
    padding = None if filled is None else ~np.asarray(filled, dtype=bool)
    return number_grid(z, padding=padding, decimals=decimals, diverging=bool((z < 0).any()), colorscale="Viridis",
                       pad_text="", current=current)


def distribution_bars(values, probs, title: str = "", color: str = "#1f77b4", x_label: str = "",
                      y_label: str = "") -> go.Figure:
    fig = go.Figure(go.Bar(x=np.asarray(values), y=np.asarray(probs), marker_color=color,
                           text=[f"{p:.3f}" for p in probs], textposition="outside", cliponaxis=False))
    fig.update_layout(title=title, height=300, margin=dict(l=40, r=10, t=40, b=40), xaxis_title=x_label,
                      yaxis_title=y_label, xaxis=dict(dtick=1 if len(values) <= 30 else None))
    return fig


def sum_vs_samples(values, exact, sampled, title: str = "", exact_label: str = "f1 * f2",
                   sampled_label: str = "Monte-Carlo", x_label: str = "", y_label: str = "") -> go.Figure:
    """Exact convolution as bars with the sampled relative frequencies drawn over them."""
    fig = go.Figure(
        [
            go.Bar(x=np.asarray(values), y=np.asarray(exact), name=exact_label, marker_color="#9467bd",
                   opacity=0.6),
            go.Scatter(x=np.asarray(values), y=np.asarray(sampled), name=sampled_label, mode="markers+lines",
                       marker=dict(color="#111111", size=8, symbol="x"), line=dict(dash="dot", width=1)),
        ]
    )
    fig.update_layout(title=title, height=340, margin=dict(l=40, r=10, t=40, b=40), xaxis_title=x_label,
                      yaxis_title=y_label, legend=dict(orientation="h", y=1.12, x=1, xanchor="right"),
                      xaxis=dict(dtick=1 if len(values) <= 30 else None))
    return fig
