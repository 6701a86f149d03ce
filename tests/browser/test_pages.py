"""Every page opens in a real Chromium with no exception, and gets a screenshot."""

import pytest

from tests.browser.conftest import ROOT, open_page, screenshot

PAGES = sorted(p.stem for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_"))  # a new page is in


@pytest.mark.parametrize("path", PAGES)
def test_page_opens_without_exception(page, server, path):
    open_page(page, server, path)
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    screenshot(page, f"page-{path}")
    assert page.locator("[data-testid='stException']").count() == 0
