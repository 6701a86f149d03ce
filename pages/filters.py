"""Filters: the learned kernels of each conv layer of the session's model, their biases and statistics."""

import streamlit as st

from cnnviz import filters
from cnnviz.plots import filters as plots
from cnnviz.ui import activations as ui
from cnnviz.ui import models as ui_models
from cnnviz.ui.state import t
from cnnviz.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title(t("nav.filters"))
st.caption(t("filters.intro"))

info = ui_models.current_model()
if not info.trained:
    st.info(t("filters.untrained", model=ui_models.label(info)))
convs = ui.conv_layers(info)
if not convs:
    st.warning(t("filters.no_conv"))
    st.stop()

by_name = {layer.name: layer for layer in convs}
name = st.selectbox(t("filters.layer"), list(by_name), key="filters.layer", help=t("filters.layer.help"))
layer = by_name[name]
kernel = filters.kernel(layer)
bias = filters.bias(layer)
kh, kw, cin, nf = kernel.shape
st.markdown(t("filters.layer.caption", layer=name, n=nf, kh=kh, kw=kw, cin=cin, weights=kh * kw * cin,
              params=kernel.size + (0 if bias is None else bias.size)))

# --- every kernel ---
st.subheader(t("filters.grid"))
limit = plots.symmetric_limit(kernel)
st.caption(t("filters.scale", lim=limit))
if nf > ui.MAX_FILTERS or cin > ui.MAX_KERNEL_CHANNELS:
    st.caption(t("filters.capped", filters=min(nf, ui.MAX_FILTERS), nf=nf,
                 channels=min(cin, ui.MAX_KERNEL_CHANNELS), cin=cin))
st.image(ui.kernel_png(kernel), output_format="PNG")

if filters.is_rgb_first_layer(info.model, layer):
    st.subheader(t("filters.rgb"))
    st.caption(t("filters.rgb.help"))
    st.image(ui.rgb_png(kernel), output_format="PNG")

# --- bias and statistics ---
st.subheader(t("filters.bias"))
if bias is None:
    st.info(t("filters.no_bias"))
else:
    st.plotly_chart(plots.bias_bars(bias), key="filters.bias.chart")

st.subheader(t("filters.stats"))
stats = filters.filter_stats(layer)
st.dataframe({t(f"filters.col.{col}"): values for col, values in stats.items()}, hide_index=True,
             height=min(400, 38 + 35 * nf))


# --- one filter, numbers shown ---
@st.fragment
def zoom() -> None:
    st.subheader(t("filters.zoom"))
    a, b = st.columns([3, 1])
    f = a.slider(t("filters.zoom.filter"), 0, nf - 1, 0, key="filters.zoom.filter", help=t("filters.zoom.filter.help"))
    numbers = b.toggle(t("filters.zoom.numbers"), value=kh * kw <= 49, key="filters.zoom.numbers")
    weights = filters.filter_kernel(layer, f)
    shown = weights[:, :, : ui.MAX_ZOOM_CHANNELS]
    st.plotly_chart(plots.filter_heatmaps(shown, limit=limit, channel_label=t("filters.zoom.channel"),
                                          show_numbers=numbers), key="filters.zoom.chart")
    b_text = "—" if bias is None else f"{bias[f]:.6g}"
    st.caption(t("filters.zoom.caption", filter=f, layer=name, bias=b_text, cin=cin))
    if cin > ui.MAX_ZOOM_CHANNELS:
        st.caption(t("filters.zoom.capped", shown=ui.MAX_ZOOM_CHANNELS, cin=cin))


zoom()
