"""cnnviz.classifier: heads, backbones cut at their features, cached features equal to Keras's own forward pass,
augmentation at training time only, fine-tuning; class names travel in the .keras file (cnnviz.files.modelmeta)."""

import os

import keras
import numpy as np
import pytest

from cnnviz import classifier, imagesets, models, preprocessing, training
from cnnviz.files import modelfiles, modelmeta


@pytest.fixture(scope="module")
def lecture():
    return models.load_seed_trained()


@pytest.fixture(scope="module")
def app():
    """A small Keras Application with random weights: the shape of a real pretrained backbone."""
    keras.utils.set_random_seed(0)
    return keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=5)


def test_feature_cut_of_an_application_is_its_global_pooling(app):
    ex = classifier.feature_extractor(app)
    assert ex.output_shape == (None, 1280)
    x = np.random.default_rng(0).random((3, 32, 32, 3)).astype("float32")
    pooled = keras.Model(app.inputs, app.get_layer("global_average_pooling2d").output if any(
        layer.name == "global_average_pooling2d" for layer in app.layers) else
        [layer for layer in app.layers if isinstance(layer, keras.layers.GlobalAveragePooling2D)][-1].output)
    np.testing.assert_allclose(ex.predict(x, verbose=0), pooled.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_feature_cut_of_the_lecture_model_is_what_its_output_layer_reads(lecture):
    ex = classifier.feature_extractor(lecture)
    assert ex.output_shape == (None, 128)
    x = np.random.default_rng(1).random((2, 120, 60, 1)).astype("float32")
    want = keras.Model(lecture.inputs, lecture.get_layer("dense").output).predict(x, verbose=0)
    np.testing.assert_allclose(ex.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_a_model_without_features_is_refused_and_the_original_is_untouched(lecture):
    flat = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(Exception) as err:
        classifier.build("transfer", 3, flat)
    assert getattr(err.value, "key", "") == "train.msg.no_features"
    before = [w.copy() for w in lecture.get_weights()]
    built = classifier.build("transfer", 3, lecture)
    assert all(layer.trainable for layer in lecture.layers)  # the cached model is never frozen
    assert not built.backbone.trainable and built.model.output_shape == (None, 3)
    assert all(np.array_equal(a, b) for a, b in zip(before, lecture.get_weights()))


def test_cached_features_are_the_backbones_forward_pass_in_its_pixel_contract(app):
    built = classifier.build("transfer", 2, app, pixels="symmetric")
    x01 = np.random.default_rng(2).random((6, 32, 32, 3)).astype("float32")
    y = np.array([0, 0, 0, 1, 1, 1])
    p = classifier.prepare(built, x01, y, ("a", "b"), fraction=0.34, seed=0)
    assert p.cached and p.fit_model is not built.model
    train, val = imagesets.split(y, 0.34, 0)
    want = built.backbone.predict(x01[train] * 2 - 1, verbose=0)
    np.testing.assert_allclose(p.dataset[0], want, rtol=1e-5, atol=1e-5)
    # the head trained on the features is the model's head: the whole model agrees with it
    probs_head = p.fit_model.predict(p.dataset[2], verbose=0)
    probs_model = classifier.predictions(built.model, p.x_val01, "symmetric")
    np.testing.assert_allclose(probs_model, probs_head, rtol=1e-5, atol=1e-6)


def test_transfer_learns_separable_classes_head_and_scratch_train(lecture):
    s = imagesets.shapes(120, 120, 60, seed=0)  # at the lecture model's size
    results = {}
    for mode in classifier.MODES:
        built = classifier.build(mode, 4, lecture, "unit", seed=0)
        x, y = imagesets.arrays(s, training.input_size(built.model))
        p = classifier.prepare(built, x, y, s.class_names, 0.25, seed=0)
        before = [w.copy() for w in built.model.get_weights()]
        run = training.TrainingRun(built.model, training.TrainSettings(epochs=12 if mode == "transfer" else 3, batch_size=16,
                                                                       learning_rate=1e-2 if mode == "transfer" else 1e-3),
                                   dataset=p.dataset, fit_model=p.fit_model)
        h = run.run()
        probs = classifier.predictions(built.model, p.x_val01, built.pixels)
        acc = float((probs.argmax(1) == p.y_val).mean())
        assert acc == pytest.approx(h.val_accuracy[-1], abs=1e-6)  # Keras's own validation accuracy
        results[mode] = acc
        assert any(not np.array_equal(a, b) for a, b in zip(before, built.model.get_weights()))
    assert results["transfer"] >= 0.75, results  # a backbone trained on shapes separates shapes; chance is 0.25


def test_augmentation_is_inside_the_model_and_inactive_at_inference(lecture):
    aug = classifier.Augment(flip=True, rotation=0.1, zoom=0.2, contrast=0.3)
    built = classifier.build("head", 4, lecture, "unit", aug)
    names = [layer.name for layer in built.model.layers]
    assert names[:4] == ["random_flip", "random_rotation", "random_zoom", "random_contrast"]
    x = np.random.default_rng(3).random((2, 120, 60, 1)).astype("float32")
    np.testing.assert_allclose(built.model(x, training=False), built.model(x, training=False), rtol=1e-6)
    shots = classifier.augmented(x, aug, copies=2)
    assert shots.shape == (4, 120, 60, 1) and not np.allclose(shots[:2], x)
    assert 0 <= shots.min() and shots.max() <= 1
    assert [layer.name for layer in classifier.augment_layers(aug, "torch")] == ["random_flip", "random_rotation",
                                                                                 "random_zoom"]
    np.testing.assert_array_equal(classifier.augmented(x, classifier.Augment(), copies=2), np.concatenate([x, x]))


def test_augmented_features_are_cached_for_copies(lecture):
    built = classifier.build("transfer", 2, lecture)
    x = np.random.default_rng(4).random((8, 120, 60, 1)).astype("float32")
    y = np.repeat([0, 1], 4)
    p = classifier.prepare(built, x, y, ("a", "b"), 0.25, aug=classifier.Augment(flip=True), aug_copies=2)
    assert p.n_train == 3 * 6 and len(p.dataset[1]) == 18


def test_fine_tuning_unfreezes_the_last_block_only(app):
    built = classifier.build("transfer", 2, app)
    names = classifier.unfreeze_last_block(built)
    assert names == ["Conv_1"]  # MobileNetV2's last convolution; its BatchNormalization stays frozen
    trainable = [layer.name for layer in built.backbone.layers if layer.trainable and layer.weights]
    assert trainable == ["Conv_1"]
    assert classifier.unfreeze_last_block(classifier.build("scratch", 2)) == []


def test_confusion_and_per_class_accuracy():
    counts = classifier.confusion(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0]), 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [1, 2, 0], [0, 0, 0]])
    acc = classifier.per_class_accuracy(counts)
    assert acc[0] == 0.5 and acc[1] == pytest.approx(2 / 3) and np.isnan(acc[2])


