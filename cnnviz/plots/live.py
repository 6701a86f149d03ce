"""The live view's pictures, made at video rate: every channel of a layer as one mosaic (a palette PNG, on
the Activations page's colour map and scales), and the frame as the model sees it, with the Grad-CAM
overlay on request (a JPEG). Plain numpy and PIL: a few milliseconds per frame."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from cnnviz.plots.activations import COLORSCALE, lut

SCALES = ("channel", "layer")  # the Activations page's "network" scale needs every layer: not computed live
GAP_INDEX = 255  # the palette's last colour is the gap between tiles
GAP_COLOUR = (255, 255, 255)
CAM_COLORSCALE = "Inferno"  # as the Explain page's overlays
PNG_LEVEL = 1  # zlib level: the mosaic is made for every frame; level 1 is 3-5x faster than the default
MAX_VALUES = 160_000  # values drawn per frame: larger layers are shown at 1/2, 1/3, ... (block means), so that
# encoding stays a few milliseconds (Lite0's stem, 112x112x32 = 401k values: 11 ms as a PNG, 3 ms at 1/2)


def grid_shape(channels: int, h: int, w: int) -> tuple[int, int]:
    """(rows, cols) of tiles for `channels` maps of h x w: close to square."""
    cols = max(1, math.ceil(math.sqrt(channels * h / max(w, 1))))
    cols = min(cols, channels)
    return math.ceil(channels / cols), cols


def levels(maps: np.ndarray, scale: str) -> np.ndarray:
    """(h, w, c) values as palette indices 0-254, per channel or over the whole layer (constant -> 0,
    NaN -> 0)."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}; got {scale!r}")
    a = np.nan_to_num(np.asarray(maps, dtype="float32"), nan=0.0, posinf=0.0, neginf=0.0)
    axes = (0, 1) if scale == "channel" else None
    lo = a.min(axis=axes, keepdims=scale == "channel")
    hi = a.max(axis=axes, keepdims=scale == "channel")
    span = np.where(hi - lo > 0, hi - lo, 1.0).astype("float32")
    return np.clip((a - lo) * (254.0 / span), 0, 254).astype(np.uint8)


def step(shape) -> int:
    """1 when a layer's maps (h, w, c) are drawn whole, else the block size they are averaged over."""
    h, w, c = shape
    return max(1, math.ceil(math.sqrt(h * w * c / MAX_VALUES)))


def shrink(maps: np.ndarray, k: int) -> np.ndarray:
    """(h, w, c) -> the means of k x k blocks (a partial block at the edge is the mean of what it holds)."""
    if k <= 1:
        return maps
    h, w, c = maps.shape
    hh, ww = -(-h // k) * k, -(-w // k) * k
    if (hh, ww) == (h, w):
        return np.asarray(maps, dtype="float32").reshape(h // k, k, w // k, k, c).mean(axis=(1, 3))
    a = np.pad(np.asarray(maps, dtype="float32"), ((0, hh - h), (0, ww - w), (0, 0)), constant_values=np.nan)
    return np.nanmean(a.reshape(hh // k, k, ww // k, k, c), axis=(1, 3))


def mosaic(maps: np.ndarray, scale: str = "channel", colorscale: str = COLORSCALE) -> tuple[bytes, tuple[int, int]]:
    """Every channel of one layer's maps (h, w, c) as one palette PNG, tiles left to right then down,
    a one-pixel white gap between them (larger than MAX_VALUES: each map's k x k block means, k = step());
    (png, (rows, cols))."""
    a = np.asarray(maps)
    if a.ndim == 2:
        a = a[..., np.newaxis]
    if a.ndim != 3:
        raise ValueError(f"a mosaic needs maps (h, w, c), not {a.shape}")
    a = shrink(a, step(a.shape))
    h, w, c = a.shape
    rows, cols = grid_shape(c, h, w)
    idx = levels(a, scale)
    tiles = np.full((h + 1, w + 1, rows * cols), GAP_INDEX, dtype=np.uint8)  # each tile with its gap right and below
    tiles[:h, :w, :c] = idx
    canvas = tiles.reshape(h + 1, w + 1, rows, cols).transpose(2, 0, 3, 1).reshape(rows * (h + 1), cols * (w + 1))
    im = Image.fromarray(np.ascontiguousarray(canvas[:-1, :-1]), "P")
    palette = np.vstack([lut(colorscale)[np.linspace(0, 255, 255).round().astype(int)],
                         np.array([GAP_COLOUR], dtype=np.uint8)])
    im.putpalette(palette.astype(np.uint8).ravel().tolist())
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=PNG_LEVEL)
    return buf.getvalue(), (rows, cols)


def seen(x01: np.ndarray, cam: np.ndarray | None = None, opacity: float = 0.5, quality: int = 85) -> bytes:
    """The frame as the model sees it ((H, W, C) in [0, 1]), with a (H, W) Grad-CAM blended over it on the
    Inferno colour map (scaled to its own maximum), as a JPEG."""
    x = np.clip(np.asarray(x01, dtype="float32"), 0.0, 1.0)
    rgb = np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x[..., :3]
    if cam is not None:
        c = np.nan_to_num(np.asarray(cam, dtype="float32"))
        top = float(c.max())
        idx = np.clip(c * (255.0 / top), 0, 255).astype(np.uint8) if top > 0 else np.zeros(c.shape, np.uint8)
        heat = lut(CAM_COLORSCALE)[idx].astype("float32") / 255.0
        rgb = (1.0 - opacity) * rgb + opacity * heat
    im = Image.fromarray((rgb * 255.0 + 0.5).astype(np.uint8), "RGB")
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
