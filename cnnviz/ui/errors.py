"""The page-level error boundary: an unexpected exception becomes one short message, not a traceback.

Streamlit's st.rerun()/st.stop() raise ScriptControlException, a BaseException, so catching Exception
here never swallows them. The full traceback goes to the server log for whoever runs the app.
"""

from __future__ import annotations

import logging

import streamlit as st

from cnnviz import metrics
from cnnviz.ui.state import t

log = logging.getLogger("cnnviz")

MAX_REASON = 200  # characters of the exception's first line shown to the user

# How the backends name running out of (GPU) memory: TF's ResourceExhaustedError ("OOM when
# allocating ..."), torch's OutOfMemoryError ("CUDA out of memory"), JAX's "RESOURCE_EXHAUSTED".
_OOM_NAMES = ("ResourceExhaustedError", "OutOfMemoryError")
_OOM_TEXTS = ("out of memory", "oom when allocating", "resource_exhausted", "resource exhausted")


def out_of_memory(err: BaseException) -> bool:
    if isinstance(err, MemoryError) or type(err).__name__ in _OOM_NAMES:
        return True
    text = str(err).lower()
    return any(s in text for s in _OOM_TEXTS)


def reason(err: BaseException) -> str:
    """A short, user-readable reason: the exception's kind and the first line of its message."""
    if out_of_memory(err):
        return t("error.out_of_memory")
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if len(first) > MAX_REASON:
        first = first[: MAX_REASON - 1] + "…"
    name = type(err).__name__
    return f"{name}: {first}" if first else name


def show(err: BaseException, where: str = "") -> None:
    """Log the traceback for the server, show one st.error for the user."""
    if _HANDLED is not None and isinstance(err, _HANDLED):
        return  # raised inside an st.fragment: Streamlit logged it and showed it (through _on_script_error)
    log.error("unexpected error on page %s", where or "?", exc_info=err)
    metrics.error(where or "unknown")
    st.error(t("error.unexpected", error=reason(err)))


try:  # Streamlit wraps an exception it has already shown inside an st.fragment in this
    from streamlit.errors import FragmentHandledException as _HANDLED
except ImportError:  # pragma: no cover - other Streamlit versions
    _HANDLED = None


def _on_script_error(err: Exception) -> bool:
    """Streamlit's hook for exceptions it catches itself (inside st.fragment); it has logged the traceback."""
    metrics.error("fragment")
    st.error(t("error.unexpected", error=reason(err)))
    return True  # suppress Streamlit's own exception element


def install() -> None:
    """Show exceptions raised inside fragments (which Streamlit catches before app.py can) as our message.

    Set on this run's context; a fragment-only rerun gets a fresh context, and there an exception shows
    Streamlit's own redacted message (client.showErrorDetails = "none"): still no traceback.
    """
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
    except ImportError:  # pragma: no cover - other Streamlit versions
        return
    ctx = get_script_run_ctx()
    if ctx is not None and hasattr(ctx, "on_script_error"):
        ctx.on_script_error = _on_script_error
