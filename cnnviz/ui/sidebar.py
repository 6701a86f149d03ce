"""The shared sidebar: language, model, the pixel range the model was trained on, device. Rendered by app.py on every page.

The image source is rendered by the pages that use an image (cnnviz.ui.image_picker.pick_image).
"""

from __future__ import annotations

import os

import streamlit as st

from cnnviz import devices, i18n
from cnnviz.ui import models as ui_models
from cnnviz.ui import document, image_picker, links, replica, state, warmup
from cnnviz.ui.links import LINK
from cnnviz.ui.persist import bound
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.state import t
from cnnviz.ui.text import plain


NAV_KEY = "cnnviz-nav"  # the container of the page links: its class is st-key-cnnviz-nav


def navigation(pages: dict[str, list]) -> None:
    """The links to the pages, by section, at the top of the sidebar: app.py's st.navigation draws none
    (position="hidden"), since Streamlit's own list puts divs in its <ul> and <li>s outside it (axe's
    `list` and `listitem`). The current page's link is bold on a grey ground (Streamlit's page link) and
    carries aria-current="page" (cnnviz.ui.document). At phone width the sidebar, links included, waits
    behind its button and closes once a page is chosen, as with Streamlit's own navigation."""
    with st.sidebar.container(key=NAV_KEY):
        for section, entries in pages.items():
            st.markdown(f"**{section}**")
            for page in entries:
                st.page_link(page, label=page.title, icon=page.icon)
    st.sidebar.divider()


def language() -> None:
    st.sidebar.selectbox(
        t("sidebar.language"),
        list(i18n.LANGUAGES),
        index=list(i18n.LANGUAGES).index(state.default_lang()),
        format_func=i18n.LANGUAGES.get,
        key=state.LANG, bind=LINK,
    )


MAX_CLASSES_LISTED = 12  # a model with more classes (ImageNet's 1000) lists the first ones and the count
W_MODEL = "cnnviz.model.widget"  # the select's own key; the choice itself lives in state.MODEL
W_PIXELS = "cnnviz.pixels.widget"
W_DEVICE = "cnnviz.device.widget"


def model() -> None:
    _, problem = ui_models.startup_result(spinner=True)  # loads the command line's model on the first run
    keys = ui_models.choices()
    st.session_state[state.MODEL] = ui_models.current_key()  # the default on first load, or if the session model is gone
    labels = {k: ui_models.label(k) for k in keys}  # fixed now: Streamlit may format outside the run
    key = st.sidebar.selectbox(t("sidebar.model"), keys, format_func=labels.get, help=t("sidebar.model.help"),
                               **bound(state.MODEL, W_MODEL, ui_models.current_key(), then=image_picker.follow_model, link=True))
    st.session_state[state.MODEL] = key  # also when it came from the page's link
    if problem is not None:
        st.sidebar.error(t("model.startup.refused", reason=message_text(problem)))
    if key == ui_models.STARTUP_KEY:
        st.sidebar.caption(t("model.startup.desc", path=plain(os.environ.get(ui_models.STARTUP_ENV, ""))))
        info = ui_models.startup_model()
        trained, classes = info.trained, info.class_names
    elif key == ui_models.SESSION_KEY:
        info = ui_models.session_model()
        st.sidebar.caption(ui_models.description(info) or t("model.session.desc"))
        trained, classes = info.trained, info.class_names
    else:
        st.sidebar.caption(ui_models.describe_preset(key))
        trained, classes = ui_models.PRESETS[key].trained, ui_models.PRESETS[key].class_names
    if trained and len(classes) > MAX_CLASSES_LISTED:  # ImageNet's 1000: the first few and the count
        st.sidebar.caption(t("model.classes.many", count=len(classes),
                             names=", ".join(ui_models.class_label(c) for c in classes[:MAX_CLASSES_LISTED])))
    elif trained:
        st.sidebar.caption(t("model.classes", names=", ".join(ui_models.class_label(c) for c in classes)))
    else:
        st.sidebar.warning(t("sidebar.model.untrained"))


