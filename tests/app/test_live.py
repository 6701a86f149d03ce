"""The Live page under AppTest: what it registers for the websocket route (the session's model, layer, scale,
Grad-CAM, size and pixel range), changes that apply without a new token, Freeze making the frame the
session's picture on every page, and the models it cannot show live. The stream itself runs in Chromium
(tests/browser/test_live.py)."""

import base64
import io
import json
from types import SimpleNamespace

import keras
import numpy as np
from PIL import Image

from cnnviz.live import sessions
from cnnviz.models import ModelInfo
from cnnviz.ui import image_picker as picker
from cnnviz.ui import live as ui
from tests.app.conftest import no_exception, open_app


def _live(at) -> list:
    """The live view's components on the page (the sidebar's document component is always there too)."""
    return [c for c in at.get("bidi_component") if c.proto.id.endswith(ui.KEY)]


def _component(at) -> dict:
    found = [json.loads(c.proto.json) for c in _live(at)]
    assert len(found) == 1
    return found[0]


def test_the_page_registers_this_sessions_settings_and_changes_keep_the_stream():
    at = open_app("live")
    no_exception(at)
    data = _component(at)
    assert data["path"] == "/api/live" and data["side"] == ui.CAPTURE_SIDE and data["max_fps"] == 30
    assert set(data["texts"]) == set(ui.TEXTS) and "{fps}" in data["texts"]["stats"]
    token = data["token"]
    s = sessions.REGISTRY.get(token)
    assert (s.layer, s.scale, s.cam, s.shape, s.fit, s.pixels.name) == ("conv1", "channel", False, (120, 60, 1), "crop", "unit")
    assert s.class_names == ("circle", "square", "triangle", "cross")
    assert any("120x60x1" in c.value for c in at.caption)
    at.selectbox(key="live.layer").set_value("conv3").run()
    at.radio(key="live.scale").set_value("layer").run()
    at.toggle(key="live.cam").set_value(True).run()
    at.radio(key="cnnviz.image_fit").set_value("pad").run()
    no_exception(at)
    assert _component(at)["token"] == token  # the browser keeps its socket: the next frame has the new settings
    s = sessions.REGISTRY.get(token)
    assert (s.layer, s.scale, s.cam, s.fit) == ("conv3", "layer", True, "pad")


def test_lite0_is_fed_its_own_size_and_range_in_korean():
    at = open_app("live", lang="ko", **{"cnnviz.model": "efficientnet_lite0"})
    no_exception(at)
    s = sessions.REGISTRY.get(_component(at)["token"])
    assert (s.layer, s.shape, s.pixels.name, s.lang) == ("stem_relu", (224, 224, 3), "byte", "ko")
    assert len(s.class_names) == 1000
    assert at.title[0].value == "실시간"
    assert _component(at)["texts"]["camera"] == "카메라 시작"


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(buf, format="JPEG")
    return buf.getvalue()


def test_freeze_makes_the_frame_the_sessions_picture(monkeypatch):
    state: dict = {ui.KEY: SimpleNamespace(freeze="data:image/jpeg;base64," + base64.b64encode(_jpeg()).decode())}
    monkeypatch.setattr(ui.st, "session_state", state)
    ui._frozen()
    assert state[picker.SOURCE] == "upload" and state[picker.UPLOAD]["bytes"] == _jpeg()
    assert state[ui.FROZEN]["size"] == (64, 48) and state[ui.FROZEN]["name"].startswith("live-frame-")
    before = dict(state)
    for bad in (None, "data:image/png;base64,AAAA", "data:image/jpeg;base64,***", "data:image/jpeg;base64," + "A" * (ui.MAX_FROZEN_BYTES * 2)):
        state[ui.KEY] = SimpleNamespace(freeze=bad)
        ui._frozen()
        assert state[picker.UPLOAD] is before[picker.UPLOAD]  # nothing else became the picture
    state[ui.KEY] = SimpleNamespace(freeze="data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8 not really").decode())
    ui._frozen()
    assert "error" in state[ui.FROZEN] and state[picker.UPLOAD] is before[picker.UPLOAD]


def test_a_frozen_frame_opens_on_activations_and_explain():
    digest = __import__("hashlib").sha256(_jpeg()).hexdigest()
    frozen = {ui.FROZEN: {"name": "live-frame-120000.jpg", "bytes": _jpeg(), "size": (64, 48)},
              picker.UPLOAD: {"name": "live-frame-120000.jpg", "bytes": _jpeg(), "digest": digest, "source": "upload"},
              picker.SOURCE: "upload"}
    at = open_app("live", **frozen)
    no_exception(at)
    links = [p.proto.page for p in at.get("page_link")]
    assert any("activations" in p for p in links) and any("explain" in p for p in links)
    at.switch_page("pages/activations.py")
    at.run()
    no_exception(at)
    captions = [c for el in at.sidebar if hasattr(el, "captions") for c in el.captions]
    assert any("live-frame-120000.jpg (64x48)" in c for c in captions), captions  # the sidebar's picture
    at = open_app("live", **{ui.FROZEN: {"error": "damaged"}})
    assert at.error and "freeze again" in at.error[0].value


def test_models_the_live_view_cannot_show():
    dense = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    at = open_app("live", **{"cnnviz.model": "session",
                             "cnnviz.session_model": ModelInfo("session", "tabular", dense, (), True)})
    no_exception(at)
    assert at.warning and not _live(at)
    flat = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    at = open_app("live", **{"cnnviz.model": "session",
                             "cnnviz.session_model": ModelInfo("session", "flat", flat, (), True)})
    no_exception(at)
    assert at.warning and "no layer with maps" in at.warning[-1].value
    pooled = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.MaxPooling2D(name="pool"), keras.layers.Flatten(),
                               keras.layers.Dense(2)])
    at = open_app("live", **{"cnnviz.model": "session",
                             "cnnviz.session_model": ModelInfo("session", "pooled", pooled, (), True)})
    no_exception(at)
    assert at.toggle(key="live.cam").disabled  # no conv layer: no Grad-CAM
    assert sessions.REGISTRY.get(_component(at)["token"]).layer == "pool"


def test_a_model_that_cannot_be_traced_is_said(monkeypatch):
    def fails(*args, **kwargs):
        raise ValueError("this graph cannot be traced")

    monkeypatch.setattr(sessions, "settings_for", fails)
    at = open_app("live")
    no_exception(at)
    assert at.error and "cannot be traced" in at.error[0].value and not _live(at)


def test_a_refused_registration_changes_the_components_data(monkeypatch):
    """The route refused the session's token (expired): the run that follows registers it again and must hand
    the browser new data (unchanged data never reaches it), so that it reconnects."""
    state: dict = {}
    monkeypatch.setattr(ui.st, "session_state", state)
    ui._renewed()
    ui._renewed()
    assert state[ui.RENEWALS] == 2
