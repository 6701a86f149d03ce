"""Switching the language changes every page's visible texts, with no exception and no missing text."""

from pathlib import Path

import pytest

from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnviz import i18n
from cnnviz.ui import state
from tests.app.conftest import ROOT, no_exception, open_app

PAGES = sorted(p.stem for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))


@pytest.fixture
def strict_texts(monkeypatch):
    """i18n.t without the English fallback: a text missing in the shown language is an error."""
    used = []

    def strict(key, lang=i18n.DEFAULT, **values):
        used.append((key, lang))
        text = i18n.texts(lang)[key]  # KeyError: the text is missing in this language
        return text.format(**values) if values else text

    monkeypatch.setattr(i18n, "t", strict)
    return used


@pytest.fixture
def outside_run_lang(monkeypatch):
    """AppTest formats the previous run's widget values (format_func -> t()) in the test thread, where
    st.session_state is not available and the language would read as English. Inside a script run the
    page reads session_state["cnnviz.lang"] as always; outside one, the language of the last finished run."""
    current = {"lang": "en"}
    inside = state.lang

    def lang():
        return inside() if get_script_run_ctx() is not None else current["lang"]

    monkeypatch.setattr(state, "lang", lang)
    return current


def switch(at, lang: str, current: dict) -> None:
    at.session_state[state.LANG] = lang
    at.run()  # collects the previous run's widget values, shown in the previous language
    current["lang"] = lang


def visible(at) -> list[str]:
    """Title, headers and subheaders: the texts a student reads first."""
    return [e.value for kind in ("title", "header", "subheader") for e in getattr(at, kind)]


def test_pages_folder_matches_navigation():
    app = (ROOT / "app.py").read_text()
    for name in PAGES:
        assert f'"pages/{name}.py"' in app, f"pages/{name}.py is not in app.py's navigation"


@pytest.mark.parametrize("page", PAGES)
def test_switching_language_changes_the_page(page, strict_texts, outside_run_lang):
    at = open_app(page, lang="en")
    no_exception(at)
    english = visible(at)
    assert english, "the page shows a title"
    switch(at, "ko", outside_run_lang)
    no_exception(at)
    korean = visible(at)
    assert korean[0] != english[0], "the title follows the language"
    assert any("\uac00" <= ch <= "\ud7a3" for ch in " ".join(korean)), "Korean text (Hangul) is shown"
    assert {lang for _, lang in strict_texts} == {"en", "ko"}
    switch(at, "en", outside_run_lang)
    no_exception(at)
    assert visible(at) == english, "switching back restores the English texts"
