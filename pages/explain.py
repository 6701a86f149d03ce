"""Explain: why the model chose a class (attribution maps, sanity checks) and what each filter looks for."""

import pandas as pd
import streamlit as st

from cnnviz import activations, attribution, featurevis
from cnnviz.plots import activations as act_plots
from cnnviz.plots import attribution as plots
from cnnviz.plots import describe
from cnnviz.ui import activations as ui_act
from cnnviz.ui import errors as ui_errors
from cnnviz.ui import explain as ui
from cnnviz.ui import figures
from cnnviz.ui import models as ui_models
from cnnviz.ui import state
from cnnviz.ui.entry import ensure_entrypoint
from cnnviz.ui.image_picker import fit_choice, model_input, pick_image
from cnnviz.ui.links import LINK, share
from cnnviz.ui.state import t
from cnnviz.ui.text import plain

ensure_entrypoint()

st.title(t("nav.explain"))
st.caption(t("explain.intro"))

info = ui_models.current_model()
image = pick_image()
device = state.device()

ui_act.require_image_model(info)

# --- the input, as the model sees it, and its prediction ---
left, right = st.columns(2)
with right:
    fit = fit_choice(model_fit=info.fit)
    try:
        feed = ui_act.input_plan(info, image)
    except Exception as err:  # a model whose graph cannot be traced or run on an image
        st.error(t("error.unexpected", error=ui_errors.reason(err)))
        st.stop()
    x01 = model_input(image, feed.shape, fit=fit)
    x = feed.feed(x01)  # the range the model was trained on; the pictures below stay x01
    st.caption(ui_act.input_caption(feed))
    for note in ui_act.plan_notes(feed, info):
        st.caption(note)
try:
    result = ui_act.run(info, x, device)
    scores, are_logits = attribution.scores(info.model, x)
except attribution.AttributionError as err:
    st.warning(ui.error_text(err))
    st.stop()
except Exception as err:  # a model that cannot run this input
    st.error(t("error.unexpected", error=ui_errors.reason(err)))
    st.stop()
names = [ui_models.class_label(n) for n in info.class_names] if info.class_names and len(info.class_names) == scores.size \
    else [str(i) for i in range(scores.size)]
predicted = int(scores.argmax())
with left:
    out = result.model_outputs(info.model)[0][1]
    figures.chart(st, act_plots.probability_bars(out, names if out.size == len(names) else None), table=True,
                  caption=False, key="explain.prediction")  # the predicted class follows
    st.markdown(t("explain.predicted", label=plain(names[predicted])))

# --- what to explain, and how ---
c1, c2 = st.columns(2)
class_index = c1.selectbox(t("explain.class"), range(len(names)), index=predicted, key="explain.class", bind=LINK,
                           format_func=lambda i: names[i] + (t("explain.class.predicted") if i == predicted else ""),
                           help=t("explain.class.help", kind=t("explain.score.logit" if are_logits else "explain.score.output")))
opacity = c2.slider(t("explain.opacity"), 0.0, 1.0, 0.5, 0.05, key="explain.opacity", bind=LINK)
try:
    spatial = attribution.spatial_layers(info.model)
    default_layer = attribution.cam_layer(info.model)
except attribution.AttributionError:  # no conv layer: the CAMs say so when chosen
    spatial, default_layer = [], None
with st.expander(t("explain.settings")):
    s1, s2, s3 = st.columns(3)
    layer = s1.selectbox(t("explain.layer"), spatial, index=spatial.index(default_layer) if default_layer in spatial else 0,
                         key="explain.layer", bind=LINK, help=t("explain.layer.help"), disabled=not spatial) if spatial else None
    samples = s2.slider(t("explain.samples"), 4, 64, 20, 4, key="explain.samples", bind=LINK)
    noise = s2.slider(t("explain.noise"), 0.0, 0.5, 0.2, 0.05, key="explain.noise", bind=LINK)
    baseline = s3.selectbox(t("explain.baseline"), attribution.BASELINES, key="explain.baseline", bind=LINK,
                            format_func=lambda b: t(f"explain.baseline.{b}"))
    steps = s3.slider(t("explain.steps"), 8, 128, 32, 8, key="explain.steps", bind=LINK)
    smallest, default_window = attribution.window_range(x.shape)
    window = s1.slider(t("explain.window"), 2, smallest, default_window, key="explain.window", bind=LINK)
    fill = s1.selectbox(t("explain.fill"), attribution.FILLS, key="explain.fill", bind=LINK, format_func=lambda f: t(f"explain.fill.{f}"))
