"""Preset models against Keras itself, and the shipped trained default against fresh data."""

import numpy as np
import pytest

import keras

from cnnviz import i18n, models
from cnnviz.datasets import SHAPE_CLASSES, shapes

SEED_SHAPES = [(116, 56, 12), (58, 28, 12), (54, 24, 16), (27, 12, 16), (24, 9, 20), (12, 4, 20), (960,), (128,), (4,)]


def _layer_outputs(model, x):
    """Every layer's output for x, by calling the layers one after another (no shared extractor)."""
    out = []
    for layer in model.layers:
        x = layer(x)
        out.append(tuple(x.shape[1:]))
    return out


def test_seed_model_params_and_shapes():
    m = models.seed_model()
    assert m.count_params() == 133_792
    assert [tuple(layer.output.shape[1:]) for layer in m.layers] == SEED_SHAPES
    assert _layer_outputs(m, np.zeros((2, 120, 60, 1), np.float32)) == SEED_SHAPES
    kinds = [type(layer).__name__ for layer in m.layers]
    assert kinds == ["Conv2D", "MaxPooling2D"] * 3 + ["Flatten", "Dense", "Dense"]
    assert [layer.kernel_size for layer in m.layers if isinstance(layer, keras.layers.Conv2D)] == [(5, 5), (5, 5), (4, 4)]
    assert m.layers[-1].activation is keras.activations.softmax


def test_seed_model_params_per_layer():
    m = models.seed_model()
    assert [layer.count_params() for layer in m.layers] == [312, 0, 4816, 0, 5140, 0, 0, 123008, 516]


def test_tiny_vgg_and_lenet5():
    vgg = models.tiny_vgg()
    assert vgg.input_shape == (None, 64, 64, 3) and vgg.output_shape == (None, 10)
    assert _layer_outputs(vgg, np.zeros((1, 64, 64, 3), np.float32))[:6] == [
        (62, 62, 10), (60, 60, 10), (30, 30, 10), (28, 28, 10), (26, 26, 10), (13, 13, 10)]
    assert vgg.count_params() == 19_920
    lenet = models.lenet5()
    assert lenet.input_shape == (None, 32, 32, 1) and lenet.output_shape == (None, 10)
    assert _layer_outputs(lenet, np.zeros((1, 32, 32, 1), np.float32))[:4] == [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16)]
    assert lenet.count_params() == 61_706


@pytest.mark.parametrize("key", list(models.PRESETS))
def test_load_preset(key):
    info = models.load_preset(key)
    assert info.key == key
    assert len(info.class_names) == info.model.output_shape[-1]
    assert info.input_shape == tuple(info.model.input_shape[1:])
    assert info.trained == (key in (models.DEFAULT_MODEL, "digits", "efficientnet_lite0"))  # shipped with trained weights
    for lang in i18n.LANGUAGES:  # label and one-line description exist in every language
        assert i18n.t(info.label, lang) and i18n.t(info.description, lang)
    x = np.random.default_rng(0).random((2, *info.input_shape), dtype=np.float32)
    p = np.asarray(info.model.predict_on_batch(x))
    assert p.shape == (2, len(info.class_names))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)


def test_unknown_preset():
    with pytest.raises(ValueError, match="No preset"):
        models.load_preset("resnet")


def test_default_is_the_trained_seed_model():
    info = models.load_preset(models.DEFAULT_MODEL)
    assert models.DEFAULT_MODEL == "seed_trained"
    assert info.class_names == SHAPE_CLASSES
    assert info.model.count_params() == 133_792
    assert models.weights_path().stat().st_size < 1_000_000  # shipped without optimizer state


def test_trained_default_accuracy_on_fresh_shapes():
    """>= 95% on images generated from a seed training never saw (train 0, val 1, test 2)."""
    x, y, _ = shapes(600, seed=20261129)
    model = models.load_preset(models.DEFAULT_MODEL).model
    pred = np.argmax(np.asarray(model.predict(x, batch_size=100, verbose=0)), axis=1)
    accuracy = float(np.mean(pred == y))
    assert accuracy >= 0.95, accuracy
    # and every class is recognised, not just the majority
    for c in range(len(SHAPE_CLASSES)):
        assert np.mean(pred[y == c] == c) >= 0.85, (SHAPE_CLASSES[c], np.mean(pred[y == c] == c))


def test_untrained_preset_is_not_the_trained_one():
    """The random-weights seed model and the trained default differ (the UI tells them apart)."""
    a = models.load_preset("seed").model.get_weights()[0]
    b = models.load_preset(models.DEFAULT_MODEL).model.get_weights()[0]
    assert a.shape == b.shape and not np.allclose(a, b)


@pytest.mark.slow
def test_training_script_is_reproducible():
    """Fixed seeds: two short runs of the training function give bit-identical weights."""
    from cnnviz.build.train_default import train

    a, acc_a = train(n_train=256, epochs=1, verbose=0)
    b, acc_b = train(n_train=256, epochs=1, verbose=0)
    assert acc_a == acc_b
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_weights_file_is_shipped_not_ignored():
    import shutil
    import subprocess

    path = models.weights_path()
    assert path.is_file()
    if shutil.which("git") is None or not (path.parents[2] / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=path.parents[2])
    assert ignored.returncode == 1, "the trained default must not be git-ignored"


def test_trained_default_recognises_the_gallerys_shape_samples():
    """The user's path: the embedded sample PNG, preprocessed like an upload, into the shipped model."""
    from cnnviz import images

    info = models.load_preset(models.DEFAULT_MODEL)
    for k, name in enumerate(SHAPE_CLASSES):
        x = images.preprocess(images.load_sample(f"shape_{name}"), info.input_shape)
        p = np.asarray(info.model.predict_on_batch(x[None]))[0]
        assert p.argmax() == k and p[k] > 0.9, (name, p)
