"""Pooling step by step: max, average and min pooling windows on the user's numbers."""

import numpy as np
import streamlit as st

from cnnviz import convolution as cv
from cnnviz.ui import steps
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.entry import ensure_entrypoint
from cnnviz.ui.links import share
from cnnviz.ui.state import t
from cnnviz.ui.steps import keep

ensure_entrypoint()

K = "pooling."
ROW, COL = K + "row", K + "col"


st.title(t("pool.title"))
st.markdown(t("pool.intro"))
p1, p2, p3 = st.columns(3)
p1.success(t("pool.point.no_params"))
p2.success(t("pool.point.shrinks"))
p3.success(t("pool.point.channels"))

st.header(t("conv.input"))
source, size, channels = steps.input_source(K, min_size=4)
if source == "image":
    x, origin = steps.image_crop(K, size, channels, preview_width=220)
else:
    rng = np.random.default_rng(size + channels)
    x = np.round(rng.integers(-9, 10, (size, size, channels)) / 1.0, 2)
    origin = "grid"
x = steps.channel_editors(x, f"{K}edit.{origin}.{size}.{channels}", 2, tabs_always=True)

st.header(t("pool.settings"))
c1, c2, c3, c4 = st.columns(4)
kind = c1.radio(t("pool.kind"), list(cv.POOL_KINDS), **keep(K + "kind", "max"), format_func=lambda k: t(f"pool.kind.{k}"),
                help=t("help.pooling"))
pool = c2.slider(t("pool.size"), 1, 4, **keep(K + "size2", 2), help=t("help.pool_size"))
stride = c3.slider(t("conv.stride"), 1, 4, **keep(K + "stride", 2), help=t("help.stride"))
padding = c4.radio(t("conv.padding"), ["valid", "same"], **keep(K + "padding", "valid"), horizontal=True, help=t("help.padding"))
share()  # the link with these settings

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
    row = steps.position_slider(t("conv.row"), ROW, oh)
with c2:
    col = steps.position_slider(t("conv.col"), COL, ow)
c3.button(t("conv.previous"), key=K + "prev", on_click=steps.step_by, args=(ROW, COL, -1, oh, ow), width="stretch")
c4.button(t("conv.next"), key=K + "next", on_click=steps.step_by, args=(ROW, COL, 1, oh, ow), width="stretch")

step = cv.pool_step(x, kind, (row, col), pool, stride, padding)
(top, _), (left, _) = geo.pads
st.markdown(t("conv.at_position", row=row, col=col))
for c in range(x.shape[2]):
    st.subheader(t("conv.channel_n", n=c))
    g1, g2, g3 = st.columns([3, 2, 2])
    winner = step.winners[c]
    marked = [] if winner is None else [(int(step.rows[winner[0]]), int(step.cols[winner[1]]))]
    steps.number_grid(g1, t("pool.input_grid"), step.padded[:, :, c], geo.padding_mask(), (step.rows, step.cols),
                      marked, pad_text="", origin=(top, left), result=step.values[c])
    steps.output_map(g2, t("pool.output_map"), output[:, :, c], step.position, click=(ROW, COL, f"{K}output_click.{c}"))
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
