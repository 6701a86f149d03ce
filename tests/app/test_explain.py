"""The Explain page under AppTest: the trained default, a Keras Application, nested models, a model without
a conv layer; every method, the sanity check and feature visualisation; maps equal cnnviz.attribution's."""

import keras
import numpy as np
import pytest

from cnnviz import attribution
from cnnviz.models import ModelInfo
from cnnviz.ui import explain as ui
from tests import corpus
from tests.app.conftest import no_exception, open_app


def _ok(at):
    no_exception(at)
    assert not at.error, [e.value for e in at.error]


def _maps(at) -> dict:
    return at.session_state[ui.MAPS]


def test_default_model_shows_two_maps_and_the_prediction():
    at = open_app("explain")
    _ok(at)
    assert not at.warning, [w.value for w in at.warning]
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # prediction, method A, method B
    assert at.selectbox(key="explain.method.a").value == "grad_cam"
    assert at.selectbox(key="explain.method.b").value == "saliency"
    predicted = at.selectbox(key="explain.class").value
    assert any("(predicted)" in o for o in at.selectbox(key="explain.class").options)
    maps = _maps(at)
    assert {k[2] for k in maps} == {"grad_cam", "saliency"}
    assert all(k[3] == predicted for k in maps)
    assert any(c.value.startswith("Layer: conv3") or "Layer: conv3" in c.value for c in at.caption)


