"""Every st.image of a page carries an alt text that says what it shows with its numbers (issue 28): read from
the ImageList protos AppTest collects, in English and Korean."""

import re

import pytest

from tests.app.conftest import no_exception, open_app


def alts(at) -> list[str | None]:
    """The alt of every image the run produced (None where an image has none)."""
    return [img.alt if img.HasField("alt") else None for element in at.image for img in element.proto.imgs]


def assert_described(at) -> list[str]:
    no_exception(at)
    texts = alts(at)
    assert texts, "the page shows no image"
    missing = [i for i, text in enumerate(texts) if not text or not re.search(r"\d", text)]
    assert not missing, [texts[i] for i in missing]
    return texts


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_activations_images_say_their_layer_size_and_range(lang):
    at = open_app("activations", lang=lang)
    texts = assert_described(at)
    # the first conv layer of the default model: its grid says its maps' size (Keras's output shape)
    assert any(re.search(r"\d+x\d+", text) and ("channel" in text or "채널" in text) for text in texts)


def test_convolution_step_grids_say_size_padding_window_and_output():
    at = open_app("convolution", **{"convolution.source": "grid", "convolution.preset": "identity"})
    texts = assert_described(at)
    total = next(m for m in at.metric if m.label == "Sum of all channels + bias").value
    grid = next(text for text in texts if text.startswith("Input, channel 0"))
    assert "window over rows" in grid and "output value" in grid
    assert f"{float(total):.3g}" in grid


def test_pooling_and_probability_grids():
    assert_described(open_app("pooling"))
    assert_described(open_app("probability"))


def test_layer_lab_and_filters():
    assert_described(open_app("layer_lab"))
    assert_described(open_app("filters"))
