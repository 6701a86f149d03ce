"""Figures for the Explain page: a map over its input (plotly, with a colour bar), strips and grids of
pictures (PIL). Builds, never shows."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from cnnviz.plots.activations import _tile_size

SIGNED = ("integrated_gradients", "occlusion")  # maps with a meaningful sign: a diverging scale around 0


def input_rgb(x01: np.ndarray) -> np.ndarray:
    """(H, W, 1 or 3) in [0, 1] -> (H, W, 3) uint8."""
    rgb = np.repeat(x01, 3, axis=-1) if x01.shape[-1] == 1 else x01[..., :3]
    return (np.clip(rgb, 0, 1) * 255).round().astype("uint8")


def overlay(x01: np.ndarray, attribution: np.ndarray | None, opacity: float = 0.5, signed: bool = False,
            title: str = "", height: int = 360, box=None) -> go.Figure:
    """The input as the background, the map over it at `opacity`, with a colour bar of the map's values;
    hovering shows the exact value. Signed maps use a red-blue scale centred on 0. `box` (an object with
    top, left, bottom, right: cnnviz.receptive.Box) is outlined; attribution=None: the input and the box."""
    h, w = x01.shape[:2]
    fig = go.Figure()
    fig.add_trace(go.Image(z=input_rgb(x01), hoverinfo="skip"))
    if box is not None:
        fig.add_shape(type="rect", x0=box.left - 0.5, x1=box.right + 0.5, y0=box.top - 0.5, y1=box.bottom + 0.5,
                      line=dict(color="#00e5ff", width=2))
    if attribution is None:
        return _frame(fig, w, h, title, height)
    limit = float(np.abs(attribution).max()) or 1.0
    heat = dict(colorscale="RdBu_r", zmin=-limit, zmax=limit) if signed else dict(
        colorscale="Inferno", zmin=float(attribution.min()), zmax=float(attribution.max()) or 1.0)
    fig.add_trace(go.Heatmap(z=attribution, opacity=float(opacity), hovertemplate="y=%{y} x=%{x}<br>%{z:.4g}<extra></extra>",
                             colorbar=dict(thickness=12, len=0.9, exponentformat="e"), **heat))
    return _frame(fig, w, h, title, height)


def _frame(fig: go.Figure, w: int, h: int, title: str, height: int) -> go.Figure:
    fig.update_xaxes(visible=False, range=[-0.5, w - 0.5], constrain="domain")
    fig.update_yaxes(visible=False, range=[h - 0.5, -0.5], scaleanchor="x", constrain="domain")
    fig.update_layout(title=dict(text=title, font=dict(size=14)) if title else None, height=height,
                      margin=dict(l=0, r=0, t=30 if title else 0, b=0), dragmode=False)
    return fig


def heat_image(attribution: np.ndarray, signed: bool = False, target: int = 96) -> Image.Image:
    """One map as a small picture: min-max to Inferno-like grey-to-yellow, or red/blue around 0 if signed."""
    a = np.asarray(attribution, dtype="float64")
    if signed:
        lim = np.abs(a).max() or 1.0
        t = a / lim
        rgb = np.stack([np.where(t > 0, 255, 255 * (1 + t)), 255 * (1 - np.abs(t)), np.where(t < 0, 255, 255 * (1 - t))], -1)
    else:
        span = a.max() - a.min()
        t = (a - a.min()) / (span if span > 0 else 1.0)
        rgb = np.stack([255 * np.clip(1.5 * t, 0, 1), 255 * np.clip(1.5 * t - 0.5, 0, 1), 255 * np.clip(3 * t - 2, 0, 1)], -1)
    img = Image.fromarray(rgb.round().astype("uint8"))
    th, tw = _tile_size(*a.shape, target)
    return img.resize((tw, th), Image.NEAREST)


def strip(pictures: list[Image.Image], gap: int = 4) -> Image.Image:
    """Pictures of the same height side by side on white."""
    height = max(p.height for p in pictures)
    out = Image.new("RGB", (sum(p.width for p in pictures) + gap * (len(pictures) - 1), height), "white")
    x = 0
    for p in pictures:
        out.paste(p, (x, 0))
        x += p.width + gap
    return out


def image_grid(images: np.ndarray, columns: int = 8, target: int = 96, gap: int = 4) -> Image.Image:
    """(N, H, W, 1 or 3) images in [0, 1] as a grid, row by row."""
    n, h, w = images.shape[:3]
    th, tw = _tile_size(h, w, target)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    out = Image.new("RGB", (columns * tw + (columns - 1) * gap, rows * th + (rows - 1) * gap), "white")
    for i in range(n):
        tile = Image.fromarray(input_rgb(images[i])).resize((tw, th), Image.BILINEAR)
        out.paste(tile, ((i % columns) * (tw + gap), (i // columns) * (th + gap)))
    return out


def deletion_insertion(result, labels: dict, title: str = "", height: int = 300) -> go.Figure:
    """The deletion and insertion curves of a map (solid) and of the random order (dotted), against the
    fraction of pixels removed / inserted. `labels`: text for deletion, insertion, random, x, y."""
    fig = go.Figure()
    for name, colour in (("deletion", "#d62728"), ("insertion", "#1f77b4")):
        fig.add_trace(go.Scatter(x=result.fractions, y=getattr(result, name), mode="lines", name=labels[name],
                                 line=dict(color=colour, width=2),
                                 hovertemplate="%{x:.2f}: %{y:.3f}<extra></extra>"))
        fig.add_trace(go.Scatter(x=result.fractions, y=getattr(result, "random_" + name), mode="lines",
                                 name=f"{labels[name]} ({labels['random']})", line=dict(color=colour, width=1, dash="dot"),
                                 hovertemplate="%{x:.2f}: %{y:.3f}<extra></extra>"))
    fig.update_xaxes(title=labels["x"], range=[0, 1])
    fig.update_yaxes(title=labels["y"], range=[0, 1.02])
    fig.update_layout(title=dict(text=title, font=dict(size=14)) if title else None, height=height,
                      margin=dict(l=0, r=0, t=30 if title else 0, b=0), legend=dict(orientation="h", y=-0.25))
    return fig
