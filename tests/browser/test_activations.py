"""Activations and Filters in a real Chromium: upload an image, see every layer's grid and the prediction."""

import io

from PIL import Image, ImageDraw

from tests.browser.conftest import ARTIFACTS, NAV_LINK, open_page, screenshot, wait_for_run


def _shape_png() -> bytes:
    """A white square on black, the kind of image the trained default knows."""
    im = Image.new("RGB", (60, 120), "black")
    ImageDraw.Draw(im).rectangle([12, 40, 48, 76], fill="white")
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _choose_radio(page, group_text: str, option_text: str) -> None:
    group = page.locator("[data-testid='stRadio']", has_text=group_text).first
    option = group.locator("[data-testid='stRadioOption']", has_text=option_text).first
    option.click()
    wait_for_run(page)
    if option.get_attribute("data-selected") != "true":  # React Aria may ignore the click: use the keyboard
        group.locator("input[type=radio]:checked").focus()
        page.keyboard.press("ArrowDown")
        wait_for_run(page)
    assert option.get_attribute("data-selected") == "true"


def _open(page, server, title: str) -> None:
    """Root first, then the sidebar link, as a user does. (Opening /activations as the very first request
    of a fresh server runs the page without app.py: Streamlit's pages/ folder quirk, reported to the lead.)"""
    open_page(page, server)
    page.locator(NAV_LINK, has_text=title).first.click()
    wait_for_run(page)
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)


def _tall_screenshot(page, name: str) -> None:
    """Streamlit scrolls inside its main block, so full_page misses the bottom: grow the viewport instead."""
    height = page.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 100, 8000)})
    page.wait_for_timeout(1500)
    screenshot(page, name)
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_upload_shows_grids_and_prediction(page, server):
    _open(page, server, "Activations")
    main = page.locator("[data-testid='stMain']")
    main.locator("[data-testid='stPlotlyChart']").first.wait_for()
    screenshot(page, "activations-default")

    _choose_radio(page, "Image source", "Upload")
    path = ARTIFACTS / "upload-square.png"
    path.write_bytes(_shape_png())
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(path))
    wait_for_run(page)
    page.wait_for_selector("[data-testid='stSidebar'] [data-testid='stImage']")
    main.locator("[data-testid='stPlotlyChart']").first.wait_for()
    page.wait_for_timeout(1500)  # let plotly draw before the screenshot

    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    # 9 layer grids + the original + the model input
    assert main.locator("[data-testid='stImage']").count() >= 11
    # prediction bars, the zoomed unit's receptive field box and its effective field; the zoom is a picture
    assert main.locator("[data-testid='stPlotlyChart']").count() == 3
    assert main.locator(".st-key-activations-zoom-chart img").count() == 1
    text = main.inner_text()
    assert "Prediction" in text and "The model says" in text
    assert "upload-square.png" in page.locator("[data-testid='stSidebar']").inner_text()
    for name in ("conv1", "pool1", "conv3", "flatten", "output"):
        assert name in text
    assert "Language" in page.locator("[data-testid='stSidebar']").inner_text(), "app.py's sidebar is there"
    _tall_screenshot(page, "activations-upload")


def test_bad_upload_shows_error_and_page_keeps_working(page, server):
    _open(page, server, "Activations")
    _choose_radio(page, "Image source", "Upload")
    path = ARTIFACTS / "upload-not-an-image.png"
    path.write_bytes(b"this is text, not a picture\n" * 20)
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(path))
    wait_for_run(page)
    page.wait_for_selector("[data-testid='stSidebar'] [data-testid='stAlertContentError']")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("[data-testid='stMain'] [data-testid='stImage']").count() >= 11
    screenshot(page, "activations-bad-upload")


def test_filters_page(page, server):
    _open(page, server, "Filters")
    main = page.locator("[data-testid='stMain']")
    main.locator("[data-testid='stPlotlyChart']").first.wait_for()
    page.wait_for_timeout(1500)
    assert page.locator("[data-testid='stException']").count() == 0
    assert main.locator("[data-testid='stImage']").count() >= 1
    # the statistics, and the bias bars' and the zoom's numbers in their collapsed "Numbers as a table" expanders
    assert main.locator("[data-testid='stDataFrame']").count() == 3
    assert main.locator("[data-testid='stExpander'] [data-testid='stDataFrame']").count() == 2
    _tall_screenshot(page, "filters-default")


