"""The pooling page: values are Keras's, the seed's three points are visible, channels stay."""

import keras
import numpy as np
import pytest

from cnnviz.layers import pooling_layer
from tests.app.conftest import no_exception, open_app

GRID = {"pooling.source": "grid"}


def page_input(at) -> np.ndarray:
    return np.stack([d.value.to_numpy(dtype=float) for d in at.data_editor], axis=-1)


def pooled_values(at) -> list[float]:
    return [float(m.value) for m in at.metric]


@pytest.mark.parametrize("kind", ["max", "average", "min"])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_shown_values_are_keras_pooling_at_every_position(kind, padding):
    at = open_app("pooling", **GRID, **{"pooling.kind": kind, "pooling.padding": padding, "pooling.size": 5,
                                        "pooling.size2": 2, "pooling.stride": 2})
    no_exception(at)
    x = page_input(at)
    expected = keras.ops.convert_to_numpy(pooling_layer(kind, 2, 2, padding)(x[None].astype("float32")))[0]
    positions = expected.shape[0] * expected.shape[1]
    for _ in range(positions):
        pos = (at.slider(key="pooling.row.w").value, at.slider(key="pooling.col.w").value)
        np.testing.assert_allclose(pooled_values(at), expected[pos], atol=1e-4)
        at.button(key="pooling.next").click().run()


def test_seed_points_and_channel_count_are_shown():
    at = open_app("pooling", **GRID, **{"pooling.channels": 3, "pooling.size": 6})
    no_exception(at)
    texts = " ".join(s.value for s in at.success)
    assert "No parameters to learn" in texts and "channels stays the same" in texts
    assert "6x6x3 → output 3x3x3" in at.info[0].value and "Parameters: 0" in at.info[0].value
    assert len(at.metric) == 3, "one pooled value per channel"


def test_editing_the_input_changes_the_winner():
    at = open_app("pooling", **GRID, **{"pooling.size": 4})
    before = pooled_values(at)[0]
    at.session_state["pooling.edit.grid.4.1.0"] = {"edited_rows": {0: {"0": 99.0}}, "added_rows": [],
                                                  "deleted_rows": []}
    at.run()
    no_exception(at)
    assert before != 99.0 and pooled_values(at)[0] == 99.0


def test_empty_cell_shows_an_error():
    at = open_app("pooling", **GRID, **{"pooling.size": 4,
                                        "pooling.edit.grid.4.1.0": {"edited_rows": {1: {"2": None}},
                                                                    "added_rows": [], "deleted_rows": []}})
    no_exception(at)
    assert at.error and "not a number" in at.error[0].value


def test_moving_the_crop_changes_the_numbers():
    at = open_app("pooling")
    no_exception(at)
    before = page_input(at)
    at.slider(key="pooling.top.w").set_value(0).run()
    no_exception(at)
    after = page_input(at)
    assert before.shape == after.shape and not np.array_equal(before, after)
