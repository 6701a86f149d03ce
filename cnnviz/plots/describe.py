"""Text alternatives: what a picture or a figure shows, with its numbers, in the UI's language.

Each function takes the arrays that are drawn (the same ones) and returns one short sentence for an
image's `alt` or a figure's caption; the wording is in cnnviz/i18n under `alt.`. Numbers are written
with 3 significant digits; NaN and infinities are left out of a range (a map of nothing but NaN says so).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from PIL import Image

from cnnviz import i18n


def num(value) -> str:
    """A number in 3 significant digits ("1.89", "0.000123", "1.23e+04"); -0 as 0."""
    v = float(value)
    return f"{v + 0.0:.3g}" if v != 0 else "0"


def hw(shape) -> str:
    """The first two numbers of a shape as 'HxW' (rows x columns, Keras's order)."""
    return f"{int(shape[0])}x{int(shape[1])}"


def value_range(values, lang: str) -> str:
    """'values 0 to 1.89', 'every value 0.5' (a constant map), or 'no finite values'."""
    a = np.asarray(values, dtype="float64")
    a = a[np.isfinite(a)]
    if a.size == 0:
        return i18n.t("alt.range.none", lang)
    lo, hi = num(a.min()), num(a.max())
    if lo == hi:
        return i18n.t("alt.range.constant", lang, v=lo)
    return i18n.t("alt.range", lang, lo=lo, hi=hi)


def _clean(name) -> str:
    """A name as plain text for an attribute: no control characters, no line breaks."""
    return "".join(ch if ch.isprintable() else " " for ch in str(name)).strip()


def activation_map(values, layer: str, channel: int, lang: str) -> str:
    """One channel of a layer: 'conv1, channel 3: activation map 116x56, values 0 to 1.89'."""
    v = np.atleast_2d(np.asarray(values))
    return i18n.t("alt.map", lang, layer=_clean(layer), channel=int(channel), size=hw(v.shape),
                  range=value_range(v, lang))


def map_grid(maps, layer: str, lang: str, shown: int | None = None) -> str:
    """A layer's maps as a grid: the layer, how many channels (of how many), each map's size, the range
    of what is drawn. A vector layer (1-D) is its values; `shown` caps the channels drawn."""
    m = np.asarray(maps)
    if m.ndim == 1:
        return i18n.t("alt.vector", lang, layer=_clean(layer), n=m.shape[0], range=value_range(m, lang))
    if m.ndim == 2:
        m = m[:, :, None]
    total = m.shape[-1]
    n = total if shown is None else min(int(shown), total)
    key = "alt.grid.one" if total == 1 else "alt.grid" if n == total else "alt.grid.capped"
    return i18n.t(key, lang, layer=_clean(layer), n=n, total=total, size=hw(m.shape),
                  range=value_range(m[..., :n], lang))


def maps(arrays: Sequence, title: str, lang: str) -> str:
    """Several 2-D maps in a row (a strip): '{title}: 5 maps, each 64x64, values -1 to 1'."""
    arrays = [np.atleast_2d(np.asarray(a)) for a in arrays]
    sizes = list(dict.fromkeys(hw(a.shape) for a in arrays))  # each size once, in order
    values = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0)
    return i18n.t("alt.maps", lang, title=_clean(title), n=len(arrays), size=", ".join(sizes) or "0x0",
                  range=value_range(values, lang))


def stages(named: Sequence[tuple[str, np.ndarray]], lang: str) -> str:
    """The Layer lab's maps through its stages, each (title, (H, W, F)): '{title}: 8 maps 26x26, values ...; ...'."""
    parts = [i18n.t("alt.stage", lang, title=_clean(title), n=np.asarray(a).shape[-1], size=hw(np.asarray(a).shape),
                    range=value_range(a, lang)) for title, a in named]
    return "; ".join(parts)


def heat(values, lang: str) -> str:
    """A heat map laid over a picture: 'Heat map 120x60, values 0 to 0.217.'"""
    v = np.atleast_2d(np.asarray(values))
    return i18n.t("alt.heat", lang, size=hw(v.shape), range=value_range(v, lang))


def colour_bar(lo: float, hi: float, lang: str) -> str:
    return i18n.t("alt.colour_bar", lang, lo=num(lo), hi=num(hi))


def model_input(x, lang: str) -> str:
    """The picture of what a model (or a layer) is fed, (H, W) or (H, W, C): its size, channels and range."""
    a = np.asarray(x)
    c = a.shape[2] if a.ndim == 3 else 1
    return i18n.t("alt.input", lang, size=hw(a.shape), c=c, range=value_range(a, lang))


def photo(name: str, width: int, height: int, lang: str) -> str:
    """'circle.png, 120x240 pixels' (width x height, as the image picker writes it)."""
    return i18n.t("alt.photo", lang, name=_clean(name), w=int(width), h=int(height))


