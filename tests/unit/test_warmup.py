"""cnnviz.ui.warmup: the server-start warm-up thread, its waiting rule, failures, the switch."""

from __future__ import annotations

import asyncio
import importlib
import threading

import pytest

from bench.common import run_in_own_thread
from cnnviz.ui import warmup


@pytest.fixture
def fresh(monkeypatch):
    """The module with fresh state (no thread started yet), restored afterwards."""
    monkeypatch.setattr(warmup, "_thread", None)
    monkeypatch.setattr(warmup, "_keras_done", threading.Event())
    monkeypatch.setattr(warmup, "_all_done", threading.Event())
    monkeypatch.setattr(warmup, "_go", threading.Event())
    monkeypatch.setattr(warmup, "timings", {})
    monkeypatch.setattr(warmup, "errors", [])
    monkeypatch.setattr(warmup, "GRACE_S", 0.05)
    monkeypatch.setattr(warmup, "SEND_S", 0.0)
    return warmup


def test_keras_ready_means_imported_and_finished():
    importlib.import_module("keras")
    assert warmup._imported("keras") and warmup.keras_ready()
    assert not warmup._imported("no_such_module_cnnviz")


def test_start_runs_every_step_once_and_warms_the_shared_default_model(fresh):
    thread = fresh.start()
    assert fresh.start() is thread  # once per process
    assert fresh.done(timeout=300)
    assert fresh.started() and fresh.errors == []
    assert {"page_modules", "import_keras", "default_model", "layer_lab_maps", "total"} <= set(fresh.timings)
    from cnnviz import activations
    from cnnviz.models import DEFAULT_MODEL
    from cnnviz.ui import models as ui_models

    info = ui_models.preset(DEFAULT_MODEL)
    assert info.model in activations._cache  # its compiled extractor exists before any page asks


def test_a_failing_step_is_recorded_and_the_rest_still_runs(fresh, monkeypatch):
    def broken():
        raise RuntimeError("no model file")

    monkeypatch.setattr(fresh, "_default_model", broken)
    fresh.start()
    assert fresh.done(timeout=300)
    assert fresh.errors == ["default_model: RuntimeError: no model file"]
    assert "layer_lab_maps" in fresh.timings and fresh.keras_ready()


def test_the_import_waits_for_a_page_or_the_grace_period(fresh, monkeypatch):
    monkeypatch.setattr(fresh, "GRACE_S", 30.0)
    order = []
    monkeypatch.setattr(fresh, "_import_keras", lambda: order.append("import"))
    monkeypatch.setattr(fresh, "_default_model", lambda: None)
    monkeypatch.setattr(fresh, "_layer_lab_maps", lambda: None)
    fresh.start()
    assert not fresh._keras_done.wait(0.3) and order == []  # no page yet: still waiting
    fresh.run_finished()  # app.py after a page run
    assert fresh.done(timeout=10) and order == ["import"]
    assert fresh.timings["waited"] < 30


def test_wait_for_keras_without_a_warm_up_imports_here(fresh):
    fresh.wait_for_keras()
    assert fresh.keras_ready() and not fresh.started()


def test_wait_for_keras_gives_up_on_a_stuck_warm_up(fresh, monkeypatch, caplog):
    monkeypatch.setattr(fresh, "KERAS_TIMEOUT", 0.05)
    monkeypatch.setattr(fresh, "_thread", threading.Thread(target=lambda: None))  # "running", never sets the event
    fresh.wait_for_keras()
    assert "importing in this run" in caplog.text


@pytest.mark.parametrize("value, starts", [("1", True), ("0", False), ("off", False), ("", True)])
def test_lifespan_starts_the_warm_up_unless_switched_off(fresh, monkeypatch, value, starts):
    monkeypatch.setenv(warmup.ENV, value)
    started = []
    monkeypatch.setattr(fresh, "start", lambda: started.append(True))

    async def serve():
        async with fresh.lifespan(None):
            pass

    run_in_own_thread(serve())  # beside the sync Playwright fixtures this thread already runs a loop
    assert bool(started) is starts
