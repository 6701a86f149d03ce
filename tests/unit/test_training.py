"""A short training run lowers the loss, reports progress, stops on request, and never touches the original."""

import keras
import numpy as np
import pytest

from cnnviz import training
from cnnviz.training import TrainSettings, TrainingRun


def _small(classes=4, channels=1):
    keras.utils.set_random_seed(0)
    return keras.Sequential([
        keras.Input((24, 24, channels)),
        keras.layers.Conv2D(6, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Conv2D(8, (3, 3), activation="relu"),
        keras.layers.MaxPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(classes, activation="softmax"),
    ])


SETTINGS = TrainSettings(epochs=3, batch_size=16, learning_rate=3e-3, train_samples=96, val_samples=32)


def test_training_lowers_the_loss_and_reports_progress():
    original = _small()
    before_weights = [w.copy() for w in original.get_weights()]
    model = training.session_copy(original)
    batches, epochs = [], []
    run = TrainingRun(model, SETTINGS, device="cpu:0",
                      on_batch=lambda e, b, steps, logs: batches.append((e, b, steps)),
                      on_epoch=lambda done, total, h: epochs.append((done, total)))
    loss_before = training.evaluate(model, run.x, run.y)
    history = run.run()
    loss_after = training.evaluate(model, run.x, run.y)
    assert loss_after < loss_before * 0.95
    assert history.epochs_done == 3 and not history.stopped
    assert len(history.loss) == len(history.val_loss) == len(history.val_accuracy) == 3
    assert epochs == [(1, 3), (2, 3), (3, 3)]
    assert batches[0] == (0, 1, 6) and batches[-1] == (2, 6, 6)
    # filters form: one snapshot before training and one per epoch, and they move
    assert len(history.snapshots) == 4 and history.snapshots[0].shape == (3, 3, 1, 6)
    assert not np.allclose(history.snapshots[0], history.snapshots[-1])
    # the original (a cached preset in the app) is untouched
    for a, b in zip(before_weights, original.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_stop_keeps_the_weights_reached():
    model = _small()
    start = model.layers[0].kernel.numpy().copy()
    run = TrainingRun(model, SETTINGS)
    run.on_batch = lambda e, b, steps, logs: run.stop() if b == 2 else None
    history = run.run()
    assert history.stopped and history.epochs_done <= 1
    assert not np.allclose(start, model.layers[0].kernel.numpy())  # two batches of updates were kept
    # training again continues the epoch count from where it stopped
    run2 = TrainingRun(model, TrainSettings(epochs=1, batch_size=16, train_samples=32, val_samples=16),
                       history=history)
    done = history.epochs_done
    assert run2.run().epochs_done == done + 1 and len(history.loss) == done + 1


def test_wrong_output_count_and_rgb_input():
    with pytest.raises(ValueError, match="set the number of classes to 4"):
        TrainingRun(_small(classes=2), SETTINGS)
    run = TrainingRun(_small(classes=10, channels=3), TrainSettings(epochs=1, train_samples=16, val_samples=8))
    assert run.x.shape == (16, 24, 24, 3)
    with pytest.raises(ValueError, match="optimizer"):
        training.compile_for_training(_small(), TrainSettings(optimizer="magic"))
