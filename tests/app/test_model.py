"""Model page under AppTest: edit a layer and see the summary change; upload model files."""

import keras

from cnnviz.files import modelfiles
from cnnviz.layers import MinPooling2D
from tests.app.conftest import no_exception, open_app

EDITOR = "cnnviz.model_page.editor.1"  # the table editor of the first preset the page shows


def _metric(at, index=0):
    return at.metric[index].value


def test_edit_a_layer_changes_the_summary():
    at = open_app("model")
    no_exception(at)
    assert _metric(at) == "133,792"  # the lecture's model
    assert "model.add(Conv2D(12, kernel_size=(5, 5), activation='relu', input_shape=(120, 60, 1)))" in next(c.value for c in at.code if c.language == "python")
    # first Conv2D: 12 -> 20 filters (the edit st.data_editor sends)
    at.session_state[EDITOR] = {"edited_rows": {0: {"filters_units": 20}}, "added_rows": [], "deleted_rows": []}
    at.run()
    no_exception(at)
    # conv1 (5*5*1+1)*20 = 520 (was 312), conv2 (5*5*20+1)*16 = 8016 (was 4816): +3408
    assert _metric(at) == "137,200"
    assert "model.add(Conv2D(20, kernel_size=(5, 5)" in next(c.value for c in at.code if c.language == "python")
    assert not at.error


def test_impossible_layer_is_named_not_a_traceback():
    at = open_app("model")
    at.number_input(key="cnnviz.model_page.h").set_value(10).run()
    no_exception(at)
    assert at.error and "Layer 3 (conv2d_1, Conv2D)" in at.error[0].value
    assert not at.metric  # no summary for an impossible model


def test_use_this_model_makes_it_the_session_model():
    at = open_app("model")
    at.number_input(key="cnnviz.model_page.classes").set_value(6).run()
    at.button(key="modelpage.use").click().run()
    no_exception(at)
    assert at.session_state["cnnviz.model"] == "session"
    info = at.session_state["cnnviz.session_model"]
    assert info.model.outputs[0].shape[-1] == 6 and not info.trained
    assert info.model.count_params() == int(_metric(at).replace(",", ""))


def _upload(at, name, data):
    at.file_uploader(key="cnnviz.model_page.upload").set_value((name, data, "application/octet-stream")).run()
    no_exception(at)


