"""Pages run only inside app.py's navigation.

A `pages/` folder beside the entrypoint makes Streamlit start in its legacy multipage mode:
until some session has run app.py's st.navigation, a direct URL such as /activations on a
fresh server runs pages/activations.py alone, without the shared sidebar, page config or error
boundary. (AppTest starts every run in that mode too.)
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

APP = Path(__file__).resolve().parents[2] / "app.py"


def ensure_entrypoint() -> None:
    """Call first in every page: in the legacy mode, run app.py here instead, then stop.

    app.py's st.navigation resolves the same URL to this page and runs it inside its frame. Running
    it in this same script run (not st.rerun) keeps what triggered the run, such as a button click.
    """
    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False  # st.navigation would do the same
    code = compile(APP.read_text(encoding="utf-8"), str(APP), "exec")
    exec(code, {"__name__": "__main__", "__file__": str(APP)})  # noqa: S102 - our own entrypoint
    st.stop()
