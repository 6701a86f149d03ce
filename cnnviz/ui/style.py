"""The app's one style rule: long formulas scroll inside their own box on narrow screens (phones)
instead of being cut off at the right edge. Constant text of ours only (see tests/reliability/test_security.py)."""

from __future__ import annotations

import streamlit as st

CSS = ("<style>[data-testid='stMarkdownContainer'] .katex-display"
       "{overflow-x:auto;overflow-y:hidden;padding:2px 0 6px}</style>")


def apply() -> None:
    """Once per run (a <style> alone takes no space on the page)."""
    st.html(CSS)
