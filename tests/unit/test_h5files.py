"""Keras 2 era model files (.h5, Teachable Machine's converted_keras.zip, a folder): loaded by cnnviz as the
original model predicts, class names from labels.txt; what Keras 3 cannot take is named."""

import io
import json
import os

import h5py
import keras
import numpy as np
import pytest

from cnnviz.files import h5files, modelfiles
from cnnviz.files.modelfiles import ModelFileError
from tests import corpus
from tests.ziputil import make_zip


def _inputs(model, seed=0) -> np.ndarray:
    shape = (2,) + tuple(model.inputs[0].shape[1:])
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def _config(data: bytes) -> dict:
    with h5files.open_file(data) as f:
        return json.loads(f.attrs["model_config"])


def _edited(data: bytes, tmp_path, edit) -> bytes:
    """The .h5 bytes with its model_config changed by `edit(config)`."""
    path = tmp_path / "edited.h5"
    path.write_bytes(data)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        edit(config)
        f.attrs["model_config"] = json.dumps(config).encode()
    return path.read_bytes()


def _layer(config, name):
    return next(layer for layer in h5files._layers(config) if layer["config"].get("name") == name)


def test_the_files_look_like_keras_2():
    """What the corpus writes has Keras 2's shape: the quirks the loader must translate are really there."""
    config = _config(corpus.legacy("teachable")[1])
    text = json.dumps(config)
    assert '"module"' not in text and '"registered_name"' not in text and '"batch_shape"' not in text
    depthwise = [layer for layer in h5files._layers(config) if layer["class_name"] == "DepthwiseConv2D"]
    assert depthwise and all(layer["config"]["groups"] == 1 for layer in depthwise)
    node = _layer(config, "Conv1")["inbound_nodes"][0][0]  # Keras 2's [name, node, tensor, kwargs] (the name
    assert node[0].startswith("input_layer") and node[1:3] == [0, 0]  # gets a number after other models: order)
    with h5files.open_file(corpus.legacy("teachable")[1]) as f:
        assert h5files.keras_version(f) == "2.12.0"
    sequential = _config(corpus.legacy("sequential")[1])["config"]["layers"]
    assert sequential[0]["class_name"] == "Conv2D" and sequential[0]["config"]["batch_input_shape"] == [None, 24, 24, 3]
    with pytest.raises(Exception, match="groups"):  # Keras 3 alone refuses it (keras-team/keras#19151)
        path = os.path.join(corpus._DIR, "plain.h5")
        with open(path, "wb") as f:
            f.write(corpus.legacy("teachable")[1])
        keras.saving.load_model(path, compile=False, safe_mode=True)


@pytest.mark.parametrize("key", ["sequential", "functional", "teachable"])
def test_legacy_h5_predicts_as_the_original(key):
    model, data = corpus.legacy(key)
    loaded = modelfiles.load_upload(data, f"{key}.h5")
    assert (loaded.kind, loaded.class_names, loaded.pixels, loaded.name) == ("h5", None, "", f"{key}.h5")
    assert loaded.model.count_params() == model.count_params()
    x = _inputs(model)
    np.testing.assert_allclose(loaded.model.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-6)


def test_teachable_machine_zip_folder_and_path():
    model, data = corpus.legacy("teachable")
    x = _inputs(model, 3)
    expected = model.predict_on_batch(x)
    loaded = modelfiles.load_upload(corpus.teachable_zip(), "converted_keras.zip")
    assert (loaded.kind, loaded.class_names, loaded.pixels) == ("teachable", corpus.TM_LABELS, "symmetric")
    np.testing.assert_allclose(loaded.model.predict_on_batch(x), expected, rtol=1e-5, atol=1e-6)
    assert modelfiles.load_bytes(corpus.teachable_zip(), "converted_keras.zip").count_params() == model.count_params()

    folder = os.path.join(corpus._DIR, "converted_keras")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "keras_model.h5"), "wb") as f:
        f.write(data)
    with open(os.path.join(folder, "labels.txt"), "wb") as f:
        f.write("\ufeff0 Rock\r\n1 Paper\n\n2 Scissors and more\n".encode("utf-8"))  # BOM, CRLF, a blank line
    loaded = modelfiles.load_path(folder)
    assert (loaded.kind, loaded.class_names, loaded.name) == ("teachable", ("Rock", "Paper", "Scissors and more"),
                                                              "converted_keras")
    np.testing.assert_allclose(loaded.model.predict_on_batch(x), expected, rtol=1e-5, atol=1e-6)

    zipped = os.path.join(corpus._DIR, "download")  # no extension: told by the content
    with open(zipped, "wb") as f:
        f.write(corpus.teachable_zip())
    assert modelfiles.load_path(zipped).class_names == corpus.TM_LABELS


