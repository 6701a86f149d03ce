"""Streamlit's post-run keras.backend.clear_session() must not reset Keras's state under other sessions."""

import keras
from keras.src.backend.common import global_state

from tests.app.conftest import no_exception, open_app


def test_a_script_run_keeps_keras_global_state():
    at = open_app("activations")  # imports keras and runs a model; the filter is installed by app.py
    no_exception(at)
    tracker = global_state.GLOBAL_STATE_TRACKER
    at.run()  # another full run: Streamlit's hook calls clear_session() at its end
    no_exception(at)
    assert global_state.GLOBAL_STATE_TRACKER is tracker


def test_a_direct_clear_session_still_resets():
    open_app("activations")
    tracker = global_state.GLOBAL_STATE_TRACKER
    keras.backend.clear_session()
    assert global_state.GLOBAL_STATE_TRACKER is not tracker


def test_a_run_that_ends_while_keras_is_being_imported_does_nothing(monkeypatch):
    """The warm-up imports Keras in a thread; a quick page's run may end while sys.modules holds the
    half-initialised module (no `backend` yet): nothing to install yet, and no error on the page."""
    import sys
    import types

    from cnnviz.ui import keras_state

    monkeypatch.setitem(sys.modules, "keras", types.ModuleType("keras"))
    keras_state.protect()  # raised AttributeError: partially initialized module 'keras' has no attribute 'backend'
