"""Many users at once: one `streamlit run` server, 8 real browser sessions (one Chromium, 8 contexts) at the
same time on the Activations page, each uploading its own image and moving a slider.

Every session must see its own upload (name and size) and its own slider value, none an exception, and the
server must stay healthy. Four of the sessions upload under hostile names, which must show as plain text
(no HTML, no markdown link) and run nothing. Playwright's async API drives all contexts from one thread.
Traffic goes to localhost only.
"""

from __future__ import annotations

import asyncio

from bench.common import NAV_LINK, run_in_own_thread
import io
import json
import os
import re
import threading
import time
import urllib.request

import pytest
from PIL import Image

from tests.browser.conftest import CHROMIUM_ARGS, require_browser, start_server, stop_server

pytestmark = pytest.mark.browser

SESSIONS = 8
TIMEOUT_MS = 180_000  # per wait: 8 sessions share 2 cores with the server
MARK = "cnnvizpwned"

NAMES = [
    f"<img src=x onerror=window.{MARK}=1>.png",  # (browsers send a double quote in a name as %22)
    f"[link](https://example.invalid/{MARK}) **bold**.png",
    f"right\u202egnp.exe.png",
    f"../../../../tmp/{MARK}.png",
    "s4.png", "s5.png", "s6.png", "s7.png",
]


def image_for(i: int) -> tuple[bytes, tuple[int, int]]:
    """A different size and colour per session, so its results differ from every other session's."""
    size = (40 + 9 * i, 30 + 7 * i)
    im = Image.new("RGB", size, (30 * i % 256, 255 - 25 * i, 60 + 20 * i))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue(), size


async def wait_for_run(page) -> None:
    await page.wait_for_timeout(400)
    await page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=TIMEOUT_MS)


async def choose_upload(page) -> None:
    group = page.locator("[data-testid='stSidebar'] [data-testid='stRadio']", has_text="Image source").first
    option = group.locator("[data-testid='stRadioOption']", has_text="Upload").first
    await option.click()
    await wait_for_run(page)
    if await option.get_attribute("data-selected") != "true":  # React Aria may ignore the click
        await group.locator("input[type=radio]:checked").focus()
        await page.keyboard.press("ArrowDown")
        await wait_for_run(page)
    assert await option.get_attribute("data-selected") == "true"


async def links(scope) -> list[tuple[str, str]]:
    """(text, href) of the links in scope that point where a hostile name does."""
    anchors = scope.locator(f"a[href*='{MARK}']")
    return [(await a.inner_text(), await a.get_attribute("href")) for a in await anchors.all()]


def disguised(found: list[tuple[str, str]]) -> bool:
    """A link whose text is not its own address: markdown link syntax in a name was rendered.
    (A bare URL in a name may be auto-linked by the markdown renderer; it then shows exactly itself.)"""
    return any(text.strip() != href for text, href in found)


async def one_session(browser, url: str, i: int) -> dict:
    data, (w, h) = image_for(i)
    name = NAMES[i]
    presses = 1 + i % 3  # the zoom channel this session moves to
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(url)  # the root first, as a user does; then the sidebar link
        await page.wait_for_selector("[data-testid='stApp']")
        await wait_for_run(page)
        await page.locator(NAV_LINK, has_text="Activations").first.click()
        await wait_for_run(page)
        await page.wait_for_selector("[data-testid='stMain'] [data-testid='stPlotlyChart']")
        await choose_upload(page)
        uploader = page.locator("[data-testid='stSidebar'] [data-testid='stFileUploader'] input[type=file]")
        refusal = None
        if i < 2:  # first a refused file under the hostile name: the message names it, as text
            await uploader.set_input_files({"name": name, "mimeType": "image/png", "buffer": b"not an image"})
            await wait_for_run(page)
            alert = page.locator("[data-testid='stSidebar'] [data-testid='stAlertContentError']").first
            await alert.wait_for(timeout=TIMEOUT_MS)
            refusal = {"text": await alert.inner_text(), "links": await links(alert),
                       "imgs": await alert.locator("img").count(), "bold": await alert.locator("strong").count()}
        await uploader.set_input_files({"name": name, "mimeType": "image/png", "buffer": data})
        await wait_for_run(page)
        sidebar = page.locator("[data-testid='stSidebar']")
        await page.wait_for_function(
            "s => document.querySelector(\"[data-testid='stSidebar']\").innerText.includes(s)", arg=f"({w}x{h})",
            timeout=TIMEOUT_MS)
        slider = page.locator("[data-testid='stSlider']", has_text="Channel").first
        await slider.locator("input[type=range]").first.focus()
        for _ in range(presses):
            await page.keyboard.press("ArrowRight")
        await wait_for_run(page)
        await page.wait_for_function(
            "s => document.querySelector(\"[data-testid='stMain']\").innerText.includes(s)",
            arg=f", channel {presses}:", timeout=TIMEOUT_MS)
        return {
            "i": i, "name": name, "size": (w, h), "channel": presses,
            "sidebar": await sidebar.inner_text(),
            "main": await page.locator("[data-testid='stMain']").inner_text(),
            "exceptions": await page.locator("[data-testid='stException']").count(),
            "injected_img": await page.locator("img[src='x']").count(),
            "links": await links(page.locator("body")),
            "pwned": await page.evaluate(f"window.{MARK} === 1"),
            "refusal": refusal,
        }
    finally:
        await context.close()


