"""The shared sidebar: language, model, image, device. Rendered by app.py on every page."""

from __future__ import annotations

import streamlit as st

from cnnviz import i18n
from cnnviz.ui import state
from cnnviz.ui.state import t


def language() -> None:
    st.sidebar.selectbox(
        t("sidebar.language"),
        list(i18n.LANGUAGES),
        format_func=i18n.LANGUAGES.get,
        key=state.LANG,
    )


def render() -> None:
    language()
