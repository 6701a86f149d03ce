"""A keyboard tour in a real Chromium (WCAG 2.1.1, 2.4.7): Tab from the top of a page to its controls, work them
with keys alone, and see where the focus is. One server, one browser context."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import open_page, screenshot, start_server, stop_server, wait_for_run

MAX_TABS = 150

ACTIVE = """() => { const e = document.activeElement, r = e && e.closest("[data-testid='stRadio']");
  return e ? { tag: e.tagName, label: e.getAttribute('aria-label') || '', cls: String(e.className || ''),
               radio: r ? r.innerText.split('\\n')[0].trim() : null } : null; }"""

# The focus ring as the browser draws it: the focused element's outline or box-shadow, or (for a slider, whose
# focused input is a visually hidden range input inside a 1 px clipped box) the thumb's around it. An element
# counts as shown if it is bigger than 2 px and no box around it clips it away (the visually-hidden pattern).
FOCUS_RING = """() => { const shown = (e) => { const own = e.getBoundingClientRect();
    if (own.width <= 2 || own.height <= 2) return false;
    for (let a = e; a && a !== document.body; a = a.parentElement) {
      const r = a.getBoundingClientRect(), s = getComputedStyle(a);
      if (s.visibility === 'hidden' || s.opacity === '0' || s.clip === 'rect(0px, 0px, 0px, 0px)' ||
          s.clipPath === 'inset(50%)' || (s.overflow === 'hidden' && (r.width <= 1 || r.height <= 1))) return false; }
    return true; };
  let e = document.activeElement, out = [];
  for (let i = 0; i < 4 && e && e !== document.body; i++, e = e.parentElement) {
    const s = getComputedStyle(e);
    out.push({ outline: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0, shadow: s.boxShadow, visible: shown(e) });
  }
  return out; }"""


@pytest.fixture(scope="module")
def tour(browser):
    srv = start_server("streamlit-keyboard.log")
    context = browser.new_context(viewport={"width": 1400, "height": 2600})
    page = context.new_page()
    page.set_default_timeout(90_000)
    yield srv, page
    context.close()
    stop_server(srv)


def tab_to(page, found, limit: int = MAX_TABS) -> int:
    """Press Tab from the top of the page until `found(active element)`; the number of presses."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        if active and found(active):
            return presses
    raise AssertionError(f"Tab never reached it in {limit} presses (last: {active})")


def focus_visible(page) -> bool:
    """Some visible element from the focused one up has a focus ring the browser draws (outline or box-shadow)."""
    return any(e["visible"] and ((e["outline"] != "none" and e["width"] > 0) or e["shadow"] != "none")
               for e in page.evaluate(FOCUS_RING))


def test_layer_lab_kernel_size_from_the_keyboard(tour):
    srv, page = tour
    open_page(page, srv, "")
    page.locator("[data-testid='stMain'] h1", has_text="Layer lab").wait_for()
    shape = page.locator("[data-testid='stMarkdown']", has_text="(Conv2D output)").first
    assert shape.inner_text().startswith("120 × 60 × 1 → 120 × 60 × 10")  # 'same' padding: the size is kept

    presses = tab_to(page, lambda a: a["label"] == "Kernel height (k_h)")
    print(f"Tab presses from the top of the Layer lab to its kernel height slider: {presses}")
    assert page.evaluate("() => document.activeElement.closest(\"[data-testid='stSlider']\") !== null")
    assert focus_visible(page), page.evaluate(FOCUS_RING)

    # on to the padding (the same column of controls, further down), 'valid' with an arrow key
    for more in range(1, 20):
        page.keyboard.press("Tab")
        active = page.evaluate(ACTIVE)
        if active["radio"] == "Padding" and active["tag"] == "INPUT":
            break
    assert active["radio"] == "Padding" and active["tag"] == "INPUT", active
    # Streamlit marks a focused radio option by its background alone (no outline or shadow): it differs from
    # the other option's
    backgrounds = page.evaluate("""() => { const mine = document.activeElement.closest("[data-testid='stRadioOption']");
        return [...mine.parentElement.querySelectorAll("[data-testid='stRadioOption']")].map(o =>
            [o === mine, o.dataset.focusVisible === 'true', getComputedStyle(o).backgroundColor]); }""")
    (focused,) = [b for b in backgrounds if b[0]]
    assert focused[1] and all(b[2] != focused[2] for b in backgrounds if not b[0]), backgrounds
    page.keyboard.press("ArrowUp")  # React Aria's radio group: the previous option
    wait_for_run(page)
    page.locator("[data-testid='stMarkdown']", has_text="→ 118 × 58 × 10 (Conv2D output)").first.wait_for()

    # and back to the kernel height: two steps right, a 5-row kernel
    for _ in range(more):
        page.keyboard.press("Shift+Tab")
        if page.evaluate(ACTIVE)["label"] == "Kernel height (k_h)":
            break
    assert page.evaluate(ACTIVE)["label"] == "Kernel height (k_h)"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_for_run(page)
    page.locator("[data-testid='stMarkdown']", has_text="→ 116 × 58 × 10 (Conv2D output)").first.wait_for()
    assert page.evaluate("() => document.activeElement.value") == "5"
    assert page.locator("[data-testid='stException']").count() == 0

    # the footprint grid: its output part is a click grid too; from the keyboard it moves the window
    grid = page.locator(".cnnviz-clickgrid").first
    grid.wait_for()
    assert "Enter to pick" in grid.get_attribute("aria-label")
    page.get_by_text(re.compile(r"Padded input: .* · Conv2D output: 116×58, position \(0, 0\)")).first.wait_for()
    tab_to(page, lambda a: "cnnviz-clickgrid" in a["cls"])
    assert page.locator(".cnnviz-clickgrid-live").first.inner_text() == "row 0, col 0"
    for key in ("ArrowDown", "ArrowDown", "ArrowRight"):
        page.keyboard.press(key)
    assert page.locator(".cnnviz-clickgrid-live").first.inner_text() == "row 2, col 1"
    page.keyboard.press("Enter")
    wait_for_run(page)
    page.get_by_text(re.compile(r"Conv2D output: 116×58, position \(2, 1\)")).first.wait_for()
    screenshot(page, "keyboard-layer-lab")


