"""Error branches of cnnviz.files.modelfiles, cnnviz.architecture and cnnviz.activations that no other test runs
(found by `make test`'s branch coverage): each one raises the message it is there for."""

import io
import types
import zipfile

import keras
import numpy as np
import pytest

from cnnviz import activations as A
from cnnviz import architecture as arch
from cnnviz.files import modelfiles
from cnnviz.messages import MessageError
from cnnviz.files.modelfiles import ModelFileError
from tests.ziputil import make_zip, members, with_config


@pytest.fixture(scope="module")
def good() -> bytes:
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    return modelfiles.model_bytes(model)


# ---------------------------------------------------------------- modelfiles: the zip


def test_zip_level_refusals(good, monkeypatch):
    parts = members(good)
    with pytest.raises(ModelFileError, match="SavedModel"):
        modelfiles.check_bytes(good, "exported.pb")
    many = {**parts, **{f"extra{i}.txt": b"x" for i in range(8)}}
    with pytest.raises(ModelFileError, match="members|files"):
        modelfiles.check_bytes(make_zip(many))
    with pytest.raises(ModelFileError, match="config.json"):
        modelfiles.check_bytes(make_zip({"metadata.json": parts["metadata.json"]}))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning):
        zf.writestr("config.json", parts["config.json"])
        zf.writestr("config.json", parts["config.json"])
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(buf.getvalue())
    assert err.value.key == "files.twice"
    monkeypatch.setattr(modelfiles, "MAX_UNCOMPRESSED_BYTES", 100)  # all members together, as read
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(good)
    assert err.value.key in ("files.expands", "files.member_too_large")
    monkeypatch.setattr(modelfiles, "MAX_UNCOMPRESSED_BYTES", 256 * 1024 * 1024)
    monkeypatch.setattr(modelfiles, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(good)
    assert err.value.key == "files.too_large"


def test_budget_runs_out_while_reading(good, monkeypatch):
    """Declared sizes can lie: the total is counted as read, member by member."""
    weights = len(members(good)["model.weights.h5"])
    monkeypatch.setattr(modelfiles, "MAX_UNCOMPRESSED_BYTES", weights + 10)  # each member fits, all do not
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(good)
    assert err.value.key == "files.expands"


# ---------------------------------------------------------------- modelfiles: config.json


def test_config_level_refusals(good):
    parts = members(good)
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(make_zip({**parts, "config.json": b'{"class_name": "Sequential", "class_name": "X"}'}))
    assert err.value.key == "files.json.duplicate"
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(make_zip({**parts, "metadata.json": b"[1, 2]"}))
    assert err.value.key == "files.metadata"
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(with_config(good, lambda c: c.update(class_name="Dense")))
    assert err.value.key == "files.config.not_model"
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(with_config(good, lambda c: c["config"]["layers"][1].update(class_name=5)))
    assert err.value.key == "files.config.class_text"

    def own_in_disguise(c):
        c["config"]["layers"][1]["registered_name"] = "cnnviz>MinPooling2D"

    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(with_config(good, own_in_disguise))
    assert err.value.key == "files.config.own"


def test_objects_json_cannot_hold_are_refused_when_walked():
    """A config dict from Python (not JSON) may hold non-string keys or other objects: refused too."""
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_config({"class_name": "Sequential", "config": {1: "x"}})
    assert err.value.key == "files.config.key"
    with pytest.raises(ModelFileError) as err:
        modelfiles.check_config({"class_name": "Sequential", "config": {"x": {1, 2}}})
    assert err.value.key == "files.config.value"


def test_a_config_keras_cannot_rebuild_or_load(good, monkeypatch):
    def bad_filters(c):
        c["config"]["layers"][1]["config"]["filters"] = "many"

    with pytest.raises(ModelFileError) as err:
        modelfiles.check_bytes(with_config(good, bad_filters))
    assert err.value.key == "files.rebuild"
    parts = members(good)
    with pytest.raises(ModelFileError) as err:
        modelfiles.load_bytes(make_zip({**parts, "model.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\0" * 64}))
    assert err.value.key == "files.load"
    # the count from shapes and the loaded model agree; should they not, the loaded count still decides
    monkeypatch.setattr(modelfiles, "count_params", lambda config, build=None: 0)
    monkeypatch.setattr(modelfiles, "MAX_PARAMS", 10)
    with pytest.raises(ModelFileError) as err:
        modelfiles.load_bytes(good)
    assert err.value.key == "files.params_loaded"


# ---------------------------------------------------------------- architecture


def test_architecture_value_errors():
    assert arch._detail(ValueError("Conv2D: the kernel is larger than the input")) == \
        "the kernel is larger than the input"
    with pytest.raises(arch.ArchitectureError, match="Bogus"):
        arch.summarize(arch.ArchSpec((8, 8, 1), (arch.LayerSpec("Bogus"),)))
    for value in ("many", 2.5, float("nan")):
        with pytest.raises(MessageError) as err:
            arch._count(value, "filters", 10)
        assert err.value.key == "arch.count.whole"
    assert arch._pair_text(None) == "" and arch._pair_text((3, 3)) == "3" and arch._pair_text((3, 2)) == "3x2"
    assert arch._parse_pair(3.0, "kernel") == (3, 3)
    with pytest.raises(MessageError) as err:
        arch._parse_pair(2.5, "kernel")
    assert err.value.key == "arch.pair.whole"
    no_dense = arch.ArchSpec((8, 8, 1), (arch.LayerSpec("Conv2D", 2, (3, 3)),))
    assert arch.classes(no_dense) is None
    one = arch.build(no_dense, seed=3)
    again = arch.build(no_dense, seed=3)
    np.testing.assert_array_equal(one.get_weights()[0], again.get_weights()[0])  # the seed makes the weights
    assert arch._activation_name(types.SimpleNamespace()) == "linear"
    free = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(arch.ArchitectureError) as err:
        arch.from_model(free)
    assert err.value.key == "arch.model_input"


# ---------------------------------------------------------------- activations


def test_model_with_nothing_but_its_input():
    inp = keras.Input((4, 4, 1))
    with pytest.raises(ValueError, match="no layers"):
        A.extract(keras.Model(inp, inp), np.zeros((1, 4, 4, 1), "float32"))


def test_layer_times_skip_a_call_whose_input_is_not_in_the_pass():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(1, 3, name="c")])
    x = np.zeros((1, 4, 4, 1), "float32")
    ex = A.extractor(model, pre_activations=False)
    stray = A.Call(("stray",), model.layers[0], (A._Source("not there"),), {})
    ex.calls.append(stray)
    try:
        assert set(A.layer_times(model, x, repeats=1)) == {"c"}
    finally:
        ex.calls.remove(stray)


def test_pre_activation_of_a_channels_first_conv():
    keras.utils.set_random_seed(41)
    inp = keras.Input((2, 7, 7))
    conv = keras.layers.Conv2D(3, 3, activation="relu", data_format="channels_first", name="cf")
    model = keras.Model(inp, conv(inp))
    x = np.random.default_rng(0).normal(size=(1, 2, 7, 7)).astype("float32")
    try:
        model.predict_on_batch(x)
    except Exception as err:  # noqa: BLE001 - TensorFlow on some CPUs (seen on AMD EPYC) has no NCHW Conv2D
        if "NHWC" not in str(err):
            raise
        pytest.skip("this CPU's TensorFlow build runs Conv2D in NHWC only: " + str(err).splitlines()[0][:120])
    acts = A.extract_all(model, x)
    linear = keras.layers.Conv2D(3, 3, data_format="channels_first")
    linear.build((None, 2, 7, 7))
    linear.set_weights(conv.get_weights())
    np.testing.assert_allclose(acts.pre["cf"], keras.ops.convert_to_numpy(linear(x)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(acts.outputs["cf"], np.maximum(acts.pre["cf"], 0), atol=1e-6)
