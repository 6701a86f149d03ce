"""Train page under AppTest: one short epoch shows progress, a chart and filter snapshots."""

import numpy as np

from tests.app.conftest import no_exception, open_app

TINY = {"cnnviz.model": "seed", "cnnviz.train.epochs": 1, "cnnviz.train.samples": 16, "cnnviz.train.batch": 8}


def test_train_one_epoch_shows_progress_and_chart():
    at = open_app("train", **TINY)
    no_exception(at)
    from cnnviz.ui.models import preset as cached  # the cached preset must stay untouched
    before = cached("seed").model.layers[0].kernel.numpy().copy()

    at.button(key="train.start").click().run()
    no_exception(at)
    bars = at.get("progress")
    assert len(bars) == 2 and [b.proto.value for b in bars] == [100, 100], [b.proto for b in bars]
    assert "Epoch 1 of 1" in bars[0].proto.text and "Batch 2 of 2" in bars[1].proto.text
    charts = at.get("plotly_chart")
    assert charts, "the loss/accuracy chart is shown"
    assert at.image, "the filter snapshots are shown"
    assert at.success and "1 epochs" in at.success[0].value
    assert at.session_state["cnnviz.model"] == "session"
    info = at.session_state["cnnviz.session_model"]
    assert info.trained
    h = at.session_state["cnnviz.train.history"]
    assert h.epochs_done == 1 and len(h.snapshots) == 2
    assert not np.allclose(h.snapshots[0], h.snapshots[1])
    np.testing.assert_array_equal(before, cached("seed").model.layers[0].kernel.numpy())


def test_a_model_that_cannot_learn_the_shapes_says_why():
    import keras

    from cnnviz.models import ModelInfo

    two = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    own = ModelInfo(key="session", label="two", model=two, class_names=("a", "b"), trained=False)
    at = open_app("train", **{**TINY, "cnnviz.model": "session", "cnnviz.session_model": own})
    no_exception(at)
    assert at.error and "set the number of classes to 4" in at.error[0].value
    assert not at.button  # nothing to start
