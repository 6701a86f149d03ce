"""The sidebar image picker under AppTest: gallery, upload, camera, refused files, persistence, isolation."""

import io

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import images
from cnnviz.ui import image_picker as ip
from tests.unit.test_images import png_header_only


def picker_app():
    """A page that uses the picker only while `show` is on, like pages with and without an image."""
    import streamlit as st

    from cnnviz.ui.image_picker import pick_image

    if st.session_state.get("show", True):
        image = pick_image()
        st.markdown(f"size={image.size[0]}x{image.size[1]} pixel={image.getpixel((0, 0))}")
    else:
        st.markdown("another page")


def png(size=(40, 30), color=(200, 10, 10), fmt="PNG", **kw) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt, **kw)
    return buf.getvalue()


def shown(at: AppTest) -> str:
    return at.markdown[0].value


@pytest.fixture
def at():
    at = AppTest.from_function(picker_app, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, data: bytes, mime="image/png") -> AppTest:
    at.sidebar.file_uploader(key=ip.W_UPLOAD).set_value((name, data, mime))
    return at.run()


def to_upload(at: AppTest) -> AppTest:
    at.sidebar.radio(key=ip.W_SOURCE).set_value("upload")
    return at.run()


def test_first_load_shows_the_default_sample(at):
    assert at.sidebar.radio(key=ip.W_SOURCE).value == "gallery"
    assert at.sidebar.selectbox(key=ip.W_SAMPLE).value == images.DEFAULT_SAMPLE
    w, h = images.load_sample(images.DEFAULT_SAMPLE).size
    assert shown(at).startswith(f"size={w}x{h}")
    assert not at.error


def test_choosing_a_sample(at):
    before = shown(at)
    at.sidebar.selectbox(key=ip.W_SAMPLE).set_value("coins").run()
    assert shown(at) != before and at.session_state[ip.SAMPLE] == "coins"


def test_upload_is_used(at):
    to_upload(at)
    upload(at, "red.png", png())
    assert not at.exception and not at.error
    assert shown(at) == "size=40x30 pixel=(200, 10, 10)"


BAD = {
    "empty.png": b"",
    "random.png": np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes(),
    "notes.png": b"just some text\n" * 50,
    "cut.png": png((300, 200), (0, 0, 255))[:400],
    "cut.jpg": png((300, 200), (0, 0, 255), fmt="JPEG")[:600],
    "bomb.png": png_header_only(20000, 20000),
    "scan.tif": png(fmt="TIFF"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_refused_upload_shows_the_reason_and_keeps_the_previous_image(at, name):
    to_upload(at)
    upload(at, "good.png", png())
    before = shown(at)
    upload(at, name, BAD[name])
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and name in errors[0]
    assert shown(at) == before  # the previous upload is still the image
    reasons = {"empty.png": "empty", "bomb.png": "too large", "scan.tif": "TIFF", "notes.png": "not an image"}
    if name in reasons:
        assert reasons[name] in errors[0]


def test_a_good_upload_after_a_refused_one_clears_the_error(at):
    to_upload(at)
    upload(at, "notes.png", b"hello")
    assert at.error
    upload(at, "blue.png", png(color=(0, 0, 255)))
    assert not at.error and shown(at).endswith("(0, 0, 255)")


def test_refused_first_upload_keeps_the_sample(at):
    before = shown(at)
    to_upload(at)
    upload(at, "notes.png", b"hello")
    assert at.error and shown(at) == before


def test_animated_upload_says_first_frame(at):
    frames = [Image.new("RGB", (20, 10), c) for c in [(255, 0, 0), (0, 255, 0)]]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100)
    to_upload(at)
    upload(at, "anim.gif", buf.getvalue(), "image/gif")
    assert any("first frame" in i.value for i in at.info)


def test_choice_persists_across_a_page_without_the_picker(at):
    to_upload(at)
    upload(at, "red.png", png())
    at.session_state["show"] = False
    at.run()
    assert shown(at) == "another page"
    at.session_state["show"] = True
    at.run()
    assert at.sidebar.radio(key=ip.W_SOURCE).value == "upload"
    assert shown(at) == "size=40x30 pixel=(200, 10, 10)"


def test_sample_choice_persists_across_pages(at):
    at.sidebar.selectbox(key=ip.W_SAMPLE).set_value("rocket").run()
    at.session_state["show"] = False
    at.run()
    at.session_state["show"] = True
    at.run()
    assert at.sidebar.selectbox(key=ip.W_SAMPLE).value == "rocket"


def test_another_session_never_sees_an_upload(at):
    to_upload(at)
    upload(at, "secret.png", png(color=(1, 2, 3)))
    other = AppTest.from_function(picker_app, default_timeout=60)
    other.run()
    w, h = images.load_sample(images.DEFAULT_SAMPLE).size
    assert "(1, 2, 3)" not in shown(other) and shown(other).startswith(f"size={w}x{h}")
    other.sidebar.radio(key=ip.W_SOURCE).set_value("upload").run()
    assert "(1, 2, 3)" not in shown(other)


def test_camera_behind_its_own_choice(at):
    assert not at.camera_input  # nothing asks for the camera until the user picks it
    at.sidebar.radio(key=ip.W_SOURCE).set_value("camera").run()
    cam = at.camera_input(key=ip.W_CAMERA)
    cam.set_value(("photo.jpg", png((64, 48), (0, 200, 0), fmt="JPEG", quality=95), "image/jpeg")).run()
    assert not at.error
    assert shown(at).startswith("size=64x48")


def test_picker_on_a_real_page_refuses_a_bad_file_and_keeps_working():
    from tests.app.conftest import open_app

    page = open_app("activations")
    assert not page.exception
    page.sidebar.radio(key=ip.W_SOURCE).set_value("upload").run()
    page.sidebar.file_uploader(key=ip.W_UPLOAD).set_value(("notes.png", b"not a picture", "image/png")).run()
    assert not page.exception
    assert any("notes.png" in e.value for e in page.error)


def test_refusal_reason_in_korean():
    at = AppTest.from_function(picker_app, default_timeout=60)
    at.session_state["cnnviz.lang"] = "ko"
    at.run()
    to_upload(at)  # the options' labels are Korean now; AppTest formats them with the run's format_func
    upload(at, "empty.png", b"")
    assert "빈 파일" in at.error[0].value and "empty.png" in at.error[0].value
