"""Activation maps as PNG image grids (one image per layer, all channels), a zoomed channel, prediction bars.

A layer's channels are drawn into one image rather than one plotly figure per channel, so a page
with every layer stays small and reruns fast. Colour scales follow CNN Explainer: each channel on
its own range, one range per layer, or one range for the whole network.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw, ImageFont

SCALES = ("channel", "layer", "network")
COLORSCALE = "Viridis"  # colour-blind safe: lightness rises end to end (tests/unit/test_colour_cues.py)
_GAP = 4
_LABEL = 12
_BG = (255, 255, 255)


@cache
def lut(colorscale: str = COLORSCALE) -> np.ndarray:
    """256 RGB colours (uint8, (256, 3)) sampled from a plotly colour scale."""
    from plotly.colors import sample_colorscale, unlabel_rgb

    colours = sample_colorscale(colorscale, list(np.linspace(0, 1, 256)))
    return np.array([unlabel_rgb(c) for c in colours]).round().clip(0, 255).astype("uint8")


def value_range(values) -> tuple[float, float]:
    """(min, max) of the finite values; (0, 0) when there are none."""
    a = np.asarray(values, dtype="float64")
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return 0.0, 0.0
    return float(finite.min()), float(finite.max())


def network_range(layers: dict[str, np.ndarray]) -> tuple[float, float]:
    """One (min, max) over every layer's values, for the whole-network colour scale."""
    lows, highs = zip(*(value_range(v) for v in layers.values())) if layers else ((0.0,), (0.0,))
    return min(lows), max(highs)


def _as_channels(maps: np.ndarray) -> np.ndarray:
    """(H, W, C) for a conv-like map; a vector (N,) becomes N 1x1 channels; (L, C) becomes C 1xL rows; more axes
    (a Conv3D's (D, H, W, C), an ONNX model's 5-D channel shuffle) are stacked into the height."""
    a = np.asarray(maps, dtype="float32")
    if a.ndim == 3:
        return a
    if a.ndim == 1:
        return a.reshape(1, 1, -1)
    if a.ndim == 2:
        return a[np.newaxis]
    if a.ndim > 3:
        return a.reshape(-1, *a.shape[-2:])
    raise ValueError(f"Cannot draw an activation of shape {a.shape} as channels.")


def normalise(maps: np.ndarray, scale: str = "layer", vrange: tuple[float, float] | None = None) -> np.ndarray:
    """Values mapped to [0, 1] per channel, per layer, or on a given (whole-network) range; NaN -> 0."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}; got {scale!r}")
    a = _as_channels(maps).astype("float64")
    if scale == "channel":
        finite = np.where(np.isfinite(a), a, np.nan)
        lo = np.nanmin(finite, axis=(0, 1), keepdims=True) if np.isfinite(a).any() else np.zeros((1, 1, a.shape[2]))
        hi = np.nanmax(finite, axis=(0, 1), keepdims=True) if np.isfinite(a).any() else np.zeros((1, 1, a.shape[2]))
        lo, hi = np.nan_to_num(lo), np.nan_to_num(hi)
    else:
        lo, hi = vrange if (scale == "network" and vrange is not None) else value_range(a)
    span = np.where(np.asarray(hi - lo) > 0, hi - lo, 1.0)
    out = (a - lo) / span
    return np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=0.0).clip(0.0, 1.0)


def _zoom_for(h: int, w: int, target: int) -> int:
    return max(1, int(round(target / max(h, w))))


def _tile_size(h: int, w: int, target: int) -> tuple[int, int]:
    """Small maps are enlarged by a whole factor (crisp pixels); large ones shrunk to fit 2 x target."""
    if max(h, w) > 2 * target:
        f = 2 * target / max(h, w)
        return max(1, round(h * f)), max(1, round(w * f))
    z = _zoom_for(h, w, target)
    return h * z, w * z


@cache
def _font():
    """The images' font, loaded once (ImageFont.load_default reads and parses it on every call)."""
    try:
        return ImageFont.load_default(size=11)
    except TypeError:  # Pillow built without FreeType
        return ImageFont.load_default()


@lru_cache(maxsize=4096)
def _glyphs(text: str) -> Image.Image:
    """`text` rendered once as a mask ("L"): pictures that change on every rerun paste it instead of
    asking FreeType to draw the same digits again."""
    font = _font()
    _, _, right, bottom = font.getbbox(text)
    mask = Image.new("L", (max(int(right), 1), max(int(bottom), 1)), 0)
    ImageDraw.Draw(mask).text((0, 0), text, fill=255, font=font)
    return mask


def text_width(text: str) -> int:
    return _glyphs(text).width


def put_text(img: Image.Image, xy, text: str, fill=(60, 60, 60)) -> None:
    """Draw `text` at xy (its top-left) in `fill`, from the glyph cache."""
    mask = _glyphs(text)
    x, y = int(round(xy[0])), int(round(xy[1]))
    img.paste(fill, (x, y, x + mask.width, y + mask.height), mask)


