"""Layer lab in a real Chromium: moving sliders changes the shown shapes; bad settings show an error."""

from __future__ import annotations

import re

from tests.browser.conftest import NAV_LINK, open_page, screenshot, set_slider, wait_for_run


def open_layer_lab(page, server) -> None:
    # The Layer lab is the app's default page: open it as `make run` users do, at the root URL.
    open_page(page, server, "")
    page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
    page.locator("[data-testid='stMain'] h1", has_text="Layer lab").wait_for(timeout=60_000)
    page.locator(NAV_LINK, has_text="Layer lab").wait_for(timeout=60_000)


def metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


def wait_for_metric(page, label: str, value: str) -> None:
    page.locator("[data-testid='stMetric']", has_text=label).first.locator(
        "[data-testid='stMetricValue']", has_text=value).wait_for(timeout=60_000)


MAPS_LOADED = """() => { const i = document.querySelector(".st-key-ll-maps_image img");
  return !!i && i.complete && i.naturalWidth > 0; }"""


def wait_for_maps(page) -> None:
    page.wait_for_function(MAPS_LOADED, timeout=90_000)


def no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_sliders_change_the_output_shape(page, server):
    open_layer_lab(page, server)
    no_exception(page)
    # Defaults: 120x60x1 input, 10 filters 3x3 'same', stride 1, then 2x2 max pooling.
    wait_for_metric(page, "Conv2D output", "120 × 60 × 10")
    assert metric(page, "Pooling output") == "60 × 30 × 10"
    wait_for_maps(page)
    assert page.locator("[data-testid='stMain'] .js-plotly-plot").count() == 0  # images only, until the zoom is on
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


def test_all_filters_maps_follow_the_filter_count(page, server):
    open_layer_lab(page, server)
    wait_for_maps(page)
    width = page.evaluate("document.querySelector('.st-key-ll-maps_image img').naturalWidth")
    assert set_slider(page, "Filters (F)", -8) == "2"
    page.wait_for_function(f"() => {{ const i = document.querySelector('.st-key-ll-maps_image img'); "
                           f"return i && i.complete && i.naturalWidth > 0 && i.naturalWidth < {width}; }}", timeout=60_000)
    assert page.locator("[data-testid='stCaptionContainer']", has_text="1: Edges: Sobel x").count() >= 1
    no_exception(page)


def test_phone_width_nothing_clipped_and_the_shape_sits_under_its_sliders(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_page(page, server, "")  # the sidebar is collapsed at phone width
        page.wait_for_selector("[data-testid='stMetric']", timeout=90_000)
        wait_for_maps(page)
        main_overflow = page.evaluate(
            "(() => { const m = document.querySelector(\"[data-testid='stMain']\"); return m.scrollWidth - m.clientWidth; })()")
        assert main_overflow <= 1  # nothing sticks out sideways: no clipped page
        # every formula wider than its box scrolls inside that box
        boxes = page.evaluate("""[...document.querySelectorAll('.katex-display')].map(e =>
            [e.scrollWidth > e.clientWidth + 1, getComputedStyle(e).overflowX])""")
        assert boxes and all(style in ("auto", "scroll") for wide, style in boxes if wide)
        assert any(wide for wide, _ in boxes)  # at 390 px some formula is wider than the screen: the rule matters

        def top(locator):
            return locator.first.bounding_box()["y"]

        channels = top(page.locator("[data-testid='stSlider']", has_text="Input channels (C)"))
        chain = top(page.locator("[data-testid='stMarkdownContainer']", has_text="→ Conv2D"))
        assert 0 < chain - channels < 150  # the output shape right under the input's sliders
        activation = top(page.locator("[data-testid='stSelectbox']", has_text="Activation"))
        conv = top(page.locator("[data-testid='stMarkdownContainer']", has_text="(Conv2D output)"))
        assert 0 < conv - activation < 150
        no_exception(page)
        screenshot(page, "layer_lab-phone")
    finally:
        context.close()


def _number(page, label: str) -> str:
    return page.locator("[data-testid='stNumberInput']", has_text=label).first.locator("input").input_value()


def _loaded(page, img) -> None:
    """Wait for the picture (inside the component's shadow root: document.querySelector does not see it)."""
    for _ in range(120):
        if img.evaluate("i => i.complete && i.naturalWidth > 0"):
            return
        page.wait_for_timeout(500)
    raise AssertionError("the picture did not load")


def test_click_on_the_grid_output_moves_the_window(page, server):
    """A click on a cell of the grid's output part moves the output position there: the position's
    inputs change, and the cell now under the pointer is the selected one (its colour, read off the screen)."""
    import io

    from PIL import Image

    from cnnviz.plots import cells, layer_lab

    open_page(page, server, "?ll.input_h=12&ll.input_w=10")  # a 12 x 10 output: the output part is not cropped
    grid = page.locator("[data-testid='stMain'] img[alt*='Click a cell of the output']").first
    grid.wait_for(timeout=60_000)
    _loaded(page, grid)
    grid.scroll_into_view_if_needed()
    assert (_number(page, "Output row"), _number(page, "Output column")) == ("0", "0")
    box = grid.bounding_box()
    x, y = box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.5
    page.mouse.click(x, y)
    page.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stNumberInput'] input")]
      .some(i => i.value !== "0")""", timeout=60_000)
    wait_for_run(page)
    row, col = int(_number(page, "Output row")), int(_number(page, "Output column"))
    assert row > 0 and col > 0
    _loaded(page, grid)
    page.wait_for_timeout(500)
    shot = Image.open(io.BytesIO(page.screenshot(clip={"x": x, "y": y, "width": 1, "height": 1}))).convert("RGB")
    assert shot.getpixel((0, 0)) == cells.rgb(layer_lab.OUT_SELECTED)
    no_exception(page)
    screenshot(page, "layer-lab-grid-clicked")


def test_compare_shows_a_and_b_side_by_side(page, server):
    open_layer_lab(page, server)
    wait_for_maps(page)
    page.get_by_text("Compare with settings B").click()
    wait_for_run(page)
    for name in ("A", "B"):
        page.wait_for_function(f"""() => {{ const i = document.querySelector(".st-key-ll-compare-maps_{name} img");
          return !!i && i.complete && i.naturalWidth > 0; }}""", timeout=90_000)
    table = page.locator("[data-testid='stTable']").first
    assert "Receptive field" in table.inner_text() and "≠" in table.inner_text()
    a_box = page.locator(".st-key-ll-compare-maps_A img").bounding_box()
    b_box = page.locator(".st-key-ll-compare-maps_B img").bounding_box()
    assert b_box["x"] > a_box["x"] + a_box["width"] - 1 and abs(b_box["y"] - a_box["y"]) < 60  # next to each other
    assert "ll.compare=" in page.url
    no_exception(page)
    page.locator(".st-key-ll-compare-maps_A").scroll_into_view_if_needed()
    screenshot(page, "layer-lab-compare")
