"""Convolution step by step: one output number of a Conv2D filter, made in front of the student."""

import time

import numpy as np
import streamlit as st

from cnnviz import convolution as cv
from cnnviz import kernels
from cnnviz.ui.messages import text as message_text
from cnnviz.ui import steps
from cnnviz.ui.models import current_model, label
from cnnviz.ui.entry import ensure_entrypoint
from cnnviz.ui.links import share
from cnnviz.ui.state import t
from cnnviz.ui.steps import keep

ensure_entrypoint()

K = "convolution."  # widget keys of this page
ROW, COL = K + "row", K + "col"


def show_step(step: cv.ConvStep, output: np.ndarray, frame: int) -> None:
    """Everything about one output position; `frame` keeps element ids unique while playing."""
    i, j = step.position
    (top, _), (left, _) = step.geometry.pads
    left_col, right_col = st.columns([5, 2])
    with left_col:
        st.markdown(t("conv.at_position", row=i, col=j))
        for c in range(step.kernel.shape[2]):  # one row per channel: input window, kernel, their products
            input_col, kernel_col, product_col = st.columns([3, 2, 2])
            steps.number_grid(input_col, t("conv.input_grid", n=c), step.padded[:, :, c], step.geometry.padding_mask(),
                              (step.rows, step.cols), origin=(top, left), result=step.total)
            steps.number_grid(kernel_col, t("conv.kernel_grid", n=c), step.kernel[:, :, c], decimals=3, diverging=True)
            steps.number_grid(product_col, t("conv.products_grid", n=c), step.products[:, :, c], decimals=3,
                              diverging=True)
            product_col.metric(t("conv.channel_sum", n=c), f"{step.channel_sums[c]:.4f}")
        st.caption(t("conv.grid_legend"))
    with right_col:
        steps.output_map(st, t("conv.output_map"), output, step.position,
                         click=(ROW, COL, K + "output_click") if frame < 0 else None)  # not while playing
        st.metric(t("conv.total"), f"{step.total:.4f}")
        st.metric(t("conv.after_relu"), f"{step.relu:.4f}")
    with st.expander(t("conv.arithmetic"), expanded=True):
        for c, line in enumerate(cv.arithmetic_lines(step)):
            st.markdown(f"**{t('conv.channel_n', n=c)}**: `{line}`")
        sums = " + ".join(f"{s:.4f}" for s in step.channel_sums)
        st.latex(rf"\text{{{t('conv.total_short')}}} = {sums} + ({step.bias:.4f}) = {step.total:.4f}")
        st.latex(rf"\mathrm{{ReLU}}({step.total:.4f}) = \max(0, {step.total:.4f}) = {step.relu:.4f}")


st.title(t("conv.title"))
st.markdown(t("conv.intro"))

# --- input ---
st.header(t("conv.input"))
source, size, channels = steps.input_source(K, min_size=5)

layer_filter = None
kernel_source = "preset"
if source == "image":
    x, origin = steps.image_crop(K, size, channels, preview_width=260)
    with st.expander(t("conv.edit_numbers")):
        x = steps.channel_editors(x, f"{K}xedit.{origin}.{size}.{channels}", 2)