def channel_grid(
    maps: np.ndarray,
    scale: str = "layer",
    vrange: tuple[float, float] | None = None,
    cols: int | None = None,
    target: int = 96,
    max_width: int = 1100,
    labels: bool = True,
    colorscale: str = COLORSCALE,
    max_channels: int | None = None,
) -> Image.Image:
    """Every channel of one layer's output (H, W, C), tiled, coloured, with its index above it.

    Vectors (Dense, Flatten) are drawn as one row of cells, wrapped. With max_channels, only the
    first that many channels are drawn (the scale still uses all of them).
    """
    a = np.asarray(maps)
    if a.ndim == 1:
        return vector_strip(a, scale="layer" if scale == "channel" else scale, vrange=vrange, colorscale=colorscale)
    norm = normalise(a, scale, vrange)
    if max_channels is not None:
        norm = norm[:, :, :max_channels]
    h, w, c = norm.shape
    th, tw = _tile_size(h, w, target)
    if cols is None:  # as many per row as fit in max_width
        cols = min(c, max(1, max_width // (tw + _GAP)))
    rows = math.ceil(c / cols)
    label = _LABEL if labels else 0
    img = Image.new("RGB", (cols * (tw + _GAP) + _GAP, rows * (th + label + _GAP) + _GAP), _BG)
    colours = lut(colorscale)[(norm * 255).round().astype("int64")]  # (h, w, c, 3)
    for ch in range(c):
        r, k = divmod(ch, cols)
        x0, y0 = _GAP + k * (tw + _GAP), _GAP + r * (th + label + _GAP)
        tile = Image.fromarray(colours[:, :, ch, :].astype("uint8"), "RGB")
        if (th, tw) != (h, w):
            tile = tile.resize((tw, th), Image.Resampling.NEAREST)
        img.paste(tile, (x0, y0 + label))
        if labels:
            put_text(img, (x0, y0 - 1), str(ch))
    return img


def vector_strip(
    values: np.ndarray,
    scale: str = "layer",
    vrange: tuple[float, float] | None = None,
    per_row: int | None = None,
    cell: int | None = None,
    colorscale: str = COLORSCALE,
) -> Image.Image:
    """A vector's values as coloured cells, `per_row` to a row (index i at row i // per_row)."""
    v = np.asarray(values, dtype="float32").ravel()
    n = v.size  # long vectors get smaller cells, so the strip stays a few hundred pixels tall
    per_row = per_row or (32 if n <= 256 else 64 if n <= 4096 else 128 if n <= 16384 else 320)
    cell = cell or (20 if n <= 128 else 10 if n <= 4096 else 5 if n <= 16384 else 2)
    norm = normalise(v, "network" if scale == "network" else "layer", vrange).ravel()
    n = v.size
    cols = min(per_row, max(n, 1))
    rows = math.ceil(n / cols)
    grid = np.ones(rows * cols) * np.nan
    grid[:n] = norm
    colours = lut(colorscale)[(np.nan_to_num(grid) * 255).round().astype("int64")]
    colours[np.isnan(grid)] = _BG
    small = Image.fromarray(colours.reshape(rows, cols, 3).astype("uint8"), "RGB")
    return small.resize((cols * cell, rows * cell), Image.Resampling.NEAREST)


def png_bytes(image: Image.Image) -> bytes:
    """PNG at zlib level 1: these pictures are flat colours, so it is barely larger than level 6 and
    several times faster to encode, on every rerun."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=1)
    return buf.getvalue()


def input_image(x: np.ndarray, target: int = 240) -> Image.Image:
    """The preprocessed model input (H, W, 1|3) in [0, 1], enlarged with visible pixels."""
    a = np.asarray(x, dtype="float32")
    a = np.nan_to_num(a).clip(0, 1)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    img = Image.fromarray((a * 255).round().astype("uint8"))
    z = _zoom_for(img.height, img.width, target)
    return img.resize((img.width * z, img.height * z), Image.Resampling.NEAREST) if z > 1 else img


def display_width(size: tuple[int, int], height: int = 240, max_width: int = 360) -> int:
    """Width at which an image of PIL `size` is about `height` pixels tall (never wider than max_width)."""
    w, h = size
    # Never so narrow that the image would be shrunk to 0 pixels high (st.image fails on a 1024x1 image).
    return max(1, min(max_width, round(height * w / max(h, 1))), -(-w // max(h, 1)))


def channel_heatmap(channel: np.ndarray, title: str = "", colorscale: str = COLORSCALE,
                    vrange: tuple[float, float] | None = None) -> go.Figure:
    """One channel as a plotly heatmap; hovering a pixel shows its row, column and exact value. (The bench's
    floor for the Activations zoom: bench/floor_app/heatmap.py; the page draws `zoom_map` instead.)"""
    z = np.asarray(channel, dtype="float32")
    if z.ndim == 1:
        z = z[np.newaxis, :]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            colorscale=colorscale,
            zmin=None if vrange is None else vrange[0],
            zmax=None if vrange is None else vrange[1],
            hovertemplate="row %{y}, col %{x}<br>value %{z:.6g}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_xaxes(constrain="domain")
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      height=min(700, max(260, 28 * z.shape[0] if z.shape[0] < 20 else 5 * z.shape[0])))
    return fig


@dataclass(frozen=True)
class ZoomMap:
    """One channel drawn as a picture: cells of `cell` x `cell_h` pixels from (0, 0), a colour bar at the right."""

    image: Image.Image
    rows: int
    cols: int
    cell: int  # cell width in pixels
    cell_h: int  # cell height (taller than wide for a single row: a Dense layer's vector)
    lo: float  # the colour bar's range
    hi: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, cell width, cell height) of the grid in the picture (cnnviz.ui.clickgrid's box)."""
        return 0, 0, self.cell, self.cell_h


ZOOM_TARGET = 480  # the longer side of the zoomed map, in pixels (cells stay whole pixels, at most MAX_CELL)
MAX_CELL = 40
_BAR_GAP, _BAR_W = 10, 14


def _tick(value: float) -> str:
    return f"{value:.4g}"


def zoom_map(channel: np.ndarray, vrange: tuple[float, float] | None = None, colorscale: str = COLORSCALE,
             target: int = ZOOM_TARGET) -> ZoomMap:
    """One channel (H, W) (or a vector, drawn as one row) as crisp cells coloured on `vrange` (else its own
    finite range), with a vertical colour bar and its min / middle / max written beside it. NaN cells are grey."""
    z = np.asarray(channel, dtype="float32")
    if z.ndim == 1:
        z = z[np.newaxis, :]
    if z.ndim != 2:
        raise ValueError(f"Cannot zoom into an activation of shape {z.shape}.")
    rows, cols = z.shape
    lo, hi = vrange if vrange is not None else value_range(z)
    cell = max(1, min(MAX_CELL, target // max(rows, cols)))
    cell_h = cell if rows > 2 else max(cell, 28)
    norm = normalise(z[..., np.newaxis], "network", (lo, hi))[..., 0]
    colours = lut(colorscale)[(norm * 255).round().astype("int64")]
    colours[~np.isfinite(z)] = (200, 200, 200)
    grid = Image.fromarray(colours.astype("uint8"), "RGB").resize((cols * cell, rows * cell_h), Image.Resampling.NEAREST)
    labels = [_tick(hi), _tick((lo + hi) / 2), _tick(lo)]
    height = max(grid.height, 3 * _LABEL + 6)
    img = Image.new("RGB", (grid.width + _BAR_GAP + _BAR_W + 6 + max(text_width(t) for t in labels), height), _BG)
    img.paste(grid, (0, 0))
    bar = lut(colorscale)[np.linspace(255, 0, height).round().astype("int64")]  # the top is the maximum
    x0 = grid.width + _BAR_GAP
    img.paste(Image.fromarray(np.repeat(bar[:, np.newaxis], _BAR_W, axis=1).astype("uint8"), "RGB"), (x0, 0))
    for text, y in zip(labels, (0, (height - _LABEL) / 2, height - _glyphs(labels[2]).height)):  # the last one whole
        put_text(img, (x0 + _BAR_W + 4, y), text)
    return ZoomMap(img, rows, cols, cell, cell_h, float(lo), float(hi))


MAX_BARS = 20  # classes drawn as one bar each
TOP_BARS = 10  # the highest shown when there are more


def probability_bars(probabilities: np.ndarray, class_names: list[str] | tuple[str, ...] | None = None,
                     title: str = "") -> go.Figure:
    """The model's output per class as bars, the highest highlighted, the value as text. More than MAX_BARS
    classes (ImageNet's 1000): the TOP_BARS highest, in order, each named with its index."""
    p = np.asarray(probabilities, dtype="float64").ravel()
    names = list(class_names) if class_names and len(class_names) == p.size else [str(i) for i in range(p.size)]
    if p.size > MAX_BARS:
        order = np.argsort(np.nan_to_num(-p, nan=np.inf), kind="stable")[:TOP_BARS]
        names, p = [f"{names[i]} ({i})" if names[i] != str(i) else names[i] for i in order], p[order]
    best = int(np.nanargmax(p)) if np.isfinite(p).any() else -1
    colours = ["#d62728" if i == best else "#1f77b4" for i in range(p.size)]
    fig = go.Figure(
        go.Bar(x=names, y=p, marker_color=colours, text=[f"{v:.3f}" for v in p], textposition="outside",
               hovertemplate="%{x}: %{y:.6f}<extra></extra>")
    )
    top = float(np.nanmax(p)) if np.isfinite(p).any() else 1.0
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=40 if title else 10, b=10), height=320,
                      yaxis=dict(range=[min(0.0, float(np.nanmin(p))) if np.isfinite(p).any() else 0, max(1.0, top) * 1.12]),
                      xaxis=dict(type="category"))
    return fig


def looks_like_probabilities(values) -> bool:
    """Non-negative values summing to 1 (a softmax output), so bars can be called probabilities."""
    v = np.asarray(values, dtype="float64").ravel()
    return bool(v.size > 0 and np.isfinite(v).all() and v.min() >= 0 and abs(v.sum() - 1.0) < 1e-3)
