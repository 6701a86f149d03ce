"""Generated training data, deterministic from a seed: nothing is downloaded.

`shapes` draws one white-ish shape (circle, square, triangle, cross) per image on a dark, noisy
background, at a random position, size, rotation and brightness. It is what the shipped default
model (the lecture's 120x60x1 seed model) was trained on.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

SHAPE_CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "cross")

# Shapes are drawn this many times larger, then shrunk, so their edges are anti-aliased.
_SUPERSAMPLE = 4


def _polygon(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    """Vertices of a shape of circumradius-like size r, centred at (cx, cy), rotated by angle."""
    if kind == "square":
        pts = [(math.cos(a), math.sin(a)) for a in (math.pi / 4 + k * math.pi / 2 for k in range(4))]
    elif kind == "triangle":
        pts = [(math.cos(a), math.sin(a)) for a in (-math.pi / 2 + k * 2 * math.pi / 3 for k in range(3))]
    elif kind == "cross":
        w = 0.3  # half the arm thickness, relative to the arm length
        pts = [(w, 1), (-w, 1), (-w, w), (-1, w), (-1, -w), (-w, -w), (-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w)]
    else:
        raise ValueError(f"unknown shape {kind!r}")
    c, s = math.cos(angle), math.sin(angle)
    return [(cx + r * (x * c - y * s), cy + r * (x * s + y * c)) for x, y in pts]


def draw(kind: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """One grayscale image in [0, 1], shape (height, width)."""
    short = min(height, width)
    r = rng.uniform(0.16, 0.40) * short  # size: about a third to four fifths of the short side
    cx = rng.uniform(r + 1, width - r - 1)
    cy = rng.uniform(r + 1, height - r - 1)
    angle = rng.uniform(0, 2 * math.pi)
    fg = rng.uniform(0.55, 1.0)
    bg = rng.uniform(0.0, 0.30)

    k = _SUPERSAMPLE
    canvas = Image.new("F", (width * k, height * k), 0.0)
    draw = ImageDraw.Draw(canvas)
    if kind == "circle":
        draw.ellipse([(cx - r) * k, (cy - r) * k, (cx + r) * k, (cy + r) * k], fill=1.0)
    else:
        draw.polygon([(x * k, y * k) for x, y in _polygon(kind, cx, cy, r, angle)], fill=1.0)
    mask = np.asarray(canvas.resize((width, height), Image.Resampling.BOX), dtype=np.float32)

    img = bg + (fg - bg) * mask
    img = img + rng.normal(0.0, rng.uniform(0.02, 0.08), size=img.shape)
    return np.clip(img, 0.0, 1.0).astype(np.float32)


def shapes(
    n: int, height: int = 120, width: int = 60, channels: int = 1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """`n` generated shape images, balanced over the 4 classes, in a seed-determined order.

    Returns (x float32 in [0, 1] of shape (n, height, width, channels), y int64 (n,), class names).
    The same arguments always give the same arrays.
    """
    if n < 0:
        raise ValueError("n must be at least 0.")
    if height < 8 or width < 8:
        raise ValueError("images must be at least 8x8 pixels.")
    if channels not in (1, 3):
        raise ValueError("channels must be 1 (grayscale) or 3 (RGB).")
    order = np.random.default_rng([seed, 0])
    y = order.permutation(np.arange(n) % len(SHAPE_CLASSES)).astype(np.int64)
    x = np.empty((n, height, width, channels), dtype=np.float32)
    for i in range(n):
        # One generator per image, seeded by (seed, i): reproducible without a shared stream.
        rng = np.random.default_rng([seed, 1, i])
        x[i] = draw(SHAPE_CLASSES[y[i]], height, width, rng)[..., None]
    return x, y, SHAPE_CLASSES
