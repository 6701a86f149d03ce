"""The pixel range a model is fed, under AppTest: the sidebar asks for it where the model does not say
(and the link keeps the answer), says which one is used and why where it does; the Activations and
Explain pages feed it, and their predictions are Keras's on that range."""

import keras
import numpy as np

from cnnviz import attribution, images, preprocessing
from cnnviz.models import ModelInfo
from cnnviz.ui import activations as ui_act
from cnnviz.ui import sidebar
from tests.app.conftest import APP, no_exception, open_app


def _model(*first):
    keras.utils.set_random_seed(61)
    inp = keras.Input((24, 24, 3))
    x = inp
    for layer in first:
        x = layer(x)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="c")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, keras.layers.Dense(3, activation="softmax", name="out")(x))


def _session(model):
    return {"cnnviz.model": "session", "cnnviz.session_model": ModelInfo("session", "mine", model, ("a", "b", "c"), True)}


def _x01():
    return images.preprocess(images.load_sample(images.DEFAULT_SAMPLE), (24, 24, 3))


def _page_prediction(at):
    return at.session_state[ui_act.RESULT][1].output()


def test_undetected_model_gets_the_picker_and_the_choice_feeds_keras_and_the_link():
    model = _model()
    at = open_app("activations", **_session(model))
    no_exception(at)
    picker = at.sidebar.selectbox(key=sidebar.W_PIXELS)
    assert picker.value is None and picker.options == [
        "[0, 1]: pixel / 255", "[0, 255]: raw pixel values", "[-1, 1]: pixel / 127.5 - 1 (Keras 'tf' mode, Teachable Machine)",
        "ImageNet mean/std: (pixel/255 - mean) / std, RGB (Keras 'torch' mode, PyTorch)",
        "ImageNet BGR: pixel - mean, colours as BGR (Keras 'caffe' mode, VGG, ResNet)"]
    assumed = "[0, 1] assumed: pick the range your model was trained on in the sidebar."
    assert any(c.value == assumed for c in at.sidebar.caption) and any(c.value == assumed for c in at.main.caption)
    x01 = _x01()
    np.testing.assert_allclose(_page_prediction(at), model.predict_on_batch(x01[None])[0], rtol=1e-5, atol=1e-6)

    picker.set_value("symmetric").run()
    no_exception(at)
    want = model.predict_on_batch(keras.applications.mobilenet_v2.preprocess_input(x01[None] * 255.0))[0]
    np.testing.assert_allclose(_page_prediction(at), want, rtol=1e-5, atol=1e-6)
    chosen = "Pixel range [-1, 1]: pixel / 127.5 - 1 (Keras 'tf' mode, Teachable Machine): your choice in the sidebar."
    assert any(c.value == chosen for c in at.sidebar.caption) and any(c.value == chosen for c in at.main.caption)
    link = dict(at.query_params)
    assert sidebar.W_PIXELS in link

    other = AppTest_from_link(link, model)
    no_exception(other)
    assert other.sidebar.selectbox(key=sidebar.W_PIXELS).value == "symmetric"
    np.testing.assert_allclose(_page_prediction(other), want, rtol=1e-5, atol=1e-6)


def AppTest_from_link(params: dict, model):  # noqa: N802 - reads like the AppTest it returns
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=180)
    for key, value in _session(model).items():
        at.session_state[key] = value
    for key, value in params.items():
        at.query_params[key] = value[0] if isinstance(value, list) else value
    at.switch_page("pages/activations.py")
    at.run()
    return at


def test_a_leading_rescaling_is_detected_and_no_picker_is_offered():
    model = _model(keras.layers.Rescaling(1 / 127.5, -1.0, name="r"))
    at = open_app("activations", **_session(model))
    no_exception(at)
    assert not [s for s in at.sidebar.selectbox if s.key == sidebar.W_PIXELS]
    said = "Pixel range [0, 255]: raw pixel values: the model's first layers rescale or normalise the pixels themselves"
    assert any(c.value.startswith(said) for c in at.sidebar.caption)
    assert any(c.value.startswith(said) for c in at.main.caption)
    x01 = _x01()
    np.testing.assert_allclose(_page_prediction(at), model.predict_on_batch(x01[None] * 255.0)[0], rtol=1e-5, atol=1e-6)


def test_presets_declare_their_range_and_a_grey_model_is_offered_only_what_fits():
    at = open_app("activations")
    no_exception(at)
    assert any(c.value == "Pixel range [0, 1]: pixel / 255: declared with the model." for c in at.sidebar.caption)
    keras.utils.set_random_seed(62)
    inp = keras.Input((24, 24, 1))
    grey = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inp))))
    at = open_app("explain", **_session(grey), **{"cnnviz.pixels": "caffe"})  # left from an RGB model
    no_exception(at)
    picker = at.sidebar.selectbox(key=sidebar.W_PIXELS)
    assert picker.value is None and len(picker.options) == 3
    picker.set_value("byte").run()
    no_exception(at)
    assert any(c.value.startswith("Model input: 24x24x1") and "the model is fed [0, 255]" in c.value for c in at.main.caption)
    x = images.preprocess(images.load_sample(images.DEFAULT_SAMPLE), (24, 24, 1))
    scores, _ = attribution.scores(grey, preprocessing.contract("byte").apply(x))
    np.testing.assert_allclose(at.session_state[ui_act.RESULT][1].output(), scores, rtol=1e-5, atol=1e-4)


def test_a_file_declaring_an_rgb_range_for_a_grey_model_is_refused_clearly():
    inp = keras.Input((24, 24, 1))
    grey = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inp))))
    state = {"cnnviz.model": "session",
             "cnnviz.session_model": ModelInfo("session", "mine", grey, ("a", "b"), True, pixels="torch")}
    at = open_app("activations", **state)
    no_exception(at)
    assert any("'torch' (file) is for RGB" in w.value for w in at.sidebar.warning)
    assert any("'torch' (file) is for RGB" in e.value for e in at.error)