def test_junk_of_macos_in_the_zip_is_ignored():
    parts = {"keras_model.h5": corpus.legacy("teachable")[1], "labels.txt": corpus.tm_labels(),
             "__MACOSX/._keras_model.h5": b"\0\5\26\7", ".DS_Store": b"\0\0\0\1Bud1"}
    assert modelfiles.load_upload(make_zip(parts), "converted_keras.zip").class_names == corpus.TM_LABELS


def test_load_path_of_h5_and_keras_files(tmp_path):
    model, data = corpus.legacy("functional")
    (tmp_path / "old.hdf5").write_bytes(data)
    loaded = modelfiles.load_path(tmp_path / "old.hdf5")
    assert (loaded.kind, loaded.name) == ("h5", "old.hdf5")
    x = _inputs(model)
    np.testing.assert_allclose(loaded.model.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-6)
    (tmp_path / "saved.bin").write_bytes(modelfiles.model_bytes(model))  # a .keras under another name
    loaded = modelfiles.load_path(tmp_path / "saved.bin")
    assert loaded.kind == "keras"
    np.testing.assert_allclose(loaded.model.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-6)


def test_load_path_has_no_upload_caps_but_checks_memory(tmp_path, monkeypatch):
    model, data = corpus.legacy("sequential")
    (tmp_path / "m.h5").write_bytes(data)
    monkeypatch.setattr(modelfiles, "MAX_FILE_BYTES", 10)
    monkeypatch.setattr(modelfiles, "MAX_PARAMS", 10)
    assert modelfiles.load_path(tmp_path / "m.h5").model.count_params() == model.count_params()
    with pytest.raises(ModelFileError, match="bytes|MB"):
        modelfiles.load_upload(data, "m.h5")
    monkeypatch.setattr(modelfiles, "available_memory", lambda: 1000)
    with pytest.raises(ModelFileError) as err:
        modelfiles.load_path(tmp_path / "m.h5")
    assert err.value.key == "files.memory" and f"{model.count_params():,} parameters" in str(err.value)


