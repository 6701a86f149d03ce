"""In Chromium: the time from a key press on a control to the last change of the maps on screen, and the
bytes the server sent for that rerun.

How it is measured, inside the page (no polling from Python in the timed path):
- a capturing keydown listener stamps t0 (performance.now()) when Playwright presses the arrow key;
- a MutationObserver stamps every DOM change inside the watched elements (the maps: plotly charts
  or images), ignoring attribute changes on the element container itself (Streamlit's stale marking);
- a change is done when the script state is back to notRunning and the watched elements have been
  quiet for QUIET_MS; its latency is (last map mutation - t0). A change that never touched the maps
  counts as a failure, not as a fast sample.
Bytes: websocket frames received by the browser (Streamlit's deltas) plus the HTTP responses for
/media/ (st.image PNGs are fetched by URL, not sent in the websocket), per change.
"""

from __future__ import annotations

import time

from bench.common import ROOT, chromium, open_app, start_server, stop_server, summary, wait_idle

NAME = "browser"
QUIET_MS = 400

INIT = """
window.__bench = {t0: null, last: null, any: 0, targets: [], runEnd: null};
document.addEventListener('keydown', () => { const b = window.__bench; b.t0 = performance.now(); b.last = null; b.runEnd = null; }, true);
function __benchWatch() {
  new MutationObserver(records => {
    const b = window.__bench, now = performance.now();
    for (const r of records) {
      const node = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (!node) continue;
      if (node.matches && node.matches("[data-testid='stApp']") && r.attributeName === 'data-test-script-state'
          && node.getAttribute('data-test-script-state') === 'notRunning') { b.runEnd = now; continue; }
      for (const sel of b.targets) {
        const host = node.closest(sel);
        if (host && !(host === node && r.type === 'attributes')) { b.last = now; b.any = now; break; }
      }
    }
  }).observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
}
if (document.documentElement) __benchWatch(); else document.addEventListener('DOMContentLoaded', __benchWatch);
"""

DONE = f"""() => {{
  const b = window.__bench, app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const now = performance.now();
  return b.last !== null && now - b.any > {QUIET_MS} && now - (b.runEnd || 0) > {QUIET_MS};
}}"""

GIVE_UP = f"""() => {{
  const b = window.__bench, app = document.querySelector("[data-testid='stApp']");
  return app && app.getAttribute('data-test-script-state') === 'notRunning' && performance.now() - b.t0 > 8000;
}}"""


class Traffic:
    """Bytes the browser received: websocket frames, and finished /media/ requests (sized later)."""

    def __init__(self, page):
        self.ws_bytes = 0
        self.frames = 0
        self.media = []
        page.on("websocket", self._socket)
        page.on("requestfinished", lambda req: self.media.append(req) if "/media/" in req.url else None)

    def _socket(self, ws):
        def received(payload):
            self.ws_bytes += len(payload)
            self.frames += 1
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


def _changes(page, traffic, focus, keys, targets: list[str], n: int) -> dict:
    """Press keys[i % len(keys)] on the focused control n times; latency and bytes of each change."""
    page.evaluate("t => { window.__bench.targets = t; }", targets)
    latencies, run_ends, ws, media, media_files, failures = [], [], [], [], [], 0
    for i in range(n):
        focus()
        mark = traffic.mark()
        page.keyboard.press(keys[i % len(keys)])
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
        w, m, files = traffic.since(mark)
        ws.append(w / 1024)
        media.append(m / 1024)
        media_files.append(files)
        wait_idle(page, 50)
    return {"maps_on_screen": summary(latencies), "run_finished_in_browser": summary(run_ends),
            "websocket_kib": summary(ws, "KiB"), "media_kib": summary(media, "KiB"),
            "total_kib": summary([a + b for a, b in zip(ws, media)], "KiB"),
            "media_files": summary(media_files, "files"), "failures": failures}


def _key(key: str) -> str:
    """The CSS class Streamlit gives the element of a widget/chart with this key."""
    return ".st-key-" + "".join(c if c.isalnum() or c in "_-" else "-" for c in key)


def _slider_focus(page, key: str):
    thumb = page.locator(f"{_key(key)} input[type='range']").first
    return lambda: thumb.focus()


