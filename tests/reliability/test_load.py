"""Many sessions at once through Streamlit's own websocket protocol (bench.load's generator, no browser):
every answer shows the session's own settings, no error element appears, and the server stays up."""

from __future__ import annotations

import urllib.request

import pytest

from bench import load
from tests.browser.conftest import start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server():
    srv = start_server("reliability-load.log")
    yield srv
    stop_server(srv)


def test_sessions_moving_sliders_at_once_see_only_their_own_state(server):
    result = load.generate(server.port, sessions=8, seconds=6.0, pid=server.proc.pid)
    assert result["errors"] == [] and result["error_count"] == 0
    assert result["changes"] >= 8 * 2  # every session really moved its slider, more than once
    assert result["wrong_state"] == 0  # each answer's Conv2D output was that session's own height
    with urllib.request.urlopen(server.url + "/_stcore/health", timeout=10) as r:
        assert r.read().strip() == b"ok"


def test_the_generator_notices_an_answer_with_another_state(server, monkeypatch):
    """The check can fail: make every session expect a height it did not send."""
    real = load._back_rerun

    def off_by_one(page_hash, fragment_id="", widget_id="", value=None):
        return real(page_hash, fragment_id, widget_id, None if value is None else value + 1)

    monkeypatch.setattr(load, "_back_rerun", off_by_one)
    result = load.generate(server.port, sessions=2, seconds=2.0, pid=server.proc.pid)
    assert result["changes"] > 0 and result["wrong_state"] == result["changes"]


def test_a_session_without_the_slider_is_an_error_not_a_hang(server, monkeypatch):
    monkeypatch.setattr(load, "SLIDER", "ll.no_such_slider")
    result = load.generate(server.port, sessions=1, seconds=1.0, pid=server.proc.pid)
    assert result["errors"] == ["no input-height slider in the first run"] and result["changes"] == 0
