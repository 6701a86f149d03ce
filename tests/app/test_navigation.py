"""The sidebar's own navigation (cnnviz.ui.sidebar.navigation; app.py hides Streamlit's): every page under
pages/ linked once, by section, in the order the lecture goes, in both languages."""

from __future__ import annotations

import pytest

from cnnviz import i18n
from tests.app.conftest import ROOT, no_exception, open_app

SECTIONS = {  # section -> its pages (url paths; the Layer lab is the default page, at "")
    "learn": ["layer_lab", "convolution", "pooling", "practice", "probability", "glossary"],
    "inspect": ["activations", "filters", "explain", "live"],
    "build": ["model", "train"],
}


def _nav(at):
    """The sidebar's navigation as drawn: [(section header, [(label, url path), ...]), ...]."""
    out = []
    for node in at.sidebar:
        if node.type == "markdown" and node.value.startswith("**") and node.value.endswith("**"):
            out.append((node.value.strip("*"), []))
        elif node.type == "page_link":
            out[-1][1].append((node.proto.label, node.proto.page or "layer_lab"))
    return out


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_page_linked_in_order(lang):
    at = open_app("glossary", lang=lang)
    no_exception(at)
    texts = i18n.texts(lang)
    expected = [(texts[f"nav.section.{section}"], [(texts[f"nav.{p}"], p) for p in pages])
                for section, pages in SECTIONS.items()]
    assert _nav(at) == expected
    files = sorted(p.stem for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))
    assert sorted(p for _, links in _nav(at) for _, p in links) == files


def test_links_come_first_in_the_sidebar():
    """Where Streamlit's own list was: above the language select."""
    at = open_app()
    kinds = [node.type for node in at.sidebar]
    assert kinds.index("page_link") < kinds.index("selectbox")
    assert at.sidebar.selectbox[0].label == "Language"
