"""cnnviz.featurevis: the optimised image really excites its unit (checked with the model itself), units
alone and in a batch agree, and bad requests are refused with their cause."""

import functools

import keras
import numpy as np
import pytest
from keras import layers

from cnnviz import activations
from cnnviz import featurevis as F
from cnnviz import models, preprocessing


@functools.cache
def default():
    return models.load_preset(models.DEFAULT_MODEL).model


def _mean_activation(model, layer, images, units):
    """Each image's mean activation of its unit, from the model's own forward pass (no transforms)."""
    out = activations.extract(model, images)[layer]
    return np.array([out[i, ..., u].mean() for i, u in enumerate(units)])


def test_layers_and_units():
    assert F.layers(default()) == ["conv1", "conv2", "conv3", "dense", "output"]
    assert F.units_of(default(), "conv2") == 16
    assert F.units_of(default(), None) == 4


@pytest.mark.parametrize("fourier", [True, False])
def test_optimised_images_excite_their_filter(fourier):
    settings = F.Settings(steps=24, fourier=fourier, seed=1)
    units = [0, 3, 5]
    result = F.visualise(default(), "conv2", units, settings)
    assert result.images.shape == (3, 120, 60, 1) and result.step == 24
    assert result.images.min() >= 0 and result.images.max() <= 1
    start = np.full((3, 120, 60, 1), 0.5, "float32")  # where the optimisation starts (sigmoid of ~0)
    assert (_mean_activation(default(), "conv2", result.images, units)
            > _mean_activation(default(), "conv2", start, units) + 0.1).all()


def test_class_visualisation_raises_the_class_score():
    from cnnviz import attribution

    result = F.visualise(default(), None, [2], F.Settings(steps=24))
    before = attribution.scores(default(), np.full((120, 60, 1), 0.5, "float32"))[0][2]
    assert attribution.scores(default(), result.images[0])[0][2] > before + 1.0


def test_a_unit_alone_is_the_same_as_in_the_batch():
    settings = F.Settings(steps=6)
    alone = F.visualise(default(), "conv1", [4], settings).images[0]
    together = F.visualise(default(), "conv1", list(range(12)), settings).images[4]
    np.testing.assert_allclose(alone, together, atol=2e-3)


def test_progress_is_reported():
    steps = [p.step for p in F.optimise(default(), "conv1", [0], F.Settings(steps=10), report_every=4)]
    assert steps == [4, 8, 10]


def test_byte_contract_feeds_0_255():
    """A model that rescales by 1/255 itself is fed the image times 255: same picture as the 0-1 model."""
    keras.utils.set_random_seed(0)
    conv = layers.Conv2D(3, 3, name="c")
    inp = keras.Input((16, 16, 3))
    plain = keras.Model(inp, conv(inp))
    inp2 = keras.Input((16, 16, 3))
    scaled = keras.Model(inp2, conv(layers.Rescaling(1 / 255)(inp2)))
    s = F.Settings(steps=5)
    a = F.visualise(plain, "c", [1], s).images
    b = F.visualise(scaled, "c", [1], s, pixels="byte").images
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_identity_transform_and_shift():
    rng = np.random.default_rng(0)
    still = F.Settings(jitter=0, scale=0.0, rotate=0.0)
    t = F.random_transforms(rng, 2, 10, 12, still)
    np.testing.assert_allclose(t, [[1, 0, 0, 0, 1, 0, 0, 0]] * 2, atol=1e-6)
    shifted = F.random_transforms(rng, 64, 10, 12, F.Settings(jitter=3, scale=0.0, rotate=0.0))
    assert set(np.round(shifted[:, 2]).astype(int)) <= set(range(-3, 4))
    img = rng.random((1, 10, 12, 1)).astype("float32")
    moved = keras.ops.convert_to_numpy(keras.ops.image.affine_transform(
        img, np.array([[1, 0, 2, 0, 1, 1, 0, 0]], "float32"), interpolation="bilinear", fill_mode="reflect"))
    np.testing.assert_allclose(moved[0, :9, :10], img[0, 1:, 2:], atol=1e-6)  # output (y, x) reads input (y+1, x+2)


