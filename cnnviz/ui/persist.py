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


FROM_LINK = "cnnviz.persist.from_link"  # widget keys whose value came from the page's link, once per session
OPENED_WITH = "cnnviz.persist.opened_with"  # the query parameters of the session's first run


def bound(persistent_key: str, widget_key: str, default, then: Callable[[], None] | None = None,
          link: bool = False) -> dict:
    """Keyword arguments (key, on_change, args) for a widget bound to `persistent_key`.

    Call right before creating the widget; the widget shows the persistent value, and a user's change
    is copied back by the on_change callback (which runs before the script does), then `then()` runs.

    With `link`, the widget is also bound to the page's URL (cnnviz.ui.links; its key is the query
    parameter): the first time a session sees the parameter, the widget takes the link's value
    (Streamlit checks it against the widget and drops what does not fit) and the caller's next run
    copies it into the persistent key; callers that read the persistent key in the same run store the
    widget's returned value themselves.
    """
    kwargs = {"key": widget_key, "on_change": _store, "args": (widget_key, persistent_key, then)}
    if link:
        from cnnviz.ui.links import LINK

        kwargs["bind"] = LINK
        seen = st.session_state.setdefault(FROM_LINK, {})
        # the parameters the session was opened with (not those its own widgets write into the URL later)
        opened_with = st.session_state.setdefault(OPENED_WITH, frozenset(st.query_params.keys()))
        if widget_key in opened_with and widget_key not in seen:
            seen[widget_key] = "pending"  # this run: the widget reads the link
            return kwargs
        if seen.get(widget_key) == "pending" and widget_key in st.session_state:
            st.session_state[persistent_key] = st.session_state[widget_key]  # what the link gave, from now on
            seen[widget_key] = "done"
    value = st.session_state.get(persistent_key, default)
    st.session_state[persistent_key] = value
    st.session_state[widget_key] = value
    return kwargs