def pictures(images: Sequence, title: str, lang: str) -> str:
    """Pictures in a row or grid (thumbnails, feature visualisations): '{title}: 16 pictures, each 64x64 pixels'."""
    shapes = (im.size[::-1] if isinstance(im, Image.Image) else np.asarray(im).shape for im in images)
    sizes = list(dict.fromkeys(hw(shape) for shape in shapes))  # PIL says (width, height)
    return i18n.t("alt.pictures", lang, title=_clean(title), n=len(images), size=", ".join(sizes) or "0x0")


def overlay(picture, heat, title: str, lang: str) -> str:
    """A picture with a heat map over it (a class activation map): '{title}: picture 64x64 with a heat map 8x8 over
    it, values ...'; the picture alone where there is no heat map (None)."""
    if heat is None:
        return i18n.t("alt.overlay.none", lang, title=_clean(title), size=hw(np.asarray(picture).shape))
    return i18n.t("alt.overlay", lang, title=_clean(title), size=hw(np.asarray(picture).shape),
                  heat=hw(np.atleast_2d(np.asarray(heat)).shape), range=value_range(heat, lang))


def kernel(weights, lang: str, title: str = "") -> str:
    """A kernel: its size, channels and filters, and its weight range.

    weights: (kh, kw) one kernel, (F, kh, kw) a bank of 2-D kernels, or Keras's (kh, kw, cin, F)."""
    k = np.asarray(weights)
    if k.ndim == 2:
        text = i18n.t("alt.kernel.one", lang, size=hw(k.shape), range=value_range(k, lang))
    elif k.ndim == 3:
        text = i18n.t("alt.kernel.bank", lang, n=k.shape[0], size=hw(k.shape[1:]), range=value_range(k, lang))
    elif k.ndim == 4:
        text = i18n.t("alt.kernel.layer", lang, size=hw(k.shape), cin=k.shape[2], n=k.shape[3],
                      range=value_range(k, lang))
    else:
        raise ValueError(f"a kernel is 2-D, 3-D or 4-D, not {k.ndim}-D")
    return f"{_clean(title)}: {text}" if title else text


def snapshots(snaps: Sequence, lang: str, max_filters: int = 32) -> str:
    """The trainer's first-layer filters per epoch (each (kh, kw, cin, F))."""
    if not snaps:
        return i18n.t("alt.snapshots.none", lang)
    first = np.asarray(snaps[0])
    n = min(first.shape[-1], max_filters)
    values = np.concatenate([np.asarray(s)[..., :n].ravel() for s in snaps])
    return i18n.t("alt.snapshots", lang, epochs=len(snaps), n=n, size=hw(first.shape), range=value_range(values, lang))


def _runs(flags: np.ndarray) -> tuple[int, int]:
    """How many leading and trailing entries are True."""
    idx = np.flatnonzero(~flags)
    if idx.size == 0:
        return len(flags), 0
    return int(idx[0]), int(len(flags) - 1 - idx[-1])


def number_grid(values, title: str, lang: str, padding=None, window=None, current=None, result=None,
                origin=(0, 0)) -> str:
    """A step page's number grid: its size, the padding around the input, the window's rows and columns,
    the cell being computed and the output value.

    padding: (H, W) bool, True on padded cells; window: (rows, cols) index arrays in the grid's own rows
    and columns; current: (row, col); result: the output value this window gives; origin: the (row, col)
    label of the top-left cell, as drawn (padded grids number the input from 0, the padding above is -1)."""
    z = np.atleast_2d(np.asarray(values, dtype="float64"))
    parts = []
    if padding is not None and np.asarray(padding).any():
        pad = np.asarray(padding, dtype=bool)
        top, bottom = _runs(pad.all(axis=1))
        left, right = _runs(pad.all(axis=0))
        inner = z[~pad]
        parts.append(i18n.t("alt.step.padded", lang, size=f"{z.shape[0] - top - bottom}x{z.shape[1] - left - right}",
                            top=top, bottom=bottom, left=left, right=right, range=value_range(inner, lang)))
    else:
        parts.append(i18n.t("alt.step.grid", lang, size=hw(z.shape), range=value_range(z, lang)))
    if window is not None:
        rows, cols = (np.asarray(a).ravel() for a in window)
        if rows.size and cols.size:
            r0, c0 = (int(v) for v in origin)
            parts.append(i18n.t("alt.step.window", lang, r0=int(rows.min()) - r0, r1=int(rows.max()) - r0,
                                c0=int(cols.min()) - c0, c1=int(cols.max()) - c0))
    if current is not None:
        r, c = (int(v) for v in current)
        if np.isfinite(z[r, c]):
            parts.append(i18n.t("alt.step.current", lang, row=r, col=c, value=num(z[r, c])))
        else:  # not computed yet
            parts.append(i18n.t("alt.step.at", lang, row=r, col=c))
    if result is not None:
        parts.append(i18n.t("alt.step.result", lang, value=num(result)))
    return f"{_clean(title)}: " + "; ".join(parts)


