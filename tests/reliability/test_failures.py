"""Failures inside the app: out of memory during inference, an unexpected exception in a page, a model whose
output is NaN. Each shows a message (no traceback) and leaves the other pages and sessions working."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cnnviz import activations, i18n, layerlab
from cnnviz.models import ModelInfo
from cnnviz.ui import errors as ui_errors
from cnnviz.ui import image_picker
from tests.reliability.conftest import errors, exceptions, open_app

OTHER_PAGES = ("layer_lab", "filters", "pooling", "glossary")


def oom_errors() -> list[BaseException]:
    """What each backend raises when the accelerator runs out of memory."""
    found: list[BaseException] = [RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB "
                                               "total capacity; 13.20 GiB already allocated)"), MemoryError()]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        found.append(tf.errors.ResourceExhaustedError(
            None, None,
            "OOM when allocating tensor with shape[1,64,224,224] and type float on "
            "/job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc\n\t [[{{node conv2d_1/Conv2D}}]]\n"
            "Hint: If you want to see a list of allocated tensors when OOM happens, add "
            "report_tensor_allocations_upon_oom to RunOptions for current allocation info.\n"))
    return found


@pytest.mark.parametrize("err", oom_errors(), ids=lambda e: type(e).__name__)
def test_out_of_memory_during_inference(err, monkeypatch):
    def exhausted(*args, **kwargs):
        raise err

    monkeypatch.setattr(activations, "extract_all", exhausted)
    at = open_app("activations", **{"cnnviz.model": "lenet5"})
    assert not at.exception, exceptions(at)
    shown = errors(at)
    assert len(shown) == 1, shown
    assert "Traceback" not in shown[0] and "report_tensor_allocations" not in shown[0], shown[0]
    assert len(shown[0]) < 400, shown[0]
    # the other pages of the same session keep working
    for page in OTHER_PAGES:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, exceptions(at))
    # and once memory is back, the page itself works again
    monkeypatch.undo()
    at.switch_page("pages/activations.py").run()
    assert not at.exception and not errors(at)


@pytest.mark.parametrize("err", oom_errors(), ids=lambda e: type(e).__name__)
def test_out_of_memory_reason_is_short_and_named(err):
    assert ui_errors.out_of_memory(err)
    reason = ui_errors.reason(err)
    assert reason == i18n.t("error.out_of_memory", "en")


def test_reason_of_an_ordinary_error_is_its_first_line():
    err = ValueError("first line\n  File 'x.py', line 3\nTraceback stuff")
    assert ui_errors.reason(err) == "ValueError: first line"
    assert len(ui_errors.reason(ValueError("x" * 5000))) <= ui_errors.MAX_REASON + len("ValueError: ")
    assert not ui_errors.out_of_memory(err)


def _broken(*args, **kwargs):
    raise ZeroDivisionError("a bug in this page")


# Layer lab (the default page) computes inside an st.fragment, where Streamlit catches the exception itself
# (errors.install routes it to our message); the image picker runs in the page's body (app.py's try/except).
@pytest.mark.parametrize("module,name", [(layerlab, "analyse"), (image_picker, "pick_image")],
                         ids=["inside-fragment", "page-body"])
def test_unexpected_exception_in_a_page_is_one_message_and_the_app_lives(module, name, monkeypatch):
    """Through app.py's error boundary: the default page breaks; the sidebar and the other pages live.

    Only AppTest's first run goes through app.py (later runs execute the page file directly), so the
    boundary is checked on that run.
    """
    monkeypatch.setattr(module, name, _broken)
    at = open_app()  # app.py itself, so its navigation and error boundary run
    assert not at.exception, exceptions(at)
    expected = i18n.t("error.unexpected", "en", error="ZeroDivisionError: a bug in this page")
    assert errors(at) == [expected]
    labels = [w.label for w in at.sidebar.selectbox]
    assert i18n.t("sidebar.language", "en") in labels and i18n.t("sidebar.model", "en") in labels
    # other pages (ones that use neither the broken function nor the picker) work meanwhile
    for page in ("probability", "glossary", "filters"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, exceptions(at))
    # another session, once fixed, sees nothing of it
    monkeypatch.undo()
    other = open_app()
    assert not other.exception and not other.error


def test_st_stop_and_rerun_pass_through_the_boundary():
    """Streamlit's control flow is not an error: a page that calls st.stop() shows no error message."""
    import inspect

    from streamlit.runtime.scriptrunner_utils.exceptions import RerunException, StopException

    assert not issubclass(StopException, Exception) and not issubclass(RerunException, Exception)
    # Activations stops early (st.stop) for a model without an image input: no boundary message.
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(2)])
    at = open_app("activations", **{"cnnviz.model": "session",
                                    "cnnviz.session_model": ModelInfo("session", "vector", model, ("a", "b"), True)})
    assert not at.exception and not at.error
    source = inspect.getsource(ui_errors)
    assert "except Exception" not in source or "BaseException" not in source.split("except")[1]


def _nan_model() -> keras.Model:
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(3, 3, activation="relu"),
                              keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                              keras.layers.Dense(4, activation="softmax")])
    dense = model.layers[-1]  # (a NaN conv kernel would vanish behind relu: max(NaN, 0) is 0 in TF)
    dense.kernel.assign(np.full(tuple(dense.kernel.shape), np.nan, dtype="float32"))
    return model


def test_model_with_nan_output_shows_a_message_on_every_page():
    info = ModelInfo("session", "broken", _nan_model(), ("circle", "square", "triangle", "cross"), True)
    at = open_app("activations", **{"cnnviz.model": "session", "cnnviz.session_model": info})
    assert not at.exception, exceptions(at)
    assert any(i18n.t("activations.nan", "en") == w.value for w in at.warning)
    for page in ("filters", "convolution", "layer_lab", "model", "train"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, exceptions(at))
    # another session with the default model is untouched
    other = open_app("activations")
    assert not other.exception and not other.warning
