"""One output value of a convolution or a pooling layer, explained step by step.

Pure numpy, channels-last, Keras's conventions: 'same' padding puts the odd extra
row/column after (bottom/right), pooling windows never count padding cells, and
average pooling with 'same' padding divides by the number of real cells in the window.
Tests compare every number here with keras.layers.Conv2D, MaxPooling2D,
AveragePooling2D and cnnviz.layers.MinPooling2D.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz import arithmetic
from cnnviz.messages import MessageError

POOL_KINDS = ("max", "average", "min")


@dataclass(frozen=True)
class Geometry:
    """Where the windows of a conv/pool layer fall on its (padded) input."""

    input_hw: tuple[int, int]
    kernel: tuple[int, int]
    strides: tuple[int, int]
    dilation: tuple[int, int]
    padding: str
    pads: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
    output_hw: tuple[int, int]

    @property
    def padded_hw(self) -> tuple[int, int]:
        (t, b), (l, r) = self.pads
        return self.input_hw[0] + t + b, self.input_hw[1] + l + r

    def positions(self) -> list[tuple[int, int]]:
        """Every output position, row by row (the order a play control steps through)."""
        return [(i, j) for i in range(self.output_hw[0]) for j in range(self.output_hw[1])]

    def window_index(self, position) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns of the padded input that the window at `position` reads."""
        i, j = _position(position, self.output_hw)
        rows = i * self.strides[0] + np.arange(self.kernel[0]) * self.dilation[0]
        cols = j * self.strides[1] + np.arange(self.kernel[1]) * self.dilation[1]
        return rows, cols

    def padding_mask(self) -> np.ndarray:
        """(Hp, Wp) booleans: True where the padded input is padding, not the input."""
        hp, wp = self.padded_hw
        (t, _), (l, _) = self.pads
        mask = np.ones((hp, wp), dtype=bool)
        mask[t : t + self.input_hw[0], l : l + self.input_hw[1]] = False
        return mask


def _position(position, output_hw) -> tuple[int, int]:
    i, j = (int(v) for v in position)
    if not (0 <= i < output_hw[0] and 0 <= j < output_hw[1]):
        raise MessageError("conv.msg.outside", i=i, j=j, oh=output_hw[0], ow=output_hw[1],
                           last_row=output_hw[0] - 1, last_col=output_hw[1] - 1)
    return i, j


def geometry(input_hw, kernel_size, strides=1, padding="valid", dilation=1) -> Geometry:
    """The window layout; raises ValueError (student-readable) for settings Keras refuses."""
    h, w = (int(v) for v in input_hw)
    k = arithmetic.pair(kernel_size, "kernel_size")
    s = arithmetic.pair(strides, "strides")
    d = arithmetic.pair(dilation, "dilation_rate")
    oh, ow, _ = arithmetic.conv2d_output_shape((h, w, 1), 1, k, s, padding, d)
    padding = str(padding).lower()
    if padding == "same":
        pads = (arithmetic.same_padding(h, k[0], s[0], d[0]), arithmetic.same_padding(w, k[1], s[1], d[1]))
    else:
        pads = ((0, 0), (0, 0))
    return Geometry((h, w), k, s, d, padding, pads, (oh, ow))