def _choose(page, key: str, option: str) -> None:
    """Pick `option` in the selectbox with this key (typing into its combobox; clicks can miss)."""
    box = page.locator(f"{_key(key)} input").first
    for _ in range(5):
        box.click()
        page.keyboard.type(option)
        page.keyboard.press("Enter")
        wait_idle(page)
        shown = page.evaluate("sel => { const el = document.querySelector(sel); return el.textContent + ' ' + "
                              "[...el.querySelectorAll('input')].map(i => i.value + ' ' + (i.getAttribute('aria-label') || '')).join(' '); }",
                              _key(key))
        if option in shown:
            return
    page.screenshot(path=str(ROOT / "test-artifacts" / "bench-choose-failed.png"), full_page=True)
    raise RuntimeError(f"could not choose {option!r} in {key}: {shown!r}")


def _radio_focus(page, key: str):
    checked = page.locator(f"{_key(key)} input[type='radio']:checked").first
    return lambda: checked.focus()


def run(repeats: int = 30) -> dict:
    n = max(30, repeats)
    server = start_server("bench-browser.log")
    pw, browser = chromium()
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_init_script(INIT)
        page = context.new_page()
        page.set_default_timeout(120_000)
        traffic = Traffic(page)
        out = {}

        open_app(page, server.url, "layer_lab")
        # The default kernel is the identity, whose maps do not change with its size: take the box blur.
        _choose(page, "ll.kernel_preset", "Box blur")
        maps = [_key("ll.pre_chart"), _key("ll.post_chart"), _key("ll.pooled_chart")]
        _changes(page, traffic, _slider_focus(page, "ll.kernel_h"), ["ArrowRight", "ArrowLeft"], maps, 2)  # warm
        out["layer_lab: kernel height slider"] = _changes(
            page, traffic, _slider_focus(page, "ll.kernel_h"), ["ArrowRight", "ArrowLeft"], maps, n)

        open_app(page, server.url, "activations")
        zoom = [_key("activations.zoom.chart")]
        _changes(page, traffic, _slider_focus(page, "activations.zoom.channel"), ["ArrowRight", "ArrowLeft"], zoom, 2)
        out["activations: zoom channel slider"] = _changes(
            page, traffic, _slider_focus(page, "activations.zoom.channel"), ["ArrowRight", "ArrowLeft"], zoom, n)
        grids = ["[data-testid='stMain'] [data-testid='stImage']", _key("activations.zoom.chart")]
        # channel -> layer -> network -> channel: every layer grid is redrawn, the whole script reruns
        out["activations: colour scale (full rerun, every grid)"] = _changes(
            page, traffic, _radio_focus(page, "activations.scale"), ["ArrowRight", "ArrowRight", "ArrowLeft", "ArrowLeft"],
            grids, max(12, n // 3))
        context.close()
    finally:
        browser.close()
        pw.stop()
        stop_server(server)
    return {"cases": out, "quiet_ms": QUIET_MS, "method": __doc__.split("\n\n")[1],
            "targets": "Activations slider -> maps: p50 < 250 ms, p95 < 500 ms; <= 300 KB per Activations rerun"}


def table(result: dict) -> str:
    lines = ["== 3. in Chromium: key press -> last change of the maps on screen; bytes received per change ==",
             f"  {'case':<52} {'p50 ms':>7} {'p95 ms':>7} {'run end p50':>11} {'ws KiB':>7} {'media KiB':>9} "
             f"{'total KiB p50/max':>17} {'n':>3} fail"]
    for name, r in result["cases"].items():
        m, e, t = r["maps_on_screen"], r["run_finished_in_browser"], r["total_kib"]
        if not m.get("n"):
            lines.append(f"  {name:<52} no sample ({r['failures']} failures)")
            continue
        lines.append(f"  {name:<52} {m['median']:>7.0f} {m['p95']:>7.0f} {e.get('median', float('nan')):>11.0f} "
                     f"{r['websocket_kib']['median']:>7.1f} {r['media_kib']['median']:>9.1f} "
                     f"{t['median']:>8.1f}/{t['max']:<8.1f} {m['n']:>3} {r['failures']:>4}")
    return "\n".join(lines)


if __name__ == "__main__":  # quick look: python -m bench.browser
    started = time.perf_counter()
    print(table(run(4)), f"{time.perf_counter() - started:.0f} s")
