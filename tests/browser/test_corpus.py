"""Two models of the corpus (tests/corpus.py) uploaded in real Chromium and shown on Activations and
Filters: a transfer-learning model with a nested Keras Application, and a U-Net-like model that takes any
input size."""

import pytest

from tests import corpus
from tests.browser.conftest import ARTIFACTS, NAV_LINK, open_page, screenshot, wait_for_run


def _upload(page, server, key: str) -> None:
    open_page(page, server, "model")
    page.wait_for_selector("[data-testid='stFileUploader']", timeout=90_000)
    path = ARTIFACTS / f"{key}.keras"
    path.write_bytes(corpus.saved(key))
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(path))
    wait_for_run(page)
    page.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=90_000)


def _go(page, title: str) -> None:
    page.locator(NAV_LINK, has_text=title).first.click()
    wait_for_run(page, timeout=120_000)
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    page.wait_for_timeout(1000)


def _no_errors(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    errors = page.locator("[data-testid='stAlertContentError']")
    assert errors.count() == 0, [errors.nth(i).inner_text() for i in range(errors.count())]


@pytest.mark.parametrize("key, expect", [
    ("transfer", ["mobilenetv2_0.35_96: 29 layers of a nested model", "x × 0.00784314 + -1"]),  # 30 layers a window
    ("unet_like", ["any height and width"]),
])
def test_uploaded_real_model_on_activations_and_filters(page, server, key, expect):
    _upload(page, server, key)
    _go(page, "Activations")
    main = page.locator("[data-testid='stMain']")
    main.locator("[data-testid='stImage']").nth(3).wait_for(timeout=120_000)
    screenshot(page, f"corpus-{key}-activations")
    _no_errors(page)
    text = main.inner_text()
    for fragment in expect:
        assert fragment in text, fragment
    _go(page, "Filters")
    main.locator("[data-testid='stImage']").first.wait_for(timeout=60_000)
    _no_errors(page)
    assert "Every filter's kernels" in main.inner_text() or "Depthwise part" in main.inner_text()
    screenshot(page, f"corpus-{key}-filters")
