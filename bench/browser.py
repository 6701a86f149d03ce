"""In Chromium: from a key press on a control to the whole page updated (every image and chart drawn,
nothing changing any more), and the bytes the server sent for that change; per page, as a ratio to the
bare Streamlit app's slider measured the same way in the same run (bench.floor).

How it is measured, inside the page (no polling from Python in the timed path):
- a capturing keydown listener stamps t0 (performance.now()) when Playwright presses the key, and notes
  the control it was pressed on;
- a MutationObserver stamps every DOM change anywhere in the document except inside that control (its own
  thumb and value label move at once) and except the script-state attribute itself; an image `load`
  event counts as a change too;
- a change is done when the script state is back to notRunning, nothing has changed for QUIET_MS, and
  every <img> is complete; its latency is (last change - t0). A press that changed nothing counts as a
  failure, not as a fast sample.
Bytes: websocket frames received by the browser plus the HTTP responses for /media/ (st.image PNGs are
fetched by URL, not sent in the websocket), per change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench import common
from bench.common import ROOT, chromium, open_app, start_server, stop_server, summary, wait_idle

NAME = "browser"
QUIET_MS = 600

# Also counts the DOM mutations (MutationRecords: attribute, child-list and text changes) inside stMain since
# the last key press, outside the pressed control: the DOM work a change costs the browser, a number that does
# not depend on the machine's speed (tests/browser/test_dom_budget.py asserts a budget per control).
INIT = """
window.__bench = {t0: null, last: null, runEnd: null, exclude: null, mutations: 0,
                  kinds: {attributes: 0, childList: 0, characterData: 0}};
