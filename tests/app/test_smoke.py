"""Every page runs under AppTest without an exception, in both languages."""

import pytest

from tests.app.conftest import ROOT, no_exception, open_app

PAGES = sorted(p.stem for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))  # a new page is in


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("name", PAGES)
def test_page_runs(name, lang):
    at = open_app(name, lang=lang)
    no_exception(at)
    assert at.title, "every page has a title"


def test_sidebar_widgets_visible_after_switch_page():
    at = open_app("filters")
    assert at.sidebar.selectbox(key="cnnviz.lang").value == "en"