def test_upload_an_honest_model_and_a_refused_one():
    model = keras.Sequential([keras.Input((20, 20, 3)), keras.layers.Conv2D(3, (3, 3), name="c"),
                              MinPooling2D(name="mp"), keras.layers.Flatten(), keras.layers.Dense(4, name="d")])
    at = open_app("model")
    _upload(at, "mine.keras", modelfiles.model_bytes(model))
    assert not at.error, [e.value for e in at.error]
    assert at.success and "mine.keras" in at.success[0].value
    info = at.session_state["cnnviz.session_model"]
    assert at.session_state["cnnviz.model"] == "session"
    assert [layer.name for layer in info.model.layers] == [layer.name for layer in model.layers]
    assert info.model.count_params() == model.count_params()

    _upload(at, "old.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    assert at.error and "damaged or truncated" in at.error[0].value


def test_upload_switch_turns_uploads_off(monkeypatch):
    monkeypatch.setenv("CNNVIZ_DISABLE_MODEL_UPLOAD", "1")
    at = open_app("model")
    no_exception(at)
    assert not at.file_uploader
    assert any("turned off" in i.value for i in at.info)


def test_keras_application_without_cached_weights_says_so(monkeypatch, tmp_path):
    from cnnviz import applications

    monkeypatch.setattr(applications, "cache_dirs", lambda: [tmp_path / "models"])
    at = open_app("model")
    at.selectbox(key="cnnviz.model_page.app").set_value("mobilenet_v2")
    at.button(key="cnnviz.model_page.app.use").click().run()
    no_exception(at)
    assert any("random weights" in w.value for w in at.warning)
    info = at.session_state["cnnviz.session_model"]
    assert at.session_state["cnnviz.model"] == "session"
    assert info.key == "app.mobilenet_v2" and not info.trained
    assert tuple(info.model.inputs[0].shape[1:]) == (224, 224, 3)


def test_the_session_model_can_be_edited_again():
    at = open_app("model")
    at.number_input(key="cnnviz.model_page.classes").set_value(5).run()
    at.button(key="modelpage.use").click().run()
    assert "This session's model" in at.selectbox(key="cnnviz.model_page.preset").options
    at.selectbox(key="cnnviz.model_page.preset").set_value("session").run()
    no_exception(at)
    assert at.number_input(key="cnnviz.model_page.classes").value == 5
    info = at.session_state["cnnviz.session_model"]
    assert at.metric[0].value == f"{info.model.count_params():,}"
    # the session model's own Keras summary is listed too
    frames = at.dataframe
    assert any(len(f.value) == len(info.model.layers) for f in frames)


def test_a_model_the_table_cannot_hold_is_shown_read_only():
    """Was a TypeError on this page. The model works on the other pages; here its summary is shown and the
    layer the table cannot take is named."""
    model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.RandomFlip(name="flip"),
                              keras.layers.RandomRotation(0.1, name="rot"), keras.layers.Rescaling(1 / 255),
                              keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.Flatten(),
                              keras.layers.Dense(4, activation="softmax")])
    from cnnviz.models import ModelInfo

    state = {"cnnviz.model": "session", "cnnviz.session_model": ModelInfo("session", "aug.keras", model, ("a",) * 4, True)}
    at = open_app("model", **state)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any("read-only" in i.value and "flip" in i.value and "RandomFlip" in i.value for i in at.info)
    assert "session" not in at.selectbox(key="cnnviz.model_page.preset").options
    assert any(len(f.value) == len(model.layers) for f in at.dataframe)
    for page in ("activations", "filters", "train"):
        at.switch_page(f"pages/{page}.py").run()
        no_exception(at)


def test_nested_model_summary_opens_the_nesting():
    inner = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(4, 3, name="ic"),
                              keras.layers.ReLU(name="ir")], name="block")
    inp = keras.Input((16, 16, 3))
    model = keras.Model(inp, keras.layers.Dense(2, name="head")(keras.layers.Flatten(name="flat")(inner(inp))))
    from cnnviz.models import ModelInfo

    at = open_app("model", **{"cnnviz.model": "session",
                              "cnnviz.session_model": ModelInfo("session", "nested", model, ("a", "b"), True)})
    no_exception(at)
    frame = next(f.value for f in at.dataframe if len(f.value) == 5)
    assert list(frame["Layer"]) == ["block", "block/ic", "block/ir", "flat", "head"]
    assert list(frame["Param #"]) == [inner.count_params(), inner.layers[0].count_params(), 0,
                                         0, model.layers[-1].count_params()]


def test_an_any_size_model_says_where_its_real_shapes_are():
    from cnnviz.models import ModelInfo

    inp = keras.Input((None, None, 3))
    model = keras.Model(inp, keras.layers.GlobalMaxPooling2D()(keras.layers.Conv2D(2, 3)(inp)))
    at = open_app("model", **{"cnnviz.model": "session",
                              "cnnviz.session_model": ModelInfo("session", "fcn", model, ("a", "b"), True)})
    no_exception(at)
    assert any("any height and width" in c.value for c in at.caption)
    fixed = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])
    at = open_app("model", **{"cnnviz.model": "session",
                              "cnnviz.session_model": ModelInfo("session", "fixed", fixed, ("a", "b"), True)})
    assert not any("any height and width" in c.value for c in at.caption)


# ---------------------------------------------------------------- ImageNet weights on request (cnnviz.files.downloads)


