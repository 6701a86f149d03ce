"""Widgets shared by the step-by-step pages (Convolution, Pooling): values that survive language and
page switches, editable number grids, the input crop of the chosen image, the output-position stepper."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image

from cnnviz import convolution as cv
from cnnviz.plots import convolution as plots
from cnnviz.plots import describe
from cnnviz.plots.activations import png_bytes
from cnnviz.ui import clickgrid
from cnnviz.ui.image_picker import pick_image
from cnnviz.ui.persist import bound
from cnnviz.ui.state import lang, t


@st.cache_data(show_spinner=False, max_entries=256)
def _grid_png(values: np.ndarray, padding, window, marked, decimals, colorscale, diverging, pad_text, origin,
              current) -> bytes:
    return png_bytes(plots.number_grid(values, padding, window, marked, decimals, colorscale, diverging, pad_text,
                                       origin, current))


def number_grid(where, title: str, values, padding=None, window=None, marked=(), decimals: int = 2,
                colorscale: str = "gray", diverging: bool = False, pad_text: str = "0", origin=(0, 0), current=None,
                result=None, alt: str | None = None):
    """A titled number grid (cnnviz.plots.convolution.number_grid) as a PNG in `where` (st or a column); its alt
    text (cnnviz.plots.describe.number_grid) says the grid's size, padding, window, and `result`: the output
    value the window gives (or `alt` as given)."""
    where.markdown(f"**{title}**")
    window = None if window is None else tuple(np.asarray(a) for a in window)
    alt = alt or describe.number_grid(values, title, lang(), padding, window, current, result, origin)
    where.image(_grid_png(np.asarray(values), padding, window, tuple(marked), decimals, colorscale, diverging, pad_text,
                          tuple(origin), current), output_format="PNG", alt=alt)


def output_map(where, title: str, values, current, decimals: int = 2, filled=None, click=None):
    """The output map with the current cell outlined (cnnviz.plots.convolution.output_map), titled.

    click: (row key, column key, widget key): a click on a cell moves the output position there."""
    z = np.asarray(values, dtype=np.float64)
    padding = None if filled is None else ~np.asarray(filled, dtype=bool)
    at = tuple(int(v) for v in current)
    alt = describe.number_grid(z if padding is None else np.where(padding, np.nan, z), title, lang(), current=at)
    if click is None:
        number_grid(where, title, z, padding=padding, decimals=decimals, diverging=bool((z < 0).any()),
                    colorscale="Viridis", pad_text="", current=at, alt=alt)
        return
    where.markdown(f"**{title}**")
    png = _grid_png(z, padding, None, (), decimals, "Viridis", bool((z < 0).any()), "", (0, 0),
                    tuple(int(v) for v in current))
    width, height = Image.open(io.BytesIO(png)).size
    rows, cols = z.shape
    left, top = plots.GRID_ORIGIN
    row_key, col_key, key = click
    with where if hasattr(where, "__enter__") else contextlib.nullcontext():  # a column, or st itself
        clickgrid.clickable(png, rows, cols, key, lambda r, c: go_to(row_key, col_key, r, c),
                            (left, top, (width - left) / cols, (height - top) / rows), (width, height),
                            alt=f"{alt}. {t('conv.click_help')}", label=title, start=tuple(int(v) for v in current))
    where.caption(f'{t("conv.click_help")} {t("a11y.grid.keys.caption")}')


def go_to(row_key: str, col_key: str, row: int, col: int) -> None:
    """Move the output position to (row, col) (a click on the output map)."""
    st.session_state[row_key], st.session_state[col_key] = row, col


def keep(key: str, default) -> dict:
    """Widget arguments whose value lives in session_state[key]: it survives language and page switches,
    and is in the page's link (`?<key>.w=...`)."""
    return bound(key, key + ".w", default, link=True)


