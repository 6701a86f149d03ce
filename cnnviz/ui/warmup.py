"""Warm-up at server start, so that no student's first page waits for what every page needs.

`start()` (called by app.py's st.App lifespan when the server starts) runs one background thread that
imports Keras and TensorFlow, lists the devices, loads the default model into the process-wide
st.cache_resource, builds and calls its compiled feature extractor, runs the Layer lab's default maps
once, and then freezes the garbage collector's view of all that (cnnviz.ui.gc_freeze). The server
answers from its first second: pages that need no Keras (the Layer lab's controls and arithmetic, the
glossary) are drawn at once, and the Layer lab's maps wait for `wait_for_keras()` behind a notice.

Without a warm-up (AppTest, a notebook), `wait_for_keras()` imports Keras in the calling thread.

Why the import waits a moment: TensorFlow's import holds the GIL for about 40% of its ~3 s, in single
stretches of up to 0.6 s (its C++ initialisers, not the loading of its libraries), and while it does, the
server can neither run a page nor send what a page has drawn, nor serve the browser's JavaScript. So the
import starts as soon as a page asks for Keras (its controls and arithmetic are then already on their way
to the browser) or a run finished, or after GRACE_S with no page at all (a server started before class).
"""

from __future__ import annotations

import contextlib
import logging
import os
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
GRACE_S = 2.0  # s after the server started: with no page run by then, the import starts anyway
SEND_S = 0.2  # s for the server to send what the run that asked has drawn, before the import holds the GIL
_go = threading.Event()  # a page asked for Keras, or a run finished


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
    activations.extract_all(info.model, x, pre_activations=False)  # builds and compiles what pages call first
    activations.extract_all(info.model, x, pre_activations=False)


def _layer_lab_maps() -> None:
    from cnnviz import layerlab

    settings = layerlab.Settings()
    h, w, c = settings.input_shape
    import numpy as np

    kernels = layerlab.bank_kernels(layerlab.filter_bank("identity", settings.filters), settings.kernel_size)
    layerlab.feature_maps(np.zeros((h, w, c), "float32"), settings, kernels, 0.0, "cpu:0")


def _page_modules() -> None:
    """What the first page imports besides Keras (plotly, the Layer lab's modules, the images' font): plain
    Python, which shares the GIL with the server, done while the browser is still loading its JavaScript."""
    import importlib

    for name in ("plotly.graph_objects", "cnnviz.codegen", "cnnviz.layerlab", "cnnviz.ui.layer_lab",
                 "cnnviz.ui.image_picker", "cnnviz.plots.layer_lab"):
        importlib.import_module(name)
    from cnnviz.plots.activations import _font, lut

    _font()
    lut("RdBu_r")


def _run() -> None:
    started = time.perf_counter()
    _step("page_modules", _page_modules)
    if _go.wait(max(GRACE_S - (time.perf_counter() - started), 0)):
        time.sleep(SEND_S)
    timings["waited"] = time.perf_counter() - started
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
    steps = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items() if k != "total")
    print(f"cnnviz warm-up done in {timings['total']:.1f} s: {steps}", file=sys.stderr, flush=True)  # the server log


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


def run_finished() -> None:
    """app.py, after each page run: the warm-up's import may start now (cheap)."""
    _go.set()


def wait_for_keras() -> None:
    """Return once Keras is importable: wait for the warm-up's import, or import it here."""
    _go.set()
    if _thread is not None and not _keras_done.wait(KERAS_TIMEOUT):
        log.warning("warm-up still importing Keras after %s s; importing in this run", KERAS_TIMEOUT)
    from cnnviz import devices

    devices.prepare()


ENV = "CNNVIZ_WARMUP"  # "0": no warm-up at server start (Keras is then imported by the first page that needs it)


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


@contextlib.asynccontextmanager
async def lifespan(_app):
    """st.App's lifespan: start the warm-up and serve at once (it runs beside the first requests)."""
    if enabled():
        start()
    yield None
