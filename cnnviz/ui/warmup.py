"""Warm-up at server start, so that no student's first page waits for what every page needs.

`start()` (called by app.py's st.App lifespan when the server starts) runs one background thread that
imports Keras and TensorFlow, lists the devices, loads the default model into the process-wide
st.cache_resource, builds and calls its compiled feature extractor, runs the Layer lab's default maps
once, and then freezes the garbage collector's view of all that (cnnviz.ui.gc_freeze). The server
answers from its first second: pages that need no Keras (the Layer lab's controls and arithmetic, the
glossary) are drawn at once, and the Layer lab's maps wait for `wait_for_keras()` behind a notice.

Without a warm-up (AppTest, a notebook), `wait_for_keras()` imports Keras in the calling thread.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time

log = logging.getLogger("cnnviz")

_lock = threading.Lock()
_thread: threading.Thread | None = None
_keras_done = threading.Event()
_all_done = threading.Event()
timings: dict[str, float] = {}  # seconds per warm-up step, for the log and the bench
errors: list[str] = []  # what failed (the app still works: the step just happens in a user's run)
KERAS_TIMEOUT = 300  # s: a page stops waiting for the warm-up thread's import after this long


def _imported(name: str) -> bool:
    """`name` is in sys.modules and finished importing (not half-way through in another thread)."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    return module is not None and not getattr(spec, "_initializing", False)


def keras_ready() -> bool:
    return _keras_done.is_set() or _imported("keras")


def _step(name: str, fn) -> None:
    start = time.perf_counter()
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - a warm-up step that fails is done later, in a user's run
        errors.append(f"{name}: {type(err).__name__}: {err}")
        log.warning("warm-up step %s failed", name, exc_info=err)
    timings[name] = time.perf_counter() - start


def _import_keras() -> None:
    from cnnviz import devices

    devices.prepare()  # imports keras (and TensorFlow), GPU memory growth first
    devices.list_devices()


def _default_model() -> None:
    import numpy as np

    from cnnviz import activations
    from cnnviz.models import DEFAULT_MODEL
    from cnnviz.ui import models as ui_models

    info = ui_models.preset(DEFAULT_MODEL)  # the process-wide cached model every session shares
    x = np.zeros((1, *info.input_shape), dtype="float32")
    activations.extract_all(info.model, x)  # builds and compiles the extractor
    activations.extract_all(info.model, x)


def _layer_lab_maps() -> None:
    from cnnviz import layerlab

    settings = layerlab.Settings()
    h, w, c = settings.input_shape
    import numpy as np

    kernels = layerlab.bank_kernels(layerlab.filter_bank("identity", settings.filters), settings.kernel_size)
    layerlab.feature_maps(np.zeros((h, w, c), "float32"), settings, kernels, 0.0, "cpu:0")


def _run() -> None:
    started = time.perf_counter()
    try:
        _step("import_keras", _import_keras)
    finally:
        _keras_done.set()  # also after a failure: waiting pages then import (and fail) in their own run
    _step("default_model", _default_model)
    _step("layer_lab_maps", _layer_lab_maps)
    from cnnviz.ui.gc_freeze import freeze_imports

    freeze_imports()
    timings["total"] = time.perf_counter() - started
    _all_done.set()
    log.info("cnnviz warm-up done in %.1f s: %s", timings["total"],
             ", ".join(f"{k} {v:.2f} s" for k, v in timings.items() if k != "total"))


def start() -> threading.Thread:
    """Start the warm-up thread once per process (later calls return the same thread)."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_run, name="cnnviz-warmup", daemon=True)
            _thread.start()
        return _thread


def started() -> bool:
    return _thread is not None


def done(timeout: float | None = None) -> bool:
    """True once the whole warm-up has finished (waits up to `timeout` s)."""
    return _all_done.wait(timeout) if _thread is not None else False


def wait_for_keras() -> None:
    """Return once Keras is importable: wait for the warm-up's import, or import it here."""
    if _thread is not None and not _keras_done.wait(KERAS_TIMEOUT):
        log.warning("warm-up still importing Keras after %s s; importing in this run", KERAS_TIMEOUT)
    from cnnviz import devices

    devices.prepare()


@contextlib.asynccontextmanager
async def lifespan(_app):
    """st.App's lifespan: start the warm-up and serve at once (it runs beside the first requests)."""
    start()
    yield None
