"""Streamlit glue of the Layer lab: the session's last maps, cached PNGs, the grid's legend and titles.

The maps are per user, so the last one lives in session state (a rerun that changed only the pooling
or the zoom does not run the convolution again); PNGs depend only on the numbers, so st.cache_data
may share them between sessions (an entry is found only with the same numbers).
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import streamlit as st
from PIL import Image

from cnnviz import layerlab
from cnnviz.plots import activations as act_plots
from cnnviz.plots import describe
from cnnviz.plots import layer_lab as plots
from cnnviz.ui import clickgrid, state
from cnnviz.ui.state import t
from cnnviz.ui.text import plain

MAPS = "cnnviz.layer_lab.maps"  # (key, layerlab.Maps, its PNGs) of this session's last run


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def feature_maps(x: np.ndarray, settings: layerlab.Settings, kernels: np.ndarray, bias: float,
                 device: str, slot: str = "") -> tuple[layerlab.Maps, dict[str, bytes]]:
    """layerlab.feature_maps and its pictures (the stages' PNG, the colour bar's), reused while the inputs
    are those of this session's last call in this slot ("": the page's settings, ".b": the compared B):
    maps change with nearly every change of a control, so they are not hashed into a shared cache, and a
    rerun of the zoom alone recomputes nothing."""
    key = (_digest(x, kernels), settings.input_shape, settings.kernel_size, settings.strides, settings.padding,
           settings.dilation_rate, settings.activation, settings.pool_kind, settings.pool_size,
           settings.pool_stride, settings.pool_padding, float(bias), device)
    memo = st.session_state.get(MAPS + slot)
    if memo is not None and memo[0] == key:
        return memo[1], memo[2]
    result = layerlab.feature_maps(x, settings, kernels, bias, device)
    pictures = map_pngs(result)
    st.session_state[MAPS + slot] = (key, result, pictures)
    return result, pictures


def _png(image) -> bytes:
    return act_plots.png_bytes(image)


def map_pngs(result: layerlab.Maps) -> dict[str, bytes]:
    """The stages' picture (pre-activation, activation, pooled: one column per filter) on one shared
    scale, and its colour bar."""
    limit = result.limit()
    stages = [result.pre, result.post] + ([result.pooled] if result.pooled is not None else [])
    return {"stages": _png(plots.maps_stages(stages, limit)), "bar": _png(plots.colour_bar(limit))}


@st.cache_data(show_spinner=False, max_entries=64)
def kernel_png(kernel2d: np.ndarray) -> bytes:
    return _png(plots.kernel_image(kernel2d))


@st.cache_data(show_spinner=False, max_entries=64)
def kernels_png(kernels: np.ndarray) -> bytes:
    return _png(plots.kernels_strip(kernels))


def stages_alt(result: layerlab.Maps, settings: layerlab.Settings) -> str:
    """The stages' picture in words: each stage's maps, their size and range (cnnviz.plots.describe.stages)."""
    named = [(t("ll.maps.pre"), result.pre), (t("ll.maps.post", activation=settings.activation), result.post)]
    if result.pooled is not None:
        named.append((t("ll.maps.pooled", kind=t(f"ll.pool_kind.{settings.pool_kind}")), result.pooled))
    return describe.stages(named, state.lang())


def colour_bar_alt(result: layerlab.Maps) -> str:
    limit = result.limit()
    return describe.colour_bar(-limit, limit, state.lang())


def shape_text(shape) -> str:
    return " × ".join(str(v) for v in shape) if shape else "—"


def numbers(result: layerlab.Analysis) -> dict[str, str]:
    """The Layer lab's headline numbers for these settings, as shown: ll.metric.<name> -> text."""
    field = result.pooled_field or result.receptive_field
    unread_h, unread_w = (len(ax.unread) for ax in result.axes)
    return {
        "conv_shape": shape_text(result.conv_shape),
        "pool_shape": shape_text(result.pool_shape),
        "rf": f"{field[0].size} × {field[1].size}" if field else "—",
        "params": f"{result.params:,}",
        "macs": f"{result.macs:,}" if result.macs is not None else "—",
        "unread": t("ll.metric.unread.value", rows=unread_h, cols=unread_w) if result.conv_shape else "—",
    }


