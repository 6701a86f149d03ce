"""A DOM budget per control: each page's main controls pressed once in Chromium, the DOM mutations inside
stMain counted until the page is quiet (bench.browser's MutationObserver: attribute, child-list and text
changes, outside the pressed control), against a budget per control.

The count does not depend on the machine's speed, so CI can hold it: a change that multiplies a page's DOM
work (the Activations zoom once rebuilt about 61,000 nodes per key press: an invisible plotly marker per cell)
fails here with the control named. Budgets are today's counts with headroom (README: "DOM budgets").
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bench.browser import DONE, GIVE_UP, INIT, key_class
from bench.common import open_app

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Press:
    page: str
    control: str  # named in a failure
    focus: str  # CSS selector of the element focused before the keys
    keys: tuple[str, ...]  # pressed in turn for one change


def _slider(page, key, name, k="ArrowRight"):
    return Press(page, name, f"{key_class(key)} input[type='range']", (k,))


def _button(page, key, name):
    return Press(page, name, f"{key_class(key)} button", ("Enter",))


def _radio(page, key, name):
    return Press(page, name, f"{key_class(key)} input[type='radio']:checked", ("ArrowRight",))


def _number(page, key, name):
    return Press(page, name, f"{key_class(key)} input", ("ArrowUp",))


def _select(page, key, name):
    return Press(page, name, f"{key_class(key)} input", ("ArrowDown", "ArrowDown", "Enter"))


# control -> the most DOM mutations one change may cost: the counts measured on 2026-12-06 (in the comment,
# 2-core AMD EPYC) with about 2.5x headroom, since Streamlit's stale-element fading depends on timing.
BUDGET = {
    "layer_lab: input height slider": 400,  # 83
    "layer_lab: kernel height slider": 600,  # 219
    "layer_lab: padding radio": 700,  # 250
    "layer_lab: pooling kind select": 900,  # 346
    "convolution: next position": 700,  # 265
    "pooling: next position": 500,  # 190
    "activations: zoom channel slider": 2500,  # 1108: the zoom picture and the unit's effective field (plotly)
    "activations: zoom layer select": 4000,  # 1662
    "activations: colour scale radio": 600,  # 222
    "filters: zoomed filter slider": 7000,  # 3192: up to 16 plotly heatmaps with their numbers written
    "explain: method A select": 2500,  # 1023
    "explain: opacity slider": 4500,  # 1967: both maps redrawn
    "model: input height +1": 6000,  # 2496: the summary table and the architecture figure
    "train: epochs +1": 300,  # 81
    "train: learning rate slider": 300,  # 81
}

PRESSES = [
    _slider("layer_lab", "ll.input_h", "layer_lab: input height slider"),
    _slider("layer_lab", "ll.kernel_h", "layer_lab: kernel height slider"),
    _radio("layer_lab", "ll.padding", "layer_lab: padding radio"),
    _select("layer_lab", "ll.pool_kind", "layer_lab: pooling kind select"),
    _button("convolution", "convolution.next", "convolution: next position"),
    _button("pooling", "pooling.next", "pooling: next position"),
    _slider("activations", "activations.zoom.channel", "activations: zoom channel slider"),
    _select("activations", "activations.zoom.layer", "activations: zoom layer select"),
    _radio("activations", "activations.scale", "activations: colour scale radio"),
    _slider("filters", "filters.zoom.filter", "filters: zoomed filter slider"),
    _select("explain", "explain.method.a", "explain: method A select"),
    _slider("explain", "explain.opacity", "explain: opacity slider"),
    _number("model", "cnnviz.model_page.h", "model: input height +1"),
    _number("train", "cnnviz.train.epochs", "train: epochs +1"),
    _slider("train", "cnnviz.train.lr", "train: learning rate slider"),
]
PAGES = list(dict.fromkeys(p.page for p in PRESSES))


def _press(page, press: Press) -> dict:
    """Press once; the mutations counted from the last key until the page is quiet."""
    control = page.locator(press.focus).first
    control.scroll_into_view_if_needed()
    for attempt in range(2):  # a key press right after a rerun can be dropped: then nothing changed
        control.focus()
        for key in press.keys:
            page.keyboard.press(key)
        page.wait_for_function(f"() => ({DONE})() || ({GIVE_UP})()", polling=50, timeout=120_000)
        b = page.evaluate("() => window.__bench")
        if b["last"] is not None:
            return b
        page.wait_for_timeout(500)
    raise AssertionError(f"{press.control}: the key press changed nothing on the page")


def test_budget_covers_every_press():
    assert set(BUDGET) == {p.control for p in PRESSES}


@pytest.mark.parametrize("path", PAGES)
def test_each_control_stays_within_its_dom_budget(browser, server, path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(INIT)
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        open_app(page, server.url, path)
        page.wait_for_timeout(1000)
        counts = {}
        for press in (p for p in PRESSES if p.page == path):
            b = _press(page, press)
            counts[press.control] = b["mutations"]
            print(f"{press.control}: {b['mutations']} mutations {b['kinds']}")
            page.wait_for_timeout(300)
        assert page.locator("[data-testid='stException']").count() == 0
        over = {name: (n, BUDGET[name]) for name, n in counts.items() if n > BUDGET[name]}
        assert not over, f"DOM mutations over budget (count, budget): {over}"
    finally:
        context.close()
