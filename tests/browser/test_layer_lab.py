"""Layer lab in a real Chromium: moving sliders changes the shown shapes; bad settings show an error."""

from __future__ import annotations

import re

from tests.browser.conftest import open_page, screenshot, set_slider


def open_layer_lab(page, server) -> None:
    # The Layer lab is the app's default page: open it as `make run` users do, at the root URL.
    open_page(page, server, "")
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    page.locator("[data-testid='stMain'] h1", has_text="Layer lab").wait_for(timeout=60_000)
    page.locator("[data-testid='stSidebarNav']", has_text="Layer lab").wait_for(timeout=60_000)


def metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def wait_for_metric(page, label: str, value: str) -> None:
    page.locator("[data-testid='stMetric']", has_text=label).first.locator(
        "[data-testid='stMetricValue']", has_text=value).wait_for(timeout=60_000)


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_sliders_change_the_output_shape(page, server):
    open_layer_lab(page, server)
    no_exception(page)
    # Defaults: 120x60x1 input, 10 filters 3x3 'same', stride 1, then 2x2 max pooling.
    wait_for_metric(page, "Conv2D output", "120 × 60 × 10")
    assert metric(page, "Pooling output") == "60 × 30 × 10"
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=90_000)
    screenshot(page, "layer_lab-default")

    assert set_slider(page, "Stride (s)", 1) == "2"  # 'same' with stride 2: ceil(120/2) x ceil(60/2)
    wait_for_metric(page, "Conv2D output", "60 × 30 × 10")
    assert metric(page, "Pooling output") == "30 × 15 × 10"

    assert set_slider(page, "Filters (F)", 2) == "12"
    wait_for_metric(page, "Conv2D output", "60 × 30 × 12")
    assert metric(page, "Parameters") == "120"  # (3*3*1 + 1) * 12
    no_exception(page)
    screenshot(page, "layer_lab-stride2")


def test_stride_with_dilation_shows_an_explanation(page, server):
    open_layer_lab(page, server)
    set_slider(page, "Stride (s)", 1)
    set_slider(page, "Dilation (d)", 1)
    alert = page.locator("[data-testid='stAlertContainer']", has_text="dilation").first
    alert.wait_for(timeout=60_000)
    assert re.search(r"stride.*dilation", alert.inner_text(), re.I | re.S)
    no_exception(page)
    assert metric(page, "Conv2D output") == "—"
    assert page.locator("[data-testid='stCode']").count() >= 1  # the rest of the page still renders
    screenshot(page, "layer_lab-bad-combination")