const __controls = "[data-testid='stSlider'],[data-testid='stButton'],[data-testid='stRadio'],[data-testid='stNumberInput'],[data-testid='stSelectbox']";
document.addEventListener('keydown', () => {
  const b = window.__bench; b.t0 = performance.now(); b.last = null; b.runEnd = null;
  b.mutations = 0; b.kinds = {attributes: 0, childList: 0, characterData: 0};
  const el = document.activeElement; b.exclude = el && el.closest ? el.closest(__controls) : null;
}, true);
document.addEventListener('load', e => {
  if (e.target && e.target.tagName === 'IMG' && window.__bench.t0 !== null) window.__bench.last = performance.now();
}, true);
function __benchWatch() {
  new MutationObserver(records => {
    const b = window.__bench, now = performance.now();
    if (b.t0 === null) return;
    for (const r of records) {
      const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (!node) continue;
      if (r.type === 'attributes' && r.attributeName === 'data-test-script-state') {
        if (node.getAttribute('data-test-script-state') === 'notRunning') b.runEnd = now;
        continue;
      }
      if (b.exclude && b.exclude.contains(node)) continue;
      b.last = now;
      if (node.closest && node.closest("[data-testid='stMain']")) { b.mutations++; b.kinds[r.type]++; }
    }
  }).observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
}
if (document.documentElement) __benchWatch(); else document.addEventListener('DOMContentLoaded', __benchWatch);
"""

DONE = f"""() => {{
  const b = window.__bench, app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (![...document.images].every(i => i.complete)) return false;
  const now = performance.now();
  return b.last !== null && now - b.last > {QUIET_MS} && now - (b.runEnd || 0) > {QUIET_MS};
}}"""

GIVE_UP = """() => {
  const b = window.__bench, app = document.querySelector("[data-testid='stApp']");
  return app && app.getAttribute('data-test-script-state') === 'notRunning' && performance.now() - b.t0 > 10000;
}"""


class Traffic:
    """Bytes the browser received: websocket frames, and finished /media/ requests (sized later)."""

    def __init__(self, page):
        self.ws_bytes = 0
        self.media = []
        page.on("websocket", self._socket)
        page.on("requestfinished", lambda req: self.media.append(req) if "/media/" in req.url else None)

    def _socket(self, ws):
        def received(payload):
            self.ws_bytes += len(payload)
        ws.on("framereceived", received)

    def mark(self):
        return self.ws_bytes, len(self.media)

    def since(self, mark) -> tuple[int, int, int]:
        ws0, m0 = mark
        media = 0
        for req in self.media[m0:]:
            sizes = req.sizes()
            media += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        return self.ws_bytes - ws0, media, len(self.media) - m0


def key_class(key: str) -> str:
    """The CSS class Streamlit gives the element of a widget/container with this key."""
    return ".st-key-" + "".join(c if c.isalnum() or c in "_-" else "-" for c in key)


@dataclass(frozen=True)
class Case:
    name: str
    focus: str  # CSS selector of the element to focus before each key press
    keys: tuple[str, ...]  # pressed in turn


def slider_case(key: str, name: str) -> Case:
    return Case(name, f"{key_class(key)} input[type='range']", ("ArrowRight", "ArrowLeft"))


def button_case(key: str, name: str) -> Case:
    return Case(name, f"{key_class(key)} button", ("Enter",))


def radio_case(key: str, name: str) -> Case:
    return Case(name, f"{key_class(key)} input[type='radio']:checked", ("ArrowRight", "ArrowRight", "ArrowLeft", "ArrowLeft"))


def number_case(key: str, name: str) -> Case:
    return Case(name, f"{key_class(key)} input", ("ArrowUp", "ArrowDown"))


# page -> the changes a student makes there (the Layer lab's first: the headline figure)
PAGES = {
    "layer_lab": [slider_case("ll.input_h", "layer_lab: input height slider"),
                  slider_case("ll.kernel_h", "layer_lab: kernel height slider")],
    "convolution": [button_case("convolution.next", "convolution: next position")],
    "pooling": [button_case("pooling.next", "pooling: next position")],
    "filters": [slider_case("filters.zoom.filter", "filters: zoomed filter slider")],
    "model": [number_case("cnnviz.model_page.h", "model: input height +1/-1")],
    "activations": [slider_case("activations.zoom.channel", "activations: zoom channel slider"),
                    radio_case("activations.scale", "activations: colour scale (every grid redrawn)")],
}
TARGETS = {"activations: zoom channel slider": 1.5, "activations: colour scale (every grid redrawn)": 1.5}  # p50 ratio
DEFAULT_TARGET = 2.0  # p50 <= 2x and p95 <= 3x the bare app's p50
P95_TARGET = 3.0


def _changes(page, traffic, case: Case, n: int) -> dict:
    """Press case.keys[i % len] on the focused control n times; latency and bytes of each change."""
    latencies, run_ends, ws, media, failures = [], [], [], [], 0
    control = page.locator(case.focus).first
    for i in range(n):
        control.focus()
        mark = traffic.mark()
        page.keyboard.press(case.keys[i % len(case.keys)])
        try:
            page.wait_for_function(f"() => ({DONE})() || ({GIVE_UP})()", polling=50, timeout=60_000)
        except Exception:  # noqa: BLE001 - a stuck change is reported as a failure
            failures += 1
            continue
        b = page.evaluate("() => window.__bench")
        if b["last"] is None:
            failures += 1
            continue
        latencies.append(b["last"] - b["t0"])
        if b["runEnd"]:
            run_ends.append(b["runEnd"] - b["t0"])
        w, m, _ = traffic.since(mark)
        ws.append(w / 1024)
        media.append(m / 1024)
        page.wait_for_timeout(300)  # a key press right after a rerun can be dropped
    return {"page_updated": summary(latencies), "run_finished": summary(run_ends),
            "page_updated_samples": latencies, "run_finished_samples": run_ends, "websocket_kib": summary(ws, "KiB"), "media_kib": summary(media, "KiB"),
            "total_kib": summary([a + b for a, b in zip(ws, media)], "KiB"), "failures": failures}


def measure_page(browser, url: str, path: str, cases: list[Case], n: int, warm: int = 3) -> dict:
    """Open `path` in a fresh context (as a user would, from `/`) and measure each case n times."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(INIT)
    page = context.new_page()
    page.set_default_timeout(120_000)
    traffic = Traffic(page)
    out = {}
    try:
        open_app(page, url, path)
        page.wait_for_timeout(1500)
        for case in cases:
            _changes(page, traffic, case, warm)  # warm: the first changes may fill caches
            out[case.name] = _changes(page, traffic, case, n)
    except Exception:
        page.screenshot(path=str(ROOT / "test-artifacts" / f"bench-browser-{path or 'root'}-failed.png"))
        raise
    finally:
        context.close()
    return out


