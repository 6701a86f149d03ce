"""Session-state keys shared by the sidebar and the pages, and their getters.

Per-user things (the chosen image, uploads, trained models) live here, in session state,
never in a process-wide cache.
"""

from __future__ import annotations

import os

import streamlit as st

from cnnviz import i18n

LANG = "cnnviz.lang"  # "en" / "ko"
MODEL = "cnnviz.model"  # preset key, or "session" for this session's own model
DEVICE = "cnnviz.device"  # Keras device name, e.g. "cpu:0"
PIXELS = "cnnviz.pixels"  # the pixel range the user says the model was trained on (cnnviz.preprocessing.CONTRACTS), or None
IMAGE_SOURCE = "cnnviz.image_source"  # "gallery" / "upload" / "camera"
SAMPLE = "cnnviz.sample"  # sample name from cnnviz.images.SAMPLES


LANG_ENV = "CNNVIZ_LANGUAGE"  # the language new sessions start in (`cnnviz --language ko`)


def default_lang() -> str:
    value = os.environ.get(LANG_ENV, "")
    return value if value in i18n.LANGUAGES else i18n.DEFAULT


def lang() -> str:
    value = st.session_state.get(LANG)
    if value is None:  # before the language select has run (the navigation comes first): a link's language
        shown = st.query_params.get(LANG)  # the select is bound to the URL by its label ("한국어")
        value = next((code for code, label in i18n.LANGUAGES.items() if label == shown), default_lang())
    return value if value in i18n.LANGUAGES else default_lang()


def t(key: str, **values) -> str:
    """The UI text for `key` in the session's language."""
    return i18n.t(key, lang(), **values)


def device() -> str:
    return st.session_state.get(DEVICE) or "cpu:0"
