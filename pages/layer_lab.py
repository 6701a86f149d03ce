"""Layer lab: one Conv2D and one pooling layer, their arithmetic with the user's numbers, and live maps."""

import dataclasses

import streamlit as st

from cnnviz import codegen, layerlab
from cnnviz.kernels import NAMES as KERNEL_NAMES
from cnnviz.plots import describe
from cnnviz.ui import figures
from cnnviz.ui import layer_lab as ui
from cnnviz.ui import warmup
from cnnviz.ui.entry import ensure_entrypoint
from cnnviz.ui.image_picker import pick_image
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.links import LINK, share
from cnnviz.ui.state import device, lang, t

ensure_entrypoint()

st.title(t("ll.title"))
st.caption(t("ll.intro"))
image = pick_image()


@st.fragment
def lab():
    """The controls, shapes and arithmetic; a control here reruns this fragment (and those inside it)."""
    col_in, col_conv, col_pool = st.columns(3, gap="large")
    with col_in:
        st.subheader(t("ll.input"))
        if st.toggle(t("ll.from_image"), key="ll.from_image", bind=LINK, help=t("ll.from_image.help")):
            h, w, c = layerlab.image_shape(image)
            st.info(t("ll.from_image.shape", h=h, w=w, c=c))
        else:
            h = st.slider(t("ll.input_h"), 1, 256, 120, key="ll.input_h", bind=LINK)
            w = st.slider(t("ll.input_w"), 1, 256, 60, key="ll.input_w", bind=LINK)
            c = st.slider(t("ll.input_c"), 1, 4, 1, key="ll.input_c", bind=LINK, help=t("ll.input_c.help"))
        input_shape_line = st.empty()  # the shapes this input makes, right under its sliders (phones stack columns)
    with col_conv:
        st.subheader(t("ll.conv"))
        filters = st.slider(t("ll.filters"), 1, 64, 10, key="ll.filters", bind=LINK, help=t("ll.filters.help"))
        kh = st.slider(t("ll.kernel_h"), 1, 11, 3, key="ll.kernel_h", bind=LINK, help=t("ll.kernel.help"))
        kw = st.slider(t("ll.kernel_w"), 1, 11, 3, key="ll.kernel_w", bind=LINK, help=t("ll.kernel.help"))
        stride = st.slider(t("ll.stride"), 1, 5, 1, key="ll.stride", bind=LINK, help=t("ll.stride.help"))
        dilation = st.slider(t("ll.dilation"), 1, 4, 1, key="ll.dilation", bind=LINK, help=t("ll.dilation.help"))
        padding = st.radio(t("ll.padding"), ["valid", "same"], index=1, horizontal=True, key="ll.padding", bind=LINK,
                           help=t("ll.padding.help"))
        activation = st.selectbox(t("ll.activation"), layerlab.ACTIVATIONS, key="ll.activation", bind=LINK,
                                  help=t("ll.activation.help"))
        conv_shape_line = st.empty()  # the output shape, right under the sliders that change it
    with col_pool:
        st.subheader(t("ll.pool"))
        pool_kind = st.selectbox(t("ll.pool_kind"), layerlab.POOLING_KINDS, key="ll.pool_kind", bind=LINK,
                                 format_func=lambda k: t(f"ll.pool_kind.{k}"), help=t("ll.pool.help"))
        pool_size = st.slider(t("ll.pool_size"), 1, 6, 2, key="ll.pool_size", bind=LINK)
        pool_stride = st.slider(t("ll.pool_stride"), 1, 6, 2, key="ll.pool_stride", bind=LINK, help=t("ll.stride.help"))
        pool_padding = st.radio(t("ll.pool_padding"), ["valid", "same"], horizontal=True, key="ll.pool_padding", bind=LINK,
                                help=t("ll.padding.help"))
        pool_shape_line = st.empty()

    settings = layerlab.Settings(
        input_shape=(h, w, c), filters=filters, kernel_size=(kh, kw), strides=stride, padding=padding,
        dilation_rate=dilation, activation=activation, pool_kind=pool_kind, pool_size=pool_size,
        pool_strides=None if pool_stride == pool_size else pool_stride, pool_padding=pool_padding,
    )
    result = layerlab.analyse(settings)
    input_shape_line.markdown(t("ll.shape.input", conv=ui.shape_text(result.conv_shape), pool=ui.shape_text(result.pool_shape)))
    conv_shape_line.markdown(t("ll.shape.conv", input=ui.shape_text((h, w, c)), output=ui.shape_text(result.conv_shape)))
    pool_shape_line.markdown(t("ll.shape.pool", output=ui.shape_text(result.pool_shape)))
    share()  # the link with these settings (a control here reruns this fragment, so it stays current)
    if result.conv_error:
        st.error(t("ll.error.conv", message=message_text(result.conv_error)), icon="🚫")
    elif result.pool_error:
        st.error(t("ll.error.pool", message=message_text(result.pool_error)), icon="🚫")

    for col, (name, value) in zip(st.columns(3) + st.columns(3), ui.numbers(result).items()):
        col.metric(t(f"ll.metric.{name}"), value, help=t(f"ll.metric.{name}.help"))

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

    footprint(settings, result.conv_shape[:2] if result.conv_shape else None)

    st.subheader(t("ll.code"))
    st.code(codegen.conv_pool_code(settings.input_shape, settings.conv_kwargs(), settings.pool_kwargs()), language="python")

    maps(settings, result.conv_error is None)


