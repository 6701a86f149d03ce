"""Pages run only inside app.py's navigation.

A `pages/` folder beside the entrypoint makes Streamlit start in its legacy multipage mode:
until some session has run app.py's st.navigation, a direct URL such as /activations on a
fresh server runs pages/activations.py alone, without the shared sidebar or page config.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def ensure_entrypoint() -> None:
    """Call first in every page: leave the legacy mode and rerun through app.py."""
    if PagesManager.uses_pages_directory:
        # st.navigation sets this flag to False itself; doing it here lets the rerun below
        # execute app.py, which then resolves the same URL to this page.
        PagesManager.uses_pages_directory = False
        st.rerun()