def test_available_memory_without_proc_meminfo(monkeypatch):
    def no_file(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(modelfiles, "open", no_file, raising=False)
    assert modelfiles.available_memory() == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    monkeypatch.setattr(modelfiles, "open", lambda *a, **k: io.StringIO("MemTotal: 1024 kB\n"), raising=False)
    assert modelfiles.available_memory() == os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")  # old kernel


def test_load_path_refusals(tmp_path):
    with pytest.raises(ModelFileError, match="no file or folder"):
        modelfiles.load_path(tmp_path / "nothing.h5")
    with pytest.raises(ModelFileError, match="keras_model.h5 and labels.txt"):
        modelfiles.load_path(tmp_path)
    (tmp_path / "keras_model.h5").write_bytes(corpus.legacy("teachable")[1])
    (tmp_path / "labels.txt").write_bytes(b"0 x\n" * 300_000)
    with pytest.raises(ModelFileError, match="labels.txt is"):
        modelfiles.load_path(tmp_path)
    (tmp_path / "empty.h5").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        modelfiles.load_path(tmp_path / "empty.h5")
    with pytest.raises(ModelFileError, match="empty"):
        modelfiles.load_upload(b"", "x.h5")


def test_labels_must_match_the_outputs_and_be_there():
    h5 = corpus.legacy("teachable")[1]
    with pytest.raises(ModelFileError, match="names 2 classes but the model has 3 outputs"):
        modelfiles.load_upload(make_zip({"keras_model.h5": h5, "labels.txt": b"0 Rock\n1 Paper\n"}), "tm.zip")
    with pytest.raises(ModelFileError, match="labels.txt is missing"):
        modelfiles.load_upload(make_zip({"keras_model.h5": h5}), "tm.zip")
    with pytest.raises(ModelFileError, match="model.py"):
        modelfiles.load_upload(make_zip({"keras_model.h5": h5, "labels.txt": b"0 a", "model.py": b""}), "tm.zip")
    with pytest.raises(ModelFileError, match="named like an HDF5"):
        modelfiles.load_upload(make_zip({"keras_model.h5": b"PK not hdf5", "labels.txt": b"0 a"}), "tm.zip")


def test_translation_keeps_what_keras_3_takes(tmp_path):
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [None, 4],
                                           "dtype": {"class_name": "Policy", "config": {"name": "float32"}}}},
        {"class_name": "BatchNormalization", "config": {"name": "bn", "fused": True, "virtual_batch_size": None}},
        "not a layer"]}}
    out = h5files.translate(config)
    layers = out["config"]["layers"]
    assert layers[0] == {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "dtype": "float32",
                                                                "name": "d_input"}}
    assert layers[1]["config"] == {"name": "d", "units": 2, "dtype": "float32"}
    assert layers[2]["config"] == {"name": "bn"} and layers[3] == "not a layer"
    assert "batch_input_shape" in config["config"]["layers"][0]["config"], "the file's own config is not changed"


def test_an_argument_keras_3_does_not_take_is_named(tmp_path):
    _, data = corpus.legacy("teachable")

    def groups(config):
        _layer(config, "expanded_conv_depthwise")["config"]["groups"] = 2

    with pytest.raises(ModelFileError) as err:
        modelfiles.load_upload(_edited(data, tmp_path, groups), "tm.h5")
    assert err.value.key == "files.h5.argument"
    assert str(err.value) == ("Layer expanded_conv_depthwise (DepthwiseConv2D): Keras 3 does not take the argument "
                              "groups = 2 that the file's older Keras wrote.")

    def bad_units(config):
        config["config"]["layers"][-1]["config"]["units"] = "many"

    with pytest.raises(ModelFileError) as err:
        modelfiles.load_upload(_edited(corpus.legacy("sequential")[1], tmp_path, bad_units), "s.h5")
    assert err.value.key == "files.rebuild"


def test_weights_that_do_not_fit_the_architecture(tmp_path):
    def extra_layer(config):
        config["config"]["layers"].insert(-1, {"class_name": "Dense", "config": {"name": "more", "units": 5}})

    with pytest.raises(ModelFileError) as err:
        modelfiles.load_upload(_edited(corpus.legacy("sequential")[1], tmp_path, extra_layer), "s.h5")
    assert err.value.key == "files.load" and "Layer count mismatch" in str(err.value)


def test_keras_s_complaint_about_a_layer_the_config_does_not_have():
    error = TypeError("Unrecognized keyword arguments passed to Dense: {'foo': 1}")
    err = h5files._explain(error, {"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Dense", "config": {"name": "d", "units": 2}}]}})
    assert err.key == "files.rebuild" and "foo" in str(err)


def test_h5files_does_not_import_modelfiles():
    """No import circle: the shared checks and messages live in cnnviz.files.checks, which both import."""
    import ast
    from pathlib import Path

    from cnnviz.files import checks

    for module in ("h5files", "checks"):
        tree = ast.parse((Path(checks.__file__).parent / f"{module}.py").read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    for alias in node.names} | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "modelfiles" not in imported and "cnnviz.files.modelfiles" not in imported, module
    assert checks.ModelFileError is __import__("cnnviz.files.modelfiles").files.modelfiles.ModelFileError
