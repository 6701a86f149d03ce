"""In a real Chromium: every <img> in the main area of Activations and of the Convolution page has an alt that
says what it shows with its numbers (st.image's alt, the click-grid component's img), and axe finds no image
without a text alternative. One server, one page context."""

import re

from tests.a11y import audit, describe
from tests.browser.conftest import open_page, screenshot, wait_for_images, wait_for_run

ALTS = """() => [...document.querySelectorAll("[data-testid='stMain'] img")]
                  .map(img => ({alt: img.getAttribute("alt"), src: (img.getAttribute("src") || "").slice(0, 60)}))"""


def main_alts(page) -> list[dict]:
    wait_for_images(page)
    return page.evaluate(ALTS)


def assert_alts(page, name: str) -> list[str]:
    assert page.locator("[data-testid='stException']").count() == 0
    images = main_alts(page)
    assert images, f"{name}: no image in the main area"
    bad = [i for i in images if not (i["alt"] or "").strip() or not re.search(r"\d", i["alt"])]
    assert not bad, f"{name}: images without a numeric alt: {bad}"
    missing = [v for v in audit(page) if v["id"] in ("image-alt", "role-img-alt", "input-image-alt")]
    assert not missing, describe(missing)
    screenshot(page, f"alt-text-{name}")
    return [i["alt"] for i in images]


def test_every_image_has_a_numeric_alt(page, server):
    page.set_viewport_size({"width": 1400, "height": 2600})
    open_page(page, server, "")
    open_page(page, server, "activations")
    page.wait_for_selector("[data-testid='stMain'] h1:has-text('Activations')")
    page.wait_for_selector("[data-testid='stMain'] .cnnviz-clickgrid img", timeout=60_000)  # the zoom's picture
    wait_for_run(page)
    alts = assert_alts(page, "activations")
    assert any(re.match(r"conv1: \d+ channels, each map \d+x\d+, values", a) for a in alts), alts
    assert any(a.startswith("conv1, channel 0: min") for a in alts), alts  # the zoom (its caption's numbers)

    open_page(page, server, "convolution")
    page.wait_for_selector("[data-testid='stMain'] h1:has-text('Convolution step by step')")
    page.wait_for_selector("[data-testid='stMain'] .cnnviz-clickgrid img", timeout=60_000)  # the output map
    wait_for_run(page)
    alts = assert_alts(page, "convolution")
    assert any("window over rows" in a and "output value" in a for a in alts), alts
    assert any(a.startswith("Output map (before ReLU): grid") and "current cell row 0, column 0" in a for a in alts), alts