else:
    rng = np.random.default_rng(size * 10 + channels)
    start = np.zeros((size, size, channels))
    start[:, size // 2 :, :] = 1.0  # a vertical edge: Sobel x lights up along it
    start = np.round(start + rng.integers(0, 3, start.shape) / 10, 2)
    x = steps.channel_editors(start, f"{K}grid.{size}.{channels}", 2)

# --- kernel ---
st.header(t("conv.kernel"))
sources = ["preset", "model"]
c1, c2, c3, c4 = st.columns(4)
kernel_source = c1.radio(t("conv.kernel_source"), sources, **keep(K + "ksource", "preset"),
                         format_func=lambda s: t(f"conv.kernel_source.{s}"), help=t("help.kernel"))
bias_default = 0.0
if kernel_source == "preset":
    name = c2.selectbox(t("conv.preset"), kernels.NAMES, **keep(K + "preset", "sobel_x"),
                        format_func=lambda n: t(f"conv.preset.{n}"))
    ksize = c3.slider(t("conv.kernel_size"), 1, 7, **keep(K + "ksize", 3), help=t("help.kernel"))
    seed = c4.number_input(t("conv.seed"), 0, 9999, **keep(K + "seed", 0)) if name == "random" else 0
    k2 = kernels.kernel(name, ksize, int(seed))
    start_kernel = np.repeat(k2[:, :, None], channels, axis=2)
    kernel_key = f"{K}kedit.{name}.{ksize}.{seed}.{channels}"
else:
    info = current_model()
    usable = [f for f in cv.model_filters(info.model) if f.channels in (1, 3)]
    if not usable:
        st.warning(t("conv.no_model_filters", model=label(info)))
        st.stop()
    names = [f.layer for f in usable]
    if st.session_state.get(K + "layer") not in names:  # another model was chosen
        st.session_state[K + "layer"] = names[0]
    layer_name = c2.selectbox(t("conv.layer"), names, **keep(K + "layer", names[0]))
    layer_filter = next(f for f in usable if f.layer == layer_name)
    st.session_state[K + "findex"] = min(st.session_state.get(K + "findex", 0), layer_filter.filters - 1)
    index = c3.number_input(t("conv.filter_index"), 0, layer_filter.filters - 1, **keep(K + "findex", 0),
                            help=t("help.filter"))
    if layer_filter.channels != channels:
        st.info(t("conv.channels_from_layer", layer=layer_name, n=layer_filter.channels))
        x = np.repeat(x.mean(axis=2, keepdims=True), layer_filter.channels, axis=2).round(2)
        channels = layer_filter.channels
    start_kernel = layer_filter.kernel[:, :, :, int(index)]
    bias_default = float(layer_filter.bias[int(index)])
    kernel_key = f"{K}kedit.{info.key}.{layer_name}.{index}"
    c4.caption(t("conv.model_layer_settings", strides=layer_filter.strides, padding=layer_filter.padding,
                 dilation=layer_filter.dilation))
st.caption(t("conv.kernel_edit_hint"))
kernel = steps.channel_editors(start_kernel, kernel_key, 4 if kernel_source == "model" else 3)

c1, c2, c3, c4 = st.columns(4)
bias = c1.number_input(t("conv.bias"), step=0.1, format="%.4f", **keep(f"{kernel_key}.bias", bias_default),
                       help=t("help.bias"))
stride = c2.slider(t("conv.stride"), 1, 4, **keep(K + "stride", 1), help=t("help.stride"))
padding = c3.radio(t("conv.padding"), ["valid", "same"], **keep(K + "padding", "valid"), horizontal=True, help=t("help.padding"))
dilation = c4.slider(t("conv.dilation"), 1, 3, **keep(K + "dilation", 1), help=t("help.dilation"))
share()  # the link with these settings

try:
    output = cv.conv_output(x, kernel, bias, stride, padding, dilation)
    geo = cv.geometry(x.shape[:2], kernel.shape[:2], stride, padding, dilation)
except ValueError as error:
    st.error(t("conv.bad_settings", error=message_text(error)))
    st.stop()

oh, ow = geo.output_hw
st.info(t("conv.shape_line", h=x.shape[0], w=x.shape[1], c=x.shape[2], kh=kernel.shape[0], kw=kernel.shape[1],
          oh=oh, ow=ow, top=geo.pads[0][0], bottom=geo.pads[0][1], left=geo.pads[1][0], right=geo.pads[1][1]))

# --- position ---
st.header(t("conv.position"))
c1, c2 = st.columns(2)
with c1:
    row = steps.position_slider(t("conv.row"), ROW, oh)
with c2:
    col = steps.position_slider(t("conv.col"), COL, ow)
b1, b2, b3, b4 = st.columns([1, 1, 1, 2])
b1.button(t("conv.previous"), key=K + "prev", on_click=steps.step_by, args=(ROW, COL, -1, oh, ow), width="stretch")
b2.button(t("conv.next"), key=K + "next", on_click=steps.step_by, args=(ROW, COL, 1, oh, ow), width="stretch")
play = b3.button(t("conv.play"), key=K + "play", type="primary", width="stretch", help=t("conv.play.help"))
delay = b4.slider(t("conv.delay"), 0.0, 1.0, step=0.1, **keep(K + "delay", 0.3))

view = st.empty()
if play:
    filled = np.zeros(geo.output_hw, dtype=bool)
    for frame, pos in enumerate(geo.positions()):
        filled[pos] = True
        with view.container():
            show_step(cv.conv_step(x, kernel, bias, pos, stride, padding, dilation), np.where(filled, output, np.nan),
                      frame)
        time.sleep(delay)
    st.session_state[ROW], st.session_state[COL] = geo.positions()[-1]  # stay where the play ended
    st.rerun()
with view.container():
    show_step(cv.conv_step(x, kernel, bias, (row, col), stride, padding, dilation), output, -1)

st.caption(t("conv.keras_note"))
