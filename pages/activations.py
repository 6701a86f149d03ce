"""Activations: every layer's output of the session's model for the session's image."""

import streamlit as st

from cnnviz import activations
from cnnviz.plots import activations as plots
from cnnviz.plots import attribution as attr_plots
from cnnviz.plots import describe
from cnnviz.ui import activations as ui
from cnnviz.ui import errors as ui_errors
from cnnviz.ui import figures
from cnnviz.ui import models as ui_models
from cnnviz.ui import state
from cnnviz.ui.image_picker import fit_choice, image_name, model_input, pick_image, second_image
from cnnviz.ui.links import LINK, share
from cnnviz.ui.state import t
from cnnviz.ui.text import plain
from cnnviz.ui.entry import ensure_entrypoint

ensure_entrypoint()

st.title(t("nav.activations"))
st.caption(t("activations.intro"))

info = ui_models.current_model()
image = pick_image()

ui.require_image_model(info)
if not ui.conv_layers(info):
    st.info(t("activations.no_conv"))

# --- input: original and preprocessed, side by side ---
left, right = st.columns(2)
with right:
    fit = fit_choice(model_fit=info.fit)
    try:
        feed = ui.input_plan(info, image)
    except Exception as err:  # a model whose graph cannot be traced or run on an image
        st.error(t("error.unexpected", error=ui_errors.reason(err)))
        st.stop()
    shape = feed.shape
    x01 = model_input(image, shape, fit=fit)
    x = feed.feed(x01)  # the range the model was trained on (0-255 where it rescales itself: never twice)
    shown = plots.input_image(x01)
    st.image(shown, output_format="PNG", width=shown.width, caption=ui.input_caption(feed),
             alt=describe.model_input(x01, state.lang()))
    for note in ui.plan_notes(feed, info):
        st.caption(note)
with left:
    st.image(image, caption=t("activations.original", w=image.width, h=image.height),
             width=plots.display_width(image.size, height=240),
             alt=describe.photo(image_name(), image.width, image.height, state.lang()))

pre = st.session_state.get("activations.pre", False)  # the toggle below: pre-activations only when shown
try:
    result = ui.run(info, x, state.device(), pre=pre)
except Exception as err:  # a model that cannot run this input: say why, keep the page alive
    st.error(t("error.unexpected", error=ui_errors.reason(err)))  # short: TF's OOM text runs to many lines
    st.stop()

if result.has_nan:
    st.warning(t("activations.nan"))

# --- prediction: each output of the model ---
st.subheader(t("activations.prediction"))
outputs = result.model_outputs(info.model)
for i, (out_name, out) in enumerate(outputs):
    if len(outputs) > 1:
        st.markdown(t("activations.prediction.output", i=i + 1, n=len(outputs), name=plain(out_name)))
    if out.ndim == 1:
        names = ui.class_labels(info) if i == 0 else None
        probabilities = plots.looks_like_probabilities(out)
        figures.chart(st, plots.probability_bars(out, names), table=True, caption=False,  # the top class follows
                      key="activations.prediction.chart" + (f".{i}" if i else ""))
        label, p = ui.best_class(out, names)
        st.markdown(t("activations.prediction.top" if probabilities else "activations.prediction.top_raw",
                      label=plain(label), p=p))
    else:
        st.caption(t("activations.prediction.not_vector", shape=str(out.shape)))
st.caption(t("activations.ran", device=result.device, ms=result.total * 1000))

# --- how to draw the maps ---
c1, c2 = st.columns(2)
scale = c1.radio(t("activations.scale"), plots.SCALES, horizontal=True, key="activations.scale", bind=LINK,
                 format_func=lambda s: t(f"activations.scale.{s}"), help=t("activations.scale.help"))
pre = c2.toggle(t("activations.pre"), key="activations.pre", help=t("activations.pre.help"),
                disabled=not ui.has_pre(info))
layers = result.layers(pre)
vrange = plots.network_range(layers) if scale == "network" else None
share()  # the link with these settings


@st.fragment
def zoom() -> None:
    """One channel as a heatmap with exact values on hover; reruns alone when its controls change."""
    st.subheader(t("activations.zoom"))
    names = list(layers)
    a, b = st.columns([2, 3])
    name = a.selectbox(t("activations.zoom.layer"), names, key="activations.zoom.layer", bind=LINK)
    maps = layers[name]
    channels = maps.shape[-1] if maps.ndim == 3 else 1
    if channels > 1:
        ch = b.slider(t("activations.zoom.channel"), 0, channels - 1, 0, key="activations.zoom.channel", bind=LINK,
                      help=t("activations.zoom.channel.help"))
    else:
        ch = 0
    values = maps[..., ch] if maps.ndim == 3 else maps
    lo, hi = plots.value_range(values)
    chart, notes = st.columns([3, 2])
    with chart:
        ui.zoom_map(values, vrange, "activations.zoom.chart", clickable=maps.ndim == 3,
                    alt=t("activations.zoom.caption", layer=plain(name), channel=ch, lo=lo, hi=hi))
    notes.caption(t("activations.zoom.caption", layer=plain(name), channel=ch, lo=lo, hi=hi))
    if maps.ndim == 3:
        notes.caption(t("activations.zoom.click"))
        receptive_field(name, maps.shape, ch)