def test_spectrum_scale():
    s = F.spectrum_scale(8, 4)
    assert s.shape == (8, 4)
    assert s[0, 0] == pytest.approx(8 * np.sqrt(32))  # the DC term capped at 1/max(h, w)
    assert s[0, 0] >= s.max() - 1e-3 and s[4, 2] == s.min()


def test_any_size_model_needs_a_size():
    inp = keras.Input((None, None, 3))
    model = keras.Model(inp, layers.Conv2D(2, 3, name="c")(inp))
    with pytest.raises(F.FeatureVisError) as err:
        F.visualise(model, "c", [0], F.Settings(steps=2))
    assert err.value.key == "size"
    assert F.visualise(model, "c", [0], F.Settings(steps=2), size=(20, 24)).images.shape == (1, 20, 24, 3)


def test_errors_name_the_cause():
    m = default()
    cases = [
        (dict(layer="nope", units=[0]), "no_layer"),
        (dict(layer="conv1", units=[12]), "unit_range"),
        (dict(layer="conv1", units=[]), "no_units"),
        (dict(layer="conv1", units=[0], settings=F.Settings(steps=0)), "settings"),
    ]
    for kwargs, key in cases:
        with pytest.raises(F.FeatureVisError) as err:
            F.visualise(m, **kwargs)
        assert err.value.key == key
    seq = keras.Sequential([keras.Input((6, 6, 1)), layers.Reshape((36, 1), name="r"), layers.Dense(2, name="d")])
    with pytest.raises(F.FeatureVisError) as err:
        F.visualise(seq, "r", [0])
    assert err.value.key == "not_visualisable"
    with pytest.raises(F.FeatureVisError) as err:
        F.visualise(keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3)]), None, [0])
    assert err.value.key == "not_classifier"


class _SqrtOfNegative(layers.Layer):
    """sqrt(relu(-x)) of a positive image: 0, with an infinite derivative times 0, NaN."""

    def call(self, x):
        return keras.ops.sqrt(keras.ops.relu(-x))


def test_nan_gradient_is_an_error():
    inp = keras.Input((6, 6, 1))
    model = keras.Model(inp, layers.Conv2D(2, 3, name="c")(_SqrtOfNegative()(inp)))
    with pytest.raises(F.FeatureVisError) as err:
        F.visualise(model, "c", [0], F.Settings(steps=2))
    assert err.value.key == "gradient_nan"


@pytest.mark.parametrize("name", ["symmetric", "torch", "caffe"])
def test_the_contract_in_the_graph_is_the_numpy_one(name):
    """A model fed contract `name` inside featurevis' graph draws what a model whose first layer computes
    that contract's numpy map (a 1x1 conv: channel reversal and per-channel affine) draws when fed [0, 1]."""
    pixels = preprocessing.contract(name)
    keras.utils.set_random_seed(0)
    conv = layers.Conv2D(3, 3, name="c")
    inp = keras.Input((16, 16, 3))
    fed = keras.Model(inp, conv(inp))
    eye = np.eye(3, dtype="float32")
    unit = np.stack([pixels.apply(eye[i][None, None]) - pixels.apply(np.zeros((1, 1, 3), "float32"))
                     for i in range(3)])[:, 0, 0]  # row i: what input channel i adds to each output channel
    first = layers.Conv2D(3, 1, name="contract")
    inp2 = keras.Input((16, 16, 3))
    own = keras.Model(inp2, conv(first(inp2)))
    first.set_weights([unit[None, None], pixels.apply(np.zeros((1, 1, 3), "float32"))[0, 0]])
    x01 = np.random.default_rng(0).random((1, 16, 16, 3), dtype="float32")
    np.testing.assert_allclose(np.asarray(first(x01)), pixels.apply(x01), rtol=1e-5, atol=1e-4)
    s = F.Settings(steps=4)
    a = F.visualise(fed, "c", [1], s, pixels=name).images
    b = F.visualise(own, "c", [1], s).images
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_an_rgb_contract_for_a_grey_model_is_refused():
    with pytest.raises(F.FeatureVisError) as err:
        F.visualise(default(), "conv1", [0], F.Settings(steps=1), pixels="caffe")
    assert err.value.key == "pixels" and err.value.values == {"pixels": "caffe", "channels": 1}
    assert F.visualise(default(), "conv1", [0], F.Settings(steps=1),
                       pixels=preprocessing.PIXELS["byte"]).images.shape == (1, 120, 60, 1)
