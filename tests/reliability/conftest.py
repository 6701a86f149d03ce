"""Reliability tests: shared helpers for uploads through AppTest, and the browser fixtures.

The browser test here (test_concurrency) reuses tests/browser's start_server/stop_server and Chromium
lookup; it is marked `browser` and skips cleanly (outside CI) when no Chromium or Playwright is available.
"""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from cnnviz.ui import image_picker as ip
from tests.app.conftest import open_app  # noqa: F401 - re-exported for the tests here

# Pages that take an image upload (they call cnnviz.ui.image_picker.pick_image).
# Convolution and pooling show the picker when their input source is "image" (their default).
IMAGE_PAGES = ("layer_lab", "activations", "convolution", "pooling")


def to_upload(at: AppTest) -> AppTest:
    at.sidebar.radio(key=ip.W_SOURCE).set_value("upload")
    return at.run()


def upload(at: AppTest, name: str, data: bytes, mime: str = "image/png") -> AppTest:
    at.sidebar.file_uploader(key=ip.W_UPLOAD).set_value((name, data, mime))
    return at.run()


def sidebar_captions(at: AppTest) -> list[str]:
    """Captions of the images in the sidebar (the picker shows the session's image with its size)."""
    return [img.caption for e in at.sidebar if type(e).__name__ == "Image" for img in e.proto.imgs]


def shown_size(at: AppTest) -> tuple[int, int] | None:
    """The (width, height) the picker says the session's image has, from its caption."""
    for caption in sidebar_captions(at):
        found = re.search(r"\((\d+)x(\d+)\)\s*$", caption)
        if found:
            return int(found.group(1)), int(found.group(2))
    return None


def exceptions(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.exception]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]
