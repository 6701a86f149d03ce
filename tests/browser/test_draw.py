"""Drawing in real Chromium: the Draw source's canvas takes mouse strokes; the Digits model reads them;
undo and clear; the canvas fits a phone."""

import math

from tests.browser.conftest import choose, open_page, screenshot, wait_for_run


def _settle(page) -> None:
    """A finished stroke or a button sends the canvas's picture, which starts one more run."""
    wait_for_run(page, timeout=60_000)
    page.wait_for_timeout(2500)
    wait_for_run(page, timeout=60_000)


def _choose_digits_and_draw(page) -> None:
    side = page.locator("[data-testid='stSidebar']")
    choose(page, "Model", "Digits (trained on UCI handwriting)")
    side.get_by_text("Draw", exact=True).click()
    wait_for_run(page)
    side.locator("canvas").first.wait_for(timeout=30_000)


def _stroke(page, points) -> None:
    canvas = page.locator("[data-testid='stSidebar'] canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    scale = box["width"] / 240
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + points[0][0] * scale, y0 + points[0][1] * scale)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x * scale, y0 + y * scale, steps=2)
    page.mouse.up()
    _settle(page)


def _says(page) -> str:
    text = page.locator("[data-testid='stMain']").inner_text()
    return next((line for line in text.splitlines() if line.startswith("The model says")), "")


def test_draw_a_one_then_a_zero(page, server):
    open_page(page, server, "activations")
    _choose_digits_and_draw(page)
    side = page.locator("[data-testid='stSidebar']")
    assert side.get_by_text("Nothing drawn yet").count() == 1
    _stroke(page, [(120, 25 + 10 * i) for i in range(20)])
    assert _says(page).startswith("The model says 1 ")
    assert side.get_by_text("Your drawing").count() == 1
    screenshot(page, "draw-one")
    side.get_by_role("button", name="Clear").click()
    _settle(page)
    assert side.get_by_text("Nothing drawn yet").count() == 1
    side.get_by_role("button", name="Undo").click()  # the 1 comes back
    _settle(page)
    assert _says(page).startswith("The model says 1 ")
    side.get_by_role("button", name="Clear").click()
    _settle(page)
    ring = [(120 + 55 * math.sin(a / 20 * 2 * math.pi), 120 - 90 * math.cos(a / 20 * 2 * math.pi)) for a in range(21)]
    _stroke(page, ring)
    assert _says(page).startswith("The model says 0 ")
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "draw-zero")


def test_canvas_fits_a_phone(page, server):
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server, "activations")
    page.locator("[data-testid='stExpandSidebarButton'], [data-testid='stSidebarCollapsedControl'] button").first.click()
    page.wait_for_timeout(500)
    side = page.locator("[data-testid='stSidebar']")
    side.get_by_text("Draw", exact=True).click()
    wait_for_run(page)
    canvas = side.locator("canvas").first
    canvas.wait_for(timeout=30_000)
    box = canvas.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    screenshot(page, "draw-phone")
