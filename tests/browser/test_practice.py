"""The Practice page in real Chromium, at 1400 px and 390 px: one exercise of each kind opened by its link
and answered with the keyboard only (Tab to the boxes, type, Enter checks; the kernel kind's radio group by
the arrow keys), a wrong answer's slip and worked solution, then the right one."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from cnnviz.i18n import t
from cnnviz.lessons import exercises as ex
from tests.browser.conftest import fresh_page, screenshot, wait_for_run

LINK = "practice?practice.level.w=2&practice.seed.w=5"  # the kind "Output shape of a Conv2D" is the default
RIGHT = "Right: that is what Keras computes."
# One exercise of each kind after "shape": (level, seed). The kernel kind's answer is not its first option
# (level 2, number 5: Sobel x), so an arrow key has to move the choice.
OTHERS = {"params": (1, 5), "same_split": (2, 5), "conv_value": (1, 5), "pool": (1, 5),
          "receptive_field": (1, 5), "kernel": (2, 5), "lecture_model": (1, 5)}


def focused(page, attribute: str = "aria-label") -> str | None:
    return page.evaluate(f"() => document.activeElement && document.activeElement.getAttribute({attribute!r})")


def tab_to(page, label: str, limit: int = 200) -> None:
    """Press Tab until the focused element is the input labelled `label` (keyboard only, no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page) == label:
            return
    raise AssertionError(f"Tab never reached the box {label!r}")


def labels(e: ex.Exercise) -> list[str]:
    """The answer boxes' labels as the page writes them in English (cnnviz.ui.practice._label)."""
    out = []
    for f in e.fields:
        if e.kind == "pool":
            out.append(t("practice.field.cell", row=f.row, col=f.name))
        else:
            what = t(f"practice.field.{f.name}")
            out.append(t("practice.field.row", layer=f.row, what=what) if f.row else what)
    return out


def answer(page, labelled, values) -> None:
    for label, value in zip(labelled, values):
        tab_to(page, label)
        page.keyboard.press("Control+A")
        page.keyboard.type(str(value))
    page.keyboard.press("Enter")  # Enter in a form's box checks the answer
    wait_for_run(page)


def choose_kernel(page, e: ex.Exercise) -> None:
    """Tab into the "Kernel" radio group (nothing chosen yet: the focus lands on the first option), arrow
    down to the answer, Tab on to the Check button, Enter."""
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("() => { const a = document.activeElement, g = a && a.closest('[role=radiogroup]');"
                         " return a.type === 'radio' && g !== null && g.getAttribute('aria-label') === 'Kernel'; }"):
            break
    else:
        raise AssertionError("Tab never reached the Kernel radio group")
    for _ in range(e.options.index(e.truth[0])):
        page.keyboard.press("ArrowDown")
    chosen = page.locator("[data-testid='stForm'] [data-testid='stRadioOption']", has=page.locator("input:checked"))
    assert chosen.inner_text() == t(f"conv.preset.{e.truth[0]}")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.innerText") == t("practice.check")
    page.keyboard.press("Enter")
    wait_for_run(page)


def open_and_answer(page, url: str, kind: str, level: int, seed: int) -> None:
    """Open the exercise by its link (the kind by its label, as Streamlit binds a select box) in a new
    session of the same context, answer it right with the keyboard, and see it checked right."""
    e = ex.make(kind, level, seed)
    link = urlencode({"practice.kind.w": t(f"practice.kind.{kind}"), "practice.level.w": level,
                      "practice.seed.w": seed})
    page.goto(f"{url}/practice?{link}")
    main = page.locator("[data-testid='stMain']")
    main.get_by_text(t("practice.heading", seed=seed, level=level)).wait_for()
    wait_for_run(page)
    assert main.locator("input[aria-label='Exercise']").input_value() == t(f"practice.kind.{kind}")
    if kind == "kernel":
        choose_kernel(page, e)
    else:
        answer(page, labels(e), e.truth)
    main.locator("[data-testid='stAlert']", has_text=RIGHT).wait_for()
    assert page.locator("[data-testid='stException']").count() == 0, kind


@pytest.mark.parametrize("width", [1400, 390])
def test_each_kind_answered_with_the_keyboard_only(browser, server, width):
    e = ex.make("shape", 2, 5)
    context, page = fresh_page(browser, f"{server.url}/{LINK}", width=width, height=1000 if width > 400 else 900)
    try:
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("Exercise 5, level 2").wait_for()
        oh, ow, f = e.truth
        shape = labels(e)
        answer(page, shape, (oh, ow, e.settings["c"]))  # the input's channels instead of the filters
        alert = main.locator("[data-testid='stAlert']", has_text="Not quite")
        alert.wait_for()
        assert "The channels out are the number of filters" in alert.inner_text()
        main.locator(".katex").first.wait_for()  # the worked solution, typeset
        screenshot(page, f"practice-worked-{width}")
        answer(page, shape, e.truth)
        main.locator("[data-testid='stAlert']", has_text=RIGHT).wait_for()
        assert page.locator("[data-testid='stException']").count() == 0
        metrics = main.locator("[data-testid='stMetricValue']").all_inner_texts()
        assert metrics[:2] == ["0 / 1", "0"], metrics  # counted once, at the first (wrong) check
        assert set(OTHERS) | {"shape"} == set(ex.KINDS)
        for kind, (level, seed) in OTHERS.items():
            open_and_answer(page, server.url, kind, level, seed)
    finally:
        context.close()