def test_class_names_survive_download_and_upload(tmp_path):
    built = classifier.build("scratch", 3)
    data = modelmeta.with_meta(modelfiles.model_bytes(built.model), ["cat", "dog", "a/../b.json"], "symmetric")
    modelfiles.check_bytes(data)  # the allow-list checks pass
    model = modelfiles.load_bytes(data)
    assert model.output_shape == (None, 3)
    assert modelmeta.read_meta(data, 3) == (("cat", "dog", "a/../b.json"), "symmetric")
    assert modelmeta.read_meta(data, 4) == (None, "symmetric")  # names that do not fit the outputs are not used
    assert modelmeta.read_meta(modelfiles.model_bytes(built.model)) == (None, "")
    assert modelmeta.read_meta(b"not a zip") == (None, "")


@pytest.mark.parametrize("meta", [{"class_names": "cat"}, {"class_names": [1, 2]}, {"class_names": ["x" * 500]},
                                  {"class_names": []}, "a string", {"class_names": ["a", "b"], "pixels": "evil"}])
def test_malformed_stored_names_read_as_absent(meta):
    import json

    from tests.ziputil import make_zip, members
    parts = members(modelfiles.model_bytes(classifier.build("scratch", 2).model))
    m = json.loads(parts["metadata.json"])
    m["cnnviz"] = meta
    parts["metadata.json"] = json.dumps(m).encode()
    names, pixels = modelmeta.read_meta(make_zip(parts), 2)
    assert pixels == "" and (names is None or names == ("a", "b"))


def test_build_refuses_what_cannot_be_a_classifier(lecture):
    with pytest.raises(ValueError, match="mode must be one of"):
        classifier.build("magic", 3, lecture)
    with pytest.raises(ValueError, match="at least 2 classes"):
        classifier.build("transfer", 1, lecture)
    with pytest.raises(ValueError, match="needs a base model"):
        classifier.build("head", 3, None)
