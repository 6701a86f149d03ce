"""One table of generated image files, each with its expected outcome, through cnnviz.images and through
every page that takes an image upload (AppTest)."""

from __future__ import annotations

import tracemalloc

import pytest

from cnnviz import i18n, images
from cnnviz.images import ImageError, load_image
from cnnviz.ui import image_picker as ip
from tests.reliability.conftest import (IMAGE_PAGES, errors, exceptions, open_app, shown_size, to_upload,
                                        upload)
from tests.reliability.files import ACCEPTED, REFUSED, TABLE, png_header_only

BY_NAME = {c.name: c for c in TABLE}


# --- cnnviz directly -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda c: c.name)
def test_accepted_directly(case):
    im = load_image(case.make())
    assert im.mode == "RGB"
    assert im.size == case.size
    assert images.frames(im) == case.frames
    assert case.looks(im), f"{case.name} does not look right: {im.getpixel((0, 0))}"
    # every accepted image can become a model input of either kind
    for shape in [(28, 28, 1), (64, 64, 3)]:
        x = images.preprocess(im, shape)
        assert x.shape == shape and x.dtype == "float32" and 0 <= x.min() <= x.max() <= 1


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.name)
def test_refused_directly(case):
    with pytest.raises(ImageError) as err:
        load_image(case.make())
    message = str(err.value)
    assert any(r in message for r in case.reason), message
    assert "Traceback" not in message and len(message) < 200


def test_bomb_refused_from_the_header_without_allocating_the_pixels():
    data = png_header_only(20000, 20000)  # 1.2 GB of pixels if decoded
    tracemalloc.start()
    try:
        with pytest.raises(ImageError, match="too large"):
            load_image(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, peak


# --- through the pages -----------------------------------------------------------------------------

# The picker is the same code on every page, but each page draws the accepted image its own way:
# the whole table on the Activations page, the odd geometries and a few refusals on the others.
FULL = [c.name for c in ACCEPTED] + ["rgb.png"] + [c.name for c in REFUSED]
SHORT = ["dot.png", "tall.png", "wide.png", "exif6.jpg", "animated.gif", "page.png", "bomb.png"]
PLANS = {page: FULL if page == "activations" else SHORT for page in IMAGE_PAGES}


@pytest.mark.slow
@pytest.mark.parametrize("page", IMAGE_PAGES)
def test_every_file_through_the_page(page):
    at = open_app(page)
    assert not at.exception
    to_upload(at)
    problems = []
    last_good = last_size = None
    animated = i18n.t("images.animated", "en", frames=2)
    for name in PLANS[page]:
        case = BY_NAME[name]
        data = case.make()
        upload(at, name, data)
        if exceptions(at):
            problems.append(f"{name}: exception {exceptions(at)[0][:200]}")
            continue
        refusals = [e for e in errors(at) if e.startswith("Could not use")]
        if case.accepted:
            # the caption names the size as uploaded (before EXIF rotation and any shrinking)
            last_good, last_size = case, load_image(data).info[images.INFO_SIZE]
            if refusals:
                problems.append(f"{name}: refused: {refusals}")
            if shown_size(at) != last_size:
                problems.append(f"{name}: picker shows {shown_size(at)}, expected {last_size}")
            if at.session_state[ip.UPLOAD]["name"] != name:
                problems.append(f"{name}: not the session's image")
            notices = [i.value for i in at.sidebar.info]
            if (animated in notices) != (case.frames > 1):
                problems.append(f"{name}: animation notice {notices}")
        else:
            if len(refusals) != 1 or name not in refusals[0] or not any(r in refusals[0] for r in case.reason):
                problems.append(f"{name}: expected one refusal naming the file and {case.reason}, got {refusals}")
            if last_good and (at.session_state[ip.UPLOAD]["name"] != last_good.name
                              or shown_size(at) != last_size):
                problems.append(f"{name}: the previous image ({last_good.name}) was not kept")
    assert not problems, "\n".join(problems)
