"""Keras Applications presets: never download; cached weights are used, missing ones give a notice."""

import socket

import keras
import numpy as np
import pytest

from cnnviz import applications


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
