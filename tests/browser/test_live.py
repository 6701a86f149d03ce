"""The Live page in Chromium: a fake camera playing known frames (the lecture model's shapes, each for 2 s),
video files (good, damaged, too long, not a video), a refused camera, Freeze, a layer changed while the
stream runs, a hidden and a closed tab stopping the server's work, and the page at phone width."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest

from tests import livemedia
from tests.browser.conftest import ARTIFACTS, CHROMIUM_ARGS, require_browser, wait_for_run

pytestmark = pytest.mark.timeout(600)
LIVE = ".cnnviz-live"


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    frames = livemedia.shape_frames()
    return {"y4m": livemedia.write_y4m(folder / "shapes.y4m", frames),
            "webm": livemedia.write_video(folder / "shapes.webm", frames, hold=45),
            "long": livemedia.write_video(folder / "long.webm", frames[:1], hold=610, fps=1),
            "bad": _write(folder / "damaged.webm", b"\x1aE\xdf\xa3" + bytes(range(256)) * 64),
            "text": _write(folder / "notes.txt", b"not a video at all")}


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


def _launch(browser, *extra):
    """Another Chromium from the session's Playwright (a second sync_playwright cannot start inside the first)."""
    return browser.browser_type.launch(executable_path=require_browser(),
                                       args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", *extra])


@pytest.fixture(scope="module")
def camera_browser(browser, media):
    """Chromium whose camera plays the shapes, permission granted."""
    b = _launch(browser, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={media['y4m']}")
    yield b
    b.close()


def _open(browser, server, width=1400, height=1200, query=""):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{server.url}/live{query}")
    page.wait_for_selector(f"{LIVE} .lv-camera")
    wait_for_run(page)
    return context, page


def _state(page) -> dict:
    return page.eval_on_selector(LIVE, "e => ({...e.dataset, message: e.querySelector('.lv-message').textContent,"
                                       " mosaic: e.querySelector('.lv-mosaic-cap').textContent})")


def _frames(page) -> int:
    return int(_state(page).get("frames") or 0)


def _wait_frames(page, n: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while _frames(page) < n:
        assert time.monotonic() < deadline, _state(page)
        page.wait_for_timeout(200)


def _mosaic_digest(page) -> str:
    """A fingerprint of the mosaic's pixels as drawn."""
    return page.eval_on_selector(f"{LIVE} .lv-mosaic", """img => { const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight; const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data; let h = 0;
        for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) >>> 0; return c.width + 'x' + c.height + ':' + h; }""")


def _live_frames_served(server) -> float:
    text = urllib.request.urlopen(f"{server.url}/metrics", timeout=10).read().decode()
    found = re.search(r"^cnnviz_live_frames_total (\S+)$", text, re.M)
    return float(found[1]) if found else 0.0


def _connections(server) -> float:
    text = urllib.request.urlopen(f"{server.url}/metrics", timeout=10).read().decode()
    return float(re.search(r"^cnnviz_live_connections (\S+)$", text, re.M)[1])


def test_the_camera_through_the_lecture_model(camera_browser, server):
    """The prediction follows the shape on camera, the maps change with it, a new layer applies while the
    stream goes on, Freeze opens the frame on Activations, hiding and closing the tab stop the work."""
    context, page = _open(camera_browser, server)
    page.click(f"{LIVE} .lv-camera")
    _wait_frames(page, 10)
    seen, digests, deadline = set(), {}, time.monotonic() + 30
    while (len(seen) < 3 or len(digests) < 2) and time.monotonic() < deadline:  # the shapes change every 2 s
        top = _state(page)["top"]
        seen.add(top)
        digests.setdefault(top, _mosaic_digest(page))
        page.wait_for_timeout(300)
    assert len(seen) >= 3 and seen <= {"circle", "square", "triangle", "cross"}, seen
    assert len(set(digests.values())) >= 2, digests  # the maps are not the same picture for two shapes
    assert _state(page)["source"] == "camera" and "conv1 116x56x12" in _state(page)["mosaic"]
    page.screenshot(path=str(ARTIFACTS / "live_camera.png"))

    # another layer while streaming: the socket stays, the next frames show conv2
    box = page.locator("[data-testid='stSelectbox']", has_text="Layer").first
    box.click()
    page.keyboard.type("conv2")
    page.keyboard.press("Enter")
    deadline = time.monotonic() + 30
    while "conv2" not in _state(page)["mosaic"]:
        assert time.monotonic() < deadline, _state(page)
        page.wait_for_timeout(200)
    before = _frames(page)
    _wait_frames(page, before + 5)
    assert _state(page)["running"] == "1"

    # a hidden tab sends nothing, so the server computes nothing for it
    page.evaluate("() => { Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
                  " document.dispatchEvent(new Event('visibilitychange')); }")
    page.wait_for_timeout(1500)
    served = _live_frames_served(server)
    shown = _frames(page)
    page.wait_for_timeout(2500)
    assert _live_frames_served(server) == served and _frames(page) == shown
    page.evaluate("() => { Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
                  " document.dispatchEvent(new Event('visibilitychange')); }")
    _wait_frames(page, shown + 3)

    # Freeze: the frame on screen becomes the session's picture, opened on Activations
    page.click(f"{LIVE} .lv-freeze")
    page.get_by_text("Frozen frame").wait_for()
    wait_for_run(page)
    page.get_by_role("link", name="Open in Activations").click()
    wait_for_run(page)
    page.get_by_text("live-frame-").first.wait_for()
    assert not page.locator("[data-testid='stException']").count()

    # the page left: its socket closed, nothing more computed
    deadline = time.monotonic() + 20
    while _connections(server) > 0:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    context.close()


def test_an_expired_session_renews_itself_and_closing_the_tab_stops_the_work(camera_browser, server):
    context, page = _open(camera_browser, server)
    page.click(f"{LIVE} .lv-camera")
    _wait_frames(page, 5)
    # a token the server does not know (as after 30 idle minutes): refused (4403), the page registers the
    # session again through a run, and the stream goes on with the new socket
    page.click(f"{LIVE} .lv-stop")
    page.eval_on_selector(LIVE, "e => { e._s.token = 'expired-token'; e._s.frames = 0; }")
    page.click(f"{LIVE} .lv-camera")
    page.wait_for_function(f"() => document.querySelector('{LIVE}')._s.frames >= 5", polling=200, timeout=60_000)
    assert page.eval_on_selector(LIVE, "e => e._s.token") != "expired-token"
    assert _state(page)["running"] == "1" and not _state(page)["message"]
    context.close()
    time.sleep(2)
    served = _live_frames_served(server)
    time.sleep(3)
    assert _live_frames_served(server) == served
    assert _connections(server) == 0


def test_a_refused_camera_is_said(browser, server, media):
    b = _launch(browser, "--deny-permission-prompts")
    try:
        context, page = _open(b, server)
        page.click(f"{LIVE} .lv-camera")
        deadline = time.monotonic() + 30
        while _state(page).get("error") != "denied":
            assert time.monotonic() < deadline, _state(page)
            page.wait_for_timeout(200)
        assert "permission was refused" in _state(page)["message"]
        assert _state(page)["running"] == "0"
    finally:
        b.close()


def test_video_files_good_damaged_too_long_and_not_a_video_at_phone_width(camera_browser, server, media):
    context, page = _open(camera_browser, server, width=390, height=1400)
    upload = page.locator(f"{LIVE} .lv-file")
    for name, error in (("bad", "bad_video"), ("long", "too_long"), ("text", "not_video")):
        upload.set_input_files(str(media[name]))
        deadline = time.monotonic() + 30
        while _state(page).get("error") != error:
            assert time.monotonic() < deadline, (name, _state(page))
            page.wait_for_timeout(200)
        assert _state(page)["running"] == "0" and _state(page)["message"]
    upload.set_input_files(str(media["webm"]))
    _wait_frames(page, 10)
    seen, deadline = set(), time.monotonic() + 30
    while len(seen) < 3 and time.monotonic() < deadline:
        seen.add(_state(page)["top"])
        page.wait_for_timeout(300)
    assert len(seen) >= 3, seen
    assert _state(page)["source"] == "video"
    width = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollWidth")
    assert width <= 400, width  # nothing wider than the phone
    page.screenshot(path=str(ARTIFACTS / "live_phone.png"), full_page=True)
    context.close()