def test_the_page_map_is_cnnviz_attribution_s():
    """The page's Grad-CAM for the default sample (cropped to 120x60 grey) is attribution.grad_cam's."""
    from cnnviz import images, models

    at = open_app("explain")
    info = models.load_preset(models.DEFAULT_MODEL)
    x = images.preprocess(images.load_sample(images.DEFAULT_SAMPLE), info.input_shape)
    key, value = next((k, v) for k, v in _maps(at).items() if k[2] == "grad_cam")
    assert key[1] == ui.digest(x), "the page feeds the sample as images.preprocess does"
    np.testing.assert_allclose(value, attribution.grad_cam(info.model, x, key[3], layer="conv3"), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("method", attribution.METHODS)
def test_every_method_and_class(method):
    at = open_app("explain")
    at.selectbox(key="explain.method.a").set_value(method).run()
    _ok(at)
    at.selectbox(key="explain.class").set_value(0).run()
    _ok(at)
    assert not at.warning, [w.value for w in at.warning]
    assert any(k[2] == method and k[3] == 0 for k in _maps(at))


def test_settings_change_the_map():
    at = open_app("explain")
    at.selectbox(key="explain.layer").set_value("conv2").run()
    _ok(at)
    assert any(k[2] == "grad_cam" and k[4] == "conv2" for k in _maps(at))
    at.selectbox(key="explain.method.a").set_value("integrated_gradients").run()
    at.selectbox(key="explain.baseline").set_value("blurred").run()
    _ok(at)
    assert any(k[2] == "integrated_gradients" and ("baseline", "blurred") in k[5] for k in _maps(at))


def test_sanity_check_table_and_strips():
    at = open_app("explain")
    at.button(key="explain.sanity.run").click().run()
    _ok(at)
    table = next(d.value for d in at.dataframe if "Grad-CAM" in d.value.columns)  # after the prediction's numbers
    assert list(table.columns) == ["Grad-CAM", "Saliency"]
    assert len(table) == 6 and table.iloc[0].tolist() == pytest.approx([1.0, 1.0])
    assert table["Grad-CAM"].iloc[-1] < 0.5  # Grad-CAM depends on the weights


def test_feature_visualisation_grid_then_cached():
    at = open_app("explain")
    at.selectbox(key="explain.fv.layer").set_value("conv1").run()
    at.slider(key="explain.fv.steps").set_value(16).run()
    at.button(key="explain.fv.run").click().run()
    _ok(at)
    assert any("What each filter looks for" in m.value for m in at.markdown)
    at.run()  # a rerun shows the cached result, no button
    _ok(at)
    assert not [b for b in at.button if b.key == "explain.fv.run"]
    assert any("What each filter looks for" in m.value for m in at.markdown)


def test_korean():
    at = open_app("explain", lang="ko")
    _ok(at)
    assert at.title[0].value == "설명"
    assert any("타당성 검사" in s.value for s in at.subheader)


def _session(model, key="session"):
    return {"cnnviz.session_model": ModelInfo(key=key, label="test", description="", model=model, class_names=(),
                                              trained=True), "cnnviz.model": "session"}


def test_model_without_conv_layer():
    model = keras.Sequential([keras.Input((120, 60, 1)), keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    at = open_app("explain", **_session(model))
    _ok(at)
    assert any("no conv layer" in w.value for w in at.warning), [w.value for w in at.warning]
    assert any(k[2] == "saliency" for k in _maps(at))  # the gradient method still ran


def test_model_that_is_not_a_classifier():
    model = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Conv2D(2, 3)])
    at = open_app("explain", **_session(model))
    _ok(at)
    assert any("not one score per class" in w.value for w in at.warning)


@pytest.mark.slow
@pytest.mark.parametrize("key", ["app_MobileNetV2", "transfer", "from_scratch"])
def test_keras_application_and_nested_models(key):
    at = open_app("model")
    at.file_uploader(key="cnnviz.model_page.upload").set_value((f"{key}.keras", corpus.saved(key),
                                                                "application/octet-stream")).run()
    _ok(at)
    at.switch_page("pages/explain.py").run()
    _ok(at)
    assert not at.warning, [w.value for w in at.warning]
    for method in ("grad_cam", "layer_cam", "occlusion"):
        at.selectbox(key="explain.method.a").set_value(method).run()
        _ok(at)
        assert not at.warning, [w.value for w in at.warning]
    assert len({k[2] for k in _maps(at)}) >= 4


def test_deletion_and_insertion_on_request_equal_cnnviz_attribution_s():
    """Nothing computed until asked (the maps come first); then each shown method's curves (with the random
    order) and their areas, equal to attribution.deletion_insertion of the page's own map."""
    from cnnviz import images, models

    at = open_app("explain")
    _ok(at)
    assert ui.FAITH not in at.session_state and len(at.get("plotly_chart")) == 3
    at.selectbox(key="explain.faith.baseline").set_value("blurred").run()
    at.button(key="explain.faith.run").click().run()
    _ok(at)
    assert len(at.get("plotly_chart")) == 5  # prediction, two maps, two curve charts
    # the areas (the sanity check has not run); the others are the figures' numbers tables (in expanders)
    areas = [d.value for d in at.dataframe if list(d.value.index) == ["Grad-CAM", "Saliency"]]
    assert len(areas) == 1 and not [d for d in at.dataframe if "Grad-CAM" in d.value.columns]
    table = areas[0]
    faith = at.session_state[ui.FAITH][1]
    assert set(faith) == {"grad_cam", "saliency"}
    info = models.load_preset(models.DEFAULT_MODEL)
    x = images.preprocess(images.load_sample(images.DEFAULT_SAMPLE), info.input_shape)
    key, saliency_map = next((k, v) for k, v in _maps(at).items() if k[2] == "grad_cam")
    want = attribution.deletion_insertion(info.model, x, key[3], saliency_map, baseline="blurred")
    np.testing.assert_allclose(faith["grad_cam"].deletion, want.deletion, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(faith["grad_cam"].insertion, want.insertion, rtol=1e-5, atol=1e-7)
    assert len(table) == 2
    np.testing.assert_allclose(table.iloc[0, 0], want.auc["deletion"], rtol=1e-5)
    # shown again on the next run without computing (the memo), in Korean too
    at.session_state["cnnviz.lang"] = "ko"
    at.run()
    _ok(at)
    assert len(at.get("plotly_chart")) == 5
