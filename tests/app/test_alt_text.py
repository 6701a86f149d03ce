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


def test_activations_alts_and_numbers_table_are_keras_values():
    import numpy as np

    from tests.app.test_activations import expected_layers

    info, layers = expected_layers()
    at = open_app("activations")
    texts = assert_described(at)
    for name, value in layers.items():
        maps = value[0]
        text = next(t for t in texts if t.startswith(f"{name}: "))
        if maps.ndim == 3:
            assert f"{maps.shape[-1]} channels, each map {maps.shape[0]}x{maps.shape[1]}" in text, text
        lo, hi = (float(v) for v in re.findall(r"values (\S+) to (\S+)$", text)[0])
        assert abs(lo - maps.min()) <= 5e-3 * abs(maps.min()) + 1e-12, text
        assert abs(hi - maps.max()) <= 5e-3 * abs(maps.max()), text
    expander = next(e for e in at.expander if e.label == "Numbers as a table")
    table = expander.dataframe[0].value
    probabilities = layers[list(layers)[-1]][0]
    assert [str(n) for n in table.iloc[:, 0]] == list(info.class_names)
    np.testing.assert_allclose(table.iloc[:, 1].to_numpy(dtype="float32"), probabilities, rtol=1e-5, atol=1e-6)


def test_explain_sanity_strips_and_feature_visualisation():
    at = open_app("explain")
    at.button(key="explain.sanity.run").click().run()
    at.selectbox(key="explain.fv.layer").set_value("conv1").run()
    # 32 steps: settings no other test computes, so the button is there whichever test ran first in this process
    # (tests/app/test_explain.py computes conv1 at 16 steps, and its result stays cached)
    at.slider(key="explain.fv.steps").set_value(32).run()
    at.button(key="explain.fv.run").click().run()
    texts = assert_described(at)
    assert any(t.startswith("Grad-CAM (trained model, ") and ": 6 maps, each" in t for t in texts), texts
    assert any(t.startswith("conv1, what each filter looks for") for t in texts), texts
    assert any(t.startswith("conv1: 12 channels, each map 116x56") for t in texts), texts


def test_activations_compare_maps_say_which_side():
    at = open_app("activations")
    at.toggle(key="activations.compare").set_value(True).run()
    texts = assert_described(at)
    for side in ("A", "B"):
        assert any(re.match(rf"{side}: conv1: 12 channels, each map 116x56, values \S+ to \S+$", t) for t in texts), texts
