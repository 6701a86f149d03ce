"""In a real Chromium: step through output positions, play them all, switch to Korean; screenshots."""

import re

from tests.browser.conftest import choose, open_page, screenshot, wait_for_run


def total(page) -> str:
    metric = page.locator("[data-testid='stMetric']", has_text="Sum of all channels + bias").first
    return metric.locator("[data-testid='stMetricValue']").inner_text()


def slider_input(page, label: str):
    return page.locator("[data-testid='stSlider']", has_text=label).first.locator("input[type=range]").first


def slider_value(page, label: str) -> float:
    return float(slider_input(page, label).get_attribute("value"))


def wait_slider(page, label: str, value: int) -> None:
    """Wait until the slider shows `value` (the rerun that moves it may start late on a busy machine)."""
    page.wait_for_function(
        """([label, value]) => [...document.querySelectorAll("[data-testid='stSlider']")]
                 .some(s => s.innerText.includes(label) && s.querySelector("input[type=range]").value === value)""",
        arg=[label, str(value)], timeout=60_000,
    )
    wait_for_run(page)


def set_slider(page, label: str, presses: int) -> None:
    """Arrow keys on the slider's hidden range input: one step per press (React Aria)."""
    slider_input(page, label).focus()
    for _ in range(abs(presses)):
        page.keyboard.press("ArrowRight" if presses > 0 else "ArrowLeft")
    wait_for_run(page)


def open_convolution(page, server) -> None:
    # The app's own navigation (app.py) must have run once in this session before a deep link is
    # resolved by it rather than by the bare pages/ folder.
    page.set_viewport_size({"width": 1400, "height": 2600})  # Streamlit scrolls inside: a tall window shows all
    open_page(page, server, "")
    open_page(page, server, "convolution")
    page.wait_for_selector("[data-testid='stMain'] h1:has-text('Convolution step by step')")


def test_step_through_positions_and_play(page, server):
    open_convolution(page, server)
    assert page.locator("[data-testid='stException']").count() == 0
    first = total(page)
    seen = {first}
    for step in range(3):
        page.get_by_role("button", name=re.compile("Next")).click()
        wait_slider(page, "Output column", step + 1)
        seen.add(total(page))
        screenshot(page, f"convolution-step-{step + 1}")
    assert len(seen) > 1, "stepping the position changes the shown sum"

    set_slider(page, "Output row", 2)
    wait_slider(page, "Output row", 2)
    screenshot(page, "convolution-row-2")

    page.get_by_role("button", name=re.compile("Play")).click()
    page.wait_for_timeout(1500)
    screenshot(page, "convolution-playing")  # mid-play: the output map is filling in
    # Play ends by moving the sliders to the last position (a rerun after the last step).
    wait_slider(page, "Output row", 3)
    wait_slider(page, "Output column", 3)
    assert (slider_value(page, "Output row"), slider_value(page, "Output column")) == (3, 3)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "convolution-after-play")


def test_korean(page, server):
    open_convolution(page, server)
    choose(page, "Language", "한국어")
    page.wait_for_selector("[data-testid='stMain'] h1:has-text('합성곱 단계별 보기')")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("출력 맵 (ReLU 전)").count() >= 1
    screenshot(page, "convolution-ko")


def test_click_on_the_output_map_moves_the_window(page, server):
    open_convolution(page, server)
    grid = page.locator("[data-testid='stMain'] img[alt$='Click a cell to move the window there.']").first
    grid.wait_for(timeout=60_000)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 8, box["y"] + box["height"] - 8)  # the bottom-right cell
    wait_for_run(page)
    last_row = int(slider_input(page, "Output row").get_attribute("max"))
    last_col = int(slider_input(page, "Output column").get_attribute("max"))
    wait_slider(page, "Output row", last_row)
    wait_slider(page, "Output column", last_col)
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "convolution-clicked")
