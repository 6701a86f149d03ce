"""Uploaded model files: refused before Keras sees them when dishonest, loaded when honest."""

import os
import zipfile

import keras
import numpy as np
import pytest

from cnnviz import activations
from cnnviz.files import modelfiles
from cnnviz.layers import MinPooling2D
from cnnviz.files.modelfiles import ModelFileError
from tests.ziputil import make_zip as _zip, members as _members, with_config as _with_config


def _saved(model) -> bytes:
    return modelfiles.model_bytes(model)






@pytest.fixture(scope="module")
def sequential_bytes():
    model = keras.Sequential([
        keras.Input((16, 12, 1)),
        keras.layers.Conv2D(4, (3, 3), activation="relu"),
        MinPooling2D((2, 2)),
        keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return _saved(model)


@pytest.fixture(scope="module")
def functional_bytes():
    x = keras.Input((12, 12, 3))
    a = keras.layers.Conv2D(4, (3, 3), padding="same", activation="relu", name="branch_a")(x)
    b = keras.layers.Conv2D(4, (1, 1), padding="same", name="branch_b")(x)
    y = keras.layers.Add(name="add")([a, b])
    y = keras.layers.Concatenate(name="concat")([y, a])
    y = keras.layers.MaxPooling2D()(y)
    y = keras.layers.GlobalAveragePooling2D()(y)
    y = keras.layers.Dense(5, activation="softmax")(y)
    return _saved(keras.Model(x, y, name="branches"))


def test_honest_sequential_loads_and_activations_work(sequential_bytes):
    model = modelfiles.load_bytes(sequential_bytes, "mine.keras")
    assert model.count_params() == (3 * 3 * 1 + 1) * 4 + (7 * 5 * 4 + 1) * 3
    acts = activations.extract(model, np.random.default_rng(0).random((1, 16, 12, 1), dtype=np.float32))
    assert list(acts)[-1] == model.layers[-1].name
    assert acts[model.layers[0].name].shape == (1, 14, 10, 4)


def test_honest_functional_loads_and_activations_work(functional_bytes):
    model = modelfiles.load_bytes(functional_bytes, "branches.keras")
    x = np.random.default_rng(1).random((1, 12, 12, 3), dtype=np.float32)
    acts = activations.extract(model, x)
    assert acts["concat"].shape == (1, 12, 12, 8)
    np.testing.assert_allclose(acts[model.layers[-1].name], model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_lambda_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Flatten()])
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match="Lambda"):
        modelfiles.load_bytes(path.read_bytes())


def test_function_from_another_module_is_refused(sequential_bytes):
    def evil(config):
        conv = config["config"]["layers"][1]
        conv["config"]["activation"] = {"module": "os", "class_name": "function", "config": "system",
                                        "registered_name": "function"}

    with pytest.raises(ModelFileError, match="function|'os'"):
        modelfiles.check_bytes(_with_config(sequential_bytes, evil))

    def other_module(config):
        config["config"]["layers"][1]["module"] = "subprocess"

    with pytest.raises(ModelFileError, match="subprocess"):
        modelfiles.check_bytes(_with_config(sequential_bytes, other_module))


def test_custom_object_and_paths_are_refused(sequential_bytes):
    def custom(config):
        config["config"]["layers"][1]["registered_name"] = "evilpkg>Conv2D"

    with pytest.raises(ModelFileError, match="custom object"):
        modelfiles.check_bytes(_with_config(sequential_bytes, custom))

    def unknown(config):
        config["config"]["layers"][1]["class_name"] = "TFSMLayer"

    with pytest.raises(ModelFileError, match="TFSMLayer"):
        modelfiles.check_bytes(_with_config(sequential_bytes, unknown))

    for value in ("/etc/passwd", "https://example.com/x", "..\\secret", "weights.h5"):
        def path(config, value=value):
            config["config"]["layers"][1]["config"]["name"] = value

        with pytest.raises(ModelFileError, match="file path or URL"):
            modelfiles.check_bytes(_with_config(sequential_bytes, path))


def test_random_bytes_fake_h5_and_savedmodel_are_refused():
    with pytest.raises(ModelFileError, match="not a .keras"):
        modelfiles.load_bytes(os.urandom(4096), "model.keras")
    with pytest.raises(ModelFileError, match="named like an HDF5 model file"):
        modelfiles.load_bytes(b"PK\x03\x04 not really", "old.h5")
    zipped_savedmodel = _zip({"saved_model.pb": b"\x08\x01", "variables/variables.index": b""})
    with pytest.raises(ModelFileError, match="SavedModel"):
        modelfiles.load_bytes(zipped_savedmodel, "exported.zip")


def test_zip_bomb_is_refused(sequential_bytes):
    members = _members(sequential_bytes)
    members["model.weights.h5"] = b"\0" * (300 * 1024 * 1024)  # 300 MB of zeros compress to ~300 KB
    bomb = _zip(members, zipfile.ZIP_DEFLATED)
    assert len(bomb) < 2 * 1024 * 1024
    with pytest.raises(ModelFileError, match="zip bomb|bytes; at most"):
        modelfiles.load_bytes(bomb)
    members["model.weights.h5"] = b"\0" * (20 * 1024 * 1024)  # under the size cap, but expands 1000 times
    with pytest.raises(ModelFileError, match="zip bomb"):
        modelfiles.load_bytes(_zip(members, zipfile.ZIP_DEFLATED))


