"""Keras 2 era files through the Model page: a Teachable Machine converted_keras.zip and a tf.keras .h5 become
the session model (with the export's class names) and the Activations, Filters and Explain pages run with it."""

import pytest

from cnnviz.datasets import SHAPE_CLASSES
from tests import corpus
from tests.app.conftest import no_exception, open_app


def _upload(name: str, data: bytes):
    at = open_app("model")
    at.file_uploader(key="cnnviz.model_page.upload").set_value((name, data, "application/octet-stream")).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.success and name in at.success[0].value.replace("\\_", "_")  # shown markdown-escaped
    assert at.session_state["cnnviz.model"] == "session"
    return at


def _inspect_pages(at) -> None:
    for page in ("activations", "filters", "explain"):
        at.switch_page(f"pages/{page}.py").run()
        no_exception(at)
        assert not at.error, (page, [e.value for e in at.error])


@pytest.mark.slow
def test_teachable_machine_zip_becomes_the_session_model():
    at = _upload("converted_keras.zip", corpus.teachable_zip())
    info = at.session_state["cnnviz.session_model"]
    assert info.class_names == corpus.TM_LABELS
    assert info.pixels == "symmetric"
    assert info.model.count_params() == corpus.legacy("teachable")[0].count_params()
    _inspect_pages(at)
    assert any("Rock" in str(o) for o in at.selectbox(key="explain.class").options)


def test_legacy_h5_becomes_the_session_model():
    model = corpus.legacy("sequential")[0]
    at = _upload("old_model.h5", corpus.legacy("sequential")[1])
    info = at.session_state["cnnviz.session_model"]
    assert info.class_names == SHAPE_CLASSES and info.pixels == ""  # 4 outputs, no labels: as a .keras upload
    assert [layer.name for layer in info.model.layers][-3:] == [layer.name for layer in model.layers][-3:]
    _inspect_pages(at)
