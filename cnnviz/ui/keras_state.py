"""Keep Keras's process-wide state when Streamlit finishes a script run.

After every script run of every session, Streamlit calls keras.backend.clear_session
(streamlit/runtime/scriptrunner/script_runner.py, _clean_problem_modules). That replaces Keras's
global state objects for all threads at once and drops TensorFlow's kernel cache, while other
sessions may be inside a Keras scope (the StatelessScope that counts an uploaded model's parameters
without allocating them, a device scope) or in the middle of fit(). cnnviz builds its models once and
caches them, so that reset frees nothing here: calls from that hook are skipped, all others go through.
"""

from __future__ import annotations

import sys

_HOOK = "_clean_problem_modules"


def protect() -> None:
    """Install the filter once keras has been imported (cheap; a no-op when it is already installed)."""
    keras = sys.modules.get("keras")
    if keras is None:
        return
    backend = getattr(keras, "backend", None)
    if backend is None:  # keras is being imported right now (the warm-up's thread): the next run installs it
        return
    if getattr(backend.clear_session, "_cnnviz_filter", False):
        return
    original = backend.clear_session

    def _skip_streamlit_reset(*args, **kwargs):
        if sys._getframe(1).f_code.co_name == _HOOK:
            return None
        return original(*args, **kwargs)

    _skip_streamlit_reset._cnnviz_filter = True
    _skip_streamlit_reset.__doc__ = original.__doc__
    backend.clear_session = _skip_streamlit_reset