def test_huge_config_and_extra_members_are_refused(sequential_bytes):
    def bloat(config):
        config["config"]["layers"][1]["config"]["padding_note"] = "x" * (3 * 1024 * 1024)

    with pytest.raises(ModelFileError, match="config.json is .* bytes"):
        modelfiles.check_bytes(_with_config(sequential_bytes, bloat))
    members = _members(sequential_bytes)
    members["run_me.py"] = b"import os"
    with pytest.raises(ModelFileError, match="run_me.py"):
        modelfiles.check_bytes(_zip(members))


def test_parameter_cap_is_checked_without_allocating(sequential_bytes):
    def huge(config):
        dense = config["config"]["layers"][-1]
        dense["config"]["units"] = 10_000_000
    # 140 inputs x 10 M units = 1.4 G parameters (5.6 GB): refused from shapes alone
    with pytest.raises(ModelFileError, match="parameters"):
        modelfiles.check_bytes(_with_config(sequential_bytes, huge))


def test_allow_list_is_every_keras_layer_without_code_or_files():
    """Computed from the installed Keras: every class keras.layers exports is accepted by name, except the
    ones that carry code, wrap another framework or can read a file; a class Keras does not have is not."""
    import inspect

    layers, helpers = modelfiles.allowed()
    exported = {obj.__name__ for name in dir(keras.layers)
                for obj in [getattr(keras.layers, name)] if inspect.isclass(obj)}
    assert layers == exported - modelfiles.CODE_OR_FILES
    assert {"Normalization", "Rescaling", "Resizing", "RandomFlip", "RandomRotation", "DepthwiseConv2D",
            "SeparableConv2D", "Conv2DTranspose", "BatchNormalization", "UpSampling2D", "Concatenate"} <= layers
    assert not {"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer", "StringLookup",
                "TextVectorization", "Layer"} & (layers | helpers)
    assert {"GlorotUniform", "HeNormal", "L2", "MaxNorm", "Adam", "SparseCategoricalCrossentropy",
            "DTypePolicy"} <= helpers
    for cls in sorted(layers):
        modelfiles._check_object({"class_name": cls, "module": "keras.layers", "config": {}}, ["layers", "0"])
    for cls in ("Lambda", "TFSMLayer", "StringLookup", "TorchModuleWrapper", "LossFunctionWrapper", "Evil"):
        with pytest.raises(ModelFileError):
            modelfiles._check_object({"class_name": cls, "module": "keras.layers", "config": {}}, ["layers", "0"])


def test_model_with_preprocessing_and_augmentation_layers_loads():
    """Was refused (Normalization was not on a hand-typed list); Keras's own layers now load."""
    norm = keras.layers.Normalization(mean=[0.5, 0.4, 0.3], variance=[0.1, 0.2, 0.3])
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Resizing(12, 12), norm,
                              keras.layers.RandomFlip(), keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.1),
                              keras.layers.Conv2D(2, 3), keras.layers.GlobalMaxPooling2D(), keras.layers.Dense(2)])
    loaded = modelfiles.load_bytes(_saved(model), "pre.keras")
    x = np.random.default_rng(2).random((1, 16, 16, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-6)


def test_a_second_input_loads_and_non_image_models_get_one_clear_message():
    a, b = keras.Input((8, 8, 1)), keras.Input((4,))
    two = keras.Model([a, b], keras.layers.Concatenate()([keras.layers.Flatten()(a), b]))
    loaded = modelfiles.load_bytes(_saved(two), "two.keras")
    x = np.random.default_rng(5).random((1, 8, 8, 1), dtype=np.float32)
    got = activations.extract(loaded, x)  # the image in the first input, zeros in the other
    np.testing.assert_allclose(list(got.values())[-1], loaded.predict_on_batch([x, np.zeros((1, 4), "float32")]),
                               rtol=1e-6)
    assert set(activations.layer_times(loaded, x, repeats=1)) == set(got)
    tokens = keras.Input((20,), dtype="int32")
    text = keras.Model(tokens, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(
        keras.layers.Embedding(100, 8)(tokens))))
    with pytest.raises(ModelFileError) as err:
        modelfiles.load_bytes(_saved(text), "text.keras")
    assert err.value.key == "files.input" and "(None, 20)" in str(err.value)


def test_a_cnnviz_download_brings_its_class_names_and_pixel_range_back(tmp_path):
    """Names and range in metadata.json (cnnviz.files.modelmeta) come back through load_upload and load_path; names
    that do not fit the outputs read as absent, never as an error."""
    import keras

    from cnnviz.files import modelmeta

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3), keras.layers.Flatten(),
                              keras.layers.Dense(3)])
    data = modelmeta.with_meta(modelfiles.model_bytes(model), ["cat", "dog", "fox"], "symmetric")
    loaded = modelfiles.load_upload(data, "mine.keras")
    assert (loaded.class_names, loaded.pixels, loaded.kind) == (("cat", "dog", "fox"), "symmetric", "keras")
    path = tmp_path / "mine.keras"
    path.write_bytes(data)
    assert modelfiles.load_path(path).class_names == ("cat", "dog", "fox")
    wrong = modelmeta.with_meta(modelfiles.model_bytes(model), ["cat", "dog"], "unit")
    assert (modelfiles.load_upload(wrong, "m.keras").class_names, modelfiles.load_upload(wrong, "m.keras").pixels) == (None, "unit")
    plain = modelfiles.load_upload(modelfiles.model_bytes(model), "m.keras")
    assert (plain.class_names, plain.pixels) == (None, "")
