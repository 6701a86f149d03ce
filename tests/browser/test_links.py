"""Links reopen a view: settings changed in one browser, the page's address opened in a fresh browser
context (a new session) shows the same settings; a tampered link gives defaults, a notice, no exception,
nothing rendered as HTML."""

from tests.browser.conftest import choose, fresh_page, open_page, screenshot, set_slider, wait_for_run


def _slider(page, label: str) -> str:
    return page.locator("[data-testid='stSlider']", has_text=label).first.locator("input[type=range]").first \
        .get_attribute("value")


def _fresh(browser, url: str):
    return fresh_page(browser, url)


def _no_exception(page):
    assert page.locator("[data-testid='stException']").count() == 0


def test_layer_lab_link_reopens_the_same_settings(page, server, browser):
    open_page(page, server, "")
    page.locator("[data-testid='stMain'] h1").first.wait_for()
    assert set_slider(page, "Kernel height", 2) == "5"
    page.locator("[data-testid='stRadio']", has_text="Padding").first.get_by_text("valid", exact=True).click()
    wait_for_run(page)
    assert "ll.kernel_h=5" in page.url and "ll.padding=valid" in page.url
    page.get_by_text("Link to this view").first.click()
    shown = page.locator("[data-testid='stCode']").first.inner_text()
    assert "ll.kernel_h=5" in shown
    context, fresh = _fresh(browser, page.url)
    try:
        assert _slider(fresh, "Kernel height") == "5"
        assert "120 × 60 × 1 → 116 × 58 × 10 (Conv2D output)" in fresh.locator("[data-testid='stMain']").inner_text()
        _no_exception(fresh)
        screenshot(fresh, "link-layer-lab")
    finally:
        context.close()


def test_sidebar_model_sample_and_language_are_in_the_link(page, server, browser):
    context, first = _fresh(browser, f"{server.url}/activations")
    try:
        choose(first, "Language", "한국어")
        first.locator("[data-testid='stMain'] h1", has_text="액티베이션").first.wait_for()
        choose(first, "모델", "숫자(UCI 손글씨로 학습)")
        choose(first, "예시 이미지", "그린 숫자: 7")
        link = first.url
    finally:
        context.close()
    assert "cnnviz.lang=" in link and "cnnviz.model.widget=" in link and "cnnviz.sample.widget=" in link
    context, fresh = _fresh(browser, link)
    try:
        text = fresh.locator("[data-testid='stMain']").inner_text()
        assert "액티베이션 맵" in text
        assert "**7**" in text or "7" in fresh.locator("[data-testid='stMain'] strong").all_inner_texts()
        _no_exception(fresh)
        screenshot(fresh, "link-activations-digits-ko")
    finally:
        context.close()


def test_convolution_link(page, server, browser):
    open_page(page, server, "convolution")
    page.locator("[data-testid='stMain'] h1").first.wait_for()
    assert set_slider(page, "Stride", 1) == "2"
    assert "convolution.stride.w=2" in page.url
    context, fresh = _fresh(browser, page.url)
    try:
        assert _slider(fresh, "Stride") == "2"
        _no_exception(fresh)
    finally:
        context.close()


def test_tampered_link(page, server, browser):
    dialogs = []
    bad = ("/?ll.kernel_h=99&ll.filters=abc&ll.padding=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
           "&cnnviz.lang=xx&cnnviz.model.widget=%2A%2Abold%2A%2A&zzz=%3Cb%3Ehi%3C%2Fb%3E&" + "y" * 3000 + "=1")
    context, fresh = _fresh(browser, server.url + bad)
    try:
        fresh.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        fresh.locator("[data-testid='stMain'] h1").first.wait_for()
        _no_exception(fresh)
        assert _slider(fresh, "Kernel height") == "3" and _slider(fresh, "Filters") == "10"  # defaults
        side = fresh.locator("[data-testid='stSidebar']")
        notice = side.get_by_text("The link had settings this app does not know").first
        notice.wait_for()
        assert "zzz" in notice.inner_text()
        assert fresh.locator("[data-testid='stSidebar'] b", has_text="hi").count() == 0  # not HTML
        assert not dialogs
        assert "zzz" not in fresh.url and "kernel_h=99" not in fresh.url
        screenshot(fresh, "link-tampered")
    finally:
        context.close()
