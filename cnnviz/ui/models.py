"""The session's model: a process-wide cached preset, or the session's own model from the Model/Train pages."""

from __future__ import annotations

import streamlit as st

from cnnviz import i18n
from cnnviz.models import DEFAULT_MODEL, PRESETS, ModelInfo, load_preset
from cnnviz.ui import state
from cnnviz.ui.state import t

SESSION_MODEL = "cnnviz.session_model"  # a ModelInfo the Model/Train pages store for this session
SESSION_KEY = "session"  # the value of state.MODEL that selects it


@st.cache_resource(show_spinner=False, max_entries=len(PRESETS))
def preset(key: str) -> ModelInfo:
    """One shared, read-only ModelInfo per preset and process: built or loaded once."""
    return load_preset(key)


def session_model() -> ModelInfo | None:
    info = st.session_state.get(SESSION_MODEL)
    return info if isinstance(info, ModelInfo) else None


def choices() -> list[str]:
    """Model keys the sidebar offers: the presets, and 'session' when this session has its own model."""
    keys = list(PRESETS)
    if session_model() is not None:
        keys.append(SESSION_KEY)
    return keys


def current_key() -> str:
    key = st.session_state.get(state.MODEL) or DEFAULT_MODEL
    return key if key in choices() else DEFAULT_MODEL


def current_model() -> ModelInfo:
    """The model this session has chosen in the sidebar (the trained default on first load)."""
    key = current_key()
    if key == SESSION_KEY:
        return session_model()
    return preset(key)


def pixel_sources(info: ModelInfo) -> dict[str, str]:
    """What cnnviz.preprocessing.plan/detect take besides the model: the range its file declares, the
    Keras Application's own, and the user's choice in the sidebar ("" where there is none)."""
    from cnnviz import applications  # imports Keras: only once a model is there

    return {"file": info.pixels, "application": applications.pixels(info.key),
            "user": st.session_state.get(state.PIXELS) or ""}


def _text(value: str) -> str:
    """An i18n key's text, or the value itself when it is plain text (a session model's own label)."""
    return t(value) if value in i18n.texts(i18n.DEFAULT) else value


def label(info_or_key: ModelInfo | str) -> str:
    if isinstance(info_or_key, ModelInfo):
        return _text(info_or_key.label)
    if info_or_key == SESSION_KEY:
        own = session_model()
        return t("model.session.label", name=_text(own.label) if own else "")
    return t(f"model.{info_or_key}.label")


def description(info: ModelInfo) -> str:
    return _text(info.description) if info.description else ""


def class_label(name: str) -> str:
    """A class name in the session's language where the UI knows it (e.g. 'circle' -> '원')."""
    return _text(f"class.{name}") if f"class.{name}" in i18n.texts(i18n.DEFAULT) else name


def describe_preset(key: str) -> str:
    """The one-line description of a preset without loading it."""
    return t(PRESETS[key].description)
