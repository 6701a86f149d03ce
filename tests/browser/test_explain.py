"""The Explain page in real Chromium: the trained default (two maps, sanity check, feature visualisation),
at phone width, and a nested transfer-learning model (a Keras Application inside) uploaded."""

from tests.browser.conftest import open_page, screenshot, wait_for_run
from tests.browser.test_corpus import _go, _no_errors, _upload


def _maps_drawn(page, n: int) -> None:
    main = page.locator("[data-testid='stMain']")
    main.locator(".js-plotly-plot").nth(n - 1).wait_for(timeout=120_000)
    assert main.locator(".js-plotly-plot .heatmaplayer, .js-plotly-plot g.imagelayer image").count() >= 2


def test_explain_default_model(page, server):
    open_page(page, server, "explain")
    main = page.locator("[data-testid='stMain']")
    main.locator("h1", has_text="Explain").wait_for(timeout=60_000)
    _maps_drawn(page, 3)  # prediction, Grad-CAM, Saliency
    _no_errors(page)
    text = main.inner_text()
    assert "Layer: conv3" in text and "Predicted: triangle" in text and "last conv layer" in text
    page.locator("button", has_text="Run the sanity check").click()
    wait_for_run(page, timeout=120_000)
    main.locator("[data-testid='stDataFrame']").nth(1).wait_for(timeout=60_000)  # after the prediction's numbers table
    page.locator("button", has_text="Visualise").click()
    wait_for_run(page, timeout=240_000)
    main.get_by_text("What each filter looks for", exact=False).last.wait_for(timeout=60_000)
    _no_errors(page)
    screenshot(page, "explain")


def test_explain_at_phone_width(page, server):
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server, "explain")
    _maps_drawn(page, 3)
    _no_errors(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, overflow
    screenshot(page, "explain-phone")


def test_explain_nested_transfer_model(page, server):
    _upload(page, server, "transfer")
    _go(page, "Explain")
    _maps_drawn(page, 3)
    _no_errors(page)
    assert "Layer: mobilenetv2_0.35_96/out_relu" in page.locator("[data-testid='stMain']").inner_text()
    screenshot(page, "explain-transfer")