@st.fragment
def footprint(settings: layerlab.Settings, out_hw):
    """The padded input with the kernel's taps at one output position; the stepper reruns only this."""
    st.subheader(t("ll.grid"))
    st.caption(t("ll.grid.caption"))
    pos_cols = st.columns([1, 1, 3])
    for key, limit in (("ll.out_row", out_hw[0] if out_hw else 1), ("ll.out_col", out_hw[1] if out_hw else 1)):
        if st.session_state.get(key, 0) > limit - 1:  # the output shrank under the stepper
            st.session_state[key] = limit - 1
    out_r = pos_cols[0].number_input(t("ll.out_row"), 0, max(out_hw[0] - 1, 0) if out_hw else 0, 0, key="ll.out_row", bind=LINK)
    out_c = pos_cols[1].number_input(t("ll.out_col"), 0, max(out_hw[1] - 1, 0) if out_hw else 0, 0, key="ll.out_col", bind=LINK)
    grid = ui.grid(settings, (int(out_r), int(out_c)), out_hw)
    st.caption(ui.grid_title(grid, out_hw))
    with st.container(key="ll.grid_image"):
        ui.show_grid(grid, "ll.out_row", "ll.out_col", key="ll.grid_click", alt=ui.grid_title(grid, out_hw))
    st.markdown(ui.grid_legend())


@st.fragment
def maps(settings: layerlab.Settings, possible: bool):
    """Every filter's map through Keras; the kernel, bias and zoom controls rerun only this."""
    st.subheader(t("ll.maps"))
    st.caption(t("ll.maps.caption", f=settings.filters))
    k_cols = st.columns([1, 1, 2])
    preset = k_cols[0].selectbox(t("ll.kernel_preset"), KERNEL_NAMES, key="ll.kernel_preset", bind=LINK,
                                 format_func=lambda n: t(f"ll.kernel.{n}"), help=t("ll.kernel.help"))
    bias = k_cols[1].slider(t("ll.bias"), -1.0, 1.0, 0.0, 0.05, key="ll.bias", bind=LINK, help=t("ll.bias.help"))
    bank = layerlab.filter_bank(preset, settings.filters)
    kernels = layerlab.bank_kernels(bank, settings.kernel_size)
    with k_cols[2]:
        st.markdown(f"**{t('ll.kernel_weights')}**")
        st.container(key="ll.kernel_image").image(ui.kernel_png(kernels[0]), output_format="PNG",
                                                  alt=describe.kernel(kernels[0], lang()))
        st.caption(t("ll.kernel_weights.caption", n=settings.input_shape[2]))
    st.markdown(f"**{t('ll.kernels')}**")
    st.container(key="ll.kernels_image").image(ui.kernels_png(kernels), output_format="PNG",
                                               alt=describe.kernel(kernels, lang()))
    st.caption(ui.bank_names(bank))
    if not possible:
        st.warning(t("ll.maps.none"))
        compare(settings, bank, bias)
        return
    if not warmup.keras_ready():  # only right after the server started: the arithmetic above is already shown
        waiting = st.info(t("ll.maps.loading"), icon="⏳")
        warmup.wait_for_keras()
        waiting.empty()
    h, w, c = settings.input_shape
    result, pictures = ui.feature_maps(layerlab.image_to_input(image, h, w, c), settings, kernels, bias, device())
    top = st.columns([1, 3])
    top[0].container(key="ll.input_image").image(layerlab.display_image(result.x), clamp=True, output_format="PNG",
                                                 caption=f"{t('ll.maps.input')}: {ui.shape_text(result.x.shape)}",
                                                 alt=describe.model_input(result.x, lang()))
    with top[1]:
        st.markdown(f"**{t('ll.maps.scale')}**")
        st.container(key="ll.colour_bar").image(pictures["bar"], output_format="PNG", alt=ui.colour_bar_alt(result))
    stages = [("pre", t("ll.maps.pre")), ("post", t("ll.maps.post", activation=settings.activation))]
    if result.pooled is not None:
        stages.append(("pooled", t("ll.maps.pooled", kind=t(f"ll.pool_kind.{settings.pool_kind}"))))
    st.markdown(t("ll.maps.stages", stages=" → ".join(f"**{title}** ({ui.shape_text(getattr(result, stage).shape)})"
                                                      for stage, title in stages)))
    st.container(key="ll.maps_image").image(pictures["stages"], output_format="PNG", alt=ui.stages_alt(result, settings))
    if result.pooled is None:
        st.warning(t("ll.maps.no_pool"))
    st.caption(t("ll.maps.device", device=result.device or device()))

    if st.toggle(t("ll.zoom"), key="ll.zoom", help=t("ll.zoom.help")):
        z_cols = st.columns([1, 2])
        stage = z_cols[0].selectbox(t("ll.zoom.stage"), [s for s, _ in stages], key="ll.zoom.stage",
                                    format_func=dict(stages).get)
        index = z_cols[1].slider(t("ll.zoom.filter"), 0, settings.filters - 1, 0, key="ll.zoom.filter") \
            if settings.filters > 1 else 0
        figures.chart(st, ui.zoom_figure(getattr(result, stage)[:, :, index], f"{dict(stages)[stage]} · {index}",
                                         result.limit()), table=True, names=[f"{dict(stages)[stage]} · {index}"],
                      key="ll.zoom_chart")
    compare(settings, bank, bias)


