"""Pooling step by step: max, average and min pooling windows on the user's numbers."""

import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import convolution as cv
from cnnviz.plots import convolution as plots
from cnnviz.ui.image_picker import pick_image
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.persist import bound
from cnnviz.ui.state import t
from cnnviz.ui.entry import ensure_entrypoint

ensure_entrypoint()

K = "pooling."
ROW, COL = K + "row", K + "col"


def keep(key: str, default) -> dict:
    """Widget arguments whose value lives in session_state[key]: it survives language and page switches."""
    return bound(key, key + ".w", default)


def grid_editor(values: np.ndarray, key: str) -> np.ndarray:
    frame = pd.DataFrame(np.round(values, 2), columns=[str(c) for c in range(values.shape[1])])
    edited = st.data_editor(frame, key=key, width="content")
    return edited.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)


def position_slider(label: str, key: str, length: int) -> int:
    st.session_state[key] = min(st.session_state.get(key, 0), length - 1)  # the output may have shrunk
    if length == 1:
        st.caption(t("conv.only_one", what=label))
        return 0
    return st.slider(label, 0, length - 1, help=t("help.position"), **keep(key, 0))


def step_by(delta: int, length_h: int, length_w: int) -> None:
    flat = (st.session_state.get(ROW, 0) * length_w + st.session_state.get(COL, 0) + delta) % (length_h * length_w)
    st.session_state[ROW], st.session_state[COL] = divmod(flat, length_w)


st.title(t("pool.title"))
st.markdown(t("pool.intro"))
p1, p2, p3 = st.columns(3)
p1.success(t("pool.point.no_params"))
p2.success(t("pool.point.shrinks"))
p3.success(t("pool.point.channels"))

st.header(t("conv.input"))
c1, c2, c3 = st.columns(3)
source = c1.radio(t("conv.input_source"), ["image", "grid"], **keep(K + "source", "image"),
                  format_func=lambda s: t(f"conv.input_source.{s}"), horizontal=True)
size = c2.slider(t("conv.input_size"), 4, 12, **keep(K + "size", 6), help=t("help.input_size"))
channels = c3.radio(t("conv.channels"), [1, 3], **keep(K + "channels", 1), horizontal=True, help=t("help.channel"),
                    format_func=lambda n: t(f"conv.channels.{n}"))
if source == "image":
    image = pick_image()
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
    width = c1.slider(t("conv.image_width"), 16, 320, step=4, help=t("conv.image_width.help"), **keep(K + "width", 32))
    height = max(size, round(image.height * max(width, size) / image.width))
    top_max, left_max = max(1, height - size), max(1, max(width, size) - size)
    st.session_state[K + "top"] = min(st.session_state.get(K + "top", 10), top_max)  # the image may have shrunk
    st.session_state[K + "left"] = min(st.session_state.get(K + "left", 10), left_max)
    top = c2.slider(t("conv.crop_top"), 0, top_max, **keep(K + "top", 10))
    left = c3.slider(t("conv.crop_left"), 0, left_max, **keep(K + "left", 10))
    x, preview = cv.crop(image, width, top, left, size, channels)
    origin = f"{width}.{top}.{left}"  # a new crop starts a fresh editor
    c4.image(preview.resize((preview.width * 4, preview.height * 4), 0), caption=t("conv.crop_caption"), width=220)
else:
    rng = np.random.default_rng(size + channels)
    x = np.round(rng.integers(-9, 10, (size, size, channels)) / 1.0, 2)
    origin = "grid"
editors = st.tabs([t("conv.channel_n", n=c) for c in range(channels)])
grids = []
for c, tab in enumerate(editors):
    with tab:
        grids.append(grid_editor(x[:, :, c], f"{K}edit.{origin}.{size}.{channels}.{c}"))
x = np.stack(grids, axis=-1)

st.header(t("pool.settings"))
c1, c2, c3, c4 = st.columns(4)
kind = c1.radio(t("pool.kind"), list(cv.POOL_KINDS), **keep(K + "kind", "max"), format_func=lambda k: t(f"pool.kind.{k}"),
                help=t("help.pooling"))
pool = c2.slider(t("pool.size"), 1, 4, **keep(K + "size2", 2), help=t("help.pool_size"))
stride = c3.slider(t("conv.stride"), 1, 4, **keep(K + "stride", 2), help=t("help.stride"))
padding = c4.radio(t("conv.padding"), ["valid", "same"], **keep(K + "padding", "valid"), horizontal=True, help=t("help.padding"))

try:
    output = cv.pool_output(x, kind, pool, stride, padding)
    geo = cv.pool_geometry(x.shape[:2], pool, stride, padding)
except ValueError as error:
    st.error(t("conv.bad_settings", error=message_text(error)))
    st.stop()
oh, ow = geo.output_hw
st.info(t("pool.shape_line", h=x.shape[0], w=x.shape[1], c=x.shape[2], oh=oh, ow=ow, oc=output.shape[2]))

st.header(t("conv.position"))
c1, c2, c3, c4 = st.columns([2, 2, 1, 1])
with c1:
    row = position_slider(t("conv.row"), ROW, oh)
with c2:
    col = position_slider(t("conv.col"), COL, ow)
c3.button(t("conv.previous"), key=K + "prev", on_click=step_by, args=(-1, oh, ow), width="stretch")
c4.button(t("conv.next"), key=K + "next", on_click=step_by, args=(1, oh, ow), width="stretch")

step = cv.pool_step(x, kind, (row, col), pool, stride, padding)
(top, _), (left, _) = geo.pads
st.markdown(t("conv.at_position", row=row, col=col))
for c in range(x.shape[2]):
    st.subheader(t("conv.channel_n", n=c))
    g1, g2, g3 = st.columns([3, 2, 2])
    winner = step.winners[c]
    marked = [] if winner is None else [(int(step.rows[winner[0]]), int(step.cols[winner[1]]))]
    g1.plotly_chart(plots.number_grid(step.padded[:, :, c], t("pool.input_grid"), geo.padding_mask(),
                                      (step.rows, step.cols), marked, pad_text="", origin=(top, left)),
                    key=f"{K}in.{c}", config={"displayModeBar": False})
    g2.plotly_chart(plots.output_map(output[:, :, c], step.position, t("pool.output_map")), key=f"{K}out.{c}",
                    config={"displayModeBar": False})
    real = step.window[:, :, c][~step.window_padding]
    numbers = ", ".join(f"{v:.2f}" for v in real)
    if kind == "average":
        g3.markdown(t("pool.explain.average", numbers=numbers, total=f"{step.sums[c]:.4f}", n=int(step.counts[c]),
                      value=f"{step.values[c]:.4f}"))
    else:
        g3.markdown(t(f"pool.explain.{kind}", numbers=numbers, value=f"{step.values[c]:.4f}",
                      row=int(step.rows[winner[0]]) - top, col=int(step.cols[winner[1]]) - left))
    if step.window_padding.any():
        g3.caption(t("pool.padding_note"))
    g3.metric(t("pool.value"), f"{step.values[c]:.4f}")
st.caption(t("pool.keras_note"))
