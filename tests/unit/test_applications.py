"""Keras Applications presets: never download; cached weights are used, missing ones give a notice."""

import inspect
import socket

import keras
import numpy as np
import pytest

from cnnviz import applications
from tests import sweeps


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_missing_weights_give_random_weights_and_a_notice(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(applications, "cache_dirs", lambda: [tmp_path / "models"])
    app = applications.load_application("mobilenet_v2")
    assert not app.pretrained
    assert "not in" in app.notice and "mobilenet_v2_weights" in app.notice
    assert app.model.output.shape[-1] == 1000 and len(app.class_names) == 1000
    assert tuple(app.model.input.shape[1:]) == (224, 224, 3)


def test_cached_weights_are_loaded_from_disk(tmp_path, monkeypatch, no_network):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    keras.utils.set_random_seed(3)
    source = keras.applications.MobileNetV2(weights=None)
    # Keras's cached ImageNet file is a legacy .h5 of the same architecture; save one the same way.
    legacy = models_dir / applications.APPLICATIONS["mobilenet_v2"].weights_file
    from keras.src.legacy.saving import legacy_h5_format
    import h5py
    with h5py.File(legacy, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    monkeypatch.setattr(applications, "cache_dirs", lambda: [models_dir])
    app = applications.load_application("mobilenet_v2")
    assert app.pretrained and app.notice is None
    np.testing.assert_array_equal(app.model.layers[1].get_weights()[0], source.layers[1].get_weights()[0])


def test_damaged_cache_file_falls_back(tmp_path, monkeypatch, no_network):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    (models_dir / applications.APPLICATIONS["mobilenet_v2"].weights_file).write_bytes(b"not hdf5")
    monkeypatch.setattr(applications, "cache_dirs", lambda: [models_dir])
    app = applications.load_application("mobilenet_v2")
    assert not app.pretrained and "could not be loaded" in app.notice


def test_unknown_key():
    with pytest.raises(ValueError, match="resnet50"):
        applications.load_application("alexnet")


KERAS_FAMILIES = sorted(n for n in dir(keras.applications) if inspect.isfunction(getattr(keras.applications, n)))
TABLE = {name: (weights, side, params) for name, weights, side, params in applications.FAMILIES}


def test_the_table_names_every_keras_application_family_and_offers_the_small_ones():
    assert sorted(TABLE) == KERAS_FAMILIES
    offered = {spec.label for spec in applications.APPLICATIONS.values()}
    assert offered == {n for n, (_, _, p) in TABLE.items() if p <= applications.MAX_APP_PARAMS}
    assert {"MobileNetV2", "VGG16", "ResNet50", "EfficientNetB0", "DenseNet121", "Xception"} <= offered
    assert list(applications.APPLICATIONS)[0] == "mobilenet_v2"


@pytest.mark.slow
@pytest.mark.parametrize("name", sweeps.params(KERAS_FAMILIES))
def test_each_keras_application_family_is_in_the_table_as_keras_has_it(name, monkeypatch):
    """For a function of keras.applications: the weights file Keras asks for (its get_file call, answered
    with a path that is never read: load_weights does nothing here) and its parameters at its default input
    size (ImageNet's head takes no other), from one shape-only build (keras.StatelessScope) with weights="imagenet"."""
    import importlib
    import pkgutil

    import keras.src.applications as pkg
    from keras.src.backend.common import global_state

    asked = []

    def get_file(fname, *args, **kwargs):
        asked.append(fname)
        return "/nonexistent/" + fname

    for m in pkgutil.iter_modules(pkg.__path__):
        if m.name.endswith("_test"):
            continue
        module = importlib.import_module(f"keras.src.applications.{m.name}")
        if hasattr(module, "file_utils"):
            monkeypatch.setattr(module.file_utils, "get_file", get_file)
    monkeypatch.setattr(keras.Model, "load_weights", lambda self, *args, **kwargs: None)
    weights, side, params = TABLE[name]
    pending = global_state.get_global_attribute("uninitialized_variables", [], set_to_default=True)
    before = len(pending)
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = getattr(keras.applications, name)(weights="imagenet", input_shape=(side, side, 3))
            got = (model.count_params(), tuple(model.inputs[0].shape[1:]))
    finally:
        del pending[before:]
    assert asked == [weights]
    assert got == (params, (side, side, 3))
