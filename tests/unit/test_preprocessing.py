"""What a model does to its input before its first real layer, and the size and range cnnviz feeds it."""

import keras
import numpy as np
import pytest
from keras import layers

from cnnviz import activations, applications, preprocessing


def _model(*body, shape=(32, 32, 3)):
    inp = keras.Input(shape)
    x = inp
    for layer in body:
        x = layer(x)
    return keras.Model(inp, x)


def test_rescaling_1_255_means_0_255_input_and_it_is_what_keras_computes():
    model = _model(layers.RandomFlip(name="random_flip"), layers.Rescaling(1 / 255, name="r"), layers.Conv2D(2, 3, name="c"))
    plan = preprocessing.plan(model, (40, 30))
    assert plan.pixels.name == "byte" and plan.source == "layers" and plan.preprocessing == ("random_flip", "r") and plan.sees == "r"
    assert plan.rescaling == ("r", pytest.approx(1 / 255), 0.0)
    x01 = np.random.default_rng(0).random((1, 32, 32, 3), dtype="float32")
    got = activations.extract(model, plan.feed(x01))
    np.testing.assert_allclose(got["r"], x01, rtol=1e-5, atol=1e-6)  # the model sees [0, 1], rescaled once


@pytest.mark.parametrize("scale, offset, expected", [(1 / 255, 0.0, ("byte", "layers")), (1 / 127.5, -1.0, ("byte", "layers")),
                                                     (1 / 128, -127 / 128, ("byte", "layers")),  # Google's Lite: (x - 127) / 128
                                                     (1 / 128, -1.0, ("byte", "layers")),  # MobileNet's TF Lite: 0-255 -> [-1, 0.992]
                                                     (1 / 100, -1.0, ("unit", "default")),  # 255 lands on 1.55: not [-1, 1]
                                                     (1 / 127.5, -0.9, ("unit", "default")),  # 0 lands on -0.9
                                                     (2.0, 0.0, ("unit", "default")), (1 / 255, 0.5, ("unit", "default"))])
def test_which_rescalings_mean_pixel_values(scale, offset, expected):
    model = _model(layers.Rescaling(scale, offset), layers.Conv2D(1, 3))
    plan = preprocessing.plan(model, (32, 32))
    assert (plan.pixels.name, plan.source) == expected


def test_chain_stops_at_the_first_real_layer_and_looks_into_nested_models():
    aug = keras.Sequential([layers.RandomFlip(name="f"), layers.RandomRotation(0.1, name="rot")], name="aug")
    model = _model(aug, layers.Conv2D(2, 3, name="c"), layers.Rescaling(1 / 255, name="late"))
    plan = preprocessing.plan(model, (32, 32))
    assert plan.preprocessing == ("aug/f", "aug/rot") and plan.source == "default"  # the late Rescaling is no input range
    assert preprocessing.plan(_model(layers.Conv2D(1, 3)), (32, 32)).preprocessing == ()


def test_per_channel_rescaling_is_not_guessed():
    model = _model(layers.Rescaling([1 / 255, 1 / 255, 1 / 255]), layers.Conv2D(1, 3))
    assert preprocessing.plan(model, (32, 32)).source == "default"


def test_any_size_models_get_the_image_size_capped_or_the_users():
    model = _model(layers.Conv2D(2, 3), layers.GlobalMaxPooling2D(), shape=(None, None, 3))
    small = preprocessing.plan(model, (90, 60))
    assert small.shape == (60, 90, 3) and small.any_size and not small.capped
    big = preprocessing.plan(model, (1000, 500))
    assert big.shape == (128, 256, 3) and big.capped
    assert preprocessing.plan(model, (1000, 500), size=(40, 50)).shape == (40, 50, 3)
    assert preprocessing.plan(model, (10, 10), size=(1, 5000)).shape == (8, 256, 3)  # clamped to the limits
    assert preprocessing.plan(model, (3, 2000)).shape == (256, 8, 3)  # PIL (w, h); never below MIN_FREE_SIDE
    one_free = _model(layers.Conv2D(2, 3), shape=(24, None, 1))
    assert preprocessing.plan(one_free, (90, 60)).shape == (24, 90, 1)
    fixed = preprocessing.plan(_model(layers.Conv2D(2, 3)), (500, 500))
    assert fixed.shape == (32, 32, 3) and not fixed.any_size
    x = np.zeros((1, *big.shape), "float32")
    assert activations.extract(model, x)[model.layers[1].name].shape == (1, 126, 254, 2)


def test_not_an_image_is_a_value_error():
    inp = keras.Input((5,))
    with pytest.raises(ValueError, match="not an image"):
        preprocessing.plan(keras.Model(inp, layers.Dense(2)(inp)), (10, 10))


# --- input contracts ------------------------------------------------------------------------------

def _preprocess_input(label: str):
    """keras.applications.<family module>.preprocess_input of the application `label` (e.g. ResNet50 ->
    keras.applications.resnet), found from where Keras defines the family, not from cnnviz's table."""
    module = getattr(keras.applications, label).__module__.rsplit(".", 1)[-1]
    return getattr(keras.applications, module).preprocess_input


@pytest.mark.parametrize("key", list(applications.APPLICATIONS))
def test_every_application_s_contract_is_what_its_own_preprocess_input_does(key):
    name = applications.pixels(key)
    assert name in preprocessing.CONTRACTS
    image = np.random.default_rng(0).random((2, 8, 9, 3), dtype="float32")
    want = np.asarray(_preprocess_input(applications.APPLICATIONS[key].label)(image * 255.0), dtype="float32")
    got = preprocessing.contract(name).apply(image)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    assert applications.pixels("app." + key) == name  # as a session model's key ("app.<key>")