black = feed.pixels.black(x.shape[-1])  # a black pixel in the model's own range
SETTINGS = {
    "smoothgrad": {"samples": samples, "noise": noise},
    "integrated_gradients": {"baseline": baseline, "steps": steps, "black": black},
    "occlusion": {"window": window, "fill": fill, "black": black},
}


def show_map(method: str, key: str) -> None:
    """One method's map over the input; its error, if any, in its place (the other column still works)."""
    st.caption(t(f"explain.method.{method}.about"))
    try:
        m = ui.attribution_map(info, x, method, class_index, layer, SETTINGS.get(method, {}), device)
    except attribution.AttributionError as err:
        st.warning(ui.error_text(err))
        return
    signed = method in plots.SIGNED
    st.plotly_chart(plots.overlay(x01, m, opacity, signed), key=key, config={"displayModeBar": False})  # its range below
    st.caption(t("explain.range", lo=float(m.min()), hi=float(m.max())) +
               (" " + t("explain.cam_layer", layer=plain(layer or "")) if method in attribution.CAM_METHODS else ""))


method_names = {m: t(f"explain.method.{m}") for m in attribution.METHODS}
a, b = st.columns(2)
with a:
    first = st.selectbox(t("explain.method"), attribution.METHODS, index=attribution.METHODS.index("grad_cam"),
                         key="explain.method.a", bind=LINK, format_func=method_names.get)
    show_map(first, "explain.map.a")  # drawn before the second is computed
with b:
    second = st.selectbox(t("explain.method.b"), attribution.METHODS, index=attribution.METHODS.index("saliency"),
                          key="explain.method.b", bind=LINK, format_func=method_names.get)
    show_map(second, "explain.map.b")

share()  # the link with these methods and settings

methods = tuple(dict.fromkeys((first, second)))

# --- deletion and insertion (Petsiuk et al. 2018), after the maps: computed on request ---
st.subheader(t("explain.faith"))
st.caption(t("explain.faith.about"))
faith_baseline = st.selectbox(t("explain.faith.baseline"), sorted(attribution.DELETION_BASELINES, key=lambda b: b != "blurred"),
                              key="explain.faith.baseline",
                              bind=LINK, format_func=lambda b: t(f"explain.faith.baseline.{b}"))
faith = ui.last_faithfulness(info, x, methods, class_index, layer, SETTINGS, device, faith_baseline, black)
if st.button(t("explain.faith.run"), key="explain.faith.run"):
    try:
        with st.spinner(t("explain.faith.running")):
            faith = ui.faithfulness(info, x, methods, class_index, layer, SETTINGS, device, faith_baseline, black)
    except attribution.AttributionError as err:
        st.warning(ui.error_text(err))
if faith is not None:
    labels = {k: t(f"explain.faith.{k}") for k in ("deletion", "insertion", "random", "x", "y")}
    for column, m in zip(st.columns(len(methods)), methods):
        figures.chart(column, plots.deletion_insertion(faith[m], labels, method_names[m]), table=True,
                      caption=False, key=f"explain.faith.chart.{m}", config={"displayModeBar": False})  # AUCs below
    aucs = {m: faith[m].auc for m in methods}
    auc_table = pd.DataFrame({
        t("explain.faith.auc.deletion"): [aucs[m]["deletion"] for m in methods],
        t("explain.faith.auc.random_deletion"): [aucs[m]["random_deletion"] for m in methods],
        t("explain.faith.auc.insertion"): [aucs[m]["insertion"] for m in methods],
        t("explain.faith.auc.random_insertion"): [aucs[m]["random_insertion"] for m in methods],
    }, index=[method_names[m] for m in methods])
    st.dataframe(auc_table.style.format("{:.3f}"), key="explain.faith.table")