def ratios(case: dict, floor_p50: float | None) -> dict:
    s = case["page_updated"]
    if not floor_p50 or not s.get("n"):
        return {}
    return {"p50_over_bare_p50": s["median"] / floor_p50, "p95_over_bare_p50": s["p95"] / floor_p50}


def run(repeats: int = 30) -> dict:
    n = max(30, repeats)
    floor = common.FLOOR.get("bare_slider", {}).get("page_updated", {})
    floor_p50 = floor.get("median")
    server = start_server("bench-browser.log")
    pw, browser = chromium()
    cases = {}
    try:
        for path, page_cases in PAGES.items():
            cases.update(measure_page(browser, server.url, path, page_cases, n))
    finally:
        browser.close()
        pw.stop()
        stop_server(server)
    elements_p50 = common.FLOOR.get("elements_slider", {}).get("page_updated", {}).get("median")
    heatmap_p50 = common.FLOOR.get("heatmap_slider", {}).get("page_updated", {}).get("median")
    for name, case in cases.items():
        case.update(ratios(case, floor_p50))
        # the same elements drawn with no computation behind them (bench/floor_app/elements.py, heatmap.py)
        same = elements_p50 if name.startswith("layer_lab") else heatmap_p50 if "zoom channel" in name else None
        if same and case["page_updated"].get("n"):
            case["p50_over_elements_p50"] = case["page_updated"]["median"] / same
            case["elements_p50_ms"] = same
        case["target_p50_ratio"] = TARGETS.get(name, DEFAULT_TARGET)
    return {"cases": cases, "quiet_ms": QUIET_MS, "floor_bare_slider_p50_ms": floor_p50,
            "floor_elements_slider_p50_ms": elements_p50, "floor_heatmap_slider_p50_ms": heatmap_p50,
            "method": __doc__.split("\n\n")[1],
            "targets": f"p50 <= {DEFAULT_TARGET}x and p95 <= {P95_TARGET}x the bare app's p50 (Activations p50 <= 1.5x)"}


def table(result: dict) -> str:
    floor = result.get("floor_bare_slider_p50_ms")
    lines = ["== 3. in Chromium: key press -> whole page updated; bytes per change; ratios to the bare app's p50 "
             f"({floor:.0f} ms this run) ==" if floor else "== 3. in Chromium (no floor this run: run with `floor`) ==",
             f"  {'case':<48} {'p50 ms':>7} {'p95 ms':>7} {'p50/bare':>8} {'p95/bare':>8} {'target':>7} "
             f"{'KiB p50/max':>13} {'n':>3} fail"]
    for name, r in result["cases"].items():
        m, t = r["page_updated"], r["total_kib"]
        if not m.get("n"):
            lines.append(f"  {name:<48} no sample ({r['failures']} failures)")
            continue
        p50r, p95r = r.get("p50_over_bare_p50"), r.get("p95_over_bare_p50")
        met = "" if p50r is None else ("met" if p50r <= r["target_p50_ratio"] and p95r <= P95_TARGET else "MISSED")
        lines.append(f"  {name:<48} {m['median']:>7.0f} {m['p95']:>7.0f} {p50r or float('nan'):>7.2f}x {p95r or float('nan'):>7.2f}x "
                     f"{r['target_p50_ratio']:>6.1f}x {t['median']:>6.1f}/{t['max']:<6.1f} {m['n']:>3} {r['failures']:>4} {met}")
        if r.get("p50_over_elements_p50"):
            lines.append(f"  {'':<48} p50 = {r['p50_over_elements_p50']:.2f}x the same elements drawn with no computation "
                         f"({r.get('elements_p50_ms', result.get('floor_elements_slider_p50_ms')):.0f} ms)")
    return "\n".join(lines)


if __name__ == "__main__":  # quick look: python -m bench.browser
    started = time.perf_counter()
    print(table(run(4)), f"{time.perf_counter() - started:.0f} s")