def test_an_application_model_is_fed_its_contract_unless_its_layers_say():
    assert applications.pixels("seed") == "" and applications.pixels("app.nothing") == ""
    mobilenet = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), classes=3)
    plan = preprocessing.plan(mobilenet, (32, 32), application=applications.pixels("mobilenet_v2"))
    assert (plan.pixels.name, plan.source) == ("symmetric", "application")
    small = keras.applications.MobileNetV3Small(weights=None, input_shape=(32, 32, 3), classes=3)
    plan = preprocessing.plan(small, (32, 32), application="byte")
    assert (plan.pixels.name, plan.source) == ("byte", "layers")  # its own Rescaling(1/127.5, -1)
    convnext = keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3), classes=3)
    plan = preprocessing.plan(convnext, (32, 32))
    assert (plan.pixels.name, plan.source) == ("byte", "layers")  # Normalization adapted on 0-255
    assert plan.normalization == "convnext_tiny_prestem_normalization"


def test_contracts_in_numpy_and_in_a_keras_graph_agree_one_and_three_channels():
    rng = np.random.default_rng(1)
    for channels in (1, 3):
        x = rng.random((2, 5, 4, channels), dtype="float32")
        inp = keras.Input((5, 4, channels))
        for name in preprocessing.choices(channels):
            pixels = preprocessing.contract(name)
            graph = keras.Model(inp, layers.Lambda(pixels.apply)(inp))
            np.testing.assert_allclose(np.asarray(graph.predict_on_batch(x)), pixels.apply(x), rtol=1e-5, atol=1e-4)
    assert preprocessing.choices(1) == ("unit", "byte", "symmetric")
    assert preprocessing.choices(3) == preprocessing.CONTRACTS
    grey = np.full((1, 1, 1), 0.5, "float32")
    assert preprocessing.contract("symmetric").apply(grey)[0, 0, 0] == 0.0
    caffe = preprocessing.contract("caffe").apply(np.array([[[1.0, 0.0, 0.0]]], "float32"))  # pure red, RGB
    np.testing.assert_allclose(caffe[0, 0], [-103.939, -116.779, 255.0 - 123.68], rtol=1e-5)  # BGR order


def test_rgb_contracts_refuse_other_channel_counts_and_unknown_names_are_refused():
    with pytest.raises(ValueError, match="RGB"):
        preprocessing.contract("torch").apply(np.zeros((4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="No pixel range called 'minus'"):
        preprocessing.contract("minus")
    grey = _model(layers.Conv2D(1, 3), shape=(8, 8, 1))
    with pytest.raises(ValueError, match="'caffe' \\(file\\) is for RGB"):
        preprocessing.plan(grey, (8, 8), file="caffe")
    with pytest.raises(ValueError, match="No pixel range"):
        preprocessing.detect(grey, user="bytes")


def test_sources_in_order_layers_file_application_user_default():
    model = _model(layers.Conv2D(1, 3))
    assert preprocessing.detect(model) == (preprocessing.PIXELS["unit"], "default")
    assert preprocessing.detect(model, user="torch")[1] == "user"
    assert preprocessing.detect(model, application="caffe", user="torch") == (preprocessing.PIXELS["caffe"], "application")
    assert preprocessing.detect(model, file="symmetric", application="caffe", user="torch")[1] == "file"
    rescaled = _model(layers.Rescaling(1 / 255), layers.Conv2D(1, 3))
    assert preprocessing.detect(rescaled, file="symmetric", user="torch") == (preprocessing.PIXELS["byte"], "layers")


@pytest.mark.parametrize("mean, expected", [(127.0, ("byte", "layers")), (0.45, ("unit", "layers")),
                                            (0.0, ("unit", "default"))])
def test_a_leading_normalization_tells_the_range_by_its_mean(mean, expected):
    norm = layers.Normalization(mean=mean, variance=1.0 if mean == 0.0 else 4.0, name="norm")
    model = _model(norm, layers.Conv2D(1, 3))
    plan = preprocessing.plan(model, (32, 32))
    assert (plan.pixels.name, plan.source) == expected
    assert plan.normalization == ("norm" if expected[1] == "layers" else None)


def test_an_adapted_normalization_and_what_it_sees():
    data = np.random.default_rng(2).random((16, 8, 8, 3), dtype="float32") * 255.0
    norm = layers.Normalization(name="norm")
    norm.adapt(data)
    model = _model(norm, layers.Conv2D(1, 3), shape=(8, 8, 3))
    plan = preprocessing.plan(model, (8, 8))
    assert (plan.pixels.name, plan.source) == ("byte", "layers")
    x01 = data[:1] / 255.0
    seen = activations.extract(model, plan.feed(x01))["norm"]
    np.testing.assert_allclose(seen, np.asarray(norm(data[:1])), rtol=1e-5, atol=1e-4)


def test_inverting_normalization_and_a_rescaling_first_are_not_read_as_normalising():
    inverted = _model(layers.Normalization(mean=127.0, variance=4.0, invert=True), layers.Conv2D(1, 3))
    assert preprocessing.plan(inverted, (32, 32)).source == "default"
    both = _model(layers.Rescaling(2.0), layers.Normalization(mean=127.0, variance=4.0), layers.Conv2D(1, 3))
    assert preprocessing.plan(both, (32, 32)).source == "default"  # an unknown Rescaling first: not guessed
