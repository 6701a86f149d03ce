"""WCAG 2.2 AA by axe-core (tests/vendor/axe-core) on every page of the app, in English and Korean, at
1400 px and 390 px, in the states a user reaches: each page as it opens, the step pages advanced, the
Activations zoom open (it opens with the page), the Explain maps computed and its sanity check run, Practice
answered wrongly (the worked solution shown). The Train results and an uploaded model are checked where
tests/browser/test_model.py reaches them. Goal: no violation at all."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cnnviz import i18n
from tests.a11y import audit_widths, report
from tests.browser.conftest import ROOT, wait_for_images, wait_for_run

PAGES = ["layer_lab", "convolution", "pooling", "practice", "probability", "glossary",
         "activations", "filters", "explain", "live", "model", "train"]  # the navigation's order
LANGS = {"en": "", "ko": "cnnviz.lang=" + quote("한국어")}


def test_the_list_names_every_page():
    assert sorted(PAGES) == sorted(p.stem for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))


def _open(page, server, name: str, lang: str) -> None:
    query = LANGS[lang]
    page.goto(f"{server.url}/{name}" + (f"?{query}" if query else ""))
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=120_000)
    wait_for_run(page, timeout=180_000)
    page.wait_for_timeout(1000)  # images and plotly charts arrive after the run's last message
    wait_for_images(page)
    assert page.locator("[data-testid='stException']").count() == 0, name


def _expand_all(page) -> None:
    """Open every expander (client-side: no rerun), so what they hold is checked too: numbers tables, code,
    help texts."""
    page.evaluate("""() => { for (const s of document.querySelectorAll(
        "[data-testid='stMain'] [data-testid='stExpander'] details:not([open]) > summary")) s.click(); }""")
    page.wait_for_timeout(500)


def _press(page, name: str) -> None:
    page.get_by_role("button", name=re.compile(re.escape(name))).first.click()
    try:  # the run the press starts (a busy machine may take a moment to begin it; a short one may be missed)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='running']", timeout=10_000)
    except PlaywrightTimeout:
        pass
    wait_for_run(page, timeout=240_000)
    page.wait_for_timeout(800)


@pytest.mark.parametrize("lang", list(LANGS))
def test_every_page_and_state_passes_axe(browser, server, lang):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    found = {}
    try:
        _open(page, server, "", lang)  # the app's navigation runs once before the deep links
        for name in PAGES:
            _open(page, server, name, lang)
            _expand_all(page)
            found |= audit_widths(page, f"{name} ({lang})")
            if name in ("convolution", "pooling"):
                _press(page, i18n.t("conv.next", lang))
                _expand_all(page)
                found |= audit_widths(page, f"{name} advanced ({lang})")
            elif name == "explain":
                _press(page, i18n.t("explain.sanity.run", lang))
                _expand_all(page)
                found |= audit_widths(page, f"explain sanity check ({lang})")
    finally:
        context.close()
    assert not found, "axe found WCAG 2.2 A/AA violations:\n" + report(found)