def receptive_field(name: str, shape, ch: int) -> None:
    """Where the chosen unit looks: the box it reads and the input-gradient of the unit."""
    st.markdown(t("activations.rf"))
    r, c = st.columns(2)
    row = r.number_input(t("activations.rf.row"), 0, shape[0] - 1, min(st.session_state.get(ui.RF_ROW, shape[0] // 2), shape[0] - 1),
                         key=ui.RF_ROW)
    col = c.number_input(t("activations.rf.col"), 0, shape[1] - 1, min(st.session_state.get(ui.RF_COL, shape[1] // 2), shape[1] - 1),
                         key=ui.RF_COL)
    box, grad, problem = ui.receptive_field(info, x, name, int(row), int(col), ch, state.device())
    if problem:
        st.info(problem)
    if box is None:
        return
    h, w = box.size
    left, right = st.columns(2)
    left.plotly_chart(attr_plots.overlay(x01, None, box=box, height=300), key="activations.rf.box",  # its caption
                      config={"displayModeBar": False})
    left.caption(t("activations.rf.box", h=h, w=w, top=box.top, left=box.left, bottom=box.bottom, right=box.right))
    if grad is not None:
        right.plotly_chart(attr_plots.overlay(x01, grad, 0.7, box=box, height=300), key="activations.rf.effective",
                           config={"displayModeBar": False})
        right.caption(t("activations.rf.effective") + " " + describe.heat(grad, state.lang()))


zoom()


@st.fragment
def compare() -> None:
    """One layer's maps for a second image next to the page's image, on one colour scale."""
    st.subheader(t("activations.compare"))
    if not st.toggle(t("activations.compare.toggle"), key="activations.compare", bind=LINK,
                     help=t("activations.compare.help")):
        return
    pick, choose = st.columns(2)
    with pick:
        other = second_image("activations.compare.sample", "activations.compare.upload")
    names = list(layers)
    name = choose.selectbox(t("activations.zoom.layer"), names, index=ui.first_spatial(layers),
                            key="activations.compare.layer", bind=LINK)
    other01 = model_input(other, shape, fit=fit)
    try:
        other_result = ui.run(info, feed.feed(other01), state.device(), pre=pre, slot=".b")
    except Exception as err:  # the page's image ran, so this is rare: say why, keep the page
        st.error(t("error.unexpected", error=ui_errors.reason(err)))
        return
    pngs = ui.compare_pngs(layers[name], other_result.layers(pre)[name], scale)
    sides = (("A", x01, result, pngs[0]), ("B", other01, other_result, pngs[1]))
    for col, (title, pixels, inference, png) in zip(st.columns(2, gap="medium"), sides):
        with col:
            shown_input = plots.input_image(pixels)
            st.markdown(f"**{title}**")
            st.image(shown_input, output_format="PNG", width=min(shown_input.width, 160),
                     alt=describe.model_input(pixels, state.lang()))
            top = ui.top_prediction(info, inference)
            if top:
                st.markdown(t("activations.compare.top", top=top))
            alt = describe.map_grid(inference.layers(pre)[name], name, state.lang(), shown=ui.MAX_CHANNELS)
            st.container(key=f"activations.compare.maps_{title}").image(png, output_format="PNG", alt=f"{title}: {alt}")
    st.caption(t("activations.compare.caption", layer=plain(name), shape=tuple(layers[name].shape)))


compare()

# --- every layer ---
st.subheader(t("activations.layers"))
st.caption(t("activations.time.help"))
names = list(layers)
if len(names) > ui.MAX_LAYERS:  # big models: draw a window of layers at a time
    first = st.slider(t("activations.layer_window"), 0, len(names) - ui.MAX_LAYERS, 0,
                      key="activations.layer_window", help=t("activations.layer_window.help", n=ui.MAX_LAYERS))
    names = names[first:first + ui.MAX_LAYERS]


def draw_layer(name: str) -> None:
    maps = layers[name]
    lo, hi = plots.value_range(maps)
    kind = ui.layer_kind(info, name)
    act = ui.activation_name(info, name)
    when = t("activations.before", activation=act) if (pre and act) else (
        t("activations.after", activation=act) if act else "")
    ms = result.times.get(name)
    st.markdown(f"**{plain(name)}** · `{kind}` · {tuple(maps.shape)} {when}")
    st.caption(t("activations.layer.caption", lo=lo, hi=hi,
                 time=t("activations.layer.ms", ms=ms * 1000) if ms is not None else "—"))
    if maps.ndim == 3 and maps.shape[-1] > ui.MAX_CHANNELS:
        st.caption(t("activations.channels_capped", shown=ui.MAX_CHANNELS, total=maps.shape[-1]))
    st.image(ui.grid_png(maps, scale, vrange), output_format="PNG",
             alt=describe.map_grid(maps, name, state.lang(), shown=ui.MAX_CHANNELS))


for parent, group in activations.groups(names):  # a nested model's layers under it, collapsible
    if parent is None:
        for name in group:
            draw_layer(name)
    else:
        with st.expander(t("activations.group", name=plain(parent), n=len(group)), expanded=True):
            for name in group:
                draw_layer(name)
