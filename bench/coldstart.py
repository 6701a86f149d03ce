"""Cold start: from `streamlit run` (a new process) to the first page in Chromium, twice over:
- usable: the Layer lab's controls, shapes and arithmetic on screen (all that needs no TensorFlow);
- complete: its maps drawn too and the script run finished;
each as a ratio to a floor measured in this run (bench.floor): the bare Streamlit app's cold start for
the usable page, `import keras` + one Conv2D call in a new process for the complete page.
Then a warm server (up until its warm-up is done, as when an instructor starts it before the class): the
first student's first page against a later student's, both from `/` in a fresh browser context. And the
imports that dominate (`python -X importtime` of what app.py and the default page import)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench import common
from bench.common import ROOT, chromium, summary, top_imports

NAME = "coldstart"
# app.py's own imports, then the default page's (Layer lab): what a first request has to load.
APP_IMPORTS = "import streamlit, cnnviz.ui.errors, cnnviz.ui.sidebar, cnnviz.ui.warmup"
PAGE_IMPORTS = ("import cnnviz.layerlab, cnnviz.codegen, cnnviz.kernels, cnnviz.plots.layer_lab, cnnviz.ui.layer_lab, "
                "cnnviz.ui.image_picker")
APP_SELECTORS = {
    # the Layer lab's controls, its shape metrics and its formulas are on screen
    "usable": [".st-key-ll-kernel_h input[type='range']", "[data-testid='stMetric']", ".katex-display"],
    # ... and the last map of the page is a loaded image, the run finished
    "complete": [".st-key-ll-maps_image img"],
}
BARE_SELECTORS = {"usable": [".st-key-bare input[type='range']"], "complete": ["[data-testid='stMarkdownContainer']"]}
# bench/floor_app/elements.py (the Layer lab's elements, no computation): the app's usable selectors on its elements
ELEMENTS_SELECTORS = {"usable": [BARE_SELECTORS["usable"][0], *APP_SELECTORS["usable"][1:]],
                      "complete": ["[data-testid='stMain'] [data-testid='stImage'] img"]}
IMG_LOADED = """sel => { const i = document.querySelector(sel); return !i || i.tagName !== 'IMG' || (i.complete && i.naturalWidth > 0); }"""
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _page_times(browser, url: str, selectors: dict, start: float) -> dict:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(url + "/")
        for sel in selectors["usable"]:
            page.wait_for_selector(sel, timeout=120_000, state="attached")
        usable = time.perf_counter()
        for sel in selectors["complete"]:
            page.wait_for_selector(sel, timeout=120_000, state="attached")
            page.wait_for_function(IMG_LOADED, arg=sel, timeout=120_000)
        page.wait_for_selector(IDLE, timeout=120_000)
        complete = time.perf_counter()
        return {"usable_s": usable - start, "complete_s": complete - start}
    finally:
        context.close()


def _start(script: str, log_name: str, env: dict | None = None):
    from tests.browser.conftest import Server, free_port

    port = free_port()
    log = ROOT / "test-artifacts" / log_name
    log.parent.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    return Server(port, proc, log)


def _wait_healthy(server, start: float) -> float:
    import urllib.request

    while True:
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return time.perf_counter() - start
        except OSError:
            if server.proc.poll() is not None or time.perf_counter() - start > 120:
                raise RuntimeError(f"streamlit did not start: {server.log.read_text()[-1000:]}")
            time.sleep(0.02)


def _stop(server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


def one_start(browser, script: str = "app.py", selectors: dict = APP_SELECTORS, env: dict | None = None) -> dict:
    """`streamlit run script` -> health, usable and complete first page (seconds from the run)."""
    start = time.perf_counter()
    server = _start(script, "bench-coldstart.log", env)
    try:
        healthy = _wait_healthy(server, start)
        return {"health_s": healthy, **_page_times(browser, server.url, selectors, start)}
    finally:
        _stop(server)


def warm_server(browser, wait_s: float = 120) -> dict:
    """A server whose warm-up has finished: the first session's first page, then a later session's."""
    start = time.perf_counter()
    server = _start("app.py", "bench-coldstart-warm.log")
    try:
        _wait_healthy(server, start)
        while "warm-up done" not in server.log.read_text():
            if time.perf_counter() - start > wait_s:
                raise RuntimeError("the warm-up did not finish")
            time.sleep(0.2)
        warmed = time.perf_counter() - start
        first = []
        for _ in range(2):
            t0 = time.perf_counter()
            first.append(_page_times(browser, server.url, APP_SELECTORS, t0))
        return {"warm_up_done_s": warmed, "first_session": first[0], "later_session": first[1]}
    finally:
        _stop(server)


def _importtime(code: str) -> dict:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", code + "; import sys; print('keras' in sys.modules)"],
                          cwd=ROOT, capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    total = sum(int(line.split("|")[1]) for line in done.stderr.splitlines()  # top level of the tree only
                if line.startswith("import time:") and line.split("|")[1].strip().isdigit()
                and not line.split("|")[2].startswith("  ")) / 1000
    return {"code": code, "total_ms": total, "keras_imported": done.stdout.strip().endswith("True"), "top": top_imports(done.stderr, n=10)}


def run(repeats: int = 30) -> dict:
    n = 3 if repeats >= 3 else 1  # each start costs 10-20 s on two cores
    pw, browser = chromium()
    try:
        starts, unhinted = [], []
        for _ in range(n):  # interleaved, so both see the same machine
            starts.append(one_start(browser))
            unhinted.append(one_start(browser, env={"CNNVIZ_PRELOAD": "0"}))
        warm = warm_server(browser)
    finally:
        browser.close()
        pw.stop()
    usable = summary([s["usable_s"] for s in starts], "s")
    complete = summary([s["complete_s"] for s in starts], "s")
    out = {
        "streamlit_run_to_health_s": summary([s["health_s"] for s in starts], "s"),
        "streamlit_run_to_usable_first_page_s": usable,
        "streamlit_run_to_complete_first_page_s": complete,
        "without_preload_hints": {  # CNNVIZ_PRELOAD=0: what cnnviz.ui.preload saves
            "usable_s": summary([s["usable_s"] for s in unhinted], "s"),
            "complete_s": summary([s["complete_s"] for s in unhinted], "s")},
        "first_page": "Layer lab (default): usable = controls, shape metrics, formulas; complete = its pooled maps "
                      "image loaded and the script run finished",
        "warm_server": warm,
        "imports_app": _importtime(APP_IMPORTS),
        "imports_app_and_first_page": _importtime(APP_IMPORTS + "; " + PAGE_IMPORTS),
        "targets": "usable <= 1.5x the bare app's cold start; complete <= 1.15x import keras + Conv2D; "
                   "warm server: first session's page as fast as a later one's",
    }
    bare = common.FLOOR.get("bare_cold_start_s", {}).get("median")
    keras_s = common.FLOOR.get("import_keras_and_conv2d_s", {}).get("median")
    if bare:
        out["usable_over_bare_cold_start"] = usable["median"] / bare
    if keras_s:
        out["complete_over_import_keras_conv2d"] = complete["median"] / keras_s
    elements = common.FLOOR.get("elements_cold_start_s", {}).get("median")
    if elements:  # how much of the usable page is cnnviz, not Streamlit drawing the same elements
        out["usable_over_elements_cold_start"] = usable["median"] / elements
    # the floors divided by (results.json's floor section is overwritten by a later run of another section)
    out["floors_s"] = {"bare_cold_start": bare, "elements_cold_start": elements, "import_keras_and_conv2d": keras_s}
    out["warm_first_over_later"] = warm["first_session"]["complete_s"] / warm["later_session"]["complete_s"]
    return out


def table(result: dict) -> str:
    h, u, c = (result[k] for k in ("streamlit_run_to_health_s", "streamlit_run_to_usable_first_page_s",
                                    "streamlit_run_to_complete_first_page_s"))
    w = result["warm_server"]

    def ratio(key):
        return f"{result[key]:.2f}x" if key in result else "—"

    lines = ["== 4. cold start (s: median (min–max, n)) ==",
             f"  streamlit run -> /_stcore/health ok          {h['median']:.2f} ({h['min']:.2f}–{h['max']:.2f}, n={h['n']})",
             f"  streamlit run -> usable Layer lab            {u['median']:.2f} ({u['min']:.2f}–{u['max']:.2f}, n={u['n']})"
             f"   {ratio('usable_over_bare_cold_start')} the bare app's cold start (target <= 1.5x), "
             f"{ratio('usable_over_elements_cold_start')} its elements' with no computation",
             f"  streamlit run -> complete Layer lab (maps)   {c['median']:.2f} ({c['min']:.2f}–{c['max']:.2f}, n={c['n']})"
             f"   {ratio('complete_over_import_keras_conv2d')} import keras + Conv2D (target <= 1.15x)",
             *([f"  the same without the preload hints (CNNVIZ_PRELOAD=0): usable "
                f"{result['without_preload_hints']['usable_s']['median']:.2f} s, complete "
                f"{result['without_preload_hints']['complete_s']['median']:.2f} s"] if "without_preload_hints" in result else []),
             f"  warm server (warm-up done {w['warm_up_done_s']:.1f} s after start): first session's page complete in "
             f"{w['first_session']['complete_s']:.2f} s, a later session's {w['later_session']['complete_s']:.2f} s "
             f"({result['warm_first_over_later']:.2f}x)"]
    for key in ("imports_app", "imports_app_and_first_page"):
        r = result[key]
        lines.append(f"  python -X importtime -c \"{r['code']}\": {r['total_ms']:.0f} ms, keras imported: {r['keras_imported']}")
        lines.append("    top: " + ", ".join(f"{x['module']} {x['cumulative_ms']:.0f} ms" for x in r["top"][:8]))
    return "\n".join(lines)
