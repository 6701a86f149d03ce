"""The convolution page: the shown numbers are Keras's, stepping and editing change them."""

import keras
import numpy as np
import pytest

from tests.app.conftest import no_exception, open_app

GRID = {"convolution.source": "grid", "convolution.preset": "identity"}
IDENTITY_EDITOR = "convolution.kedit.identity.3.0.1.0"  # preset, size 3, seed 0, 1 channel, channel 0


def edits(rows: dict) -> dict:
    """A data_editor edit state, as the browser sends it."""
    return {"edited_rows": rows, "added_rows": [], "deleted_rows": []}


TOTAL, RELU = "Sum of all channels + bias", "After ReLU"


def metric(at, label: str = TOTAL) -> float:
    return float(next(m for m in at.metric if m.label == label).value)


def page_input(at) -> np.ndarray:
    """The typed grid the page shows (first data editor), as (H, W, 1)."""
    return at.data_editor[0].value.to_numpy(dtype=float)[:, :, None]


def keras_value(x, kernel, bias, position, **conv) -> float:
    layer = keras.layers.Conv2D(1, kernel.shape[:2], **conv)
    layer.build((1, *x.shape))
    layer.set_weights([kernel[..., None].astype("float32"), np.array([bias], dtype="float32")])
    out = keras.ops.convert_to_numpy(layer(x[None].astype("float32")))[0, :, :, 0]
    return float(out[position])


def test_page_runs_with_image_crop():
    at = open_app("convolution")
    no_exception(at)
    assert not at.error
    assert at.title[0].value == "Convolution step by step"
    assert [m.label for m in at.metric] == ["Sum, channel 0", TOTAL, RELU]


def test_three_channels_sum_per_channel_and_match_keras():
    at = open_app("convolution", **{"convolution.channels": 3, "convolution.preset": "sobel_y",
                                    "convolution.padding": "same", "convolution.ksize": 4, "convolution.row": 5,
                                    "convolution.col": 2})
    no_exception(at)
    editors = [d.value.to_numpy(dtype=float) for d in at.data_editor]
    assert len(editors) == 6, "three input channels and three kernel channels"
    x, kernel = np.stack(editors[:3], axis=-1), np.stack(editors[3:], axis=-1)
    sums = [metric(at, f"Sum, channel {c}") for c in range(3)]
    assert sum(sums) == pytest.approx(metric(at), abs=1e-3)
    assert metric(at) == pytest.approx(keras_value(x, kernel, 0.0, (5, 2), padding="same"), abs=1e-4)


@pytest.mark.parametrize("preset", ["sobel_x", "laplacian", "emboss"])
def test_shown_total_is_keras_conv2d_at_every_step(preset):
    at = open_app("convolution", **{**GRID, "convolution.preset": preset, "convolution.stride": 2,
                                            "convolution.padding": "same"})
    no_exception(at)
    x = page_input(at)
    kernel = np.repeat(at.data_editor[1].value.to_numpy(dtype=float)[:, :, None], 1, axis=2)
    seen = set()
    for _ in range(9):  # 6x6 input, stride 2, 'same': 3x3 positions
        pos = (at.slider(key="convolution.row.w").value, at.slider(key="convolution.col.w").value)
        seen.add(pos)
        expected = keras_value(x, kernel, 0.0, pos, strides=2, padding="same")
        assert metric(at) == pytest.approx(expected, abs=1e-4)
        assert metric(at, RELU) == pytest.approx(max(expected, 0.0), abs=1e-4)
        at.button(key="convolution.next").click().run()
    assert len(seen) == 9, "next visits every position"


def test_stepping_the_position_changes_the_sum():
    at = open_app("convolution", **{**GRID, "convolution.preset": "sobel_x"})
    before = metric(at)
    at.slider(key="convolution.col.w").set_value(2).run()
    no_exception(at)
    assert metric(at) != before
    at.button(key="convolution.prev").click().run()
    assert at.slider(key="convolution.col.w").value == 1


def test_editing_the_kernel_changes_the_output():
    at = open_app("convolution", **GRID)
    before = metric(at)
    at.session_state[IDENTITY_EDITOR] = edits({1: {"1": 2.0}, 0: {"0": -1.0}})
    at.run()
    no_exception(at)
    x = page_input(at)
    kernel = np.array([[-1.0, 0, 0], [0, 2.0, 0], [0, 0, 0]])[:, :, None]
    assert metric(at) != before
    assert metric(at) == pytest.approx(keras_value(x, kernel, 0.0, (0, 0)), abs=1e-4)


def test_bias_is_added():
    at = open_app("convolution", **GRID)
    before = metric(at)
    at.number_input(key=IDENTITY_EDITOR[: -len(".0")] + ".bias.w").set_value(-5.0).run()
    assert metric(at) == pytest.approx(before - 5.0, abs=1e-4)
    assert metric(at, RELU) == 0.0, "ReLU clips a negative total"


def test_play_visits_every_position_and_stops_at_the_last():
    at = open_app("convolution", **GRID, **{"convolution.size": 5, "convolution.delay": 0.0})
    at.button(key="convolution.play").click().run()
    no_exception(at)
    assert (at.slider(key="convolution.row.w").value, at.slider(key="convolution.col.w").value) == (2, 2)


@pytest.mark.parametrize(
    "state, message",
    [
        ({"convolution.ksize": 7, "convolution.size": 5}, "does not fit"),
        ({"convolution.stride": 2, "convolution.dilation": 2}, "dilation"),
        ({IDENTITY_EDITOR: edits({0: {"0": None}})}, "not a number"),
    ],
)
def test_bad_settings_show_an_error_not_a_traceback(state, message):
    at = open_app("convolution", **GRID, **state)
    no_exception(at)
    assert at.error and message in at.error[0].value


def test_filter_from_the_current_model_matches_that_layer():
    at = open_app("convolution", **GRID, **{"convolution.ksource": "model"})
    no_exception(at)
    assert not at.error
    from cnnviz.ui.models import current_model  # the same cached model the page used

    model = current_model().model
    layer = model.get_layer(at.selectbox(key="convolution.layer.w").value)
    x = page_input(at)
    index = int(at.number_input(key="convolution.findex.w").value)
    kernel, bias = (w for w in layer.get_weights())
    for pos in [(0, 0), (1, 1)]:  # (1, 1): the window lies on the image, so every weight counts
        at.session_state["convolution.row"], at.session_state["convolution.col"] = pos
        at.run()
        expected = keras_value(x, kernel[:, :, :, index], float(bias[index]), pos)
        assert metric(at) == pytest.approx(expected, abs=5.1e-5)  # the metric shows 4 decimals