def crop(x, top: int, left: int, lang: str) -> str:
    """The step pages' input cut from the image: its size, where it was cut, its range."""
    return i18n.t("alt.crop", lang, size=hw(np.asarray(x).shape), top=int(top), left=int(left),
                  range=value_range(x, lang))


# --- plotly figures ---

def _subplot_title(fig, trace) -> str | None:
    """The title of the subplot a trace is drawn in, where the figure has several (make_subplots' titles)."""
    axes = {getattr(tr, "xaxis", None) or "x" for tr in fig.data}
    titles = [a.text for a in (fig.layout.annotations or ()) if a.text]
    if len(axes) < 2 or not titles:
        return None
    index = int((getattr(trace, "xaxis", None) or "x")[1:] or 1) - 1
    return titles[index] if index < len(titles) else None


def _trace_names(fig, lang: str | None, names: Sequence[str] | None = None) -> list[str]:
    """Each trace's name: as given, else its own with its subplot's title where names repeat, else its
    subplot's title, else 'series i' (its number when `lang` is None)."""
    own = [getattr(tr, "name", None) for tr in fig.data]
    repeated = len({n for n in own if n}) < len([n for n in own if n])
    out = []
    for i, trace in enumerate(fig.data):
        if names is not None and i < len(names):
            out.append(_clean(names[i]))
            continue
        title = _subplot_title(fig, trace)
        if own[i]:
            out.append(_clean(f"{title}, {own[i]}" if title and repeated else own[i]))
        elif title:
            out.append(_clean(title))
        else:
            out.append(i18n.t("alt.figure.trace", lang, i=i + 1) if lang else str(i + 1))
    return out


def _xy(trace) -> tuple[list, np.ndarray]:
    """(labels, values) of a bar or line trace; a horizontal bar has its values on x."""
    horizontal = trace.type == "bar" and getattr(trace, "orientation", None) == "h"
    values, labels = (trace.x, trace.y) if horizontal else (trace.y, trace.x)
    v = np.asarray(values if values is not None else [], dtype="float64").ravel()
    return (list(labels) if labels is not None else list(range(v.size))), v


def figure(fig, lang: str, names: Sequence[str] | None = None) -> str:
    """A caption with a figure's key numbers, read from its traces (the data drawn): per bar or line trace
    how many points, their range, the largest and where, the last; per heatmap its size and value range.
    names: the traces' names where the figure has none (its legend or subplot titles say them)."""
    parts = []
    labels = _trace_names(fig, lang, names)
    for i, trace in enumerate(fig.data):
        name = labels[i]
        kind = trace.type
        if kind in ("heatmap", "image"):
            z = np.asarray(trace.z if kind == "heatmap" else [[0]], dtype="float64")
            if kind == "image" or z.ndim != 2:
                continue  # the picture under an overlay: its caption says what it is
            parts.append(i18n.t("alt.figure.heatmap", lang, name=name, size=hw(z.shape), range=value_range(z, lang)))
        elif kind in ("bar", "scatter"):
            x, y = _xy(trace)
            if y.size == 0:
                continue
            finite = np.where(np.isfinite(y), y, -np.inf)
            top = int(np.argmax(finite))
            where = num(x[top]) if isinstance(x[top], (int, float, np.number)) else _clean(x[top])
            parts.append(i18n.t("alt.figure.series", lang, name=name, n=y.size, range=value_range(y, lang),
                                top_x=where, top_y=num(y[top]), last=num(y[-1])))
    return "; ".join(parts) if parts else i18n.t("alt.figure.empty", lang)


def figure_tables(fig, label: str = "x", value: str = "y",
                  names: Sequence[str] | None = None) -> list[tuple[str, pd.DataFrame]]:
    """The numbers a figure draws, one table per trace: a heatmap as its matrix (its row and column labels),
    bars and lines as a column of labels and one of values. Pictures under an overlay are left out."""
    tables = []
    labels = _trace_names(fig, None, names)
    for i, trace in enumerate(fig.data):
        name = labels[i]
        if trace.type == "heatmap" and trace.z is not None:
            z = np.asarray(trace.z, dtype="float64")
            if z.ndim != 2:
                continue
            index = list(trace.y) if trace.y is not None and len(trace.y) == z.shape[0] else None
            columns = list(trace.x) if trace.x is not None and len(trace.x) == z.shape[1] else None
            tables.append((name, pd.DataFrame(z, index=index, columns=columns)))
        elif trace.type in ("bar", "scatter"):
            x, y = _xy(trace)
            if y.size:
                tables.append((name, pd.DataFrame({label: x, value: y})))
    return tables
