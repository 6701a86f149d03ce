"""Helpers for AppTest page tests."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def open_app(page: str | None = None, lang: str = "en", timeout: float = 180, **state) -> AppTest:
    """AppTest of app.py switched to pages/<page>.py, with session state preset, after one run."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["cnnviz.lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    if page:
        at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
