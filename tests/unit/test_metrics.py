"""/metrics: Prometheus's own parser reads what cnnviz.metrics writes; labels never carry user text."""

from __future__ import annotations


import pytest
from prometheus_client.parser import text_string_to_metric_families

from cnnviz import attribution, images, metrics
from cnnviz.ui import metrics as route


def _run(coroutine):
    """Run a coroutine on a loop of its own thread: pytest's process may already run one in this thread
    (the sync Playwright fixtures of the browser tests)."""
    from bench.common import run_in_own_thread

    return run_in_own_thread(coroutine)


def samples(text: bytes) -> dict:
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(text: bytes, name: str, **labels) -> float:
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_counters_and_histograms_count_what_happened(monkeypatch):
    monkeypatch.setenv(metrics.REPLICA_ENV, "r7")
    before = metrics.exposition(3)
    metrics.rerun("layer_lab", 0.03)
    metrics.rerun("layer_lab", 0.2)
    with metrics.inference():
        pass
    with pytest.raises(RuntimeError), metrics.attribution("grad_cam", attribution.METHODS):
        raise RuntimeError("timed even when it fails")
    metrics.upload_refused("not_image", images.CODES)
    metrics.error("explain")
    after = metrics.exposition(5)
    assert value(after, "cnnviz_replica_info", replica="r7") == 1
    assert value(after, "cnnviz_sessions") == 5
    assert value(after, "cnnviz_reruns_total", page="layer_lab") - value(before, "cnnviz_reruns_total", page="layer_lab") == 2
    fast = value(after, "cnnviz_rerun_seconds_bucket", page="layer_lab", le="0.05") - \
        value(before, "cnnviz_rerun_seconds_bucket", page="layer_lab", le="0.05")
    assert fast == 1  # 0.03 s in the 0.05 s bucket, 0.2 s not
    assert value(after, "cnnviz_inference_seconds_count") - value(before, "cnnviz_inference_seconds_count") == 1
    assert value(after, "cnnviz_attribution_seconds_count", method="grad_cam") >= 1
    assert value(after, "cnnviz_upload_refusals_total", reason="not_image") >= 1
    assert value(after, "cnnviz_errors_total", page="explain") >= 1


def test_labels_never_carry_user_text():
    metrics.upload_refused("<script>alert(1)</script>", images.CODES)
    metrics.rerun("../../etc/passwd <b>", 0.1)
    with metrics.attribution("my secret method", attribution.METHODS):
        pass
    text = metrics.exposition().decode()
    assert "<script>" not in text and "passwd" not in text and "secret" not in text
    assert value(text.encode(), "cnnviz_upload_refusals_total", reason="other") >= 1
    assert value(text.encode(), "cnnviz_reruns_total", page="other") >= 1


def test_replica_name_without_the_environment(monkeypatch):
    monkeypatch.delenv(metrics.REPLICA_ENV, raising=False)
    assert ":" in metrics.replica_name()  # host:pid


def test_route_serves_the_text_format_without_a_runtime():
    assert route.active_sessions() is None  # no Streamlit runtime in a unit test
    (only,) = route.routes()
    assert only.path == "/metrics" and only.methods >= {"GET"} and "POST" not in only.methods
    answer = _run(route._endpoint(None))
    assert answer.status_code == 200 and answer.media_type.startswith("text/plain")
    assert b"cnnviz_reruns_total" in answer.body


def test_route_counts_the_runtime_s_sessions(monkeypatch):
    from types import SimpleNamespace

    import streamlit.runtime

    fake = SimpleNamespace(_session_mgr=SimpleNamespace(num_active_sessions=lambda: 4))
    monkeypatch.setattr(streamlit.runtime.Runtime, "instance", classmethod(lambda cls: fake))
    assert route.active_sessions() == 4
    body = _run(route._endpoint(None)).body
    assert value(body, "cnnviz_sessions") == 4