def pixels() -> None:
    """The pixel range the model is fed: said (with why) where the model's layers, its file or its
    Keras Application tell; otherwise a select, bound to the link, that starts at "not known: [0, 1]
    assumed" (or at the range the model's loader assumed, e.g. torch's for an ONNX ImageNet classifier).
    Presets declare theirs, so the sidebar needs no Keras for them."""
    key = ui_models.current_key()
    if key not in (ui_models.SESSION_KEY, ui_models.STARTUP_KEY):
        st.sidebar.caption(t("pixels.source.file", range=t(f"pixels.{ui_models.PRESETS[key].pixels}")))
        return
    from cnnviz import preprocessing  # a session model exists: Keras is loaded
    from cnnviz.ui.activations import pixels_note

    info = ui_models.own_model(key)
    options = list(preprocessing.choices(int(info.model.inputs[0].shape[-1] or 3)))
    if st.session_state.get(state.PIXELS) not in options:  # none yet, or one this model cannot take (RGB only)
        st.session_state[state.PIXELS] = None
    sources = ui_models.pixel_sources(info)
    try:
        contract, source = preprocessing.detect(info.model, sources["file"], sources["application"], "",
                                                sources["assumed"])
    except ValueError as err:  # a file declaring an RGB range for a grey model: the pages say so too
        st.sidebar.warning(str(err))
        return
    if source not in ("default", "assumed"):  # an assumed range can be changed, like the default
        st.sidebar.caption(pixels_note(info, contract.name, source))
        return
    chosen = st.sidebar.selectbox(t("sidebar.pixels"), options, index=None, help=t("sidebar.pixels.help"),
                                  placeholder=t("sidebar.pixels.placeholder") if source == "default"
                                  else t(f"pixels.{contract.name}"),
                                  format_func=lambda name: t(f"pixels.{name}"),
                                  **bound(state.PIXELS, W_PIXELS, None, link=True))
    st.session_state[state.PIXELS] = chosen  # also when it came from the page's link
    st.sidebar.caption(pixels_note(info, chosen or contract.name, "user" if chosen else source))


@st.cache_resource(show_spinner=False)
def _devices() -> tuple[str, ...]:
    return tuple(devices.list_devices())


def device() -> None:
    if not warmup.keras_ready():  # right after the server started: the list comes with Keras, on the next run
        current = st.session_state.get(state.DEVICE) or "cpu:0"
        st.sidebar.selectbox(t("sidebar.device"), [current], format_func=_device_label, disabled=True,
                             key=W_DEVICE + ".waiting", help=t("sidebar.device.help"))
        st.sidebar.caption(t("sidebar.device.loading"))
        return
    options = list(_devices())
    if st.session_state.get(state.DEVICE) not in options:  # first load, or a device that went away
        st.session_state[state.DEVICE] = devices.resolve(st.session_state.get(state.DEVICE))
    st.sidebar.selectbox(t("sidebar.device"), options, format_func=_device_label, help=t("sidebar.device.help"),
                         **bound(state.DEVICE, W_DEVICE, options[0]))
    if not any(d.startswith("gpu") for d in options):
        st.sidebar.caption(t("sidebar.device.no_gpu"))


def _device_label(name: str) -> str:
    kind, _, index = name.partition(":")
    return f"{kind.upper()} {index}".strip()


def render(pages: dict[str, list] | None = None, current=None) -> None:
    """Everything app.py's sidebar shows on every page: `pages` as app.py gives st.navigation, `current` the
    page it returned (a script without navigation, such as a test's, passes neither)."""
    if pages:
        navigation(pages)
    language()
    replica.notice()
    links.ignore_unknown()
    model()
    pixels()
    device()
    # <html lang>, the current link, scrolling boxes: last, once the language select has run
    document.render(current.url_path if current is not None else "")
