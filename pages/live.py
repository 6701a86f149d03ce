"""Live: the camera's (or a video file's) frames through the session's model, continuously: the frame as
the model sees it, the prediction, one layer's maps as a mosaic, Grad-CAM on request, frame rate and
latency measured; Freeze opens the frame on Activations and Explain."""

import streamlit as st

from cnnviz.plots import describe
from cnnviz.plots import live as plots
from cnnviz.ui import activations as ui_act
from cnnviz.ui import errors as ui_errors
from cnnviz.ui import live as ui
from cnnviz.ui import models as ui_models
from cnnviz.ui import state
from cnnviz.ui.entry import ensure_entrypoint
from cnnviz.ui.image_picker import fit_choice
from cnnviz.ui.links import LINK, share
from cnnviz.ui.state import t
from cnnviz.ui.text import plain

ensure_entrypoint()

st.title(t("nav.live"))
st.caption(t("live.intro"))

info = ui_models.current_model()
ui_act.require_image_model(info)
layers = ui.layers(info)
if not layers:
    st.warning(t("live.no_maps"))
    st.stop()

c1, c2, c3 = st.columns([3, 2, 2])
first = ui.default_layer(info)
layer = c1.selectbox(t("live.layer"), layers, index=layers.index(first), key="live.layer", bind=LINK,
                     help=t("live.layer.help"))
scale = c2.radio(t("activations.scale"), plots.SCALES, horizontal=True, key="live.scale", bind=LINK,
                 format_func=lambda s: t(f"activations.scale.{s}"), help=t("live.scale.help"))
cam_ok = ui.has_cam(info)
cam = c3.toggle(t("live.cam"), key="live.cam", bind=LINK, disabled=not cam_ok,
                help=t("live.cam.help") if cam_ok else t("live.cam.none"))
fit = fit_choice(model_fit=info.fit)
share()

try:
    settings, plan = ui.settings(info, layer, scale, cam and cam_ok, fit)
except Exception as err:  # a model whose graph cannot be traced, a pixel range that does not fit it
    st.error(t("error.unexpected", error=ui_errors.reason(err)))
    st.stop()
h, w, c = settings.shape
st.caption(t("live.feeds", h=h, w=w, c=c, range=t(f"pixels.{plan.pixels.name}"),
             fit=t(f"images.fit.{fit}") if fit in ("crop", "pad") else t("live.fit.digit")))
ui.view(ui.register(settings), settings.shape)

frozen = st.session_state.get(ui.FROZEN)
if frozen and "bytes" in frozen:
    st.subheader(t("live.frozen"))
    left, right = st.columns([1, 2])
    left.image(frozen["bytes"], width=240,
               caption=t("live.frozen.caption", name=plain(frozen["name"]), w=frozen["size"][0], h=frozen["size"][1]),
               alt=describe.photo(frozen["name"], frozen["size"][0], frozen["size"][1], state.lang()))
    with right:
        st.markdown(t("live.frozen.open"))
        st.page_link("pages/activations.py", label=t("live.open.activations"), icon=":material/local_fire_department:")
        st.page_link("pages/explain.py", label=t("live.open.explain"), icon=":material/visibility:")
elif frozen:
    st.error(t("live.error.frozen"))

with st.expander(t("live.how")):
    st.markdown(t("live.how.text"))
