"""Server-side time of a page's script run after a typical control change, through AppTest.

AppTest reruns the whole script (it has no fragment-only reruns) in this process, without a browser:
the figure is the Python side of a rerun (widgets, cnnviz calls, plots, PNG encoding), not
what the browser does with it (bench.browser measures that). The first run of each page includes
loading its model and building caches; the changes after it are warm.
"""

from __future__ import annotations

import time

from bench.common import fmt, summary

NAME = "reruns"

# page -> (what changes, a function (at, i) applying the i-th change before at.run())
CHANGES = {
    "layer_lab": ("kernel height slider 3 <-> 5 (ll.kernel_h)",
                  lambda at, i: at.slider(key="ll.kernel_h").set_value(5 if i % 2 == 0 else 3)),
    "activations": ("zoom layer switch (activations.zoom.layer)", None),  # options read from the page
    "activations/scale": ("colour scale switch: every layer grid redrawn (activations.scale)",
                          lambda at, i: at.radio(key="activations.scale").set_value(
                              ("layer", "network", "channel")[i % 3])),
    "convolution": ("Next position button (convolution.next)",
                    lambda at, i: at.button(key="convolution.next").click()),
    "pooling": ("Next position button (pooling.next)", lambda at, i: at.button(key="pooling.next").click()),
    "filters": ("zoomed filter slider 0 <-> 1 (filters.zoom.filter)",
                lambda at, i: at.slider(key="filters.zoom.filter").set_value(1 if i % 2 == 0 else 0)),
    "probability": ("plain rerun, nothing changed", lambda at, i: None),
    "glossary": ("plain rerun, nothing changed", lambda at, i: None),
    "model": ("plain rerun, nothing changed", lambda at, i: None),
    "train": ("plain rerun, nothing changed", lambda at, i: None),
}


def _activation_layer(at, i):
    box = at.selectbox(key="activations.zoom.layer")
    box.set_value(box.options[(i + 1) % len(box.options)])


def _measure(page: str, change, repeats: int) -> dict:
    from tests.app.conftest import open_app

    start = time.perf_counter()
    at = open_app(page.split("/")[0])
    first = (time.perf_counter() - start) * 1000
    if at.exception:
        return {"error": [e.value for e in at.exception][:1]}
    samples = []
    for i in range(repeats + 1):
        change(at, i)
        start = time.perf_counter()
        at.run()
        if i:  # the first change may still fill caches
            samples.append((time.perf_counter() - start) * 1000)
        if at.exception:
            return {"error": [e.value for e in at.exception][:1]}
    return {"first_run_ms": first, "rerun": summary(samples)}


def run(repeats: int = 30) -> dict:
    n = max(3, min(repeats, 10))
    pages = {}
    for page, (what, change) in CHANGES.items():
        change = change or _activation_layer
        pages[page] = {"change": what, **_measure(page, change, n)}
    return {"pages": pages, "note": __doc__.split("\n\n")[0]}


def table(result: dict) -> str:
    lines = ["== 2. server-side rerun after a control change (AppTest, whole script; ms: median (p25–p75, n)) ==",
             f"  {'page':<18} {'first run':>9}  {'rerun after change':<28} change"]
    for page, r in result["pages"].items():
        if "error" in r:
            lines.append(f"  {page:<18} error: {r['error']}")
            continue
        lines.append(f"  {page:<18} {r['first_run_ms']:>9.0f}  {fmt(r['rerun'], 0):<28} {r['change']}")
    return "\n".join(lines)
