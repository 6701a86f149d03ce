"""The Train page's own classes in real Chromium: pictures per class uploaded through the page's file inputs,
the summary, transfer learning on EfficientNet-Lite0 (the default backbone), the results; at phone width, the
per-class controls (name, uploader, summary) usable."""

from tests.browser.conftest import open_page, screenshot, wait_for_run
from tests.browser.test_corpus import _no_errors
from tests.owndata import colour_pngs

CLASSES = (("red circles", "circle"), ("blue triangles", "triangle"))
PER_CLASS = 6


def _main(page):
    return page.locator("[data-testid='stMain']")


def _pictures_per_class(page) -> None:
    """Pick the 'Pictures per class' source (React Aria radios can ignore a click: arrow keys then)."""
    main = _main(page)
    option = main.locator("[data-testid='stRadioOption']", has_text="Pictures per class").first
    option.wait_for(timeout=60_000)
    option.click()
    wait_for_run(page, timeout=120_000)
    for _ in range(4):
        if main.get_by_text("New class", exact=True).count():
            return
        main.locator("[data-testid='stRadio']").first.locator("input[type=radio]:checked").focus()
        page.keyboard.press("ArrowDown")
        wait_for_run(page, timeout=120_000)
    main.get_by_text("New class", exact=True).first.wait_for(timeout=30_000)


def _add_class(page, k: int, name: str, kind: str) -> None:
    """Name a class, add it, upload its pictures through its own uploader; wait for the count on its card."""
    main = _main(page)
    box = main.locator("[data-testid='stTextInput'] input").first
    box.fill(name)
    box.press("Enter")
    wait_for_run(page, timeout=120_000)
    main.locator("button", has_text="Add class").first.click()
    wait_for_run(page, timeout=120_000)
    main.get_by_text(f"{name}: 0 pictures").first.wait_for(timeout=60_000)
    files = [{"name": f, "mimeType": "image/png", "buffer": data} for f, data in colour_pngs(kind, PER_CLASS)]
    for attempt in range(2):  # a file set while a rerun still draws the uploader can be lost: once more then
        main.locator("[data-testid='stFileUploader'] input[type=file]").nth(k).set_input_files(files=files)
        wait_for_run(page, timeout=120_000)
        try:
            main.get_by_text(f"{name}: {PER_CLASS} pictures").first.wait_for(timeout=60_000)
            return
        except Exception:
            if attempt:
                raise


def _own_classes(page) -> None:
    _pictures_per_class(page)
    for k, (name, kind) in enumerate(CLASSES):
        _add_class(page, k, name, kind)
    main = _main(page)
    main.get_by_text(f"2 classes, {2 * PER_CLASS} pictures", exact=False).first.wait_for(timeout=120_000)
    text = main.inner_text()
    assert "224x224x3" in text  # Lite0's input, the default backbone
    assert "Model trained:" not in text  # the sidebar's model is not what learns here by default
    _no_errors(page)


def test_train_own_pictures_per_class_on_lite0(page, server):
    open_page(page, server, "train")
    _own_classes(page)
    main = _main(page)
    screenshot(page, "train-own-summary")
    backbone = main.locator("[data-testid='stSelectbox']", has_text="Backbone").first
    shown = backbone.evaluate("e => e.textContent + ' ' + [...e.querySelectorAll('input')].map(i => i.value).join(' ')")
    assert "EfficientNet-Lite0, trained on ImageNet" in shown, shown
    epochs = main.locator("[data-testid='stNumberInput']", has_text="Epochs").locator("input").first
    epochs.fill("2")
    epochs.press("Enter")
    wait_for_run(page, timeout=120_000)
    main.locator("button", has_text="Train").first.click()
    wait_for_run(page, timeout=300_000)
    main.get_by_text("What it learned, and where it is wrong").first.wait_for(timeout=300_000)
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stMain'] .js-plotly-plot\").length >= 3",
                           timeout=60_000)  # the charts are drawn after the run's last message
    _no_errors(page)
    text = main.inner_text()
    assert "Validation accuracy" in text and "computed once" in text
    # curves, per-class accuracy, the confusion matrix (its axis titles)
    assert main.locator(".js-plotly-plot").count() >= 3
    assert main.locator(".js-plotly-plot", has_text="predicted").count() >= 1
    screenshot(page, "train-own-results")


def test_train_own_at_phone_width(page, server):
    page.set_viewport_size({"width": 390, "height": 844})
    open_page(page, server, "train")
    _own_classes(page)
    main = _main(page)
    uploaders = main.locator("[data-testid='stFileUploader']")
    assert uploaders.count() == len(CLASSES)
    box = uploaders.first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 391, box
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, overflow
    screenshot(page, "train-own-phone")
