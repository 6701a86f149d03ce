"""The model a server was started with (`cnnviz MODEL`, `cnnviz.show`): the model every page starts with,
or, when it cannot be opened, the app's own models with the reason in the sidebar."""

from __future__ import annotations

import keras
import numpy as np

from cnnviz.ui import models
from tests import corpus
from tests.app.conftest import no_exception, open_app


def test_every_page_starts_with_the_startup_model(tmp_path, monkeypatch):
    model, data = corpus.legacy("sequential")
    path = tmp_path / "mine.h5"
    path.write_bytes(data)
    monkeypatch.setenv(models.STARTUP_ENV, str(path))
    at = open_app("activations")
    no_exception(at)
    assert at.session_state["cnnviz.model"] == models.STARTUP_KEY
    assert any("The model this server was started with" in c.value for c in at.sidebar.caption)
    names = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    shown = " ".join(m.value for m in at.markdown)
    assert all(name in shown for name in names[:2]), shown[:500]
    for page in ("filters", "explain", "model"):
        at.switch_page(f"pages/{page}.py").run()
        no_exception(at)
        assert at.session_state["cnnviz.model"] == models.STARTUP_KEY
    # its output is the file's model's, as Keras computes it
    info = models._startup(str(path))
    x = np.random.default_rng(0).random((1, *info.input_shape), dtype="float32")
    np.testing.assert_allclose(info.model.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-6)


def test_a_startup_model_that_cannot_be_opened_is_said_and_the_app_goes_on(tmp_path, monkeypatch):
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    monkeypatch.setenv(models.STARTUP_ENV, str(bad))
    at = open_app("activations")
    no_exception(at)
    assert any("cannot be opened" in e.value for e in at.sidebar.error)
    assert at.session_state["cnnviz.model"] != models.STARTUP_KEY
    assert any(c.proto.id.endswith("activations.zoom.chart") for c in at.get("bidi_component")), \
        "the page shows the app's default model instead"
