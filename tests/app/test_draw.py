"""The Draw image source under AppTest (the canvas itself is tested in Chromium: tests/browser/test_draw.py):
an empty canvas is a black picture; a drawing in the session is the image every page uses."""

import io

from PIL import Image, ImageDraw

from cnnviz.ui import canvas
from cnnviz.ui import image_picker as picker
from tests.app.conftest import no_exception, open_app


def _png_of_a_one() -> bytes:
    img = Image.new("RGB", (240, 240), "black")
    ImageDraw.Draw(img).line([(120, 25), (120, 215)], fill="white", width=18)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_empty_canvas():
    at = open_app("activations", **{"cnnviz.model": "digits", picker.SOURCE: "draw"})
    no_exception(at)
    assert not at.error
    assert any("Draw one digit" in c.value for c in at.sidebar.caption)
    # drawing needs a pointer: the note says so and where the keyboard's way to an image is
    assert any(c.value.startswith("Drawing needs a mouse") and "Image source" in c.value for c in at.sidebar.caption)
    assert [b.label for b in at.sidebar.button] == ["Undo", "Clear"]
    blank = picker.blank_canvas()
    assert blank.size == (240, 240) and blank.getextrema() == ((0, 0), (0, 0), (0, 0))


def test_a_drawing_is_the_image():
    import hashlib

    data = _png_of_a_one()
    at = open_app("activations", **{"cnnviz.model": "digits", picker.SOURCE: "draw",
                                    picker.DRAWING: {"bytes": data, "digest": hashlib.sha256(data).hexdigest()}})
    no_exception(at)
    assert any("The model says **1**" in m.value for m in at.markdown)
    at.sidebar.button(key="cnnviz.draw.clear").click().run()
    no_exception(at)
    assert at.session_state[picker.COMMANDS]["last"] == "clear:1"  # sent to the canvas, which clears itself
    at.sidebar.button(key="cnnviz.draw.undo").click().run()
    assert at.session_state[picker.COMMANDS]["last"] == "undo:1"


def test_png_data_urls():
    import base64

    data = _png_of_a_one()
    assert canvas.png_bytes("data:image/png;base64," + base64.b64encode(data).decode()) == data
    assert canvas.png_bytes(None) is None
    assert canvas.png_bytes("data:image/svg+xml;base64,PHN2Zz4=") is None
    assert canvas.png_bytes("data:image/png;base64,***not base64***") is None
