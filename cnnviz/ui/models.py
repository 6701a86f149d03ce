"""The session's model: a process-wide cached preset, the model the server was started with (`cnnviz
model.h5`, `cnnviz.show(model)`), or the session's own model from the Model/Train pages."""

from __future__ import annotations

import os

import streamlit as st

from cnnviz import i18n
from cnnviz.models import DEFAULT_MODEL, PRESETS, ModelInfo, load_preset
from cnnviz.ui import state
from cnnviz.ui.state import t

SESSION_MODEL = "cnnviz.session_model"  # a ModelInfo the Model/Train pages store for this session
SESSION_KEY = "session"  # the value of state.MODEL that selects it
STARTUP_KEY = "startup"  # the model named on the command line: every page starts with it
STARTUP_ENV = "CNNVIZ_MODEL"  # its path, set by cnnviz.launch.cli (and cnnviz.launch.notebook) for the server it starts


@st.cache_resource(show_spinner=False, max_entries=len(PRESETS))
def preset(key: str) -> ModelInfo:
    """One shared, read-only ModelInfo per preset and process: built or loaded once."""
    return load_preset(key)


def session_model() -> ModelInfo | None:
    info = st.session_state.get(SESSION_MODEL)
    return info if isinstance(info, ModelInfo) else None


@st.cache_resource(show_spinner=False, max_entries=1)
def _startup(path: str):
    """The model file the server was started with, loaded once per process (read-only, shared like a preset):
    a ModelInfo, or the ModelFileError that says why it could not be loaded (kept, so it is not retried on
    every rerun)."""
    from cnnviz.files import modelfiles

    try:
        loaded = modelfiles.load_path(path)
    except modelfiles.ModelFileError as err:
        return err
    outputs = loaded.model.outputs[0].shape[-1] or 0
    names = loaded.class_names or tuple(str(i) for i in range(int(outputs)))
    return ModelInfo(key=STARTUP_KEY, label=loaded.name, model=loaded.model, class_names=names, trained=True,
                     description="", pixels=loaded.pixels, assumed_pixels=loaded.assumed)


def startup_result(spinner: bool = False):
    """(ModelInfo or None, ModelFileError or None) of the model the server was started with. `spinner`: say
    that it is loading (the sidebar asks first on every run; later calls find it in the cache)."""
    path = os.environ.get(STARTUP_ENV, "")
    if not path:
        return None, None
    if spinner:
        with st.sidebar, st.spinner(t("model.startup.loading", name=os.path.basename(path))):
            result = _startup(path)
    else:
        result = _startup(path)
    return (result, None) if isinstance(result, ModelInfo) else (None, result)


def startup_model() -> ModelInfo | None:
    return startup_result()[0]


def own_model(key: str) -> ModelInfo | None:
    """The ModelInfo of a key that is not a preset (the startup or the session model), else None."""
    return startup_model() if key == STARTUP_KEY else session_model() if key == SESSION_KEY else None


def default_key() -> str:
    return STARTUP_KEY if startup_model() is not None else DEFAULT_MODEL


def choices() -> list[str]:
    """Model keys the sidebar offers: the startup model first when there is one, the presets, and 'session'
    when this session has its own model."""
    keys = ([STARTUP_KEY] if startup_model() is not None else []) + list(PRESETS)
    if session_model() is not None:
        keys.append(SESSION_KEY)
    return keys


def current_key() -> str:
    key = st.session_state.get(state.MODEL) or default_key()
    return key if key in choices() else default_key()


def current_model() -> ModelInfo:
    """The model this session has chosen in the sidebar (the startup model, else the trained default, on
    first load)."""
    key = current_key()
    return own_model(key) or preset(key)


def pixel_sources(info: ModelInfo) -> dict[str, str]:
    """What cnnviz.preprocessing.plan/detect take besides the model: the range its file declares, the
    Keras Application's own, the user's choice in the sidebar, and what its loader assumed ("" where there is none)."""
    from cnnviz import applications  # imports Keras: only once a model is there

    return {"file": info.pixels, "application": applications.pixels(info.key),
            "user": st.session_state.get(state.PIXELS) or "", "assumed": info.assumed_pixels}


def _text(value: str) -> str:
    """An i18n key's text, or the value itself when it is plain text (a session model's own label)."""
    return t(value) if value in i18n.texts(i18n.DEFAULT) else value


def label(info_or_key: ModelInfo | str) -> str:
    if isinstance(info_or_key, ModelInfo):
        return _text(info_or_key.label)
    if info_or_key == SESSION_KEY:
        own = session_model()
        return t("model.session.label", name=_text(own.label) if own else "")
    if info_or_key == STARTUP_KEY:
        own = startup_model()
        return t("model.startup.label", name=own.label if own else "")
    return t(f"model.{info_or_key}.label")


def description(info: ModelInfo) -> str:
    return _text(info.description) if info.description else ""


def class_label(name: str) -> str:
    """A class name in the session's language where the UI knows it (e.g. 'circle' -> '원')."""
    return _text(f"class.{name}") if f"class.{name}" in i18n.texts(i18n.DEFAULT) else name


def describe_preset(key: str) -> str:
    """The one-line description of a preset without loading it."""
    return t(PRESETS[key].description)
