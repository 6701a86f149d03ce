"""Hostile and broken Keras 2 era files (.h5, Teachable Machine zips): each refused with a clear message,
nothing in them run, no traceback."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile

import h5py
import keras
import numpy as np
import pytest

from cnnviz.files import h5files, modelfiles
from cnnviz.files.modelfiles import ModelFileError
from tests import corpus
from tests.ziputil import make_zip


def _honest(tmp_path) -> str:
    path = tmp_path / "honest.h5"
    path.write_bytes(corpus.legacy("sequential")[1])
    return str(path)


def _refused(data: bytes, name: str = "model.h5") -> ModelFileError:
    with pytest.raises(ModelFileError) as err:
        modelfiles.load_upload(data, name)
    message = str(err.value)
    assert "Traceback" not in message and len(message) < 600, message
    return err.value


def _changed(tmp_path, change) -> bytes:
    """The honest file with `change(f)` applied to it through h5py."""
    path = _honest(tmp_path)
    with h5py.File(path, "r+") as f:
        change(f)
    with open(path, "rb") as f:
        return f.read()


def test_lambda_h5_is_refused_and_its_code_never_runs(tmp_path):
    marker = tmp_path / "ran.txt"
    # the layer's function writes a file when called: Keras calls it while it builds the model
    function = eval(f"lambda x: (open({str(marker)!r}, 'w').write('ran'), x)[1]")  # noqa: S307 - the test's own code
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Lambda(function, name="evil"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    path = str(tmp_path / "lambda.h5")
    data = corpus.keras2_h5(model, path)
    marker.unlink()
    assert "__lambda__" in json.dumps(_config(data)) or "lambda" in json.dumps(_config(data))
    err = _refused(data, "lambda.h5")
    assert err.key == "files.config.code" and "Lambda" in str(err)
    assert not marker.exists(), "the file's code ran"
    with pytest.raises(ModelFileError):
        modelfiles.load_path(path)
    assert not marker.exists()
    # the file really carries code that runs: Keras without safe mode runs it
    keras.saving.load_model(path, compile=False, safe_mode=False)
    assert marker.read_text() == "ran"


def _config(data: bytes) -> dict:
    with h5files.open_file(data) as f:
        return json.loads(f.attrs["model_config"])


def test_external_link_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["secret"] = np.arange(4.0)
    err = _refused(_changed(tmp_path, lambda f: f["model_weights"].__setitem__(
        "outside", h5py.ExternalLink(str(other), "/secret"))))
    assert err.key == "files.h5.link" and "/model_weights/outside" in str(err)
    err = _refused(_changed(tmp_path, lambda f: f.__setitem__("alias", h5py.SoftLink("/model_weights"))))
    assert err.key == "files.h5.link"


def test_external_and_virtual_storage_are_refused(tmp_path):
    raw = tmp_path / "raw.bin"
    raw.write_bytes(b"\0" * 64)
    err = _refused(_changed(tmp_path, lambda f: f.create_dataset(
        "model_weights/ext", shape=(16,), dtype="f4", external=[(str(raw), 0, 64)])))
    assert err.key == "files.h5.external"

    source = tmp_path / "source.h5"
    with h5py.File(source, "w") as f:
        f["data"] = np.arange(8.0)

    def virtual(f):
        layout = h5py.VirtualLayout(shape=(8,), dtype="f8")
        layout[:] = h5py.VirtualSource(str(source), "data", shape=(8,))
        f.create_virtual_dataset("model_weights/virtual", layout)

    err = _refused(_changed(tmp_path, virtual))
    assert err.key == "files.h5.external"


def test_shape_bombs_are_refused_from_shapes(tmp_path):
    # a dataset declaring 8 GB (nothing stored: chunks read as fill values, the file stays small)
    data = _changed(tmp_path, lambda f: f.create_dataset("model_weights/bomb", shape=(2 * 10**9,), dtype="f4",
                                                         chunks=(1024,)))
    assert len(data) < 1024 * 1024
    assert _refused(data).key == "files.h5.data"

    # a config declaring a huge layer: counted from shapes, nothing allocated
    def huge(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][-1]["config"]["units"] = 50_000_000
        f.attrs["model_config"] = json.dumps(config).encode()

    err = _refused(_changed(tmp_path, huge))
    assert err.key == "files.params"


def test_truncated_random_and_weights_only_files(tmp_path):
    data = corpus.legacy("sequential")[1]
    assert _refused(data[: len(data) // 2]).key == "files.h5.damaged"
    assert _refused(b"\x89HDF\r\n\x1a\n" + os.urandom(3000)).key == "files.h5.damaged"

    from keras.src.legacy.saving import legacy_h5_format

    weights = tmp_path / "weights.h5"  # what Keras 2's model.save_weights("weights.h5") wrote
    with h5py.File(weights, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, corpus.legacy("sequential")[0])
    err = _refused(weights.read_bytes(), "weights.h5")
    assert err.key == "files.h5.weights_only" and "save the whole model" in str(err).lower()
    assert _refused(_changed(tmp_path, lambda f: f.__delitem__("model_weights"))).key == "files.h5.no_weights"


def test_odd_model_config_attributes(tmp_path):
    big = json.dumps({"class_name": "Sequential", "config": {"pad": "x" * (2 * 1024 * 1024)}})
    fixed = tmp_path / "fixed.h5"  # a 2 MB fixed-length string: its size is known before it is read
    with h5py.File(fixed, "w", libver="latest") as f:  # dense attribute storage (over 64 KB)
        f.create_group("model_weights")
        f.attrs["model_config"] = np.bytes_(big.encode())
    assert _refused(fixed.read_bytes()).key == "files.member_too_large"
    variable = _changed(tmp_path, lambda f: f.attrs.__setitem__("model_config", big))  # a variable-length str
    assert _refused(variable).key == "files.member_too_large"
    numbers = _changed(tmp_path, lambda f: f.attrs.__setitem__("model_config", np.arange(3)))
    assert _refused(numbers).key == "files.json.invalid"
    custom = _changed(tmp_path, lambda f: f.attrs.__setitem__("model_config", json.dumps(
        {"class_name": "Sequential", "config": {"layers": [{"class_name": "EvilLayer", "config": {}}]}})))
    assert _refused(custom).key == "files.config.class"


def test_too_many_objects_and_a_group_linked_twice(tmp_path, monkeypatch):
    def twice(f):
        f["model_weights/again"] = f["model_weights/conv"]  # a hard link: the same group under two names
        f["model_weights/conv/loop"] = f["model_weights"]  # and a cycle

    data = _changed(tmp_path, twice)
    assert modelfiles.load_upload(data, "linked.h5").model.count_params() > 0  # walked once, not forever
    monkeypatch.setattr(h5files, "MAX_OBJECTS", 5)
    assert _refused(data).key == "files.h5.objects"


def _zip_with_link(target: str, h5: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("keras_model.h5", h5)
        link = zipfile.ZipInfo("labels.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, target)
    return out.getvalue()


@pytest.mark.parametrize("name", ["../labels.txt", "/etc/labels.txt", "a/../../labels.txt", "C:/labels.txt"])
def test_teachable_zip_with_a_path_outside_is_refused(name):
    data = make_zip({"keras_model.h5": corpus.legacy("teachable")[1], name: corpus.tm_labels()})
    err = _refused(data, "converted_keras.zip")
    assert err.key == "files.zip.outside"


def test_teachable_zip_with_a_symlink_is_refused():
    err = _refused(_zip_with_link("/etc/passwd", corpus.legacy("teachable")[1]), "converted_keras.zip")
    assert err.key == "files.zip.link" and "labels.txt" in str(err)
