"""Widgets whose value lives in a plain session-state key, not in the widget's own key.

Streamlit drops a widget's state when a run does not render it (another page) and may treat it as a new
widget when its label changes (another language). Keeping the value in a plain key and copying it into
the widget before each render keeps a choice for the whole session.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st


def _store(widget_key: str, persistent_key: str, then: Callable[[], None] | None) -> None:
    st.session_state[persistent_key] = st.session_state[widget_key]
    if then is not None:
        then()


def bound(persistent_key: str, widget_key: str, default, then: Callable[[], None] | None = None) -> dict:
    """Keyword arguments (key, on_change, args) for a widget bound to `persistent_key`.

    Call right before creating the widget; the widget shows the persistent value, and a user's change
    is copied back by the on_change callback (which runs before the script does), then `then()` runs.
    """
    value = st.session_state.get(persistent_key, default)
    st.session_state[persistent_key] = value
    st.session_state[widget_key] = value
    return {"key": widget_key, "on_change": _store, "args": (widget_key, persistent_key, then)}
