"""EfficientNet-Lite0 (trained on ImageNet) on every page that takes a model: each opens without an exception or
an error with it, the Explain page sees an espresso and a cat, and the gallery starts on a photo."""

import pytest

from tests.app.conftest import no_exception, open_app

LITE0 = {"cnnviz.model": "efficientnet_lite0"}
CATS = ("tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat")


@pytest.mark.parametrize("page", ["activations", "filters", "explain", "layer_lab", "convolution", "model"])
def test_every_model_page_opens_with_lite0(page):
    at = open_app(page, **LITE0)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]


def test_the_gallery_starts_on_the_coffee_photo_and_explain_sees_espresso():
    at = open_app("explain", **LITE0)
    no_exception(at)
    assert at.selectbox(key="cnnviz.sample.widget").value == "coffee"
    predicted = [m.value for m in at.markdown if m.value.startswith("Predicted:")]
    assert predicted and any(n in predicted[0] for n in ("espresso", "cup", "coffee mug")), predicted


def test_explain_sees_a_cat_in_chelsea():
    at = open_app("explain", **LITE0, **{"cnnviz.sample": "chelsea"})
    no_exception(at)
    predicted = [m.value for m in at.markdown if m.value.startswith("Predicted:")]
    assert predicted and any(c in predicted[0] for c in CATS), predicted


def test_choosing_lite0_moves_the_gallery_to_a_photo_unless_the_user_chose_one():
    at = open_app("activations")
    assert at.selectbox(key="cnnviz.sample.widget").value == "shape_triangle"  # the trained default's start
    at.selectbox(key="cnnviz.model.widget").set_value("efficientnet_lite0").run()
    no_exception(at)
    assert at.selectbox(key="cnnviz.sample.widget").value == "coffee"
    at.selectbox(key="cnnviz.sample.widget").set_value("rocket").run()
    at.selectbox(key="cnnviz.model.widget").set_value("seed_trained").run()
    assert at.selectbox(key="cnnviz.sample.widget").value == "rocket"  # the user's own choice stays


def test_the_sidebar_lists_the_first_classes_and_the_count():
    at = open_app("model", **LITE0)
    captions = [c.value for c in at.sidebar.caption]
    assert any(c.startswith("1000 classes: tench, goldfish") and "espresso" not in c for c in captions), captions