def output_position(page) -> str:
    return page.locator("[data-testid='stMarkdown']", has_text="Output position (row").first.inner_text()


def total(page) -> str:
    metric = page.locator("[data-testid='stMetric']", has_text="Sum of all channels + bias").first
    return metric.locator("[data-testid='stMetricValue']").inner_text()


def test_convolution_steps_from_the_keyboard(tour):
    srv, page = tour
    open_page(page, srv, "convolution")
    page.wait_for_selector("[data-testid='stMain'] h1:has-text('Convolution step by step')")
    assert "row 0, column 0" in output_position(page)
    first_total = total(page)

    presses = tab_to(page, lambda a: "cnnviz-clickgrid" in a["cls"])
    print(f"Tab presses from the top of the Convolution page to its output map: {presses}")
    grid = page.locator(".cnnviz-clickgrid").first
    label = grid.get_attribute("aria-label")
    assert grid.get_attribute("role") == "application" and grid.get_attribute("tabindex") == "0"
    assert re.fullmatch(r"Output map \(before ReLU\)\. Use the arrow keys to move, Enter to pick\.", label), label
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                         "return [s.outlineStyle, s.outlineWidth]; }")
    assert ring[0] != "none" and float(ring[1].rstrip("px")) >= 2, ring

    live = page.locator(".cnnviz-clickgrid-live").first
    assert live.get_attribute("aria-live") == "polite"
    assert live.inner_text() == "row 0, col 0"  # the cursor starts on the current position
    cursor = page.locator(".cnnviz-clickgrid-cursor").first
    assert cursor.evaluate("e => getComputedStyle(e).display") == "block"
    start_box = cursor.bounding_box()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    assert live.inner_text() == "row 1, col 2"
    moved = cursor.bounding_box()
    assert moved["x"] > start_box["x"] and moved["y"] > start_box["y"]  # the cursor is drawn where it reads
    # the visible readout beside it says the same
    assert page.locator(".cnnviz-clickgrid-tip").first.inner_text() == "row 1, col 2"
    assert "row 0, column 0" in output_position(page)  # moving the cursor alone changes nothing yet
    screenshot(page, "keyboard-convolution-cursor")

    page.keyboard.press("Enter")
    wait_for_run(page)
    page.locator("[data-testid='stMarkdown']", has_text="Output position (row 1, column 2)").first.wait_for()
    page.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stSlider']")].some(s =>
        s.innerText.includes('Output column') && s.querySelector('input[type=range]').value === '2')""")
    assert total(page) != first_total

    # Space picks too, and the arrows stop at the edges
    grid.focus()
    for _ in range(30):
        page.keyboard.press("ArrowLeft")
    assert live.inner_text() == "row 1, col 0"
    page.keyboard.press(" ")
    wait_for_run(page)
    page.locator("[data-testid='stMarkdown']", has_text="Output position (row 1, column 0)").first.wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "keyboard-convolution-picked")


def test_the_click_grid_passes_axe(tour):
    """axe (WCAG 2.0-2.2 A/AA) finds nothing wrong with the click grid as a keyboard widget: its role, name,
    focusable parts, the live region inside it."""
    from tests.a11y import audit, describe

    srv, page = tour
    open_page(page, srv, "convolution")
    grid = page.locator(".cnnviz-clickgrid").first
    grid.wait_for()
    grid.focus()
    page.keyboard.press("ArrowDown")
    found = [dict(v, nodes=[n for n in v["nodes"] if "clickgrid" in n["target"] + n["html"]]) for v in audit(page)]
    found = [v for v in found if v["nodes"]]
    assert not found, describe(found)


LIVE_CONTROLS = """() => { const e = document.activeElement;
  if (!e || !e.closest('.cnnviz-live')) return null;
  const label = e.closest('label');
  return { tag: e.tagName, type: e.type || '', disabled: !!e.disabled,
           name: (e.getAttribute('aria-label') || e.innerText || (label && label.innerText) || '').trim() }; }"""


def test_the_live_page_buttons_are_buttons_reached_by_tab(tour):
    """The Live component's controls are real <button>s and a file input, each with a name, in the Tab order;
    Pause, Stop and Freeze are disabled (so skipped by Tab) until a stream runs."""
    srv, page = tour
    open_page(page, srv, "live")
    page.locator(".cnnviz-live .lv-camera").wait_for()
    tab_to(page, lambda a: "lv-camera" in a["cls"])
    seen = []
    for _ in range(10):
        control = page.evaluate(LIVE_CONTROLS)
        if control is None:
            break
        assert focus_visible(page), (control, page.evaluate(FOCUS_RING))
        seen.append(control)
        page.keyboard.press("Tab")
    assert seen[0]["tag"] == "BUTTON" and seen[0]["name"] == page.locator(".cnnviz-live .lv-camera").inner_text()
    assert any(c["type"] == "file" and c["name"] for c in seen), seen
    assert all(c["name"] and not c["disabled"] for c in seen), seen
    names = page.evaluate("""() => [...document.querySelectorAll('.cnnviz-live button')].map(b =>
        [b.tagName, b.type, b.innerText.trim(), b.disabled])""")
    assert len(names) == 4 and all(tag == "BUTTON" and kind == "button" and text for tag, kind, text, _ in names), names
    assert [d for *_, d in names] == [False, True, True, True]  # nothing to pause, stop or freeze yet


def test_the_activations_zoom_reads_its_values_out_from_the_keyboard(tour):
    """The zoomed map's keyboard cursor reads out the same "row r, col c: value" as the mouse's hover at that
    cell (tests/browser/test_activations.py checks the hover), and Enter moves the receptive field's unit."""
    srv, page = tour
    open_page(page, srv, "activations")
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("Theoretical receptive field:").first.wait_for(timeout=120_000)
    unit = lambda what: int(main.locator("[data-testid='stNumberInput']", has_text=what).locator("input").input_value())
    row, col = unit("Unit row"), unit("Unit column")
    grid = main.locator(".st-key-activations-zoom-chart .cnnviz-clickgrid")
    grid.scroll_into_view_if_needed()
    assert grid.get_attribute("aria-label").endswith("Use the arrow keys to move, Enter to pick.")
    grid.focus()
    live = grid.locator(".cnnviz-clickgrid-live")
    assert live.inner_text().startswith(f"row {row}, col {col}: ")  # the cursor starts on the unit
    for key in ["ArrowUp"] * 3 + ["ArrowLeft"] * 2:
        page.keyboard.press(key)
    said = live.inner_text()
    assert re.fullmatch(rf"row {row - 3}, col {col - 2}: -?[0-9.e+-]+", said), said
    box = grid.locator(".cnnviz-clickgrid-cursor").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("(said) => document.querySelector('.cnnviz-clickgrid-tip').innerText === said", arg=said)
    grid.focus()
    page.keyboard.press("Enter")
    wait_for_run(page)
    page.wait_for_function("""([row, col]) => { const v = (w) => [...document.querySelectorAll("[data-testid='stNumberInput']")]
        .find(n => n.innerText.includes(w)).querySelector('input').value;
        return v('Unit row') === String(row) && v('Unit column') === String(col); }""", arg=[row - 3, col - 2])
    assert page.locator("[data-testid='stException']").count() == 0
    screenshot(page, "keyboard-activations-zoom")


def test_the_drawing_canvas_has_a_name_and_a_keyboard_note(tour):
    """The canvas takes a pointer only: it is a named picture (role img), and the note beside it points to the
    gallery or an upload. (Last in this module: it leaves the session's image source on Draw.)"""
    srv, page = tour
    open_page(page, srv, "activations")
    side = page.locator("[data-testid='stSidebar']")
    side.get_by_text("Draw", exact=True).click()
    wait_for_run(page)
    canvas = side.locator(".cnnviz-canvas canvas").first
    canvas.wait_for()
    assert canvas.get_attribute("role") == "img"
    assert canvas.get_attribute("aria-label").startswith("Drawing canvas: draw one digit")
    assert side.get_by_text("Drawing needs a mouse, pen or finger.", exact=False).count() == 1