def test_click_on_the_zoomed_map_shows_that_unit_s_receptive_field(page, server):
    """The zoom is one picture: hovering a cell shows its row, column and value; a click moves the unit,
    outlined on the picture, and its receptive field follows."""
    open_page(page, server, "activations")
    main = page.locator("[data-testid='stMain']")
    caption = main.get_by_text("Theoretical receptive field:").first
    caption.wait_for(timeout=120_000)
    before = caption.inner_text()
    zoom = main.locator(".st-key-activations-zoom-chart img")
    zoom.scroll_into_view_if_needed()
    zoom.wait_for()
    page.wait_for_function("() => document.querySelector('.st-key-activations-zoom-chart img').complete")
    area = zoom.bounding_box()
    page.mouse.move(area["x"] + area["width"] * 0.1, area["y"] + area["height"] * 0.1)
    tip = main.locator(".cnnviz-clickgrid-tip")
    tip.wait_for(state="visible")
    assert tip.inner_text().startswith("row ") and ": " in tip.inner_text()
    changed = """(before) => [...document.querySelectorAll("[data-testid='stCaptionContainer']")]
        .some(c => c.innerText.startsWith("Theoretical receptive field:") && c.innerText !== before)"""
    page.mouse.click(area["x"] + area["width"] * 0.3 * 0.8, area["y"] + area["height"] * 0.25)
    wait_for_run(page)
    page.wait_for_function(changed, arg=before, timeout=30_000)
    after = main.get_by_text("Theoretical receptive field:").first.inner_text()
    assert after != before and "5 x 5 pixels" in after
    row = int(main.locator("[data-testid='stNumberInput']", has_text="Unit row").locator("input").input_value())
    assert row < 58  # the click was in the upper part of the map
    page.wait_for_function("() => getComputedStyle(document.querySelector('.cnnviz-clickgrid-mark')).display === 'block'")
    # the click focused the grid, but the keyboard's dashed cursor stays hidden: the red mark shows the unit
    assert page.evaluate("() => document.activeElement.classList.contains('cnnviz-clickgrid')")
    assert page.evaluate("() => getComputedStyle(document.querySelector('.cnnviz-clickgrid-cursor')).display") == "none"
    main.get_by_text("Theoretical receptive field:").first.scroll_into_view_if_needed()
    screenshot(page, "activations-receptive-field")


def test_compare_two_images_side_by_side_and_on_a_phone(page, server, browser):
    """Two images' maps of one layer next to each other; the choice of B is in the link; at 390 px the
    two columns stack and nothing is wider than the screen."""
    _open(page, server, "Activations")
    page.get_by_text("Show one layer for a second image").click()
    wait_for_run(page)
    for name in ("A", "B"):
        page.wait_for_function(f"""() => {{ const i = document.querySelector(".st-key-activations-compare-maps_{name} img");
          return !!i && i.complete && i.naturalWidth > 0; }}""", timeout=90_000)
    a_box = page.locator(".st-key-activations-compare-maps_A img").bounding_box()
    b_box = page.locator(".st-key-activations-compare-maps_B img").bounding_box()
    assert b_box["x"] >= a_box["x"] + a_box["width"] - 1 and abs(b_box["y"] - a_box["y"]) < 40
    assert page.get_by_text("Prediction:").count() == 2
    assert "activations.compare=" in page.url
    page.locator(".st-key-activations-compare-maps_A").scroll_into_view_if_needed()
    screenshot(page, "activations-compare")
    assert page.locator("[data-testid='stException']").count() == 0

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        small = phone.new_page()
        small.set_default_timeout(60_000)
        small.goto(page.url)
        small.wait_for_selector("[data-testid='stApp']")
        wait_for_run(small, timeout=120_000)
        small.locator(".st-key-activations-compare-maps_B img").wait_for(timeout=90_000)
        a_box = small.locator(".st-key-activations-compare-maps_A img").bounding_box()
        b_box = small.locator(".st-key-activations-compare-maps_B img").bounding_box()
        assert b_box["y"] > a_box["y"] + a_box["height"] - 1  # stacked
        assert small.evaluate("document.documentElement.scrollWidth") <= 390
        small.locator(".st-key-activations-compare-maps_A").scroll_into_view_if_needed()
        small.screenshot(path=str(ARTIFACTS / "activations-compare-phone.png"))
    finally:
        phone.close()