def _as_input(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise MessageError("conv.msg.input_shape", shape=x.shape)
    if not np.all(np.isfinite(x)):
        raise MessageError("conv.msg.input_nan")
    return x


def _as_kernel(kernel, channels: int, filter_index: int) -> np.ndarray:
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 2:
        k = np.repeat(k[:, :, None], channels, axis=2)
    if k.ndim == 4:
        if not 0 <= filter_index < k.shape[3]:
            raise MessageError("conv.msg.no_filter", index=filter_index, n=k.shape[3])
        k = k[:, :, :, filter_index]
    if k.ndim != 3:
        raise MessageError("conv.msg.kernel_shape", shape=k.shape)
    if k.shape[2] != channels:
        raise MessageError("conv.msg.channels", kernel=k.shape[2], input=channels)
    if not np.all(np.isfinite(k)):
        raise MessageError("conv.msg.kernel_nan")
    return k


def _bias(bias, filter_index: int) -> float:
    b = np.asarray(0.0 if bias is None else bias, dtype=np.float64)
    return float(b) if b.ndim == 0 else float(b[filter_index])


def pad_input(x, geo: Geometry, value: float = 0.0) -> np.ndarray:
    x = _as_input(x)
    return np.pad(x, (geo.pads[0], geo.pads[1], (0, 0)), constant_values=value)


@dataclass(frozen=True)
class ConvStep:
    """One output value of a Conv2D filter, with everything that went into it."""

    position: tuple[int, int]
    geometry: Geometry
    padded: np.ndarray  # (Hp, Wp, C) the input with its zero padding
    rows: np.ndarray  # (kh,) rows of `padded` in the window
    cols: np.ndarray  # (kw,) columns of `padded` in the window
    window: np.ndarray  # (kh, kw, C) the input values the kernel meets
    window_padding: np.ndarray  # (kh, kw) True where the window sits on padding
    kernel: np.ndarray  # (kh, kw, C)
    products: np.ndarray  # (kh, kw, C) window * kernel
    channel_sums: np.ndarray  # (C,) sum of products per channel
    bias: float
    total: float  # sum over channels + bias: what Conv2D outputs before its activation
    relu: float  # max(total, 0)


def conv_step(x, kernel, bias=0.0, position=(0, 0), strides=1, padding="valid", dilation=1, filter_index=0) -> ConvStep:
    """Window, products, per-channel sums, total + bias and ReLU at one output position."""
    x = _as_input(x)
    k = _as_kernel(kernel, x.shape[2], filter_index)
    geo = geometry(x.shape[:2], k.shape[:2], strides, padding, dilation)
    pos = _position(position, geo.output_hw)
    padded = pad_input(x, geo)
    rows, cols = geo.window_index(pos)
    window = padded[np.ix_(rows, cols)]
    window_padding = geo.padding_mask()[np.ix_(rows, cols)]
    products = window * k
    channel_sums = products.sum(axis=(0, 1))
    b = _bias(bias, filter_index)
    total = float(channel_sums.sum() + b)
    return ConvStep(pos, geo, padded, rows, cols, window, window_padding, k, products, channel_sums, b, total,
                    max(total, 0.0))


def conv_output(x, kernel, bias=0.0, strides=1, padding="valid", dilation=1, filter_index=None) -> np.ndarray:
    """The whole output map before the activation: (H_out, W_out) for one filter, or (H_out, W_out, F)
    when `kernel` is 4-D and filter_index is None."""
    x = _as_input(x)
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim == 4 and filter_index is None:
        return np.stack([conv_output(x, k, bias, strides, padding, dilation, f) for f in range(k.shape[3])], axis=-1)
    f = filter_index or 0
    k = _as_kernel(k, x.shape[2], f)
    geo = geometry(x.shape[:2], k.shape[:2], strides, padding, dilation)
    padded = pad_input(x, geo)
    # every window at once (the rows and columns Geometry.window_index gives each position): (oh, ow, kh, kw, C)
    rows = (np.arange(geo.output_hw[0]) * geo.strides[0])[:, None] + np.arange(geo.kernel[0]) * geo.dilation[0]
    cols = (np.arange(geo.output_hw[1]) * geo.strides[1])[:, None] + np.arange(geo.kernel[1]) * geo.dilation[1]
    windows = padded[rows[:, None, :, None], cols[None, :, None, :]]
    return (windows * k).sum(axis=(2, 3, 4)) + _bias(bias, f)


@dataclass(frozen=True)
class PoolStep:
    """One output position of a pooling layer, for every channel."""

    kind: str
    position: tuple[int, int]
    geometry: Geometry
    padded: np.ndarray  # (Hp, Wp, C), padding cells are NaN: pooling never reads them
    rows: np.ndarray
    cols: np.ndarray
    window: np.ndarray  # (ph, pw, C), NaN on padding
    window_padding: np.ndarray  # (ph, pw)
    values: np.ndarray  # (C,) the pooled value per channel
    winners: list  # per channel: (row, col) in the window of the max/min (first one on ties); None for average
    counts: np.ndarray  # (C,) real (non-padding) cells averaged
    sums: np.ndarray  # (C,) their sum (what average pooling divides)


def pool_geometry(input_hw, pool_size=2, strides=None, padding="valid") -> Geometry:
    p = arithmetic.pair(pool_size, "pool_size")
    s = p if strides is None else arithmetic.pair(strides, "strides")
    arithmetic.pool2d_output_shape((int(input_hw[0]), int(input_hw[1]), 1), p, s, padding)
    return geometry(input_hw, p, s, padding, 1)


def _kind(kind: str) -> str:
    if kind not in POOL_KINDS:
        raise ValueError(f"pooling must be one of {', '.join(POOL_KINDS)}, not {kind!r}.")
    return kind


def pool_step(x, kind="max", position=(0, 0), pool_size=2, strides=None, padding="valid") -> PoolStep:
    x = _as_input(x)
    kind = _kind(kind)
    geo = pool_geometry(x.shape[:2], pool_size, strides, padding)
    pos = _position(position, geo.output_hw)
    padded = pad_input(x, geo, value=np.nan)
    rows, cols = geo.window_index(pos)
    window = padded[np.ix_(rows, cols)]
    window_padding = geo.padding_mask()[np.ix_(rows, cols)]
    real = ~window_padding
    values, winners, counts, sums = [], [], [], []
    for c in range(x.shape[2]):
        cells = window[:, :, c]
        n = int(real.sum())
        total = float(cells[real].sum())
        counts.append(n)
        sums.append(total)
        if kind == "average":
            values.append(total / n)
            winners.append(None)
            continue
        filled = np.where(real, cells, -np.inf if kind == "max" else np.inf)
        flat = int(np.argmax(filled) if kind == "max" else np.argmin(filled))
        r, q = divmod(flat, cells.shape[1])
        winners.append((r, q))
        values.append(float(cells[r, q]))
    return PoolStep(kind, pos, geo, padded, rows, cols, window, window_padding, np.array(values), winners,
                    np.array(counts), np.array(sums))


def pool_output(x, kind="max", pool_size=2, strides=None, padding="valid") -> np.ndarray:
    """The whole pooled map (H_out, W_out, C)."""
    x = _as_input(x)
    geo = pool_geometry(x.shape[:2], pool_size, strides, padding)
    out = np.empty((*geo.output_hw, x.shape[2]))
    for pos in geo.positions():
        out[pos] = pool_step(x, kind, pos, pool_size, strides, padding).values
    return out


@dataclass(frozen=True)
class ModelFilter:
    """A Conv2D layer's weights, as cnnviz shows them."""

    layer: str
    kernel: np.ndarray  # (kh, kw, C_in, F)
    bias: np.ndarray  # (F,)
    strides: tuple[int, int]
    padding: str
    dilation: tuple[int, int]

    @property
    def channels(self) -> int:
        return int(self.kernel.shape[2])

    @property
    def filters(self) -> int:
        return int(self.kernel.shape[3])


def model_filters(model) -> list[ModelFilter]:
    """The Conv2D layers of a Keras model with their weights (read, never changed)."""
    out = []
    for layer in getattr(model, "layers", []):
        if type(layer).__name__ != "Conv2D":
            continue
        weights = layer.get_weights()
        kernel = np.asarray(weights[0], dtype=np.float64)
        bias = np.asarray(weights[1], dtype=np.float64) if len(weights) > 1 else np.zeros(kernel.shape[3])
        out.append(ModelFilter(layer.name, kernel, bias, tuple(layer.strides), str(layer.padding),
                               tuple(layer.dilation_rate)))
    return out


MAX_CROP_HEIGHT = 2048  # pixels of the shrunk image that crop() keeps at most


def shrunk_size(image_size: tuple[int, int], width: int, size: int) -> tuple[int, int]:
    """(width, height) of the image shrunk to `width` pixels wide (at least `size` each way) for cropping."""
    width = max(int(width), int(size))
    # Capped: a 1x3000 upload at 320 wide would be 960000 pixels tall (gigabytes, and no JPEG can hold it).
    height = min(max(int(size), round(image_size[1] * width / image_size[0])), MAX_CROP_HEIGHT)
    return width, height


def crop_limits(image_size: tuple[int, int], width: int, size: int) -> tuple[int, int]:
    """The largest top row and left column of a size x size crop (at least 1, for a slider's range)."""
    w, h = shrunk_size(image_size, width, size)
    return max(1, h - size), max(1, w - size)


def crop(image, width: int, top: int, left: int, size: int, channels: int = 1, decimals: int = 2):
    """A size x size crop of `image` (PIL) shrunk to `width` pixels wide, as numbers in [0, 1].

    Values are rounded to `decimals` so the numbers on the page are exactly the numbers computed.
    Returns (grid (size, size, channels), the shrunk RGB image with the crop outlined).
    """
    from PIL import Image, ImageDraw  # only this helper needs Pillow

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels}.")
    rgb = image.convert("RGB")
    width, height = shrunk_size(rgb.size, width, size)
    small = rgb.resize((width, height), Image.Resampling.BILINEAR)
    top = min(max(int(top), 0), height - size)
    left = min(max(int(left), 0), width - size)
    source = small if channels == 3 else small.convert("L")
    pixels = np.asarray(source, dtype=np.float64) / 255.0
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    grid = np.round(pixels[top : top + size, left : left + size], decimals)
    preview = small.copy()
    ImageDraw.Draw(preview).rectangle([left - 1, top - 1, left + size, top + size], outline=(255, 0, 0))
    return grid, preview


def arithmetic_lines(step: ConvStep, decimals: int = 2, max_terms: int = 49) -> list[str]:
    """The sum written out, one line per channel: 'w*x + w*x + ... = s' (LaTeX-free plain text)."""
    lines = []
    for c in range(step.kernel.shape[2]):
        terms = [
            f"({step.window[r, q, c]:.{decimals}f}×{step.kernel[r, q, c]:.{decimals + 1}f})"
            for r in range(step.kernel.shape[0])
            for q in range(step.kernel.shape[1])
        ]
        if len(terms) > max_terms:
            terms = terms[: max_terms - 1] + ["…"]
        lines.append(" + ".join(terms) + f" = {step.channel_sums[c]:.4f}")
    return lines
