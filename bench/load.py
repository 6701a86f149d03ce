"""A class on one server: N sessions on the Layer lab, each moving the input-height slider every PERIOD_S
seconds for a while, spoken to the server the way Streamlit's browser client speaks to it; then the same
figure from a few real Chromium sessions at once, to cross-check the generator.

The load generator (no browser: thirty browsers on two cores would measure the browsers):
- opens `ws://127.0.0.1:PORT/_stcore/stream` with the subprotocol "streamlit" and an Origin of the server
  (its Origin check), and sends a `BackMsg` with `rerun_script` (a `ClientState`) as one binary frame, as
  the browser does on connecting; the server answers with `ForwardMsg` frames (new_session, navigation,
  deltas, script_finished);
- finds the slider by its key in the deltas (`$$ID-...-ll.input_h`) and the fragment it sits in
  (`Delta.fragment_id`), then moves it: `rerun_script` with that widget's `double_array_value` and the
  fragment id, as the browser sends for a widget inside an st.fragment;
- a change is done when `script_finished` arrives and every image of that run (`/media/...` URLs in the
  deltas) has been fetched over HTTP, as a browser would; latency = done - sent;
- checks each answer: the "Conv2D output" metric must be this session's own height ('same', stride 1:
  H x 60 x 10), and no exception or error element may appear.
Bounded: sessions, seconds and a timeout per change; localhost only; it stops by itself.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import random
import time
import urllib.request
from dataclasses import dataclass, field

from bench import common
from bench.common import rss_mib, run_in_own_thread, start_server, stop_server, summary

NAME = "load"
PERIOD_S = 2.0
SLIDER = "ll.input_h"
CHANGE_TIMEOUT_S = 30.0
AFFINITY_COOKIE = "cnnviz_replica"  # deploy/serve_replicas.py's HAProxy cookie


@dataclass
class SessionResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wrong_state: int = 0
    changes: int = 0
    replica: str = ""  # the balancer's affinity cookie (make serve-replicas), "" without a balancer


def _back_rerun(page_hash: str, fragment_id: str = "", widget_id: str = "", value: float | None = None) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = ""
    state.page_script_hash = page_hash
    if fragment_id:
        state.fragment_id = fragment_id
    if widget_id:
        w = state.widget_states.widgets.add()
        w.id = widget_id
        w.double_array_value.data.append(float(value))
    return msg.SerializeToString()


async def _get(host: str, port: int, path: str, cookie: str = "") -> bytes:
    """GET path over HTTP/1.1 (Connection: close), with the session's cookies; the whole answer."""
    reader, writer = await asyncio.open_connection(host, port)
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}Connection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


async def _fetch(host: str, port: int, path: str, cookie: str = "") -> int:
    """GET path; the number of bytes read."""
    return len(await _get(host, port, path, cookie))


def _cookies(answer: bytes) -> dict[str, str]:
    """The cookies an HTTP answer sets (name -> value), as a browser would keep them."""
    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    out = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "set-cookie":
            pair = value.strip().split(";", 1)[0]
            key, _, val = pair.partition("=")
            out[key.strip()] = val.strip()
    return out


