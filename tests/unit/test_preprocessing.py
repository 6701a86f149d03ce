"""What a model does to its input before its first real layer, and the size and range cnnviz feeds it."""

import keras
import numpy as np
import pytest
from keras import layers

from cnnviz import activations, preprocessing


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
