"""The floors, measured in the same `make bench` run as everything compared to them:

- the bare Streamlit app (bench/floor_app/bare.py: one slider, one line of text) in Chromium: a key press
  on its slider to the page updated, and `streamlit run` to its page drawn (cold start);
- the Layer lab's elements with no computation (bench/floor_app/elements.py), measured the same way: how
  long Streamlit and the browser take to redraw what a Layer lab change redraws, and to draw them at all
  from `streamlit run` (the floor of the Layer lab's usable first page);
- the Activations zoom's elements with no model (bench/floor_app/heatmap.py: one hoverable plotly heatmap
  built by the page's own function), the same way;
- `python -c "import keras; keras.layers.Conv2D(...)(x)"` in a new process: the one wait that a page
  with live Keras maps cannot avoid.
Other sections divide their figures by these (bench.common.FLOOR holds this run's)."""

from __future__ import annotations

import subprocess
import sys
import time

from bench import common
from bench.common import ROOT, chromium, summary

NAME = "floor"
BARE = "bench/floor_app/bare.py"
ELEMENTS = "bench/floor_app/elements.py"  # the Layer lab's elements, no computation
HEATMAP = "bench/floor_app/heatmap.py"  # the Activations zoom's elements: one hoverable plotly heatmap
KERAS_CALL = ("import numpy as np, keras; keras.ops.convert_to_numpy(keras.layers.Conv2D(10, 3, padding='same', "
              "activation='relu')(np.zeros((1, 120, 60, 1), 'float32')))")


def keras_call_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", KERAS_CALL], cwd=ROOT, check=True, capture_output=True,
                   env={**common.os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.perf_counter() - start


def run(repeats: int = 30) -> dict:
    from bench import browser, coldstart

    n = max(30, repeats)
    keras_s = [keras_call_seconds() for _ in range(3)]
    pw, b = chromium()
    try:
        starts, element_starts = [], []
        for _ in range(3):  # interleaved, so both see the same machine
            starts.append(coldstart.one_start(b, BARE, coldstart.BARE_SELECTORS))
            element_starts.append(coldstart.one_start(b, ELEMENTS, coldstart.ELEMENTS_SELECTORS))
        server = common.start_server("bench-floor.log", script=BARE)
        try:
            slider = browser.measure_page(b, server.url, "", [browser.slider_case("bare", "bare slider")], n)
        finally:
            common.stop_server(server)
        others = {}
        for name, script in (("elements slider", ELEMENTS), ("heatmap slider", HEATMAP)):
            server = common.start_server("bench-floor-elements.log", script=script)
            try:
                others.update(browser.measure_page(b, server.url, "", [browser.slider_case("bare", name)], n))
            finally:
                common.stop_server(server)
    finally:
        b.close()
        pw.stop()
    result = {
        "bare_slider": slider["bare slider"],
        "elements_slider": others["elements slider"],
        "heatmap_slider": others["heatmap slider"],
        "bare_cold_start_s": summary([s["complete_s"] for s in starts], "s"),
        "bare_health_s": summary([s["health_s"] for s in starts], "s"),
        # the Layer lab's elements (no computation, no sidebar): streamlit run -> its controls, metrics and
        # formulas on screen, what the Layer lab's usable page waits for
        "elements_cold_start_s": summary([s["usable_s"] for s in element_starts], "s"),
        "import_keras_and_conv2d_s": summary(keras_s, "s"),
        "method": __doc__,
    }
    common.FLOOR.update(result)
    return result


def table(result: dict) -> str:
    s, c, k = result["bare_slider"]["page_updated"], result["bare_cold_start_s"], result["import_keras_and_conv2d_s"]
    missing = {"median": float("nan"), "p95": float("nan")}
    e = result.get("elements_slider", {}).get("page_updated") or missing
    hm = result.get("heatmap_slider", {}).get("page_updated") or missing
    return "\n".join([
        "== 0. floors (same run) ==",
        f"  bare Streamlit app: slider key press -> page updated   p50 {s['median']:.0f} ms, p95 {s['p95']:.0f} ms (n={s['n']})",
        f"  the Layer lab's elements, no computation: slider -> page updated   p50 {e['median']:.0f} ms, p95 {e['p95']:.0f} ms "
        f"= {e['median'] / s['median']:.2f}x the bare app",
        f"  the Activations zoom's elements (one plotly heatmap), no model: slider -> page updated   p50 {hm['median']:.0f} ms, "
        f"p95 {hm['p95']:.0f} ms = {hm['median'] / s['median']:.2f}x the bare app",
        f"  bare Streamlit app: streamlit run -> page drawn         {c['median']:.2f} s ({c['min']:.2f}–{c['max']:.2f}, n={c['n']})",
        *([f"  the Layer lab's elements, no computation: streamlit run -> controls, metrics, formulas drawn   "
           f"{result['elements_cold_start_s']['median']:.2f} s = {result['elements_cold_start_s']['median'] / c['median']:.2f}x the bare app"]
          if "elements_cold_start_s" in result else []),
        f"  python -c 'import keras; Conv2D(...)(x)'                 {k['median']:.2f} s ({k['min']:.2f}–{k['max']:.2f}, n={k['n']})",
    ])
