"""Plotly figures with their text alternative: a caption with the figure's key numbers under it, or, for a
figure that is a table of numbers at heart, the numbers in a collapsed "Numbers as a table" expander."""

from __future__ import annotations

import streamlit as st

from cnnviz.plots import describe
from cnnviz.ui import state
from cnnviz.ui.state import t
from cnnviz.ui.text import plain


def chart(where, fig, *, table: bool = False, caption: bool = True, names=None, **kwargs):
    """st.plotly_chart(fig, **kwargs) in `where` (st or a column), then its caption (cnnviz.plots.describe.figure)
    unless `caption` is False (a caption beside it already says it), and its numbers as tables when `table`.
    names: the traces' names where the figure has none."""
    event = where.plotly_chart(fig, **kwargs)
    if caption:
        where.caption(plain(describe.figure(fig, state.lang(), names), limit=2000))
    if table:
        numbers_table(where, fig, names)
    return event


def numbers_table(where, fig, names=None) -> None:
    """The figure's numbers (cnnviz.plots.describe.figure_tables) in a collapsed expander."""
    tables = describe.figure_tables(fig, t("alt.figure.label"), t("alt.figure.value"), names)
    if not tables:
        return
    with where.expander(t("alt.figure.table"), expanded=False):
        for name, frame in tables:
            if len(tables) > 1:
                st.markdown(f"**{plain(name)}**")
            st.dataframe(frame)
