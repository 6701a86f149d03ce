"""Cold start: from `streamlit run` (a new process) to the first page fully rendered in Chromium, and
the imports that dominate it (`python -X importtime` of what app.py and the default page import)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.common import ROOT, chromium, summary, top_imports

NAME = "coldstart"
# app.py's own imports, then the default page's (Layer lab): what a first request has to load.
APP_IMPORTS = "import streamlit, cnnviz.ui.errors, cnnviz.ui.sidebar"
PAGE_IMPORTS = "import cnnviz.layerlab, cnnviz.codegen, cnnviz.kernels, cnnviz.plots.layer_lab, cnnviz.ui.image_picker"
CONTROLS = ".st-key-ll-kernel_h input[type='range']"  # Layer lab's controls are on screen
RENDERED = ".st-key-ll-pooled_chart [data-testid='stPlotlyChart'] .main-svg"  # the last map of the page


def _one_start(browser) -> dict:
    from tests.browser.conftest import Server, free_port

    import urllib.request

    port = free_port()
    log = (ROOT / "test-artifacts" / "bench-coldstart.log")
    log.parent.mkdir(exist_ok=True)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, env=os.environ.copy())
    server = Server(port, proc, log)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - start > 120:
                    raise RuntimeError(f"streamlit did not start: {log.read_text()[-1000:]}")
                time.sleep(0.05)
        healthy = time.perf_counter()
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.goto(server.url + "/")
        page.wait_for_selector(CONTROLS, timeout=120_000)
        controls = time.perf_counter()
        page.wait_for_selector(RENDERED, timeout=120_000, state="attached")
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000)
        rendered = time.perf_counter()
        context.close()
        return {"health_s": healthy - start, "controls_s": controls - start, "first_page_s": rendered - start}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


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
        starts = [_one_start(browser) for _ in range(n)]
    finally:
        browser.close()
        pw.stop()
    return {
        "streamlit_run_to_health_s": summary([s["health_s"] for s in starts], "s"),
        "streamlit_run_to_first_controls_s": summary([s["controls_s"] for s in starts], "s"),
        "streamlit_run_to_first_page_rendered_s": summary([s["first_page_s"] for s in starts], "s"),
        "first_page": "Layer lab (default) with its pooled map drawn and the script run finished",
        "imports_app": _importtime(APP_IMPORTS),
        "imports_app_and_first_page": _importtime(APP_IMPORTS + "; " + PAGE_IMPORTS),
        "target": "< 8 s to a usable first page",
    }


def table(result: dict) -> str:
    h, c = result["streamlit_run_to_health_s"], result["streamlit_run_to_first_controls_s"]
    f = result["streamlit_run_to_first_page_rendered_s"]
    lines = ["== 4. cold start (s: median (min–max, n)) ==",
             f"  streamlit run -> /_stcore/health ok        {h['median']:.1f} ({h['min']:.1f}–{h['max']:.1f}, n={h['n']})",
             f"  streamlit run -> Layer lab sliders shown   {c['median']:.1f} ({c['min']:.1f}–{c['max']:.1f}, n={c['n']})",
             f"  streamlit run -> first page rendered       {f['median']:.1f} ({f['min']:.1f}–{f['max']:.1f}, n={f['n']})"
             f"   [{result['first_page']}]"]
    for key in ("imports_app", "imports_app_and_first_page"):
        r = result[key]
        lines.append(f"  python -X importtime -c \"{r['code']}\": {r['total_ms']:.0f} ms, keras imported: {r['keras_imported']}")
        lines.append("    top: " + ", ".join(f"{x['module']} {x['cumulative_ms']:.0f} ms" for x in r["top"][:8]))
    return "\n".join(lines)
