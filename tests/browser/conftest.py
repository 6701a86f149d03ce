"""Fixtures for browser tests: `streamlit run` on a free port and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


def _chromium() -> str | None:
    for candidate in (os.environ.get("CNNVIZ_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser"), shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _missing(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


from cnnviz.launch.notebook import free_port  # noqa: E402 - one picker of a free local port
from bench.common import NAV_LINK  # noqa: E402,F401 - the sidebar's page links, for the tests that click them


class Server:
    def __init__(self, port: int, proc: subprocess.Popen, log: Path):
        self.port, self.proc, self.log = port, proc, log
        self.url = f"http://localhost:{port}"


def start_server(log_name: str = "streamlit.log", env: dict | None = None, script: str = "app.py") -> Server:
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    log = ARTIFACTS / log_name
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return Server(port, proc, log)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not become healthy in 90 s")


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture(scope="session")
def server():
    srv = start_server()
    yield srv
    stop_server(srv)


def require_browser() -> str:
    """The Chromium to drive, once Playwright is importable; fails under CI, skips elsewhere."""
    exe = _chromium()
    if exe is None:
        _missing("no Chromium found (apt-get install chromium, or set CNNVIZ_CHROMIUM)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-dev.txt)")
    return exe


@pytest.fixture(scope="session")
def browser():
    exe = require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def wait_for_run(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the script run that the last interaction started."""
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def wait_for_images(page, timeout: float = 60_000) -> None:
    """Until every picture in the main area is decoded (st.image's and the components'); they arrive after
    the run's last message."""
    page.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stMain'] img")].every(i => i.complete)""",
                           timeout=timeout)


def choose(page, label: str, option: str, scope: str = "[data-testid='stSidebar']") -> None:
    """Pick `option` in the selectbox with this label. The dropdown renders only the options in view
    (a virtual list), so the option's text is typed to filter first; a run that re-renders the
    selectbox while it is open closes it, so it is tried again after that run."""
    box = page.locator(f"{scope} [data-testid='stSelectbox']", has_text=label).first
    for attempt in range(3):
        box.click()
        page.keyboard.type(option)
        item = page.get_by_role("option", name=option, exact=True)
        try:
            item.wait_for(timeout=10_000)
            item.click()
            break
        except Exception:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            wait_for_run(page, timeout=120_000)
    wait_for_run(page, timeout=120_000)


def fresh_page(browser, url: str, width: int = 1400, height: int = 1000, timeout: float = 60_000):
    """A new browser context (a new session, its own cookies) on `url`, after its first run: (context, page)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(timeout)
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']")
    wait_for_run(page, timeout=2 * timeout)
    return context, page


def open_page(page, server: Server, path: str = "") -> None:
    page.goto(f"{server.url}/{path}")
    page.wait_for_selector("[data-testid='stApp']", timeout=60_000)
    wait_for_run(page)


def screenshot(page, name: str) -> Path:
    """A screenshot of the whole page. Streamlit scrolls inside its main container, so the
    viewport is made as tall as the content for the shot, then put back."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 1000}
    height = page.evaluate(
        "(() => { const m = document.querySelector(\"[data-testid='stMain']\"); return m ? m.scrollHeight : 0; })()")
    tall = min(max(int(height) + 100, size["height"]), 6000)
    if tall != size["height"]:
        page.set_viewport_size({"width": size["width"], "height": tall})
        page.wait_for_timeout(1000)  # plotly re-lays out on resize
    page.screenshot(path=str(path), full_page=True)
    if tall != size["height"]:
        page.set_viewport_size(size)
    return path


def set_slider(page, label: str, presses: int) -> str:
    """Move the slider with this label by `presses` steps (negative: left); returns its new value.

    React Aria's slider takes arrow keys on its hidden input[type=range], one step per press."""
    slider = page.locator("[data-testid='stSlider']", has_text=label).first
    handle = slider.locator("input[type=range]").first
    handle.focus()
    key = "ArrowRight" if presses > 0 else "ArrowLeft"
    for _ in range(abs(presses)):
        page.keyboard.press(key)
    wait_for_run(page)
    return handle.get_attribute("value")
