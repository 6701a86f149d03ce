"""The Practice page in real Chromium, at 1400 px and 390 px: an exercise answered with the keyboard only
(Tab to the boxes, type, Enter checks), a wrong answer's slip and worked solution, then the right one."""

from __future__ import annotations

import pytest

from cnnviz.lessons import exercises as ex
from tests.browser.conftest import fresh_page, screenshot, wait_for_run

LINK = "practice?practice.level.w=2&practice.seed.w=5"  # the kind "Output shape of a Conv2D" is the default


def tab_to(page, label: str, limit: int = 200) -> None:
    """Press Tab until the focused element is the input labelled `label` (keyboard only, no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement && document.activeElement.getAttribute('aria-label')") == label:
            return
    raise AssertionError(f"Tab never reached the box {label!r}")


def answer(page, values) -> None:
    for label, value in zip(("Height", "Width", "Channels"), values):
        tab_to(page, label)
        page.keyboard.press("Control+A")
        page.keyboard.type(str(value))
    page.keyboard.press("Enter")  # Enter in a form's box checks the answer
    wait_for_run(page)


@pytest.mark.parametrize("width", [1400, 390])
def test_an_exercise_answered_with_the_keyboard_only(browser, server, width):
    e = ex.make("shape", 2, 5)
    context, page = fresh_page(browser, f"{server.url}/{LINK}", width=width, height=1000 if width > 400 else 900)
    try:
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("Exercise 5, level 2").wait_for()
        oh, ow, f = e.truth
        answer(page, (oh, ow, e.settings["c"]))  # the input's channels instead of the filters
        alert = main.locator("[data-testid='stAlert']", has_text="Not quite")
        alert.wait_for()
        assert "The channels out are the number of filters" in alert.inner_text()
        main.locator(".katex").first.wait_for()  # the worked solution, typeset
        screenshot(page, f"practice-worked-{width}")
        answer(page, e.truth)
        main.locator("[data-testid='stAlert']", has_text="Right: that is what Keras computes.").wait_for()
        assert page.locator("[data-testid='stException']").count() == 0
        metrics = main.locator("[data-testid='stMetricValue']").all_inner_texts()
        assert metrics[:2] == ["0 / 1", "0"], metrics  # counted once, at the first (wrong) check
    finally:
        context.close()
