"""Conv kernels drawn: a PNG grid (filters x input channels) on a zero-centred diverging scale,
RGB first-layer filters as colour patches, and a zoomed filter with its numbers."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw
from plotly.subplots import make_subplots

from cnnviz.plots.activations import _font, lut

DIVERGING = "RdBu_r"  # negative blue, zero white, positive red
_GAP = 3
_LABEL_W = 30
_LABEL_H = 14
_BG = (215, 215, 215)  # grey, so white (zero) cells stay visible


def symmetric_limit(values) -> float:
    """The largest |value| (finite), so that zero sits in the middle of the scale; 1.0 for all zeros."""
    a = np.abs(np.asarray(values, dtype="float64"))
    a = a[np.isfinite(a)]
    m = float(a.max()) if a.size else 0.0
    return m if m > 0 else 1.0


def diverging_colours(values: np.ndarray, limit: float) -> np.ndarray:
    """RGB uint8 for each value on [-limit, limit], zero at the white middle."""
    v = np.nan_to_num(np.asarray(values, dtype="float64"))
    idx = ((v / limit + 1.0) / 2.0 * 255).round().clip(0, 255).astype("int64")
    return lut(DIVERGING)[idx]


def kernel_grid(kernel: np.ndarray, limit: float | None = None, target: int = 40, labels: bool = True,
                max_width: int = 1100) -> Image.Image:
    """Every filter's kernel per input channel: a row of tiles per filter, one tile per input channel.

    `kernel` is Keras's (kernel_h, kernel_w, in_channels, filters); one symmetric limit for the layer
    (the largest |weight| unless given), so colours compare across filters. Filters whose rows are
    short (few input channels) are placed side by side, as many as fit in max_width.
    """
    k = np.asarray(kernel, dtype="float32")
    if k.ndim != 4:
        raise ValueError(f"Expected a conv kernel (h, w, in, filters); got shape {k.shape}.")
    kh, kw, cin, nf = k.shape
    limit = symmetric_limit(k) if limit is None else limit
    z = max(1, int(round(target / max(kh, kw))))
    th, tw = kh * z, kw * z
    lw, lh = (_LABEL_W, _LABEL_H) if labels else (0, 0)
    block_w = lw + cin * (tw + _GAP) + _GAP  # one filter: its label, then its kernels
    per_row = max(1, min(nf, max_width // block_w))
    rows = math.ceil(nf / per_row)
    img = Image.new("RGB", (per_row * block_w, lh + rows * (th + _GAP) + _GAP), _BG)
    colours = diverging_colours(k, limit)  # (kh, kw, cin, nf, 3)
    draw = ImageDraw.Draw(img)
    font = _font()
    for f in range(nf):
        r, b = divmod(f, per_row)
        bx, y0 = b * block_w, lh + _GAP + r * (th + _GAP)
        if labels:
            draw.text((bx + 2, y0 + th // 2 - 6), f"f{f}", fill=(60, 60, 60), font=font)
        for c in range(cin):
            x0 = bx + lw + _GAP + c * (tw + _GAP)
            tile = Image.fromarray(colours[:, :, c, f, :].astype("uint8"), "RGB")
            img.paste(tile.resize((tw, th), Image.Resampling.NEAREST) if z > 1 else tile, (x0, y0))
            if labels and r == 0:
                draw.text((x0, 0), f"c{c}", fill=(60, 60, 60), font=font)
    return img


def rgb_patches(kernel: np.ndarray, target: int = 48, per_row: int = 16) -> Image.Image:
    """First-layer filters of an RGB model as colour patches: each filter's (h, w, 3) weights scaled
    on one layer-wide symmetric range to [0, 255], so mid-grey is zero and colour shows which
    input colour a filter weighs most."""
    k = np.asarray(kernel, dtype="float32")
    if k.ndim != 4 or k.shape[2] != 3:
        raise ValueError(f"Colour patches need a kernel with 3 input channels; got shape {k.shape}.")
    kh, kw, _, nf = k.shape
    limit = symmetric_limit(k)
    rgb = ((np.nan_to_num(k) / limit + 1.0) / 2.0 * 255).round().clip(0, 255).astype("uint8")
    z = max(1, int(round(target / max(kh, kw))))
    th, tw = kh * z, kw * z
    cols = min(nf, per_row)
    rows = math.ceil(nf / cols)
    img = Image.new("RGB", (cols * (tw + _GAP) + _GAP, rows * (th + _LABEL_H + _GAP) + _GAP), _BG)
    draw = ImageDraw.Draw(img)
    font = _font()
    for f in range(nf):
        r, c = divmod(f, cols)
        x0, y0 = _GAP + c * (tw + _GAP), _GAP + r * (th + _LABEL_H + _GAP)
        draw.text((x0, y0 - 1), f"f{f}", fill=(60, 60, 60), font=font)
        tile = Image.fromarray(rgb[:, :, :, f], "RGB")
        img.paste(tile.resize((tw, th), Image.Resampling.NEAREST) if z > 1 else tile, (x0, y0 + _LABEL_H))
    return img


def filter_heatmaps(weights: np.ndarray, title: str = "", limit: float | None = None,
                    channel_label: str = "input channel", show_numbers: bool = True) -> go.Figure:
    """One filter (kernel_h, kernel_w, in_channels): a heatmap per input channel, each weight
    written in its cell and in the hover, on one zero-centred scale."""
    w = np.asarray(weights, dtype="float32")
    if w.ndim == 2:
        w = w[..., np.newaxis]
    kh, kw, cin = w.shape
    limit = symmetric_limit(w) if limit is None else limit
    cols = min(cin, 4)
    rows = math.ceil(cin / cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"{channel_label} {c}" for c in range(cin)],
                        horizontal_spacing=0.04, vertical_spacing=0.08 if rows > 1 else 0.1)
    for c in range(cin):
        r, k = divmod(c, cols)
        fig.add_trace(
            go.Heatmap(
                z=w[:, :, c], zmin=-limit, zmax=limit, zmid=0, colorscale=DIVERGING,
                showscale=c == 0,
                text=np.vectorize(lambda v: f"{v:.3f}")(w[:, :, c]) if show_numbers else None,
                texttemplate="%{text}" if show_numbers else None,
                hovertemplate=f"{channel_label} {c}<br>row %{{y}}, col %{{x}}<br>weight %{{z:.6g}}<extra></extra>",
            ),
            row=r + 1, col=k + 1,
        )
        fig.update_yaxes(autorange="reversed", scaleanchor=f"x{c + 1 if c else ''}", constrain="domain",
                         row=r + 1, col=k + 1)
        fig.update_xaxes(constrain="domain", row=r + 1, col=k + 1)
    size = 70 * kh if kh <= 7 else 6 * kh + 200
    fig.update_layout(title=title, height=min(1600, rows * size + 80), margin=dict(l=10, r=10, t=60, b=10))
    return fig


def bias_bars(bias: np.ndarray, title: str = "") -> go.Figure:
    """The bias of every filter, zero line visible."""
    b = np.asarray(bias, dtype="float32")
    fig = go.Figure(go.Bar(x=[f"f{i}" for i in range(b.size)], y=b,
                           marker_color=["#d6604d" if v >= 0 else "#4393c3" for v in b],
                           hovertemplate="%{x}: %{y:.6g}<extra></extra>"))
    fig.update_layout(title=title, height=260, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      xaxis=dict(type="category"))
    return fig