class Client:
    """One simulated browser session."""

    def __init__(self, port: int):
        self.port = port
        self.page_hash = ""
        self.slider_id = ""
        self.fragment_id = ""

    async def run_once(self, ws, payload: bytes) -> tuple[list[str], dict]:
        """Send one rerun; read until script_finished; return (image urls, what the run showed)."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        await ws.send(payload)
        urls, seen = [], {"errors": [], "metrics": {}}
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(ws.recv(), CHANGE_TIMEOUT_S))
            kind = msg.WhichOneof("type")
            if kind == "navigation":
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                el = msg.delta.new_element
                t = el.WhichOneof("type")
                if t == "slider" and el.slider.id.endswith("-" + SLIDER):
                    self.slider_id, self.fragment_id = el.slider.id, msg.delta.fragment_id
                elif t == "imgs":
                    urls += [i.url for i in el.imgs.imgs if i.url.startswith("/media/")]
                elif t == "metric":
                    seen["metrics"][el.metric.label] = el.metric.body
                elif t == "exception":
                    seen["errors"].append("exception: " + el.exception.message[:200])
                elif t == "alert" and el.alert.format == el.alert.ERROR:
                    seen["errors"].append("error: " + el.alert.body[:200])
            elif kind == "script_finished":
                return urls, seen

    async def session(self, seconds: float, seed: int, result: SessionResult) -> None:
        from websockets.asyncio.client import connect

        rng = random.Random(seed)
        # the page first, as a browser loads it: behind a balancer its answer pins this session to a replica
        # (a cookie) that the websocket and every image fetch must then carry
        jar = _cookies(await _get("127.0.0.1", self.port, "/"))
        result.replica = jar.get(AFFINITY_COOKIE, "")
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        url = f"ws://127.0.0.1:{self.port}/_stcore/stream"
        async with connect(url, subprotocols=["streamlit"], origin=f"http://127.0.0.1:{self.port}",
                           additional_headers={"Cookie": cookie} if cookie else None,
                           max_size=None, open_timeout=60) as ws:
            await self.run_once(ws, _back_rerun(""))  # the first page view, as a browser's connect does
            if not self.slider_id:
                result.errors.append("no input-height slider in the first run")
                return
            await asyncio.sleep(rng.uniform(0, PERIOD_S))  # students do not move in step
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                height = rng.randint(20, 250)
                started = time.perf_counter()
                try:
                    urls, seen = await self.run_once(ws, _back_rerun(self.page_hash, self.fragment_id, self.slider_id,
                                                                     height))
                    await asyncio.gather(*(_fetch("127.0.0.1", self.port, u, cookie) for u in urls))
                except (asyncio.TimeoutError, OSError) as err:
                    result.errors.append(f"{type(err).__name__}: {err}")
                    continue
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.changes += 1
                result.errors += seen["errors"]
                if seen["metrics"].get("Conv2D output") != f"{height} × 60 × 10":
                    result.wrong_state += 1
                await asyncio.sleep(max(0.0, PERIOD_S - (time.perf_counter() - started)))


async def _generate(port: int, sessions: int, seconds: float, pid: int | list[int]) -> dict:
    results = [SessionResult() for _ in range(sessions)]
    rss = []
    pids = pid if isinstance(pid, list) else [pid]

    async def sample_rss():
        while True:
            rss.append(sum(rss_mib(p) for p in pids))  # all replicas together
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample_rss())
    started = time.perf_counter()
    await asyncio.gather(*(Client(port).session(seconds, i, r) for i, r in enumerate(results)), return_exceptions=False)
    wall = time.perf_counter() - started
    sampler.cancel()
    lat = [v for r in results for v in r.latencies_ms]
    return {"sessions": sessions, "seconds": seconds, "wall_s": wall, "changes": sum(r.changes for r in results),
            "latency": summary(lat), "errors": [e for r in results for e in r.errors][:20],
            "error_count": sum(len(r.errors) for r in results), "wrong_state": sum(r.wrong_state for r in results),
            "rss_max_mib": max(rss) if rss else None, "rss_samples": len(rss),
            "replicas": dict(sorted(Counter(r.replica for r in results if r.replica).items()))}


def generate(port: int, sessions: int, seconds: float, pid: int | list[int]) -> dict:
    """Run the sessions on an asyncio loop of their own thread (a caller may already run a loop in this one,
    as pytest does beside the sync Playwright fixtures)."""
    return run_in_own_thread(_generate(port, sessions, seconds, pid))


def _chromium_sessions(url: str, n: int, presses: int) -> dict:
    """n real Chromium sessions at once on the Layer lab, each pressing the input-height slider; the
    browser's key press -> script finished, and -> whole page updated (bench.browser's method)."""
    import threading

    from bench import browser as B

    out = [None] * n

    def one(i):
        pw, b = common.chromium()
        try:
            out[i] = B.measure_page(b, url, "layer_lab", [B.slider_case(SLIDER, "h")], presses, warm=2)["h"]
        finally:
            b.close()
            pw.stop()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runs = [r for r in out if r]
    return {"sessions": n, "run_finished": summary([v for r in runs for v in r["run_finished_samples"]]),
            "page_updated": summary([v for r in runs for v in r["page_updated_samples"]]),
            "failures": sum(r["failures"] for r in runs)}


def run(repeats: int = 30, sessions: int = 30, seconds: float = 60.0) -> dict:
    server = start_server("bench-load.log")
    try:
        urllib.request.urlopen(server.url + "/", timeout=30).read()
        idle = rss_mib(server.proc.pid)
        crowd = generate(server.port, sessions, seconds, server.proc.pid)
        few = generate(server.port, 3, min(seconds, 30.0), server.proc.pid)
        real = _chromium_sessions(server.url, 3, max(10, repeats // 2))
        after = rss_mib(server.proc.pid)
        alive = urllib.request.urlopen(server.url + "/_stcore/health", timeout=10).read().strip() == b"ok"
    finally:
        stop_server(server)
    floor = common.FLOOR.get("bare_slider", {}).get("page_updated", {}).get("median")
    out = {"crowd": crowd, "generator_3_sessions": few, "chromium_3_sessions": real, "rss_idle_mib": idle,
           "rss_after_mib": after, "server_alive": alive, "floor_bare_slider_p50_ms": floor,
           "method": __doc__.split("\n\n")[1],
           "targets": "p95 <= 5x the bare app's p50, no error, no session sees another's state, RSS <= 1.5 GB"}
    if floor and crowd["latency"].get("n"):
        out["crowd_p95_over_bare_p50"] = crowd["latency"]["p95"] / floor
    if crowd["rss_max_mib"] and sessions:
        out["rss_per_session_mib"] = (crowd["rss_max_mib"] - idle) / sessions
    return out


def table(result: dict) -> str:
    c, f, r = result["crowd"], result["generator_3_sessions"], result["chromium_3_sessions"]
    lat = c["latency"]
    lines = [f"== 7. a class: {c['sessions']} sessions on the Layer lab, input-height slider every {PERIOD_S:.0f} s "
             f"for {c['seconds']:.0f} s (load generator, websocket protocol) ==",
             f"  changes {c['changes']}, latency (sent -> script finished + images fetched) p50 {lat.get('median', float('nan')):.0f} ms, "
             f"p95 {lat.get('p95', float('nan')):.0f} ms"
             + (f" = {result['crowd_p95_over_bare_p50']:.2f}x the bare app's p50 (target <= 5x)"
                if "crowd_p95_over_bare_p50" in result else ""),
             f"  errors {c['error_count']}, answers showing another state {c['wrong_state']}, server alive {result['server_alive']}",
             f"  server RSS idle {result['rss_idle_mib']:.0f} MiB, max under load {c['rss_max_mib']:.0f} MiB "
             f"(target <= 1536), per session {result.get('rss_per_session_mib', float('nan')):.1f} MiB",
             f"  cross-check, 3 sessions: generator p50 {f['latency'].get('median', float('nan')):.0f} ms; 3 Chromium sessions: "
             f"key press -> script finished p50 {r['run_finished'].get('median', float('nan')):.0f} ms, "
             f"-> page updated p50 {r['page_updated'].get('median', float('nan')):.0f} ms ({r['failures']} failures)"]
    return "\n".join(lines)