def grid_editor(values: np.ndarray, key: str, decimals: int = 2) -> np.ndarray:
    """An editable number grid showing `decimals` places but keeping the full values (a model's weights
    stay exact); empty cells come back as NaN (cnnviz reports them)."""
    columns = [str(c) for c in range(values.shape[1])]
    frame = pd.DataFrame(np.asarray(values, dtype=float), columns=columns)
    config = {c: st.column_config.NumberColumn(format=f"%.{decimals}f") for c in columns}
    edited = st.data_editor(frame, key=key, hide_index=False, width="content", column_config=config)
    return edited.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def channel_editors(values: np.ndarray, key: str, decimals: int = 2, tabs_always: bool = False) -> np.ndarray:
    """One editor per channel (in tabs when there are several, or always with tabs_always)."""
    channels = values.shape[2]
    if channels == 1 and not tabs_always:
        return grid_editor(values[:, :, 0], f"{key}.0", decimals)[:, :, None]
    out = []
    for c, tab in enumerate(st.tabs([t("conv.channel_n", n=c) for c in range(channels)])):
        with tab:
            out.append(grid_editor(values[:, :, c], f"{key}.{c}", decimals))
    return np.stack(out, axis=-1)


def input_source(prefix: str, min_size: int) -> tuple[str, int, int]:
    """Where the input numbers come from ('image' crop or typed 'grid'), its size and its channels."""
    c1, c2, c3 = st.columns(3)
    source = c1.radio(t("conv.input_source"), ["image", "grid"], **keep(prefix + "source", "image"),
                      format_func=lambda s: t(f"conv.input_source.{s}"), horizontal=True)
    size = c2.slider(t("conv.input_size"), min_size, 12, **keep(prefix + "size", 6), help=t("help.input_size"))
    channels = c3.radio(t("conv.channels"), [1, 3], **keep(prefix + "channels", 1), horizontal=True,
                        help=t("help.channel"), format_func=lambda n: t(f"conv.channels.{n}"))
    return source, size, channels


def image_crop(prefix: str, size: int, channels: int, preview_width: int) -> tuple[np.ndarray, str]:
    """A size x size crop of the chosen image (shrunk to a chosen width first), and a tag of where it
    was taken (a new crop starts a fresh editor)."""
    image = pick_image()
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
    width = c1.slider(t("conv.image_width"), 16, 320, step=4, help=t("conv.image_width.help"),
                      **keep(prefix + "width", 32))
    top_max, left_max = cv.crop_limits(image.size, width, size)
    # the image (or its width) may have changed since the sliders were last set
    st.session_state[prefix + "top"] = min(st.session_state.get(prefix + "top", 10), top_max)
    st.session_state[prefix + "left"] = min(st.session_state.get(prefix + "left", 10), left_max)
    top = c2.slider(t("conv.crop_top"), 0, top_max, **keep(prefix + "top", 10))
    left = c3.slider(t("conv.crop_left"), 0, left_max, **keep(prefix + "left", 10))
    x, preview = cv.crop(image, width, top, left, size, channels)
    c4.image(preview.resize((preview.width * 4, preview.height * 4), 0), output_format="PNG", caption=t("conv.crop_caption"),
             width=preview_width, alt=describe.crop(x, top, left, lang()))
    return x, f"{width}.{top}.{left}"


def position_slider(label: str, key: str, length: int) -> int:
    """One coordinate of the output position; a caption instead when there is only one."""
    st.session_state[key] = min(st.session_state.get(key, 0), length - 1)  # the output may have shrunk
    if length == 1:
        st.caption(t("conv.only_one", what=label))
        return 0
    return st.slider(label, 0, length - 1, help=t("help.position"), **keep(key, 0))


def step_by(row_key: str, col_key: str, delta: int, length_h: int, length_w: int) -> None:
    """Move the output position `delta` cells in reading order, wrapping around (a button callback)."""
    flat = st.session_state.get(row_key, 0) * length_w + st.session_state.get(col_key, 0)
    flat = (flat + delta) % (length_h * length_w)
    st.session_state[row_key], st.session_state[col_key] = divmod(flat, length_w)
