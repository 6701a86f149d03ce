"""Filters: the learned kernels of each conv layer of the session's model, their biases and statistics."""

import streamlit as st

from cnnviz import filters
from cnnviz.plots import describe
from cnnviz.plots import filters as plots
from cnnviz.ui import activations as ui
from cnnviz.ui import figures, state
from cnnviz.ui import models as ui_models
from cnnviz.ui.links import LINK, share
from cnnviz.ui.state import t
from cnnviz.ui.text import plain
from cnnviz.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title(t("nav.filters"))
st.caption(t("filters.intro"))

info = ui_models.current_model()
if not info.trained:
    st.info(t("filters.untrained", model=ui_models.label(info)))
by_name = ui.kernel_layers(info)  # Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose; nested by path
if not by_name:
    st.warning(t("filters.no_conv"))
    st.stop()

name = st.selectbox(t("filters.layer"), list(by_name), key="filters.layer", bind=LINK, help=t("filters.layer.help"))
share()  # the link with this layer
layer = by_name[name]
kind = type(layer).__name__
parts = filters.parts(layer)
bn = ui.batchnorm_after(info, name)  # (name, layer) of a BatchNormalization right after it, or None
if bn is not None and filters.folds_into(layer, bn[1]) and st.toggle(
        t("filters.fold"), key="filters.fold", bind=LINK, help=t("filters.fold.help", bn=plain(bn[0]))):
    parts = parts[:-1] + [filters.folded(layer, bn[1])]
last = parts[-1]  # the kernel whose filters make the layer's output channels
kernel, bias = last.kernel, last.bias
kh, kw, cin, nf = kernel.shape
st.markdown(t("filters.layer.caption" if bias is not None else "filters.layer.caption.no_bias", layer=plain(name), n=nf, kh=kh, kw=kw, cin=cin, weights=kh * kw * cin,
              params=layer.count_params()))
if kind in ("DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose"):
    st.caption(t(f"filters.kind.{kind}"))

# --- every kernel ---
for part in parts:
    st.subheader(t("filters.grid") if part.key == "kernel" else t(f"filters.part.{part.key}"))
    limit = plots.symmetric_limit(part.kernel)
    st.caption(t("filters.scale", lim=limit))
    pf, pc = part.kernel.shape[3], part.kernel.shape[2]
    if pf > ui.MAX_FILTERS or pc > ui.MAX_KERNEL_CHANNELS:
        st.caption(t("filters.capped", filters=min(pf, ui.MAX_FILTERS), nf=pf,
                     channels=min(pc, ui.MAX_KERNEL_CHANNELS), cin=pc))
    shown_part = part.kernel[:, :, :ui.MAX_KERNEL_CHANNELS, :ui.MAX_FILTERS]  # what kernel_png draws
    st.image(ui.kernel_png(part.kernel), output_format="PNG",
             alt=describe.kernel(shown_part, state.lang(), title=f"{name} {part.key}"))
limit = plots.symmetric_limit(kernel)

if kind == "Conv2D" and filters.is_rgb_first_layer(info.model, layer):
    st.subheader(t("filters.rgb"))
    st.caption(t("filters.rgb.help"))
    st.image(ui.rgb_png(kernel), output_format="PNG",
             alt=describe.kernel(kernel, state.lang(), title=f"{name}: {t('filters.rgb')}"))

# --- bias and statistics ---
st.subheader(t("filters.bias"))
if bias is None:
    st.info(t("filters.no_bias"))
else:
    figures.chart(st, plots.bias_bars(bias), table=True, names=[t("filters.bias")], key="filters.bias.chart")

st.subheader(t("filters.stats"))
stats = filters.filter_stats(layer, last)
st.dataframe({t(f"filters.col.{col}"): values for col, values in stats.items()}, hide_index=True,
             height=min(400, 38 + 35 * nf))


if bn is not None:  # the BatchNormalization after it: a per-channel scale and shift at inference
    st.subheader(t("filters.bn", bn=plain(bn[0])))
    st.caption(t("filters.bn.caption"))
    scale, shift = filters.bn_scale_shift(bn[1])
    st.dataframe({t("filters.col.channel"): list(range(len(scale))), t("filters.col.scale"): scale,
                  t("filters.col.shift"): shift}, hide_index=True, height=min(400, 38 + 35 * len(scale)))

# --- one filter, numbers shown ---
@st.fragment
def zoom() -> None:
    st.subheader(t("filters.zoom"))
    a, b = st.columns([3, 1])
    f = a.slider(t("filters.zoom.filter"), 0, nf - 1, 0, key="filters.zoom.filter",
                 help=t("filters.zoom.filter.help")) if nf > 1 else 0
    numbers = b.toggle(t("filters.zoom.numbers"), value=kh * kw <= 49, key="filters.zoom.numbers")
    weights = kernel[..., f]
    shown = weights[:, :, : ui.MAX_ZOOM_CHANNELS]
    figures.chart(st, plots.filter_heatmaps(shown, limit=limit, channel_label=t("filters.zoom.channel"),
                                            show_numbers=numbers), table=True, caption=False,
                  key="filters.zoom.chart")
    b_text = "—" if bias is None else f"{bias[f]:.6g}"
    st.caption(t("filters.zoom.caption", filter=f, layer=plain(name), bias=b_text, cin=cin))
    if cin > ui.MAX_ZOOM_CHANNELS:
        st.caption(t("filters.zoom.capped", shown=ui.MAX_ZOOM_CHANNELS, cin=cin))


zoom()
