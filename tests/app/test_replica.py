"""A session moved from a replica that stopped says so; a first visit or the same replica says nothing."""

from __future__ import annotations

import pytest

from cnnviz import metrics
from cnnviz.ui import replica
from deploy import serve_replicas
from tests.app.conftest import no_exception, open_app


@pytest.mark.parametrize("cookie, here, moved", [
    ("r0", "r1", "r0"), ("r1", "r1", ""), (None, "r1", ""), ("r0", None, ""), ("", "r0", ""),
])
def test_moved_from(cookie, here, moved):
    assert replica.moved_from(cookie, here) == moved


def test_the_balancer_sets_the_cookie_the_app_reads():
    assert serve_replicas.MOVED_COOKIE == replica.COOKIE


def test_a_moved_session_says_so_for_the_whole_session(monkeypatch):
    monkeypatch.setenv(metrics.REPLICA_ENV, "r1")
    at = open_app("layer_lab", **{replica.MOVED: "r0"})  # what notice() found on the first run
    no_exception(at)
    assert any("server that held your session stopped" in w.value for w in at.sidebar.warning)
    at.slider(key="ll.kernel_h").set_value(5).run()
    assert any("server that held your session stopped" in w.value for w in at.sidebar.warning)


def test_a_fresh_session_says_nothing(monkeypatch):
    monkeypatch.setenv(metrics.REPLICA_ENV, "r1")
    at = open_app("layer_lab")  # AppTest has no cookies: a first visit
    no_exception(at)
    assert at.session_state[replica.MOVED] == ""
    assert not [w for w in at.sidebar.warning if "server" in w.value]
