"""Regenerate the README's screenshots, docs/NAME.png.

    python docs/screenshots.py [names...]     # from the repository root, with the project's venv

Starts the app (bench.common.start_server), drives Debian's Chromium with the browser tests' flags
(bench.common.chromium) through the scene each picture's alt text in README.md describes, and writes
docs/NAME.png at the width of the picture it replaces. No names: every picture. Each scene opens its own
session; a scene that fails is reported and the others go on. Figures that vary from run to run (the
Live pages' frame rates, the Activations page's prediction) are printed, for the alt texts.

The Live pictures use Chromium's fake camera playing one gallery photo or one lecture shape
(tests/livemedia.py); their frame rate depends on the machine. layer_lab_phone is the top 2400 px of the
page (the whole page at 390 px is about ten times longer); the three 800 px pictures are crops of one
section each (two comparisons, a nested model's layers).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import NAV_LINK, chromium, goto_page, start_server, stop_server  # noqa: E402
from tests.browser.conftest import CHROMIUM_ARGS, _chromium, choose, fresh_page, set_slider, wait_for_run  # noqa: E402

DOCS = ROOT / "docs"
MAIN = "[data-testid='stMain']"
LITE0 = "EfficientNet-Lite0, trained on ImageNet"


# --- helpers -------------------------------------------------------------------------------------------

def open_(browser, server, width: int, height: int, path: str = "", model: str | None = None):
    """A new session at this size on `/`, the model chosen in the sidebar, then the page by its link."""
    context, page = fresh_page(browser, server.url + "/", width=width, height=height, timeout=120_000)
    if model:
        if width < 500:  # the sidebar waits behind its button, and closes once a page is chosen
            page.locator("[data-testid='stExpandSidebarButton'], [data-testid='stSidebarCollapsedControl'] button").first.click()
            page.wait_for_timeout(500)
        choose(page, "Model", model)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")  # no focus ring in the picture
    if path and model:  # goto_page waits for the bare URL; the model's choice is in the link's query now
        page.locator(f"{NAV_LINK}[href='{path}']").first.click()
        page.wait_for_url(f"**/{path}?**", timeout=60_000)
        wait_for_run(page, timeout=120_000)
    elif path:
        goto_page(page, path)
    return context, page


def grow(page, limit: int = 6000) -> None:
    """Streamlit scrolls inside stMain: make the viewport as tall as the page (up to `limit`)."""
    height = page.evaluate(f"document.querySelector(\"{MAIN}\").scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 60, limit)})
    page.wait_for_timeout(1500)  # plotly re-lays out on resize


def save(page, name: str, bottom=None, top=None, x: float = 0, width: float | None = None, hover=False) -> None:
    """docs/NAME.png: the viewport, or the part from `top` (a locator's top edge - 16 px, or 0) to `bottom`
    (a locator's bottom edge + 24 px, or a height in pixels below the top); the mouse moved away unless `hover`."""
    size = page.viewport_size
    if not hover:  # no hover effects (the sidebar's collapse button), unless the scene shows one
        page.mouse.move(size["width"] - 2, size["height"] - 2)
    page.wait_for_timeout(800)
    y0 = max(0, page.locator(top).first.bounding_box()["y"] - 16) if isinstance(top, str) else 0
    if bottom is None:
        y1 = size["height"]
    elif isinstance(bottom, (int, float)):
        y1 = y0 + bottom
    else:
        box = bottom.bounding_box()
        y1 = box["y"] + box["height"] + 24
    clip = {"x": x, "y": y0, "width": width or size["width"] - x, "height": min(y1, size["height"]) - y0}
    page.screenshot(path=str(DOCS / f"{name}.png"), clip=clip)
    Image.open(DOCS / f"{name}.png").convert("RGB").save(DOCS / f"{name}.png", optimize=True)  # smaller, lossless
    problems = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    for i in range(problems.count()):
        print(f"  {name}: an error on the page: {problems.nth(i).inner_text()[:300]!r}")


def main_text(page, starts: str) -> str:
    text = page.locator(MAIN).inner_text()
    return next((line for line in text.splitlines() if line.startswith(starts)), "")


def narrow_to_800(page, width: int = 800) -> float:
    """For the 800 px crops of one section: the viewport made the sidebar's width + `width`; returns the x
    of the sidebar's edge."""
    side = page.locator("[data-testid='stSidebar']").bounding_box()
    edge = side["x"] + side["width"] - 1
    page.set_viewport_size({"width": int(edge) + width, "height": page.viewport_size["height"]})
    page.wait_for_timeout(1500)
    return edge


# --- scenes: each takes (browser, server) and writes its picture ------------------------------------------

def layer_lab(b, s):
    context, page = open_(b, s, 1181, 1000)
    page.locator(MAIN).get_by_text("Live feature maps").wait_for()
    page.wait_for_timeout(2000)
    grow(page)
    save(page, "layer_lab")
    context.close()


def layer_lab_phone(b, s):
    context, page = open_(b, s, 390, 2400)  # the top of the page, as before: the whole page is ~10x longer
    save(page, "layer_lab_phone")
    context.close()


def layer_lab_compare(b, s):
    context, page = open_(b, s, 1100, 2000)
    page.get_by_text("Compare with settings B").click()
    wait_for_run(page)
    page.locator(MAIN).get_by_text("B: pooling layer").wait_for()
    edge = narrow_to_800(page)
    page.locator(f"{MAIN} :is(h2, h3):has-text('Compare two settings')").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    save(page, "layer_lab_compare", top=f"{MAIN} :is(h2, h3):has-text('Compare two settings')", bottom=page.locator(f"{MAIN} img").last,
         x=edge, width=800)
    context.close()


def activations(b, s):
    context, page = open_(b, s, 1400, 2800, "activations", LITE0)
    main = page.locator(MAIN)
    choose(page, "Layer", "block2b_expand_relu", scope=MAIN)
    set_slider(page, "Channel", 5)
    zoom = main.locator(".st-key-activations-zoom-chart img")
    page.wait_for_function("() => document.querySelector('.st-key-activations-zoom-chart img').complete")
    box = zoom.bounding_box()
    cell = box["height"] / 56  # block2b_expand_relu: 56x56 (the picture's width includes its colour bar)
    page.mouse.click(box["x"] + 7.5 * cell, box["y"] + 38.5 * cell)  # the unit at row 38, column 7
    wait_for_run(page)
    page.wait_for_function("() => getComputedStyle(document.querySelector('.cnnviz-clickgrid-mark')).display === 'block'")
    box = zoom.bounding_box()
    page.mouse.move(box["x"] + 38.5 * cell, box["y"] + 25.5 * cell)  # hover: row 25, column 38
    main.locator(".cnnviz-clickgrid-tip").wait_for(state="visible")
    print("  activations:", main_text(page, "The model says"))
    save(page, "activations", bottom=main.get_by_text("Effective receptive field").last, hover=True)
    context.close()


def activations_compare(b, s):
    context, page = open_(b, s, 1100, 2400, "activations")
    page.get_by_text("Show one layer for a second image").click()
    wait_for_run(page)
    for name in ("A", "B"):
        page.wait_for_function(f"""() => {{ const i = document.querySelector(".st-key-activations-compare-maps_{name} img");
          return !!i && i.complete && i.naturalWidth > 0; }}""", timeout=90_000)
    edge = narrow_to_800(page)
    page.locator(f"{MAIN} :is(h2, h3):has-text('Compare two images')").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    caption = page.locator(MAIN).get_by_text("Both grids use one colour scale").first
    save(page, "activations_compare", top=f"{MAIN} :is(h2, h3):has-text('Compare two images')", bottom=caption, x=edge, width=800)
    context.close()


def activations_nested(b, s):
    from tests.browser.test_corpus import _go, _upload

    context, page = open_(b, s, 1100, 2400)
    _upload(page, s, "transfer")  # the corpus's MobileNetV2 inside a transfer-learning model, on the Model page
    _go(page, "Activations")
    page.locator(MAIN).get_by_text("layers of a nested model").first.wait_for(timeout=120_000)
    edge = narrow_to_800(page, 802)
    page.locator(f"{MAIN} :is(h2, h3):has-text('Every layer, every channel')").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(1500)
    save(page, "activations_nested", top=f"{MAIN} :is(h2, h3):has-text('Every layer, every channel')", bottom=1050,
         x=edge, width=802)
    context.close()


def explain(b, s):
    context, page = open_(b, s, 1400, 2600, "explain", LITE0)
    main = page.locator(MAIN)
    main.locator(".js-plotly-plot").nth(2).wait_for(timeout=180_000)
    page.get_by_role("button", name="Compute deletion and insertion curves").click()
    wait_for_run(page, timeout=600_000)
    main.locator(".js-plotly-plot").nth(4).wait_for(timeout=120_000)  # prediction, two maps, two curves
    grow(page)
    save(page, "explain")
    context.close()


def filters_lite0(b, s):
    context, page = open_(b, s, 1400, 1600, "filters", LITE0)
    main = page.locator(MAIN)
    main.get_by_text("First layer as colour patches").wait_for(timeout=120_000)
    patches = main.locator("xpath=//*[self::h2 or self::h3][contains(., 'First layer as colour patches')]/following::img[1]")
    patches.wait_for()
    page.wait_for_timeout(1500)
    save(page, "filters_lite0", bottom=patches)
    context.close()


def draw(b, s):
    import math

    from tests.browser.test_draw import _choose_digits_and_draw, _stroke

    context, page = open_(b, s, 1400, 1700, "activations")
    _choose_digits_and_draw(page)
    ring = [(120 + 55 * math.sin(a / 20 * 2 * math.pi), 120 - 90 * math.cos(a / 20 * 2 * math.pi)) for a in range(21)]
    _stroke(page, ring)
    print("  draw:", main_text(page, "The model says"))
    save(page, "draw")
    context.close()


def practice(b, s):
    context, page = fresh_page(b, s.url + "/", width=1400, height=1000, timeout=120_000)
    page.goto(s.url + "/practice?practice.kind.w=One+output+value+of+a+convolution&practice.level.w=3"
              "&practice.seed.w=42")
    main = page.locator(MAIN)
    main.get_by_text("Exercise 42, level 3").wait_for()
    wait_for_run(page)
    box = main.get_by_label("Output value")
    box.fill("5")  # the answer with the kernel flipped (the right one is 19)
    box.press("Enter")
    wait_for_run(page)
    main.locator("[data-testid='stAlert']", has_text="Not quite").wait_for()
    main.locator(".katex").first.wait_for()
    grow(page)
    save(page, "practice")
    context.close()


def _live(b, s, name, width, height, model=None, layer=None, cam=False, scroll=None):
    context, page = open_(b, s, width, height, "live", model)
    live = page.locator(".cnnviz-live")
    page.wait_for_selector(".cnnviz-live .lv-camera")
    if layer:
        choose(page, "Layer", layer, scope=MAIN)
    if cam:
        page.get_by_text("Grad-CAM overlay", exact=True).click()
        wait_for_run(page)
    live.locator(".lv-camera").click()
    page.wait_for_function("() => document.querySelector('.cnnviz-live')._s.frames >= 60", polling=500,
                           timeout=180_000)
    page.wait_for_timeout(3000)
    if scroll:  # the page scrolled so that this text is at the top, under the header
        page.locator(MAIN).get_by_text(scroll).first.evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
    print(f"  {name}:", live.locator(".lv-stats").inner_text(), "|", live.locator(".lv-top li").first.inner_text(),
          "|", live.locator(".lv-mosaic-cap").inner_text())
    save(page, name)
    context.close()


def live(b, s):
    _live(b, s, "live", 1400, 1250, LITE0, "block2b_add", cam=True)


def live_phone(b, s):
    _live(b, s, "live_phone", 390, 1500, LITE0, scroll="Link to this view")


def live_lecture(b, s):
    _live(b, s, "live_lecture", 1400, 1100)


SCENES = {  # name: (scene, what the fake camera shows)
    "layer_lab": (layer_lab, None), "layer_lab_phone": (layer_lab_phone, None), "activations": (activations, None),
    "explain": (explain, None), "filters_lite0": (filters_lite0, None), "draw": (draw, None),
    "layer_lab_compare": (layer_lab_compare, None), "activations_compare": (activations_compare, None),
    "activations_nested": (activations_nested, None), "practice": (practice, None),
    "live": (live, "coffee"), "live_phone": (live_phone, "chelsea"), "live_lecture": (live_lecture, "cross"),
}


def camera_file(what: str, folder: Path) -> Path:
    from tests import livemedia

    frames = livemedia.shape_frames((what,)) if what == "cross" else livemedia.photo_frames((what,))
    return livemedia.write_y4m(folder / f"{what}.y4m", frames, hold=30)


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in SCENES]
    if unknown:
        print(f"unknown: {', '.join(unknown)}; known: {', '.join(SCENES)}")
        return 2
    folder = Path(tempfile.mkdtemp(prefix="cnnviz-shots-"))
    server = start_server("screenshots.log")
    pw, browser = chromium()
    camera, failed = None, []
    try:
        context, page = open_(browser, server, 1400, 1000, "activations")  # Keras loaded: the sidebar's device list
        context.close()
        for name in names or list(SCENES):
            scene, what = SCENES[name]
            if what != camera:  # one Chromium at a time: another one for another fake camera
                browser.close()
                args = CHROMIUM_ARGS + ([] if what is None else [
                    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                    f"--use-file-for-fake-video-capture={camera_file(what, folder)}"])
                browser, camera = pw.chromium.launch(executable_path=_chromium(), args=args), what
            start = time.monotonic()
            try:
                scene(browser, server)
                print(f"{name}: docs/{name}.png ({time.monotonic() - start:.0f} s)")
            except Exception as err:  # noqa: BLE001 - the other pictures still get made
                failed.append(name)
                print(f"{name}: FAILED: {type(err).__name__}: {str(err)[:500]}")
    finally:
        browser.close()
        pw.stop()
        stop_server(server)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
