"""Model and Train pages in a real Chromium: edit a layer, upload a model file, train one short run."""

import keras

from cnnviz import i18n
from cnnviz.files import modelfiles
from tests.a11y import assert_accessible
from tests.browser.conftest import NAV_LINK, choose, open_page, screenshot, wait_for_run


def _metric(page) -> str:
    return page.locator("[data-testid='stMetricValue']").first.inner_text()


def _wait_for_model_page(page) -> None:
    page.wait_for_selector("[data-testid='stFileUploader']", timeout=90_000)
    page.wait_for_timeout(1000)


def test_edit_a_layer_then_upload_a_model(page, server, tmp_path):
    open_page(page, server, "model")
    _wait_for_model_page(page)
    assert _metric(page) == "133,792"

    # the first Conv2D's filters 12 -> 20, typed into the table like a user does. The grid is a canvas:
    # a click that lands while it is still laying out selects nothing, so the edit is tried again.
    table = page.locator("[data-testid='stDataFrame']").first
    for _ in range(3):
        page.wait_for_timeout(1000)
        box = table.bounding_box()
        page.mouse.click(box["x"] + 110, box["y"] + 35 + 17)  # row 0, "Layer" column
        page.keyboard.press("ArrowRight")  # "Filters / units"
        page.wait_for_timeout(300)
        page.keyboard.press("Enter")
        page.wait_for_timeout(500)
        page.keyboard.press("Control+a")
        page.keyboard.type("20")
        page.wait_for_timeout(300)
        page.keyboard.press("Enter")
        wait_for_run(page)
        page.wait_for_timeout(500)
        if _metric(page) != "133,792":
            break
        page.keyboard.press("Escape")
    assert _metric(page) == "137,200"  # conv1 +208, conv2 +3200: what Keras counts
    assert "Conv2D(20, kernel_size=(5, 5)" in page.locator("[data-testid='stCode']", has_text="Sequential").first.inner_text()
    page.locator("[data-testid='stMetricValue']").first.scroll_into_view_if_needed()
    screenshot(page, "model-edited")

    # an honest functional model with branches
    x = keras.Input((24, 24, 3))
    a = keras.layers.Conv2D(4, (3, 3), padding="same", activation="relu")(x)
    b = keras.layers.Conv2D(4, (1, 1), padding="same")(x)
    y = keras.layers.Concatenate()([keras.layers.Add()([a, b]), a])
    y = keras.layers.GlobalAveragePooling2D()(y)
    y = keras.layers.Dense(4, activation="softmax")(y)
    path = tmp_path / "branches.keras"
    path.write_bytes(modelfiles.model_bytes(keras.Model(x, y)))
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(path))
    wait_for_run(page)
    page.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=60_000)
    assert "branches.keras" in page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
    page.locator("[data-testid='stAlertContentSuccess']").first.scroll_into_view_if_needed()
    screenshot(page, "model-uploaded")
    assert page.locator("[data-testid='stException']").count() == 0
    assert_accessible(page, "model uploaded (en)")

    # a damaged .h5 file is refused with the reason
    h5 = tmp_path / "old.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(h5))
    wait_for_run(page)
    page.wait_for_selector("[data-testid='stAlertContentError']", timeout=60_000)
    assert "damaged or truncated" in page.locator("[data-testid='stAlertContentError']").first.inner_text()
    page.locator("[data-testid='stAlertContentError']").first.scroll_into_view_if_needed()
    screenshot(page, "model-refused")
    assert_accessible(page, "model refused (en)")

    # the same states in Korean: the refusal, and the uploaded model on Activations
    choose(page, "Language", "한국어")
    page.wait_for_selector("[data-testid='stAlertContentError']", timeout=60_000)
    assert_accessible(page, "model refused (ko)")
    page.locator(NAV_LINK, has_text=i18n.t("nav.activations", "ko")).first.click()
    wait_for_run(page, timeout=120_000)
    page.wait_for_selector("[data-testid='stMain'] h1", timeout=60_000)
    assert "branches.keras" in page.locator("[data-testid='stSidebar']").inner_text()
    assert page.locator("[data-testid='stException']").count() == 0
    assert_accessible(page, "activations, uploaded model (ko)")


def test_train_a_short_run(page, server):
    open_page(page, server, "train")
    page.wait_for_selector("text=Training images", timeout=90_000)
    samples = page.locator("[data-testid='stNumberInput']", has_text="Training images").locator("input")
    samples.fill("32")
    samples.press("Enter")
    wait_for_run(page)
    epochs = page.locator("[data-testid='stNumberInput']", has_text="Epochs").locator("input")
    epochs.fill("2")
    epochs.press("Enter")
    wait_for_run(page)
    page.get_by_role("button", name="Train", exact=True).click()
    wait_for_run(page, timeout=180_000)
    page.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=180_000)
    assert "Finished 2 epochs" in page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
    assert page.locator("[data-testid='stProgress']").count() == 2
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 1
    assert page.locator("[data-testid='stImage']").count() >= 1
    page.locator("[data-testid='stImage']").first.scroll_into_view_if_needed()
    screenshot(page, "train-done")
    assert page.locator("[data-testid='stException']").count() == 0
    assert_accessible(page, "train results (en)")
    choose(page, "Language", "한국어")
    page.wait_for_selector("[data-testid='stAlertContentSuccess']", timeout=60_000)
    assert_accessible(page, "train results (ko)")