# --- sanity checks (Adebayo et al. 2018) ---
st.subheader(t("explain.sanity"))
st.caption(t("explain.sanity.about"))
sanity = ui.last_sanity(info, x, methods, class_index, layer, device)
if st.button(t("explain.sanity.run"), key="explain.sanity.run"):
    try:
        with st.spinner(t("explain.sanity.running")):
            sanity = ui.sanity(info, x, methods, class_index, layer, device)
    except attribution.AttributionError as err:
        st.warning(ui.error_text(err))
if sanity is not None:
    labels = [t("explain.sanity.original")] + [t("explain.sanity.step", layer=plain(s)) for s in sanity.steps[1:]]
    table = pd.DataFrame({method_names[m]: sanity.correlation[m] for m in methods}, index=labels)
    st.dataframe(table.style.format("{:.2f}"), key="explain.sanity.table")
    for m in methods:
        st.markdown(f"**{method_names[m]}**")
        st.image(plots.strip([plots.heat_image(v, m in plots.SIGNED) for v in sanity.maps[m]]), output_format="PNG",
                 alt=describe.maps(sanity.maps[m], f"{method_names[m]} ({', '.join(labels)})", state.lang()))
    st.caption(t("explain.sanity.read"))

# --- what each filter looks for ---
st.subheader(t("explain.fv"))
st.caption(t("explain.fv.about"))
fv_layers = featurevis.layers(info.model)
if not fv_layers:
    st.info(t("explain.fv.none"))
    st.stop()
f1, f2, f3 = st.columns(3)
fv_layer = f1.selectbox(t("explain.fv.layer"), fv_layers, index=min(1, len(fv_layers) - 1) if len(fv_layers) > 2 else 0,
                        key="explain.fv.layer", bind=LINK)
fv_steps = f2.slider(t("explain.fv.steps"), 16, 256, 64, 16, key="explain.fv.steps", bind=LINK)
lr = f3.select_slider(t("explain.fv.lr"), [0.01, 0.02, 0.05, 0.1, 0.2], 0.05, key="explain.fv.lr", bind=LINK)
is_output = fv_layer == fv_layers[-1] and fv_layer in activations.model_outputs(info.model)
target_layer = None if is_output else fv_layer  # the output layer: the class score before its softmax
try:
    units = featurevis.units_of(info.model, target_layer)
except featurevis.FeatureVisError as err:
    st.warning(ui.error_text(err))
    st.stop()
shown = tuple(range(min(units, ui_act.MAX_CHANNELS)))
if units > len(shown):
    st.caption(t("explain.fv.capped", shown=len(shown), n=units))
settings = featurevis.Settings(steps=int(fv_steps), learning_rate=float(lr))
size = x.shape[:2] if feed.any_size else None
key = ui.featurevis_key(info, target_layer, shown, settings, feed.pixels.name, size)
done = ui.featurevis_store(info).get(key)
if done is None and st.button(t("explain.fv.run", n=len(shown)), key="explain.fv.run", type="primary"):
    try:
        done = ui.run_featurevis(info, target_layer, shown, settings, feed.pixels.name, size, device)
    except featurevis.FeatureVisError as err:
        st.warning(ui.error_text(err))
if done is not None:
    v, m = st.columns(2)
    v.markdown(t("explain.fv.pictures"))
    v.image(plots.image_grid(done.images), output_format="PNG",
            alt=describe.pictures(done.images, f"{fv_layer}, {t('alt.featurevis')}", state.lang()))
    maps = result.layers(False).get(fv_layer)
    m.markdown(t("explain.fv.maps"))
    if maps is not None and maps.ndim == 3:
        m.image(ui_act.grid_png(maps[..., : len(shown)], "channel", None), output_format="PNG",
                alt=describe.map_grid(maps, fv_layer, state.lang(), shown=len(shown)))
    else:
        m.caption(t("explain.fv.maps.vector"))
