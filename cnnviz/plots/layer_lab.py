"""Figures of the Layer lab: the padded input grid with one window, feature maps, a kernel."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz import arithmetic as ar

# Cell kinds of the input grid, in drawing order.
INPUT, PADDING, UNREAD, TAP, TAP_PAD = range(5)
COLORS = {
    INPUT: "#e8eef7",
    PADDING: "#fbe3c0",
    UNREAD: "#b9b9b9",
    TAP: "#2b6cb0",
    TAP_PAD: "#dd6b20",
}
OUT_CELL, OUT_SELECTED = "#e6f4ea", "#2f855a"
DEFAULT_LABELS = {
    INPUT: "input", PADDING: "padding", UNREAD: "never read (stride / dilation)",
    TAP: "kernel tap", TAP_PAD: "kernel tap on padding", "window": "window",
    "input_title": "padded input", "output_title": "output",
}


def _crop(lo: int, hi: int, focus_lo: int, focus_hi: int, max_cells: int) -> tuple[int, int]:
    """A range of at most max_cells inside [lo, hi) that shows [focus_lo, focus_hi] when it can."""
    if hi - lo <= max_cells:
        return lo, hi
    centre = (focus_lo + focus_hi) // 2
    start = min(max(centre - max_cells // 2, lo), hi - max_cells)
    return start, start + max_cells


def _discrete_scale(colors: list[str]) -> list:
    n = len(colors)
    scale = []
    for i, c in enumerate(colors):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


def window_grid(size_hw, kernel_hw, stride, padding, dilation, out_pos, out_hw=None, labels=None, max_cells=40) -> go.Figure:
    """The padded input (left) with the taps of output position out_pos = (row, col), and the
    output grid (right) with that position. Big grids are cropped around the window."""
    labels = {**DEFAULT_LABELS, **(labels or {})}
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
    pad_r = (rows < 0) | (rows >= h)
    pad_c = (cols < 0) | (cols >= w)
    pad = pad_r[:, None] | pad_c[None, :]
    z = np.where(pad, PADDING, INPUT)
    unread = np.isin(rows, list(unread_r))[:, None] | np.isin(cols, list(unread_c))[None, :]
    z = np.where(~pad & unread, UNREAD, z)
    tap = np.isin(rows, taps_r)[:, None] & np.isin(cols, taps_c)[None, :]
    z = np.where(tap & ~pad, TAP, z)
    z = np.where(tap & pad, TAP_PAD, z)

    in_title = f"{labels['input_title']}: {h + top + bottom}×{w + left + right}"
    if (r1 - r0, c1 - c0) != (h + top + bottom, w + left + right):
        in_title += f" ({labels.get('zoomed', 'zoomed')}: {r1 - r0}×{c1 - c0})"
    out_title = labels["output_title"] + (f": {out_hw[0]}×{out_hw[1]}" if out_hw else "")
    fig = make_subplots(rows=1, cols=2, column_widths=[0.6, 0.4], horizontal_spacing=0.08,
                        subplot_titles=(in_title, out_title))
    fig.update_annotations(yshift=28)  # above the column numbers on the top axis
    gap = 1 if max(len(rows), len(cols)) <= 60 else 0
    fig.add_trace(go.Heatmap(z=z, x=cols, y=rows, zmin=-0.5, zmax=4.5, showscale=False, xgap=gap, ygap=gap,
                             colorscale=_discrete_scale([COLORS[k] for k in range(5)]),
                             customdata=np.vectorize(lambda k: labels[k])(z),
                             hovertemplate="row %{y}, col %{x}: %{customdata}<extra></extra>"), 1, 1)
    if taps_r and taps_c:
        fig.add_shape(type="rect", x0=min(taps_c) - 0.5, x1=max(taps_c) + 0.5, y0=min(taps_r) - 0.5,
                      y1=max(taps_r) + 0.5, line=dict(color="#1a202c", width=2), row=1, col=1)
    # Legend entries for the cell kinds (heatmaps have no legend of their own).
    for k in range(5):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=labels[k],
                                 marker=dict(size=12, symbol="square", color=COLORS[k])), 1, 1)
    if out_hw:
        oh, ow = out_hw
        o_r0, o_r1 = _crop(0, oh, r, r, max_cells)
        o_c0, o_c1 = _crop(0, ow, c, c, max_cells)
        orows, ocols = np.arange(o_r0, o_r1), np.arange(o_c0, o_c1)
        oz = (orows[:, None] == r) & (ocols[None, :] == c)
        ogap = 1 if max(len(orows), len(ocols)) <= 60 else 0
        fig.add_trace(go.Heatmap(z=oz.astype(int), x=ocols, y=orows, zmin=0, zmax=1, showscale=False,
                                 xgap=ogap, ygap=ogap, colorscale=[[0, OUT_CELL], [1, OUT_SELECTED]],
                                 hovertemplate="row %{y}, col %{x}<extra></extra>"), 1, 2)
    for col in (1, 2):
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{'' if col == 1 else 2}", constrain="domain",
                         showgrid=False, zeroline=False, row=1, col=col)
        fig.update_xaxes(showgrid=False, zeroline=False, side="top", constrain="domain", row=1, col=col)
    fig.update_layout(height=480, margin=dict(l=10, r=10, t=80, b=10), plot_bgcolor="white",
                      legend=dict(orientation="h", yanchor="top", y=-0.02, x=0))
    return fig


def map_figure(values: np.ndarray, title: str, diverging: bool = False, height: int = 380) -> go.Figure:
    """A 2-D map (H, W) as a heatmap with rows downwards; diverging maps are centred on 0."""
    v = np.asarray(values, dtype=np.float32)
    kwargs = dict(colorscale="Greys_r", colorbar=dict(thickness=10))
    if diverging:
        m = float(np.max(np.abs(v))) or 1.0
        kwargs.update(colorscale="RdBu_r", zmin=-m, zmax=m)
    fig = go.Figure(go.Heatmap(z=v, hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>", **kwargs))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showgrid=False, zeroline=False)
    fig.update_xaxes(constrain="domain", showgrid=False, zeroline=False)
    fig.update_layout(title=dict(text=f"{title}<br><sup>{v.shape[0]}×{v.shape[1]}</sup>", x=0, font=dict(size=14)),
                      height=height, margin=dict(l=10, r=10, t=60, b=10), plot_bgcolor="white")
    return fig


def kernel_figure(kernel2d: np.ndarray, title: str = "", height: int = 260) -> go.Figure:
    """The kernel's weights as a diverging heatmap with the numbers written in."""
    k = np.asarray(kernel2d, dtype=np.float32)
    m = float(np.max(np.abs(k))) or 1.0
    text = [[f"{v:.2g}" for v in row] for row in k] if k.size <= 121 else None
    fig = go.Figure(go.Heatmap(z=k, colorscale="RdBu_r", zmin=-m, zmax=m, text=text,
                               texttemplate="%{text}" if text else None, xgap=1, ygap=1,
                               hovertemplate="row %{y}, col %{x}: %{z:.4f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showgrid=False, zeroline=False)
    fig.update_xaxes(constrain="domain", showgrid=False, zeroline=False)
    fig.update_layout(title=dict(text=title, x=0, font=dict(size=14)), height=height,
                      margin=dict(l=10, r=10, t=40, b=10), plot_bgcolor="white")
    return fig
