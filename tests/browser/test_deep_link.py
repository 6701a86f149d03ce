"""A direct link to a page on a freshly started server shows the page inside app.py's frame."""

import pytest

from tests.browser.conftest import NAV_LINK, open_page, screenshot, start_server, stop_server


@pytest.fixture
def fresh_server():
    # Its own server: the legacy pages/ mode only shows before any session has run app.py.
    srv = start_server("streamlit-deep-link.log")
    yield srv
    stop_server(srv)


def test_direct_link_on_fresh_server_has_shared_sidebar(page, fresh_server):
    open_page(page, fresh_server, "glossary")
    page.locator("[data-testid='stMain'] h1", has_text="Glossary").wait_for(timeout=60_000)
    sidebar = page.locator("[data-testid='stSidebar']")
    # app.py's language select and its titled page links, not the file-name list of the legacy mode
    sidebar.locator("[data-testid='stSelectbox']", has_text="Language").wait_for(timeout=60_000)
    nav = page.locator(NAV_LINK)
    assert nav.filter(has_text="Layer lab").count() == 1
    assert sidebar.get_by_text("layer_lab", exact=True).count() == 0
    assert page.locator("[data-testid='stSidebarNav']").count() == 0  # Streamlit's own list (or the legacy one)
    assert nav.filter(has_text="Glossary").get_attribute("aria-current") == "page"
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "deep-link-glossary")
