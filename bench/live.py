"""The Live page at video rate, in Chromium with a fake camera (Y4M of the lecture model's shapes, 30 fps):
frames drawn per second, counted by the browser; latency from capture to the maps on screen (p50, p95);
the lag after two minutes (p50 of the last 20 s against the first 20 s); the server's time per frame
against one bare compiled forward pass of the same model (`predict_on_batch`, batch of one, measured in
this process before the stream starts); four Lite0 sessions at once, each one's frame rate, and the Layer
lab's slider meanwhile against the same slider with nothing live.

Floors, same run: bench/floor_app/live.py (the same component, capture, frames and websocket answered
with one canned answer of the same size: what the browser and the transport cost), per model.
Everything runs on this machine: the server, the browsers that capture and draw, the bench.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from bench import common
from bench.common import ROOT, start_server, stop_server, summary

NAME = "live"
WARM_S = 6
SHORT_S = 20
LONG_S = 120
LAG_WINDOW_S = 20
LITE0 = "efficientnet_lite0"
MODEL_QUERY = {"seed_trained": "", LITE0: "cnnviz.model.widget=EfficientNet-Lite0%2C+trained+on+ImageNet"}
GOALS = {"seed_trained": 24.0, LITE0: 12.0, LITE0 + "+cam": 8.0}


def _y4m() -> Path:
    from tests import livemedia

    path = Path(tempfile.gettempdir()) / "cnnviz-bench-shapes.y4m"
    if not path.exists():
        livemedia.write_y4m(path, livemedia.shape_frames())
    return path


def _browser(pw):
    from tests.browser.conftest import CHROMIUM_ARGS, _chromium

    return pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={_y4m()}"])


def _start(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.goto(url)
    page.wait_for_selector(".cnnviz-live .lv-camera")
    common.wait_idle(page, 500)
    page.click(".cnnviz-live .lv-camera")
    page.wait_for_function("() => window.__cnnvizLive && window.__cnnvizLive.frames > 3", polling=200)
    return context, page


def _sample(page) -> dict:
    return page.evaluate("() => ({frames: window.__cnnvizLive.frames, lat: window.__cnnvizLive.lat.slice(),"
                         " server: window.__cnnvizLive.server.slice(), now: performance.now()})")


def _stream(page, seconds: float, lag: bool = False) -> dict:
    """Frames, latency and server time over `seconds` of an open stream (after WARM_S)."""
    page.wait_for_timeout(WARM_S * 1000)
    a = _sample(page)
    windows = []
    if lag:
        page.wait_for_timeout(LAG_WINDOW_S * 1000)
        first = _sample(page)
        windows.append(first["lat"][len(a["lat"]):] if len(first["lat"]) > len(a["lat"]) else first["lat"][-50:])
        page.wait_for_timeout((seconds - 2 * LAG_WINDOW_S) * 1000)
        before_last = _sample(page)
        page.wait_for_timeout(LAG_WINDOW_S * 1000)
        b = _sample(page)
        windows.append(b["lat"][-(b["frames"] - before_last["frames"]):] if b["frames"] > before_last["frames"] else [])
    else:
        page.wait_for_timeout(seconds * 1000)
        b = _sample(page)
    n = b["frames"] - a["frames"]
    lat = b["lat"][-n:] if n > 0 else []
    server = b["server"][-n:] if n > 0 else []
    out = {"seconds": round((b["now"] - a["now"]) / 1000, 1), "frames": n,
           "fps": n / ((b["now"] - a["now"]) / 1000), "latency": summary(lat), "server_per_frame": summary(server)}
    if lag:
        out["lag_first_20s_p50_ms"] = common.percentile(windows[0], 50) if windows[0] else None
        out["lag_last_20s_p50_ms"] = common.percentile(windows[1], 50) if windows[1] else None
        if out["lag_first_20s_p50_ms"] and out["lag_last_20s_p50_ms"]:
            out["lag_growth"] = out["lag_last_20s_p50_ms"] / out["lag_first_20s_p50_ms"]
    return out


def _bare_ms(key: str, repeats: int) -> dict:
    """One compiled forward pass of the model on one input (predict_on_batch), in this process."""
    import numpy as np

    from cnnviz import models

    model = models.load_preset(key).model
    x = np.random.default_rng(0).random((1, *model.input_shape[1:])).astype("float32")
    return summary(common.times_ms(lambda: model.predict_on_batch(x), repeats, warmup=3))


def batching(repeats: int = 20) -> dict:
    """Whether batching pays: the live pass (cnnviz.live.pipeline) for one frame against four at once, per
    frame, in this process, for each model (with and without Grad-CAM)."""
    import numpy as np

    from cnnviz import models
    from cnnviz.live import pipeline

    out = {}
    for key in ("seed_trained", LITE0):
        model = models.load_preset(key).model
        x = np.random.default_rng(0).random((4, *model.input_shape[1:])).astype("float32")
        for cam in (False, True):
            p = pipeline.pipeline(model, pipeline.default_layer(model), cam)
            one = summary(common.times_ms(lambda: p(x[:1]), repeats, warmup=3))["median"]
            four = summary(common.times_ms(lambda: p(x), repeats, warmup=3))["median"] / 4
            out[key + ("+cam" if cam else "")] = {"one_ms": one, "per_frame_in_four_ms": four, "gain": one / four}
    return out


def _floor(pw, key: str, cam: bool) -> dict:
    server = start_server(f"bench-live-floor-{key}.log", script="bench/floor_app/live.py",
                          env={"BENCH_LIVE_MODEL": key, "BENCH_LIVE_CAM": "1" if cam else "0"})
    browser = _browser(pw)
    try:
        context, page = _start(browser, server.url)
        result = _stream(page, SHORT_S)
        context.close()
        return result
    finally:
        browser.close()
        stop_server(server)


def _layer_lab_slider(browser, url: str, n: int) -> dict:
    from bench.browser import PAGES, measure_page

    case = PAGES["layer_lab"][0]
    return measure_page(browser, url, "layer_lab", [case], n, warm=2)[case.name]["page_updated"]


def run(repeats: int = 30) -> dict:
    from playwright.sync_api import sync_playwright

    results: dict = {"cases": {}, "floors": {}, "bare_forward_ms": {}}
    pw = sync_playwright().start()
    try:
        for key in ("seed_trained", LITE0):
            results["bare_forward_ms"][key] = _bare_ms(key, repeats)
        results["batching"] = batching(repeats)
        for name, (key, cam) in {"seed_trained": ("seed_trained", False), LITE0: (LITE0, False),
                                 LITE0 + "+cam": (LITE0, True)}.items():
            results["floors"][name] = _floor(pw, key, cam)
        server = start_server("bench-live.log")
        browser = _browser(pw)
        try:
            for name, (key, cam) in {"seed_trained": ("seed_trained", False), LITE0: (LITE0, False),
                                     LITE0 + "+cam": (LITE0, True)}.items():
                query = "&".join(q for q in (MODEL_QUERY[key], "live.cam=true" if cam else "") if q)
                context, page = _start(browser, f"{server.url}/live" + (f"?{query}" if query else ""))
                long = not cam and os.environ.get("BENCH_LIVE_SHORT") != "1"
                case = _stream(page, LONG_S if long else SHORT_S, lag=long)
                context.close()
                floor = results["floors"][name]
                case["fps_over_floor_fps"] = case["fps"] / floor["fps"] if floor["fps"] else None
                case["p50_over_floor_p50"] = (case["latency"]["median"] / floor["latency"]["median"]
                                              if floor["latency"].get("n") else None)
                bare = results["bare_forward_ms"][key]["median"]
                case["server_over_bare_forward"] = case["server_per_frame"]["median"] / bare if case["server_per_frame"].get("n") else None
                case["goal_fps"] = GOALS[name]
                results["cases"][name] = case
            # a class: four Lite0 sessions at once, and the Layer lab's slider meanwhile
            idle = _layer_lab_slider(browser, server.url, 10)
            pages = [_start(browser, f"{server.url}/live?{MODEL_QUERY[LITE0]}") for _ in range(4)]
            for _, page in pages:
                page.wait_for_timeout(1000)
            starts = [_sample(page) for _, page in pages]
            busy = _layer_lab_slider(browser, server.url, 10)
            ends = [_sample(page) for _, page in pages]
            per_session = [(e["frames"] - s["frames"]) / ((e["now"] - s["now"]) / 1000) for s, e in zip(starts, ends)]
            for context, _ in pages:
                context.close()
            results["four_lite0"] = {"fps_each": per_session, "fps_min": min(per_session),
                                     "layer_lab_idle": idle, "layer_lab_during": busy,
                                     "slider_p50_over_idle": busy["median"] / idle["median"] if idle.get("n") else None,
                                     "goal": ">= 3 fps each; slider p50 <= 2x idle"}
        finally:
            browser.close()
            stop_server(server)
    finally:
        pw.stop()
    results["method"] = __doc__.split("\n\n")[0]
    return results


def table(result: dict) -> str:
    rows = ["| live view (Chromium, fake 30 fps camera) | fps drawn | floor fps | latency p50 / p95 | floor p50 "
            "| lag: p50 first 20 s -> last 20 s | server per frame / bare forward | goal |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, c in result["cases"].items():
        f = result["floors"][name]
        lag = (f"{c['lag_first_20s_p50_ms']:.0f} -> {c['lag_last_20s_p50_ms']:.0f} ms"
               if c.get("lag_first_20s_p50_ms") and c.get("lag_last_20s_p50_ms") else "")
        ratio = c.get("server_over_bare_forward")
        rows.append(f"| {name} | {c['fps']:.1f} | {f['fps']:.1f} | {c['latency'].get('median', 0):.0f} / "
                    f"{c['latency'].get('p95', 0):.0f} ms | {f['latency'].get('median', 0):.0f} ms | {lag} | "
                    f"{c['server_per_frame'].get('median', 0):.1f} ms = {ratio:.2f}x | >= {c['goal_fps']:.0f} fps |"
                    if ratio else f"| {name} | {c['fps']:.1f} | {f['fps']:.1f} | | | {lag} | | |")
    four = result.get("four_lite0")
    if four:
        rows.append("")
        rows.append(f"4 Lite0 sessions at once: {', '.join(f'{v:.1f}' for v in four['fps_each'])} fps; Layer lab slider "
                    f"p50 {four['layer_lab_during'].get('median', 0):.0f} ms against {four['layer_lab_idle'].get('median', 0):.0f} ms "
                    f"with nothing live ({four['slider_p50_over_idle']:.2f}x; goal <= 2x)")
    for name, b in (result.get("batching") or {}).items():
        rows.append(f"batching, {name}: {b['one_ms']:.1f} ms for one frame, {b['per_frame_in_four_ms']:.1f} ms per frame in "
                    f"four ({b['gain']:.2f}x)")
    rows.append("bare forward pass: " + ", ".join(f"{k} {v['median']:.2f} ms" for k, v in result["bare_forward_ms"].items()))
    return "\n".join(rows)
