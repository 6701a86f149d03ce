"""The page around the pages, as axe-core and the browser see it: <html lang> follows the language choice,
the sidebar's page links (our own: Streamlit's list breaks axe's `list` and `listitem`) pass axe at desktop
and phone width in both languages, captions and slider values meet 4.5:1 in the light and the dark theme,
and boxes that scroll sideways on a phone take the keyboard focus. One server, and one in the dark theme."""

from __future__ import annotations

import pytest

from tests.a11y import audit, describe
from tests.browser.conftest import NAV_LINK, choose, fresh_page, screenshot, start_server, stop_server, wait_for_run

RULES = {"list", "listitem", "color-contrast", "scrollable-region-focusable"}
KOREAN = "한국어"  # the language select's label for Korean, also its value in a link (?cnnviz.lang=...)


def _html_lang(page) -> str:
    return page.evaluate("document.documentElement.lang")


def _wait_lang(page, lang: str) -> None:
    page.wait_for_function(f"document.documentElement.lang === '{lang}'", timeout=30_000)


def _violations(page, rules=RULES) -> list[dict]:
    return [v for v in audit(page) if v["id"] in rules]


def test_html_lang_follows_the_language_choice(browser, server):
    context, page = fresh_page(browser, server.url)
    try:
        _wait_lang(page, "en")
        choose(page, "Language", KOREAN)
        _wait_lang(page, "ko")
        # another page through its link: still Korean, and that link is the current one
        page.locator(NAV_LINK, has_text="용어집").click()
        wait_for_run(page)
        page.locator("[data-testid='stMain'] h1", has_text="용어집").wait_for()
        assert _html_lang(page) == "ko"
        page.wait_for_function(
            "() => { const c = [...document.querySelectorAll(\"[aria-current='page']\")];"
            " return c.length === 1 && c[0].getAttribute('href') === 'glossary'; }", timeout=30_000)
        choose(page, "언어", "English")
        _wait_lang(page, "en")
        page.locator("[data-testid='stMain'] h1", has_text="Glossary").wait_for()
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.parametrize("path", ["convolution", "glossary"])
def test_navigation_and_contrast_pass_axe(browser, server, path, width, lang):
    query = f"?cnnviz.lang={KOREAN}" if lang == "ko" else ""
    context, page = fresh_page(browser, f"{server.url}/{path}{query}", width=width, height=900, timeout=120_000)
    try:
        _wait_lang(page, lang)
        links = page.locator(NAV_LINK)
        links.last.wait_for(state="attached")
        assert links.count() == 12
        if width == 390:  # the sidebar starts collapsed on a phone: open it, as a user does, then audit with it open
            sidebar = page.locator("[data-testid='stSidebar']")
            assert sidebar.get_attribute("data-collapsed") == "true"
            page.locator("[data-testid='stExpandSidebarButton']").click()
            page.wait_for_selector("[data-testid='stSidebar'][data-collapsed='false']")
            page.wait_for_timeout(600)  # the sidebar slides in
        if path == "convolution" and width == 390:  # its formulas are wider than a phone: focusable regions
            page.wait_for_selector("[data-testid='stMain'] .katex-display[role='region'][tabindex='0'][aria-label]")
            box = page.locator("[data-testid='stMain'] .katex-display[role='region']").first
            box.focus()
            page.keyboard.press("ArrowRight")  # the keyboard scrolls it
            page.wait_for_function("(e) => e.scrollLeft > 0", arg=box.element_handle(), timeout=10_000)
        current = page.locator(f"{NAV_LINK}[aria-current='page']")
        current.first.wait_for()
        landmark = page.get_by_role("navigation", name="페이지" if lang == "ko" else "Pages")
        assert landmark.locator("[data-testid='stPageLink-NavLink']").count() == 12
        assert current.count() == 1 and current.get_attribute("href") == path
        if path == "glossary" and lang == "en":  # its Korean terms, marked, read exactly as written
            spans = page.locator("[data-testid='stMain'] h3 span[lang='ko']")
            assert spans.count() == 21
            first = page.locator("[data-testid='stMain'] h3", has=page.locator("span[lang='ko']")).first
            assert first.inner_text().strip() == "Convolution (합성곱)"
            assert spans.first.inner_text() == "합성곱"
        bad = _violations(page)
        screenshot(page, f"page-chrome-{path}-{width}-{lang}")
        assert not bad, describe(bad)
    finally:
        context.close()