@st.fragment
def compare(a: layerlab.Settings, bank, bias: float):
    """Settings B beside the page's settings (A), same input, filters and kernels: the numbers in one
    table, the maps next to each other. B's controls rerun only this."""
    st.subheader(t("ll.compare"))
    if not st.toggle(t("ll.compare.toggle"), key="ll.compare", bind=LINK, help=t("ll.compare.help")):
        return
    st.caption(t("ll.compare.caption"))
    b_conv, b_pool = st.columns(2, gap="large")
    with b_conv:
        st.markdown(f"**{t('ll.compare.b_conv')}**")
        kh = st.slider(t("ll.kernel_h"), 1, 11, 3, key="ll.b.kernel_h", bind=LINK)
        kw = st.slider(t("ll.kernel_w"), 1, 11, 3, key="ll.b.kernel_w", bind=LINK)
        stride = st.slider(t("ll.stride"), 1, 5, 1, key="ll.b.stride", bind=LINK)
        dilation = st.slider(t("ll.dilation"), 1, 4, 1, key="ll.b.dilation", bind=LINK)
        padding = st.radio(t("ll.padding"), ["valid", "same"], index=0, horizontal=True, key="ll.b.padding", bind=LINK)
    with b_pool:
        st.markdown(f"**{t('ll.compare.b_pool')}**")
        pool_kind = st.selectbox(t("ll.pool_kind"), layerlab.POOLING_KINDS, key="ll.b.pool_kind", bind=LINK,
                                 format_func=lambda k: t(f"ll.pool_kind.{k}"))
        pool_size = st.slider(t("ll.pool_size"), 1, 6, 2, key="ll.b.pool_size", bind=LINK)
        pool_stride = st.slider(t("ll.pool_stride"), 1, 6, 2, key="ll.b.pool_stride", bind=LINK)
        pool_padding = st.radio(t("ll.pool_padding"), ["valid", "same"], horizontal=True, key="ll.b.pool_padding",
                                bind=LINK)
    b = dataclasses.replace(a, kernel_size=(kh, kw), strides=stride, dilation_rate=dilation, padding=padding,
                            pool_kind=pool_kind, pool_size=pool_size,
                            pool_strides=None if pool_stride == pool_size else pool_stride, pool_padding=pool_padding)
    results = {"A": layerlab.analyse(a), "B": layerlab.analyse(b)}
    st.table(ui.comparison(results["A"], results["B"]))
    h, w, c = a.input_shape
    x = layerlab.image_to_input(image, h, w, c)
    for col, (name, settings) in zip(st.columns(2, gap="medium"), (("A", a), ("B", b))):
        with col:
            st.markdown(f"**{name}**")
            error = results[name].conv_error or results[name].pool_error
            if results[name].conv_error:
                st.error(t("ll.error.conv", message=message_text(error)), icon="🚫")
                continue
            maps_, pictures = ui.feature_maps(x, settings, layerlab.bank_kernels(bank, settings.kernel_size), bias,
                                              device(), slot="" if name == "A" else ".b")
            st.caption(" → ".join(ui.shape_text(m.shape) for m in (maps_.pre, maps_.post, maps_.pooled)
                                  if m is not None))
            st.container(key=f"ll.compare.maps_{name}").image(pictures["stages"], output_format="PNG",
                                                              alt=f"{name}: {ui.stages_alt(maps_, settings)}")
            if results[name].pool_error:
                st.warning(t("ll.error.pool", message=message_text(error)))


lab()
