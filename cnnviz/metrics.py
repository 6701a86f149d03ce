"""What one server process is doing, in Prometheus's text format (prometheus-client): sessions, reruns and
their latency, inference and attribution time, refused uploads by reason, errors, and which replica this
is. Counts and durations only, never any user data: labels are page names, method names and reason
codes, all from fixed lists of this app.

One registry per process (not prometheus-client's global one, so that importing the module twice in tests
or another library's metrics cannot mix in); `cnnviz.ui.metrics` serves it at `/metrics`.
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401 - re-exported for the route

REPLICA_ENV = "CNNVIZ_REPLICA"  # the replica's name (make serve-replicas: r0, r1, ...); else host:pid

# Seconds: a slider's rerun is tens of milliseconds, a cold model load or a training epoch many seconds.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

REGISTRY = CollectorRegistry(auto_describe=True)
REPLICA = Gauge("cnnviz_replica_info", "This process: 1, labelled with its replica name.", ["replica"],
                registry=REGISTRY)
SESSIONS = Gauge("cnnviz_sessions", "Browser sessions connected to this process now.", registry=REGISTRY)
RERUNS = Counter("cnnviz_reruns", "Script runs (page views and widget changes), by page.", ["page"],
                 registry=REGISTRY)
RERUN_SECONDS = Histogram("cnnviz_rerun_seconds", "Time of one full script run, by page.", ["page"],
                          buckets=LATENCY_BUCKETS, registry=REGISTRY)
INFERENCE_SECONDS = Histogram("cnnviz_inference_seconds", "Time to compute every layer's output for one image.",
                              buckets=LATENCY_BUCKETS, registry=REGISTRY)
ATTRIBUTION_SECONDS = Histogram("cnnviz_attribution_seconds", "Time of one attribution map, by method.",
                                ["method"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
UPLOAD_REFUSALS = Counter("cnnviz_upload_refusals", "Uploaded images refused, by reason code.", ["reason"],
                          registry=REGISTRY)
LIVE_FRAMES = Counter("cnnviz_live_frames", "Live frames computed (camera or video through the model).",
                      registry=REGISTRY)
LIVE_BATCH_SECONDS = Histogram("cnnviz_live_batch_seconds", "Time of one batch of live frames (decode, model, pictures).",
                               buckets=LATENCY_BUCKETS, registry=REGISTRY)
LIVE_CONNECTIONS = Gauge("cnnviz_live_connections", "Live views streaming frames to this process now.",
                         registry=REGISTRY)
ERRORS = Counter("cnnviz_errors", "Unexpected errors shown on a page, by page.", ["page"], registry=REGISTRY)


def replica_name() -> str:
    name = os.environ.get(REPLICA_ENV, "").strip()
    return name or f"{socket.gethostname()}:{os.getpid()}"


def _label(value: str, known: tuple[str, ...] | None = None) -> str:
    """A label value from a fixed list, or 'other': a label must never carry user text."""
    value = str(value or "")
    if known is not None:
        return value if value in known else "other"
    return value if value.replace("_", "").replace(".", "").isalnum() and len(value) <= 40 else "other"


def rerun(page: str, seconds: float) -> None:
    page = _label(page)
    RERUNS.labels(page).inc()
    RERUN_SECONDS.labels(page).observe(seconds)


@contextmanager
def timed(histogram: Histogram, *labels: str):
    """Observe the time of the block in `histogram` (with these label values), also when it raises."""
    start = time.perf_counter()
    try:
        yield
    finally:
        (histogram.labels(*labels) if labels else histogram).observe(time.perf_counter() - start)


def inference():
    return timed(INFERENCE_SECONDS)


def attribution(method: str, known: tuple[str, ...]):
    return timed(ATTRIBUTION_SECONDS, _label(method, known))


def upload_refused(reason: str, known: tuple[str, ...] | None = None) -> None:
    UPLOAD_REFUSALS.labels(_label(reason, known)).inc()


def live_frames(n: int, seconds: float) -> None:
    LIVE_FRAMES.inc(n)
    LIVE_BATCH_SECONDS.observe(seconds)


def live_connection(delta: int) -> None:
    LIVE_CONNECTIONS.inc(delta)


def error(page: str) -> None:
    ERRORS.labels(_label(page)).inc()


def exposition(sessions: int | None = None) -> bytes:
    """The registry in Prometheus's text format; `sessions` is the live count, read at scrape time."""
    REPLICA.labels(replica_name()).set(1)
    if sessions is not None:
        SESSIONS.set(sessions)
    return generate_latest(REGISTRY)