def comparison(a: layerlab.Analysis, b: layerlab.Analysis):
    """A table of the headline numbers of settings A and B side by side, with the settings themselves
    first; a row whose values differ is marked."""
    import pandas as pd

    def settings_rows(s: layerlab.Settings) -> dict[str, str]:
        return {
            t("ll.kernel_size"): f"{s.kernel_size[0]} × {s.kernel_size[1]}",
            t("ll.stride"): str(s.strides), t("ll.dilation"): str(s.dilation_rate), t("ll.padding"): s.padding,
            t("ll.pool_kind"): t(f"ll.pool_kind.{s.pool_kind}"), t("ll.pool_size"): str(s.pool_size),
            t("ll.pool_stride"): str(s.pool_stride), t("ll.pool_padding"): s.pool_padding,
        }

    rows_a = settings_rows(a.settings) | {t(f"ll.metric.{k}"): v for k, v in numbers(a).items()}
    rows_b = settings_rows(b.settings) | {t(f"ll.metric.{k}"): v for k, v in numbers(b).items()}
    return pd.DataFrame({"A": list(rows_a.values()), "B": list(rows_b.values()),
                         t("ll.compare.differs"): ["≠" if rows_a[k] != rows_b[k] else "" for k in rows_a]},
                        index=list(rows_a))


def bank_names(bank: list[layerlab.Filter]) -> str:
    """'0: Box blur (your choice) · 1: Edges: Sobel x · …' in the session's language."""
    def name(i: int, f: layerlab.Filter) -> str:
        label = t(f"ll.kernel.{f.name}") if f.name != "random" or f.seed == 0 else t("ll.kernel.random_n", seed=f.seed)
        return f"{i}: {label}" + (f" ({t('ll.kernel.chosen')})" if i == 0 else "")

    return " · ".join(name(i, f) for i, f in enumerate(bank))


def grid(settings: layerlab.Settings, out_pos: tuple[int, int], out_hw) -> plots.Grid:
    h, w, _ = settings.input_shape
    return plots.grid_cells((h, w), settings.kernel_size, settings.strides, settings.padding, settings.dilation_rate,
                            out_pos, out_hw)


@st.cache_data(show_spinner=False, max_entries=64)
def _grid_png(kinds: np.ndarray, rows: np.ndarray, cols: np.ndarray, out_rows, out_cols, out_pos) -> bytes:
    # keyed by what the picture shows: taller inputs with the window at the top draw the same cells
    return _png(plots.window_grid_image(plots.Grid(kinds, rows, cols, (0, 0), out_rows, out_cols, out_pos)))


def grid_png(g: plots.Grid) -> bytes:
    return _grid_png(g.kinds, g.rows, g.cols, g.out_rows, g.out_cols, g.out_pos)


def show_grid(g: plots.Grid, row_key: str, col_key: str, key: str, alt: str) -> None:
    """The grid's picture; a click on a cell of its output part moves the window there (the output
    position's number inputs `row_key`, `col_key`). The output part may be cropped around the position,
    so the clicked cell is looked up in the rows and columns it shows. alt: the picture in words (grid_title)."""
    png = grid_png(g)
    box = plots.output_box(g)
    if box is None:  # no output: nothing to click
        st.image(png, output_format="PNG", alt=alt)
        return
    out_rows, out_cols = [int(v) for v in g.out_rows], [int(v) for v in g.out_cols]

    def go(i: int, j: int) -> None:
        st.session_state[row_key], st.session_state[col_key] = out_rows[i], out_cols[j]

    r, c = g.out_pos
    clickgrid.clickable(png, len(out_rows), len(out_cols), key, go, box, Image.open(io.BytesIO(png)).size,
                        alt=f"{alt}. {t('ll.grid.click')}", label=t("ll.grid.output_title"),
                        start=(out_rows.index(r), out_cols.index(c)) if r in out_rows and c in out_cols else None,
                        names=(out_rows, out_cols))


def grid_title(g: plots.Grid, out_hw) -> str:
    """'Padded input: 122×62 (showing 40×40) · Conv2D output: 120×60, position (0, 0)'."""
    ph, pw = g.padded_hw
    text = f"{t('ll.grid.input_title')}: {ph}×{pw}"
    if g.zoomed:
        text += f" ({t('ll.grid.zoomed')} {len(g.rows)}×{len(g.cols)})"
    if out_hw:
        text += f" · {t('ll.grid.output_title')}: {out_hw[0]}×{out_hw[1]}, " + t("ll.grid.position", row=g.out_pos[0],
                                                                                 col=g.out_pos[1])
    return text


def grid_legend() -> str:
    """The grid's colours with their names as markdown: KaTeX colour boxes (no HTML), our own texts."""
    items = [(plots.COLORS[k], t(f"ll.grid.{name}")) for k, name in enumerate(plots.KINDS)]
    items.append((plots.OUT_SELECTED, t("ll.grid.selected")))
    return "   ".join(rf"$\fcolorbox{{#888888}}{{{colour}}}{{\phantom{{0}}}}$ {plain(label)}" for colour, label in items)


def zoom_figure(values: np.ndarray, title: str, limit: float):
    return plots.map_figure(values, title, limit=limit)