def _weights_origin(monkeypatch, tmp_path):
    """A 127.0.0.1 origin serving a MobileNetV2 weights file (its sha256 as Keras's published hash), an empty
    Keras cache in tmp_path, and no cached application model of an earlier test."""
    import hashlib

    from cnnviz import applications
    from cnnviz.files import downloads
    from cnnviz.ui import builder
    from tests.unit.test_downloads import Origin, weights_file

    name = applications.APPLICATIONS["mobilenet_v2"].weights_file
    source = weights_file(tmp_path / name)
    data = (tmp_path / name).read_bytes()
    origin = Origin({name: data})
    cache = tmp_path / "keras" / "models"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(applications, "cache_dirs", lambda: [cache])
    monkeypatch.setenv(downloads.ORIGIN_ENV, origin.url)
    monkeypatch.delenv(downloads.DISABLE_ENV, raising=False)
    real = downloads.published("mobilenet_v2")
    monkeypatch.setattr(downloads, "published", lambda key: downloads.Published(real.file, real.origin, hashlib.sha256(data).hexdigest()))
    builder._application.clear()
    return origin, source, cache


def test_download_imagenet_weights_gives_the_session_model_the_served_weights(monkeypatch, tmp_path):
    import numpy as np

    origin, source, cache = _weights_origin(monkeypatch, tmp_path)
    try:
        at = open_app("model")
        at.selectbox(key="cnnviz.model_page.app").set_value("mobilenet_v2")
        at.button(key="cnnviz.model_page.app.use").click().run()
        assert not at.session_state["cnnviz.session_model"].trained
        button = at.button(key="cnnviz.model_page.app.download")
        assert button.label == "Download ImageNet weights (14 MB)" and origin.requests == []  # nothing unasked
        button.click().run()
        no_exception(at)
    finally:
        origin.close()
    assert len(origin.requests) == 1
    assert any("downloaded and checked" in s.value for s in at.success)
    assert any("with ImageNet weights is now" in s.value for s in at.success)
    info = at.session_state["cnnviz.session_model"]
    assert info.trained and at.session_state["cnnviz.model"] == "session"
    for got, want in zip(info.model.get_weights(), source.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert not [b for b in at.button if b.key == "cnnviz.model_page.app.download"]  # cached now: no button
    assert [p.name for p in cache.iterdir()] == [origin.requests[0]]


def test_failed_download_says_why_and_keeps_random_weights(monkeypatch, tmp_path):
    origin, _, cache = _weights_origin(monkeypatch, tmp_path)
    origin.mode = "404"
    try:
        at = open_app("model")
        at.selectbox(key="cnnviz.model_page.app").set_value("mobilenet_v2")
        at.button(key="cnnviz.model_page.app.use").click().run()
        random_first = at.session_state["cnnviz.session_model"].model.get_weights()[0].copy()
        at.button(key="cnnviz.model_page.app.download").click().run()
        no_exception(at)
    finally:
        origin.close()
    assert at.error and "404" in at.error[0].value and "keeps random weights" in at.error[0].value
    info = at.session_state["cnnviz.session_model"]
    assert not info.trained and (info.model.get_weights()[0] == random_first).all()
    assert list(cache.iterdir()) == []
    assert at.button(key="cnnviz.model_page.app.download")  # it can be tried again


def test_weight_download_switch(monkeypatch, tmp_path):
    from cnnviz.files import downloads

    origin, _, _ = _weights_origin(monkeypatch, tmp_path)
    origin.close()
    monkeypatch.setenv(downloads.DISABLE_ENV, "1")
    at = open_app("model")
    no_exception(at)
    assert not [b for b in at.button if b.key == "cnnviz.model_page.app.download"]
    assert any("not downloaded on this server" in c.value for c in at.caption)


def test_weight_download_switch_in_secrets(monkeypatch):
    import streamlit

    from cnnviz.files import downloads
    from cnnviz.ui import builder

    monkeypatch.delenv(downloads.DISABLE_ENV, raising=False)
    monkeypatch.setattr(streamlit, "secrets", {"disable_weight_download": True})
    assert not builder.downloads_enabled()
    monkeypatch.setattr(streamlit, "secrets", {})
    assert builder.downloads_enabled()
