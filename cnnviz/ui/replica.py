"""Behind `make serve-replicas` (or any balancer with the same cookie): a browser whose replica stopped
is sent to another one; the balancer then names the replica it came from in a cookie, so the next
session of that browser says what happened, in the sidebar, for as long as it lasts:
never another user's state, and the user knows why their upload or trained model is gone."""

from __future__ import annotations

import os

import streamlit as st

from cnnviz import metrics
from cnnviz.ui.state import t

COOKIE = "cnnviz_moved_from"  # set by the balancer (deploy/serve_replicas.py): the replica a browser left
MOVED = "cnnviz.replica.moved_from"  # the replica this session's browser was moved from, or ""


def moved_from(cookie: str | None, here: str | None) -> str:
    """The replica a browser was moved from: its cookie names another replica than this one."""
    return cookie if cookie and here and cookie != here else ""


def notice() -> None:
    """On a session's first run, compare the cookie with this replica; say so when they differ."""
    if MOVED not in st.session_state:
        cookies = getattr(st.context, "cookies", None) or {}
        st.session_state[MOVED] = moved_from(cookies.get(COOKIE), os.environ.get(metrics.REPLICA_ENV))
    if st.session_state[MOVED]:
        st.sidebar.warning(t("replica.moved"), icon=":material/sync_problem:")
