"""Figures for the convolution, pooling and probability pages: number grids and bar charts.

Builders return plotly figures; pages show them. Titles and labels come in already translated.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

PAD_COLOR = "#d9d9d9"  # plot background: padding cells are left empty (NaN) so it shows through
WINDOW_COLOR = "#ff7f0e"
CURRENT_COLOR = "#d62728"
WIN_COLOR = "#2ca02c"
CELL_PX = 34


def _fmt(v: float, decimals: int) -> str:
    if not np.isfinite(v):
        return ""
    text = f"{v:.{decimals}f}"
    return "0" if text.strip("-0.") == "" else text  # no "-0.00"


def _cell_rect(r: int, c: int, color: str, width: int = 3, dash: str | None = None) -> dict:
    return dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5, xref="x", yref="y",
                line=dict(color=color, width=width, dash=dash), fillcolor="rgba(0,0,0,0)")


def number_grid(
    values,
    title: str = "",
    padding=None,
    window=None,
    marked=(),
    decimals: int = 2,
    colorscale: str = "gray",
    diverging: bool = False,
    pad_text: str = "0",
    origin=(0, 0),
) -> go.Figure:
    """A 2-D array as a heatmap with each number written in its cell.

    padding: (H, W) bool, cells drawn grey with `pad_text`; window: (rows, cols) index arrays, each cell
    outlined (a dilated window shows its gaps); marked: cells outlined in green (a pooling winner).
    origin: the (row, col) label of the top-left cell, so padded grids can number the input from 0.
    """
    z = np.array(values, dtype=np.float64)
    h, w = z.shape
    pad = np.zeros((h, w), dtype=bool) if padding is None else np.asarray(padding, dtype=bool)
    text = np.array([[pad_text if pad[r, c] else _fmt(z[r, c], decimals) for c in range(w)] for r in range(h)])
    shown = np.where(pad, np.nan, z)
    finite = shown[np.isfinite(shown)]
    zmin, zmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if diverging:
        bound = max(abs(zmin), abs(zmax), 1e-9)
        zmin, zmax = -bound, bound
    fig = go.Figure(
        go.Heatmap(
            z=shown, text=text, texttemplate="%{text}", textfont=dict(size=11 if max(h, w) < 14 else 9),
            colorscale="RdBu" if diverging else colorscale, zmin=zmin, zmax=zmax if zmax > zmin else zmin + 1,
            showscale=False, hoverinfo="skip", xgap=1, ygap=1,
        )
    )
    shapes = []
    if window is not None:
        rows, cols = window
        shapes += [_cell_rect(int(r), int(c), WINDOW_COLOR) for r in rows for c in cols]
    shapes += [_cell_rect(int(r), int(c), WIN_COLOR, 4) for r, c in marked]
    r0, c0 = origin
    fig.update_layout(
        title=dict(text=title, font=dict(size=14), y=0.98, yanchor="top"), shapes=shapes, plot_bgcolor=PAD_COLOR,
        margin=dict(l=30, r=10, t=60 if title else 24, b=10),
        height=max(160, CELL_PX * h + 80), width=max(160, CELL_PX * w + 50),
    )
    fig.update_xaxes(tickmode="array", tickvals=list(range(w)), ticktext=[str(c - c0) for c in range(w)],
                     side="top", showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(tickmode="array", tickvals=list(range(h)), ticktext=[str(r - r0) for r in range(h)],
                     autorange="reversed", showgrid=False, zeroline=False, scaleanchor="x")
    return fig


def output_map(values, current, title: str = "", decimals: int = 2, filled=None) -> go.Figure:
    """The output map with the current cell outlined; `filled` (bool) greys out cells not yet computed."""
    z = np.array(values, dtype=np.float64)
    padding = None if filled is None else ~np.asarray(filled, dtype=bool)
    fig = number_grid(z, title, padding=padding, decimals=decimals, diverging=bool((z < 0).any()),
                      colorscale="Viridis", pad_text="")
    fig.add_shape(_cell_rect(int(current[0]), int(current[1]), CURRENT_COLOR, 4))
    return fig


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
