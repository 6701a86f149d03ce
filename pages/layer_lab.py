"""Layer lab: one Conv2D and one pooling layer, their arithmetic with the user's numbers, and live maps."""

import streamlit as st

from cnnviz import codegen, layerlab
from cnnviz.kernels import NAMES as KERNEL_NAMES
from cnnviz.kernels import kernel
from cnnviz.plots import layer_lab as plots
from cnnviz.ui.image_picker import pick_image
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.state import device, t
from cnnviz.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title(t("ll.title"))
st.caption(t("ll.intro"))
image = pick_image()


def shape_text(shape) -> str:
    return " × ".join(str(v) for v in shape) if shape else "—"


@st.fragment
def lab():
    col_in, col_conv, col_pool = st.columns(3, gap="large")
    with col_in:
        st.subheader(t("ll.input"))
        if st.toggle(t("ll.from_image"), key="ll.from_image", help=t("ll.from_image.help")):
            h, w, c = layerlab.image_shape(image)
            st.info(t("ll.from_image.shape", h=h, w=w, c=c))
        else:
            h = st.slider(t("ll.input_h"), 1, 256, 120, key="ll.input_h")
            w = st.slider(t("ll.input_w"), 1, 256, 60, key="ll.input_w")
            c = st.slider(t("ll.input_c"), 1, 4, 1, key="ll.input_c", help=t("ll.input_c.help"))
    with col_conv:
        st.subheader(t("ll.conv"))
        filters = st.slider(t("ll.filters"), 1, 64, 10, key="ll.filters", help=t("ll.filters.help"))
        kh = st.slider(t("ll.kernel_h"), 1, 11, 3, key="ll.kernel_h", help=t("ll.kernel.help"))
        kw = st.slider(t("ll.kernel_w"), 1, 11, 3, key="ll.kernel_w", help=t("ll.kernel.help"))
        stride = st.slider(t("ll.stride"), 1, 5, 1, key="ll.stride", help=t("ll.stride.help"))
        dilation = st.slider(t("ll.dilation"), 1, 4, 1, key="ll.dilation", help=t("ll.dilation.help"))
        padding = st.radio(t("ll.padding"), ["valid", "same"], index=1, horizontal=True, key="ll.padding",
                           help=t("ll.padding.help"))
        activation = st.selectbox(t("ll.activation"), layerlab.ACTIVATIONS, key="ll.activation",
                                  help=t("ll.activation.help"))
    with col_pool:
        st.subheader(t("ll.pool"))
        pool_kind = st.selectbox(t("ll.pool_kind"), layerlab.POOLING_KINDS, key="ll.pool_kind",
                                 format_func=lambda k: t(f"ll.pool_kind.{k}"), help=t("ll.pool.help"))
        pool_size = st.slider(t("ll.pool_size"), 1, 6, 2, key="ll.pool_size")
        pool_stride = st.slider(t("ll.pool_stride"), 1, 6, 2, key="ll.pool_stride", help=t("ll.stride.help"))
        pool_padding = st.radio(t("ll.pool_padding"), ["valid", "same"], horizontal=True, key="ll.pool_padding",
                                help=t("ll.padding.help"))

    settings = layerlab.Settings(
        input_shape=(h, w, c), filters=filters, kernel_size=(kh, kw), strides=stride, padding=padding,
        dilation_rate=dilation, activation=activation, pool_kind=pool_kind, pool_size=pool_size,
        pool_strides=None if pool_stride == pool_size else pool_stride, pool_padding=pool_padding,
    )
    result = layerlab.analyse(settings)
    if result.conv_error:
        st.error(t("ll.error.conv", message=message_text(result.conv_error)), icon="🚫")
    elif result.pool_error:
        st.error(t("ll.error.pool", message=message_text(result.pool_error)), icon="🚫")

    row1 = st.columns(3)
    row1[0].metric(t("ll.metric.conv_shape"), shape_text(result.conv_shape), help=t("ll.metric.conv_shape.help"))
    row1[1].metric(t("ll.metric.pool_shape"), shape_text(result.pool_shape), help=t("ll.metric.pool_shape.help"))
    field = result.pooled_field or result.receptive_field
    row1[2].metric(t("ll.metric.rf"), f"{field[0].size} × {field[1].size}" if field else "—",
                   help=t("ll.metric.rf.help"))
    row2 = st.columns(3)
    row2[0].metric(t("ll.metric.params"), f"{result.params:,}", help=t("ll.metric.params.help"))
    row2[1].metric(t("ll.metric.macs"), f"{result.macs:,}" if result.macs is not None else "—",
                   help=t("ll.metric.macs.help"))
    unread_h, unread_w = (len(ax.unread) for ax in result.axes)
    row2[2].metric(t("ll.metric.unread"), t("ll.metric.unread.value", rows=unread_h, cols=unread_w)
                   if result.conv_shape else "—", help=t("ll.metric.unread.help"))

    st.subheader(t("ll.arith.conv"))
    top, bottom = result.axes[0].pad
    lft, rgt = result.axes[1].pad
    if padding == "same":
        st.caption(t("ll.split", top=top, bottom=bottom, left=lft, right=rgt))
    conv_cols = st.columns(2, gap="large")
    conv_cols[0].latex(result.latex["conv_H"])
    conv_cols[1].latex(result.latex["conv_W"])
    conv_cols[0].latex(result.latex["params"])
    if "macs" in result.latex:
        conv_cols[1].latex(result.latex["macs"])

    st.subheader(t("ll.arith.pool"))
    if "pool_H" in result.latex:
        st.caption(t("ll.arith.pool.caption"))
        ptop, pbottom = result.axes[0].pool_pad
        pleft, pright = result.axes[1].pool_pad
        if pool_padding == "same":
            st.caption(t("ll.split", top=ptop, bottom=pbottom, left=pleft, right=pright))
        pool_cols = st.columns(2, gap="large")
        pool_cols[0].latex(result.latex["pool_H"])
        pool_cols[1].latex(result.latex["pool_W"])
        if "rf" in result.latex:
            st.subheader(t("ll.arith.rf"))
            st.latex(result.latex["rf"])
    else:
        st.caption(t("ll.arith.pool.none"))

    st.subheader(t("ll.grid"))
    st.caption(t("ll.grid.caption"))
    out_hw = result.conv_shape[:2] if result.conv_shape else None
    pos_cols = st.columns([1, 1, 3])
    for key, limit in (("ll.out_row", out_hw[0] if out_hw else 1), ("ll.out_col", out_hw[1] if out_hw else 1)):
        if st.session_state.get(key, 0) > limit - 1:  # the output shrank under the stepper
            st.session_state[key] = limit - 1
    out_r = pos_cols[0].number_input(t("ll.out_row"), 0, max(out_hw[0] - 1, 0) if out_hw else 0, 0, key="ll.out_row")
    out_c = pos_cols[1].number_input(t("ll.out_col"), 0, max(out_hw[1] - 1, 0) if out_hw else 0, 0, key="ll.out_col")
    labels = {k: t(f"ll.grid.{name}") for k, name in zip(range(5), ("input", "padding", "unread", "tap", "tap_pad"))}
    labels.update(input_title=t("ll.grid.input_title"), output_title=t("ll.grid.output_title"), zoomed=t("ll.grid.zoomed"))
    st.plotly_chart(
        plots.window_grid((h, w), (kh, kw), stride, padding, dilation, (int(out_r), int(out_c)), out_hw, labels),
        key="ll.grid_chart", width="stretch",
    )

    st.subheader(t("ll.code"))
    st.code(codegen.conv_pool_code(settings.input_shape, settings.conv_kwargs(), settings.pool_kwargs()), language="python")

    st.subheader(t("ll.maps"))
    st.caption(t("ll.maps.caption"))
    k_cols = st.columns([1, 1, 2])
    preset = k_cols[0].selectbox(t("ll.kernel_preset"), KERNEL_NAMES, key="ll.kernel_preset",
                                 format_func=lambda n: t(f"ll.kernel.{n}"), help=t("ll.kernel.help"))
    bias = k_cols[1].slider(t("ll.bias"), -1.0, 1.0, 0.0, 0.05, key="ll.bias", help=t("ll.bias.help"))
    weights2d = kernel(preset, (kh, kw))
    with k_cols[2]:
        st.plotly_chart(plots.kernel_figure(weights2d, t("ll.kernel_weights")), key="ll.kernel_chart",
                        width="stretch")
        st.caption(t("ll.kernel_weights.caption", n=c))
    if result.conv_error:
        st.warning(t("ll.maps.none"))
        return
    x = layerlab.image_to_input(image, h, w, c)
    maps = layerlab.feature_maps(x, settings, weights2d, bias, device())
    cols = st.columns(4)
    with cols[0]:
        st.markdown(f"**{t('ll.maps.input')}**")
        st.image(layerlab.display_image(x), clamp=True, width="stretch", caption=shape_text(x.shape))
    cols[1].plotly_chart(plots.map_figure(maps.pre, t("ll.maps.pre"), diverging=True), key="ll.pre_chart")
    cols[2].plotly_chart(plots.map_figure(maps.post, t("ll.maps.post", activation=activation),
                                          diverging=activation != "relu"), key="ll.post_chart")
    if maps.pooled is not None:
        cols[3].plotly_chart(plots.map_figure(maps.pooled, t("ll.maps.pooled", kind=t(f"ll.pool_kind.{pool_kind}")),
                                              diverging=activation != "relu"), key="ll.pooled_chart")
    else:
        cols[3].warning(t("ll.maps.no_pool"))
    st.caption(t("ll.maps.device", device=maps.device or device()))


lab()