def test_nav_link_works_at_phone_width(browser, server):
    context, page = fresh_page(browser, server.url, width=390, height=900)
    try:
        page.locator(NAV_LINK).last.wait_for(state="attached")
        page.locator("[data-testid='stExpandSidebarButton']").click()
        page.wait_for_selector("[data-testid='stSidebar'][data-collapsed='false']")
        link = page.locator(NAV_LINK, has_text="Glossary")
        link.click()
        wait_for_run(page)
        page.locator("[data-testid='stMain'] h1", has_text="Glossary").wait_for()
        assert page.url.split("?")[0].endswith("/glossary")
        page.wait_for_selector("[data-testid='stSidebar'][data-collapsed='true']", state="attached")  # out of the way
        assert page.locator("[data-testid='stExpandSidebarButton']").is_visible()  # and back with a tap
    finally:
        context.close()


@pytest.fixture
def dark_server():
    """The dark theme needs a server of its own: with the app's `[theme] base = "light"` the browser keeps
    to it (neither the menu, hidden by `toolbarMode = "minimal"`, nor `?embed_options=dark_theme` switch)."""
    srv = start_server("streamlit-dark.log", env={"STREAMLIT_THEME_BASE": "dark"})
    yield srv
    stop_server(srv)


def test_dark_theme_contrast(browser, dark_server):
    context, page = fresh_page(browser, f"{dark_server.url}/convolution", timeout=120_000)
    try:
        page.locator(NAV_LINK).last.wait_for()
        background = page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor")
        channels = [int(c) for c in background[background.index("(") + 1:background.index(")")].split(",")[:3]]
        assert max(channels) < 60, background  # the dark theme is on
        page.wait_for_timeout(1000)
        bad = _violations(page, {"color-contrast"})
        screenshot(page, "page-chrome-dark-convolution")
        assert not bad, describe(bad)
    finally:
        context.close()


def _luminance(rgb) -> float:
    def channel(v):
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2])


def _contrast(a, b) -> float:  # WCAG 2's contrast ratio
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


_PLOT_TEXTS = """(sel) => [...document.querySelectorAll(sel)]
  .filter(t => t.textContent.trim() && !t.closest('.heatmap-label')).map(t => {
    const s = getComputedStyle(t);
    return [t.textContent.slice(0, 30), s.fill, Number(s.fillOpacity)]; })"""


def _rgb(css: str) -> list[float]:
    return [float(v) for v in css[css.index("(") + 1:css.index(")")].replace(",", " ").split()[:3]]


@pytest.mark.parametrize("path, selector, ground", [
    # axis, colour-bar and subplot labels of the Filters page's charts, on the page's ground (the heatmaps'
    # numbers on their cells are the colour scale's business)
    ("filters", "[data-testid='stPlotlyChart'] svg text", None),
    # the Model page's architecture figure: layer labels on its white plot
    ("model", "[data-testid='stPlotlyChart'] svg .annotation-text", (255, 255, 255)),
])
def test_plot_labels_meet_4_5(browser, server, path, selector, ground):
    context, page = fresh_page(browser, f"{server.url}/{path}", timeout=120_000)
    try:
        page.wait_for_selector(selector)
        page.wait_for_timeout(1000)
        ground = ground or _rgb(page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor"))
        texts = page.evaluate(_PLOT_TEXTS, selector)
        assert len(texts) >= 5
        low = []
        for text, fill, opacity in texts:
            shown = [opacity * c + (1 - opacity) * g for c, g in zip(_rgb(fill), ground)]
            if _contrast(shown, ground) < 4.5:
                low.append((text, fill, round(_contrast(shown, ground), 2)))
        assert not low, low
    finally:
        context.close()


def test_wide_table_and_code_take_the_keyboard_on_a_phone(browser, server):
    """The Model page at 390 px: its layer table and its Keras code are wider than the screen."""
    context, page = fresh_page(browser, f"{server.url}/model", width=390, height=900, timeout=120_000)
    try:
        for name in ("Table", "Code"):
            page.wait_for_selector(f"[data-testid='stMain'] [role='region'][tabindex='0'][aria-label^='{name}']")
        page.wait_for_timeout(600)
        bad = _violations(page, {"scrollable-region-focusable"})
        assert not bad, describe(bad)
    finally:
        context.close()


def test_page_links_show_keyboard_focus(browser, server):
    """Tab from the top: the skip link, then the first page link, ringed (Streamlit's own focus style is the
    grey that also marks the current page, here the Layer lab's)."""
    context, page = fresh_page(browser, server.url)
    try:
        page.locator(NAV_LINK).last.wait_for()
        for _ in range(4):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.testid") == "stPageLink-NavLink":
                break
        focused = page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
            return [e.getAttribute('aria-current'), s.outlineStyle, parseFloat(s.outlineWidth)]; }""")
        assert focused == ["page", "solid", 2.0]
    finally:
        context.close()