async def all_sessions(exe: str, url: str) -> list:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            return await asyncio.wait_for(
                asyncio.gather(*(one_session(browser, url, i) for i in range(SESSIONS)), return_exceptions=True),
                timeout=540)
        finally:
            await browser.close()


def shown_name(name: str) -> str:
    """How a name reads on the page: the same characters, invisible controls shown as the replacement mark."""
    return re.sub("[\u0000-\u001f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", "\ufffd", name)


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(round(int(line.split()[1]) / 1024, 1) for line in f if line.startswith("VmRSS:"))
    except (OSError, StopIteration):
        return None


def health(url: str) -> bytes:
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
        return r.read().strip()


@pytest.mark.slow
def test_eight_sessions_at_once_each_see_their_own_results():
    exe = require_browser()
    server = start_server("reliability-concurrency.log")
    try:
        start = time.monotonic()
        results = run_in_own_thread(all_sessions(exe, server.url))
        seconds = time.monotonic() - start
        alive = server.proc.poll() is None and health(server.url) == b"ok"
        server_rss = rss_mb(server.proc.pid)  # a figure for the README: one process, its models, 8 sessions
    finally:
        stop_server(server)
    failures = [f"session {i}: {r!r}" for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert not failures, "\n".join(failures)
    problems = []
    for r in results:
        w, h = r["size"]
        own = f"Your image: {shown_name(r['name'])} ({w}x{h})"
        if own not in r["sidebar"]:
            problems.append(f"session {r['i']}: does not show its own upload {own!r}")
        if f"Original image ({w}x{h})" not in r["main"]:
            problems.append(f"session {r['i']}: the page does not use its own image")
        others = [o for o in results if o is not r]
        for o in others:
            if f"({o['size'][0]}x{o['size'][1]})" in r["sidebar"] + r["main"]:
                problems.append(f"session {r['i']} shows session {o['i']}'s image size")
        if not re.search(rf", channel {r['channel']}:", r["main"]):
            problems.append(f"session {r['i']}: zoom is not on its own channel {r['channel']}")
        if r["exceptions"]:
            problems.append(f"session {r['i']}: {r['exceptions']} exception element(s)")
        if r["injected_img"] or disguised(r["links"]) or r["pwned"]:
            problems.append(f"session {r['i']}: the file name was rendered as HTML/markdown")
        if r["refusal"] is not None:
            ref = r["refusal"]
            if r["name"] not in ref["text"] or disguised(ref["links"]) or ref["imgs"] or ref["bold"]:
                problems.append(f"session {r['i']}: the refusal did not show the name as plain text: {ref}")
    assert not problems, "\n".join(problems)
    assert alive, "the server did not stay up"
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    out = os.environ.get("CNNVIZ_RELIABILITY_REPORT")
    report = {"sessions": SESSIONS, "seconds_all_sessions": round(seconds, 1), "server_alive": alive,
              "server_rss_mb_after": server_rss}
    if out:
        with open(out, "a") as f:
            f.write(json.dumps({"concurrency": report}) + "\n")
    print("concurrency:", report)
