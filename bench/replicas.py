"""A class on several replicas: the load generator (bench.load: Streamlit's websocket protocol, a cookie jar
per session) first straight at one replica with N sessions, then through `make serve-replicas`'s HAProxy at
two replicas with 2N sessions; latency (slider change sent -> script finished and every image fetched)
against the bare Streamlit app's slider p50 of this run, errors, answers showing another session's state,
and the RSS of each replica. On a machine whose cores the replicas share, two replicas cannot hold twice
the sessions; the capacity table in the README says per core what holds."""

from __future__ import annotations

import time
import urllib.request

from bench import common
from bench import load as L
from bench.common import rss_mib

NAME = "replicas"
SESSIONS = 12  # per replica: the load section's 30 already misses the latency target on 2 cores
SECONDS = 40.0


def _one_replica(sessions: int, seconds: float) -> dict:
    server = common.start_server("bench-replicas-one.log")
    try:
        urllib.request.urlopen(server.url + "/", timeout=60).read()
        idle = rss_mib(server.proc.pid)
        result = L.generate(server.port, sessions, seconds, server.proc.pid)
        result["rss_idle_mib"] = idle
    finally:
        common.stop_server(server)
    return result


def _balanced(replicas: int, sessions: int, seconds: float) -> dict:
    from tests.browser.test_replicas import Balanced

    cluster = Balanced(replicas)
    try:
        urllib.request.urlopen(cluster.url + "/", timeout=60).read()
        time.sleep(2)
        idle = {name: rss_mib(pid) for name, pid in cluster.pids.items()}
        result = L.generate(cluster.port, sessions, seconds, list(cluster.pids.values()))
        result["rss_idle_mib"] = sum(idle.values())
        result["rss_per_replica_after_mib"] = {name: rss_mib(pid) for name, pid in cluster.pids.items()}
        result["states_after"] = cluster.states()
    finally:
        cluster.stop()
    return result


def run(repeats: int = 30, sessions: int = SESSIONS, seconds: float = SECONDS) -> dict:
    one = _one_replica(sessions, seconds)
    two = _balanced(2, 2 * sessions, seconds)
    floor = common.FLOOR.get("bare_slider", {}).get("page_updated", {}).get("median")
    out = {"one_replica": one, "two_replicas": two, "floor_bare_slider_p50_ms": floor, "method": __doc__,
           "target": "p95 <= 5x the bare app's p50 (the load section's target), no error, no other session's state"}
    for key, r in (("one", one), ("two", two)):
        if floor and r["latency"].get("n"):
            out[f"{key}_p95_over_bare_p50"] = r["latency"]["p95"] / floor
        if r["rss_max_mib"]:
            out[f"{key}_rss_per_session_mib"] = (r["rss_max_mib"] - r["rss_idle_mib"]) / r["sessions"]
    return out


def table(result: dict) -> str:
    lines = ["== 8. replicas: the load generator at one replica, then through HAProxy at two =="]
    for key, label in (("one", "1 replica, direct"), ("two", "2 replicas, HAProxy")):
        r = result[f"{key}_replica" if key == "one" else "two_replicas"]
        lat = r["latency"]
        ratio = result.get(f"{key}_p95_over_bare_p50")
        lines.append(f"  {label}: {r['sessions']} sessions, {r['changes']} changes, p50 {lat.get('median', float('nan')):.0f} ms, "
                     f"p95 {lat.get('p95', float('nan')):.0f} ms" + (f" = {ratio:.2f}x the bare p50" if ratio else "")
                     + f"; errors {r['error_count']}, other state {r['wrong_state']}; RSS max {r['rss_max_mib']:.0f} MiB "
                     f"({result.get(f'{key}_rss_per_session_mib', float('nan')):.1f} MiB/session)"
                     + (f"; sessions per replica {r['replicas']}" if r.get("replicas") else ""))
    return "\n".join(lines)
