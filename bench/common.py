"""Helpers shared by the bench sections: timing, summaries, the machine, RSS, a server and a browser.

Pure helpers (percentile, summary, parse_vmrss, top_imports) are unit-tested in tests/unit/test_bench.py.
"""

from __future__ import annotations

import asyncio
import math
import os
import platform
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def percentile(values, q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default)."""
    data = sorted(float(v) for v in values)
    if not data:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got {q}")
    pos = (len(data) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def summary(values, unit: str = "ms") -> dict:
    """Median and spread of measured values (already in `unit`)."""
    data = [float(v) for v in values]
    if not data:
        return {"unit": unit, "n": 0}
    return {"unit": unit, "median": percentile(data, 50), "p25": percentile(data, 25), "p75": percentile(data, 75),
            "p95": percentile(data, 95), "min": min(data), "max": max(data), "n": len(data)}


def times_ms(fn, repeats: int, warmup: int = 2) -> list[float]:
    """Milliseconds of `repeats` calls of fn after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def fmt(s: dict, digits: int = 1) -> str:
    """'median (p25–p75, n)' of a summary."""
    if not s or not s.get("n"):
        return "—"
    return f"{s['median']:.{digits}f} ({s['p25']:.{digits}f}–{s['p75']:.{digits}f}, n={s['n']})"


def parse_vmrss(status_text: str) -> int:
    """Resident set size in KiB from the text of /proc/<pid>/status."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError("no VmRSS line")


def rss_mib(pid: int) -> float:
    return parse_vmrss(Path(f"/proc/{pid}/status").read_text()) / 1024


def top_imports(importtime_stderr: str, n: int = 10) -> list[dict]:
    """The packages with the largest cumulative import time, from `python -X importtime` output.

    One row per top-level package (a name without a dot, at any depth of the import tree, first time
    imported); cumulative times nest (keras includes the tensorflow it imports).
    """
    rows = {}
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line
        name = parts[2].strip()
        if "." in name or name.startswith("_") or name in rows:
            continue
        rows[name] = {"module": name, "cumulative_ms": int(parts[1]) / 1000, "self_ms": int(parts[0]) / 1000}
    return sorted(rows.values(), key=lambda r: r["cumulative_ms"], reverse=True)[:n]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for dist in ("streamlit", "tensorflow", "keras", "numpy", "plotly", "pillow", "playwright"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def machine() -> dict:
    return {"cpus": os.cpu_count(), "cpu_model": cpu_model(), "arch": platform.machine(),
            "os": platform.platform(), "load_average_1_5_15": load_average()}


def gpus() -> list[str]:
    """GPUs Keras sees (cnnviz.devices.list_devices); empty when none."""
    from cnnviz import devices

    return [d for d in devices.list_devices() if d.startswith("gpu")]


# --- a streamlit server and a browser, as the browser tests start them ---

FLOOR: dict = {}  # this run's floors (bench.floor), for the sections that state ratios


def start_server(log_name: str, script: str = "app.py", env: dict | None = None):
    from tests.browser.conftest import start_server as _start

    return _start(log_name, env=env, script=script)


def stop_server(server) -> None:
    from tests.browser.conftest import stop_server as _stop

    _stop(server)


def chromium():
    """(playwright context manager, browser) with Debian's Chromium and the flags the tests use."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS, _chromium

    exe = _chromium()
    if exe is None:
        raise RuntimeError("no Chromium found (apt-get install chromium, or set CNNVIZ_CHROMIUM)")
    pw = sync_playwright().start()
    return pw, pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)


IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def wait_idle(page, settle_ms: int = 150, timeout: float = 120_000) -> None:
    """Wait until the script run the last interaction started has finished (it starts a moment later)."""
    page.wait_for_timeout(settle_ms)
    page.wait_for_selector(IDLE, timeout=timeout)


DEFAULT_PAGE = "layer_lab"  # what `/` shows (app.py: default=True)
NAV_LINK = ".st-key-cnnviz-nav [data-testid='stPageLink-NavLink']"  # the sidebar's page links (cnnviz.ui.sidebar.navigation)


def open_app(page, url: str, path: str = "") -> None:
    """Open `/` first (a fresh server runs a direct page URL without app.py), then the page by its link."""
    page.goto(url + "/")
    page.wait_for_selector("[data-testid='stApp']", timeout=120_000)
    wait_idle(page, 300)
    if path and path != DEFAULT_PAGE:
        goto_page(page, path)


def goto_page(page, path: str) -> None:
    if path == DEFAULT_PAGE:
        page.locator(NAV_LINK).first.click()
        wait_idle(page, 300)
        return
    page.locator(f"{NAV_LINK}[href='{path}']").first.click()
    page.wait_for_url(f"**/{path}", timeout=60_000)
    wait_idle(page, 300)


def run_in_own_thread(coro):
    """asyncio.run in a thread of its own: the sync Playwright fixtures of other browser tests keep an
    event loop running in the main thread for the whole pytest session."""
    out: dict = {}

    def target():
        try:
            out["value"] = asyncio.run(coro)
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            out["error"] = err

    thread = threading.Thread(target=target, name="cnnviz-own-loop")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]
