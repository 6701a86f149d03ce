"""cnnviz.attribution, checked against tf-keras-vis, an independent GradientTape implementation written here,
finite differences, and models whose answer is known."""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from cnnviz import attribution as A
from cnnviz import gradients, images, models


@functools.cache
def default():
    return models.load_preset(models.DEFAULT_MODEL).model


@functools.cache
def sample() -> np.ndarray:
    """A triangle from the shipped samples, as the trained default takes it (120x60x1 in [0, 1])."""
    return images.preprocess(images.load_sample("shape_triangle"), default().input_shape[1:])


@functools.cache
def linear_copy():
    """The reference's own copy of the default model with a linear last layer (tf-keras-vis's ReplaceToLinear)."""
    copy = keras.models.clone_model(default())
    copy.set_weights(default().get_weights())
    copy.layers[-1].activation = keras.activations.linear
    return copy


def _normalise(m):
    m = np.asarray(m, dtype="float64")
    span = m.max() - m.min()
    return (m - m.min()) / (span if span > 0 else 1.0)


def _tape_cam_inputs(x, layer_name, class_index):
    """(A, dA) by GradientTape on the reference copy: the textbook keras-io Grad-CAM."""
    copy = linear_copy()
    grad_model = keras.Model(copy.inputs, [copy.get_layer(layer_name).output, copy.outputs[0]])
    with tf.GradientTape() as tape:
        a, logits = grad_model(x[None])
        score = logits[:, class_index]
    return a.numpy()[0], tape.gradient(score, a).numpy()[0]


# --- the probe and its score ---


def test_score_is_the_logit_before_the_softmax():
    x = sample()
    logits, are_logits = A.scores(default(), x)
    assert are_logits
    np.testing.assert_allclose(logits, linear_copy()(x[None]).numpy()[0], rtol=1e-4, atol=1e-4)
    probs = default().predict_on_batch(x[None])[0]
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(), probs, atol=1e-5)
    assert A.predicted_class(default(), x) == int(np.argmax(probs))


def test_separate_softmax_layer_and_linear_output():
    inp = keras.Input((8, 8, 1))
    h = layers.GlobalAveragePooling2D()(layers.Conv2D(3, 3, name="c")(inp))
    logits = layers.Dense(3, name="d")(h)
    with_layer = keras.Model(inp, layers.Softmax()(logits))
    plain = keras.Model(inp, logits)
    x = np.random.default_rng(0).random((8, 8, 1)).astype("float32")
    s1, l1 = A.scores(with_layer, x)
    s2, l2 = A.scores(plain, x)
    assert l1 and not l2
    np.testing.assert_allclose(s1, s2, rtol=1e-5)


# --- gradients ---


def test_input_gradient_matches_finite_differences():
    keras.utils.set_random_seed(3)
    inp = keras.Input((6, 5, 2))
    h = layers.Conv2D(3, 3, activation="tanh", name="c")(inp)
    out = layers.Dense(4, activation="softmax")(layers.Flatten()(h))
    model = keras.Model(inp, out)
    x = np.random.default_rng(1).random((6, 5, 2)).astype("float64")
    g = A.input_gradients(model, x[None], 2)[0]
    eps = 1e-2
    numeric = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (A.scores(model, up)[0][2] - A.scores(model, down)[0][2]) / (2 * eps)
    np.testing.assert_allclose(g, numeric, atol=2e-3 * np.abs(numeric).max())


def test_saliency_matches_gradient_tape():
    x = sample()
    c = A.predicted_class(default(), x)
    xt = tf.constant(x[None])
    with tf.GradientTape() as tape:
        tape.watch(xt)
        score = linear_copy()(xt)[:, c]
    expected = np.abs(tape.gradient(score, xt).numpy()[0]).max(axis=-1)
    np.testing.assert_allclose(A.saliency(default(), x), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method", ["grad_cam", "grad_cam_plus_plus", "layer_cam"])
def test_cams_at_layer_match_gradient_tape(method):
    x = sample()
    c = 1
    a, g, score = A.layer_output_and_gradient(default(), x, c, "conv3")
    ra, rg = _tape_cam_inputs(x, "conv3", c)
    np.testing.assert_allclose(a, ra, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(g, rg, rtol=1e-4, atol=1e-6)
    full = getattr(A, method)(default(), x, c, layer="conv3")
    assert full.shape == x.shape[:2]
    if method == "grad_cam":  # the textbook formula, written out here
        ref = np.maximum((ra * rg.mean(axis=(0, 1))).sum(-1), 0)
        np.testing.assert_allclose(A.grad_cam_at_layer(a, g), ref, rtol=1e-4, atol=1e-6)
        resized = tf.image.resize(ref[None, ..., None], x.shape[:2], method="bilinear").numpy()[0, ..., 0]
        np.testing.assert_allclose(full, resized, rtol=1e-4, atol=1e-5)


@pytest.fixture(scope="module")
def tfkv():
    """tf-keras-vis, a test-only dependency (requirements-dev.txt), on the reference's linear copy (its
    ReplaceToLinear modifier needs `output_names`, which Keras 3's Sequential lacks)."""
    pytest.importorskip("tf_keras_vis")
    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.gradcam_plus_plus import GradcamPlusPlus
    from tf_keras_vis.layercam import Layercam
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.scores import CategoricalScore

    return dict(Gradcam=Gradcam, GradcamPlusPlus=GradcamPlusPlus, Layercam=Layercam, Saliency=Saliency,
                Scorecam=Scorecam, CategoricalScore=CategoricalScore)


@pytest.mark.parametrize("ours,theirs", [("grad_cam", "Gradcam"), ("grad_cam_plus_plus", "GradcamPlusPlus"),
                                         ("layer_cam", "Layercam")])
def test_cams_match_tf_keras_vis(tfkv, ours, theirs):
    """At the layer's resolution (tf-keras-vis upsamples with scipy's zoom, Keras with its own resize)."""
    x = sample()
    # Grad-CAM++ multiplies by exp(score): in tf-keras-vis's float32 that underflows for a very negative
    # score (class 0 here: -28), so it is compared on class 3 (score -11), to float32's precision; ours
    # runs in float64, where the factor cancels as the formula says (test below).
    classes, atol = ((3,), 2e-3) if ours == "grad_cam_plus_plus" else ((0, 3), 1e-4)
    for c in classes:
        vis = tfkv[theirs](linear_copy(), clone=False)
        ref = vis(tfkv["CategoricalScore"]([c]), x[None], penultimate_layer="conv3", expand_cam=False)[0]
        a, g, score = A.layer_output_and_gradient(default(), x, c, "conv3")
        if ours == "grad_cam":
            mine = A.grad_cam_at_layer(a, g)
        elif ours == "layer_cam":
            mine = A.layer_cam_at_layer(a, g)
        else:
            mine = A.grad_cam_plus_plus_at_layer(a, g, float(score[c]))
        np.testing.assert_allclose(_normalise(mine), ref, atol=atol)


def test_grad_cam_plus_plus_exp_factor_cancels():
    """alpha = e g^2 / (2 e g^2 + e g^3 sum A): e = exp(score) cancels, and only scales the weights."""
    a, g, score = A.layer_output_and_gradient(default(), sample(), 0, "conv3")
    # Equal in exact arithmetic; each side is computed in float64 with e folded in at a different place, then
    # returned as float32 (eps 1.2e-7) and normalised to [0, 1]: a few float32 ulps apart, whichever CPU.
    np.testing.assert_allclose(_normalise(A.grad_cam_plus_plus_at_layer(a, g, float(score[0]))),
                               _normalise(A.grad_cam_plus_plus_at_layer(a, g, 0.0)), rtol=1e-5, atol=1e-6)


def test_saliency_matches_tf_keras_vis(tfkv):
    x = sample()
    vis = tfkv["Saliency"](linear_copy(), clone=False)
    ref = vis(tfkv["CategoricalScore"]([2]), x[None], normalize_map=False)[0]
    np.testing.assert_allclose(A.saliency(default(), x, 2), ref, rtol=1e-4, atol=1e-6)


def test_smoothgrad_agrees_with_tf_keras_vis(tfkv):
    """Different random noise: the maps agree in rank, not value."""
    x = sample()
    vis = tfkv["Saliency"](linear_copy(), clone=False)
    ref = vis(tfkv["CategoricalScore"]([2]), x[None], smooth_samples=64, smooth_noise=0.2, normalize_map=False)[0]
    mine = A.smoothgrad(default(), x, 2, noise=0.2, samples=64)
    assert A.rank_correlation(mine, ref) > 0.8


def test_score_cam_matches_an_independent_implementation():
    """Written out here with TensorFlow: each channel of conv3 resized by tf.image.resize, scaled to [0, 1],
    masks the input; the softmax of the reference copy's logits on it is the channel's weight."""
    x, c = sample(), 3
    a = keras.Model(linear_copy().inputs, linear_copy().get_layer("conv3").output)(x[None]).numpy()[0]
    up = tf.image.resize(a[None], x.shape[:2], method="bilinear").numpy()[0]
    lo, hi = up.min(axis=(0, 1)), up.max(axis=(0, 1))
    masks = (up - lo) / (hi - lo + keras.config.epsilon())
    batch = x[None] * np.moveaxis(masks, -1, 0)[..., None]
    weights = tf.nn.softmax(linear_copy()(batch), axis=-1).numpy()[:, c]
    ref = np.maximum((a * weights).sum(-1), 0)
    ref = tf.image.resize(ref[None, ..., None], x.shape[:2], method="bilinear").numpy()[0, ..., 0]
    np.testing.assert_allclose(A.score_cam(default(), x, c, layer="conv3", max_channels=None), ref,
                               rtol=1e-4, atol=1e-5)


def test_score_cam_agrees_with_tf_keras_vis(tfkv):
    """tf-keras-vis upsamples the masks with scipy's zoom (corner-aligned), Keras with half-pixel
    centres: the masks differ at the borders, so the maps agree in rank only roughly."""
    x = sample()
    vis = tfkv["Scorecam"](linear_copy(), clone=False)
    ref = vis(tfkv["CategoricalScore"]([3]), x[None], penultimate_layer="conv3", expand_cam=False)[0]
    a, _, _ = A.layer_output_and_gradient(default(), x, 3, "conv3")
    mine = A.score_cam(default(), x, 3, layer="conv3", max_channels=None)
    small = tf.image.resize(mine[None, ..., None], a.shape[:2], method="area").numpy()[0, ..., 0]
    assert A.rank_correlation(small, ref) > 0.6


def test_faster_score_cam_keeps_the_highest_variance_channels():
    x = sample()
    full = A.score_cam(default(), x, 3, layer="conv3", max_channels=None)
    assert A.rank_correlation(A.score_cam(default(), x, 3, layer="conv3", max_channels=20), full) == pytest.approx(1.0)
    fewer = A.score_cam(default(), x, 3, layer="conv3", max_channels=10)
    assert fewer.shape == full.shape and np.isfinite(fewer).all() and not np.allclose(fewer, full)


def test_integrated_gradients_completeness():
    """The attributions add up to score(x) - score(baseline) (Sundararajan et al.'s completeness axiom)."""
    x = sample()
    for baseline in A.BASELINES:
        ig = A.integrated_gradients(default(), x, 3, baseline=baseline, steps=128)
        base = A.baseline_input(x, baseline)
        expected = A.scores(default(), x)[0][3] - A.scores(default(), base)[0][3]
        assert ig.sum() == pytest.approx(expected, rel=0.05, abs=0.05)


def test_ig_baselines():
    x = sample()
    assert not A.baseline_input(x, "black").any()
    blurred = A.baseline_input(x, "blurred")
    assert blurred.shape == x.shape and blurred.std() < x.std()
    noise = A.baseline_input(x, "noise")
    assert noise.min() >= x.min() and noise.max() <= x.max()
    with pytest.raises(A.AttributionError):
        A.baseline_input(x, "grey")


# --- models whose answer is known ---


@functools.cache
def half_blind():
    """Reads only the left half of its 12x12 input (Cropping2D drops the right half)."""
    keras.utils.set_random_seed(5)
    inp = keras.Input((12, 12, 1))
    h = layers.Cropping2D(((0, 0), (0, 6)))(inp)
    h = layers.Conv2D(4, 3, activation="relu", name="c")(h)
    out = layers.Dense(3, activation="softmax")(layers.Flatten()(h))
    return keras.Model(inp, out)


@pytest.mark.parametrize("method", ["saliency", "smoothgrad", "integrated_gradients", "occlusion"])
def test_unread_input_gets_exactly_zero(method):
    x = np.random.default_rng(2).random((12, 12, 1)).astype("float32")
    m = A.attribute(method, half_blind(), x, 0, **({"window": 3, "stride": 3} if method == "occlusion" else {}))
    assert np.all(m[:, 6:] == 0.0)
    assert np.abs(m[:, :6]).max() > 0


@functools.cache
def corner_detector():
    """Class 0 is the mean brightness seen by a 'bright' filter; the other filter sees nothing."""
    inp = keras.Input((16, 16, 1))
    conv = layers.Conv2D(2, 3, padding="same", activation="relu", name="c")
    dense = layers.Dense(2, activation="softmax", name="d")
    out = dense(layers.GlobalAveragePooling2D()(conv(inp)))
    model = keras.Model(inp, out)
    k = np.zeros((3, 3, 1, 2), "float32")
    k[..., 0, 0] = 1.0 / 9
    conv.set_weights([k, np.zeros(2, "float32")])
    dense.set_weights([np.array([[1.0, 0.0], [0.0, 1.0]], "float32"), np.zeros(2, "float32")])
    return model


@pytest.mark.parametrize("method", A.CAM_METHODS + ("saliency", "occlusion"))
def test_evidence_in_one_corner_peaks_there(method):
    x = np.zeros((16, 16, 1), "float32")
    x[1:5, 11:15] = 1.0  # top right
    m = A.attribute(method, corner_detector(), x, 0, layer="c" if method in A.CAM_METHODS else None)
    r, c = np.unravel_index(np.argmax(m), m.shape)
    assert r < 8 and c >= 8, (r, c)


def test_default_cam_layer():
    assert A.cam_layer(default()) == "conv3"
    inp = keras.Input((16, 16, 3))
    h = layers.Conv2D(4, 3, name="conv")(inp)
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.Activation("relu", name="top_activation")(h)
    model = keras.Model(inp, layers.Dense(2)(layers.GlobalAveragePooling2D()(h)))
    assert A.cam_layer(model) == "top_activation"
    assert A.spatial_layers(model) == ["conv", "bn", "top_activation"]


def test_nested_model_default_layer_and_cam():
    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input((16, 16, 3)), layers.Conv2D(4, 3, activation="relu", name="c1"),
                             layers.Conv2D(6, 3, activation="relu", name="c2")], name="base")
    inp = keras.Input((16, 16, 3))
    out = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling2D()(base(inp)))
    model = keras.Model(inp, out)
    assert A.cam_layer(model) == "base/c2"
    x = np.random.default_rng(0).random((16, 16, 3)).astype("float32")
    for method in A.METHODS:
        m = A.attribute(method, model, x)
        assert m.shape == (16, 16) and np.isfinite(m).all()
    # the same as a flat model with the same weights
    flat = keras.Sequential([keras.Input((16, 16, 3)), *[layers.Conv2D(f, 3, activation="relu") for f in (4, 6)],
                             layers.GlobalAveragePooling2D(), layers.Dense(3, activation="softmax")])
    flat.set_weights(model.get_weights())
    np.testing.assert_allclose(A.grad_cam(model, x, 1), A.grad_cam(flat, x, 1, layer=flat.layers[1].name),
                               rtol=1e-4, atol=1e-6)


def test_any_size_model():
    inp = keras.Input((None, None, 3))
    h = layers.Conv2D(4, 3, activation="relu", name="c")(inp)
    model = keras.Model(inp, layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling2D()(h)))
    for shape in ((20, 30, 3), (11, 9, 3)):
        x = np.random.default_rng(0).random(shape).astype("float32")
        assert A.grad_cam(model, x).shape == shape[:2]
        assert A.score_cam(model, x).shape == shape[:2]


def test_two_input_model_gets_zeros_in_the_second():
    img = keras.Input((10, 10, 1))
    extra = keras.Input((3,))
    h = layers.GlobalAveragePooling2D()(layers.Conv2D(2, 3, name="c")(img))
    model = keras.Model([img, extra], layers.Dense(2, activation="softmax")(layers.Concatenate()([h, extra])))
    x = np.random.default_rng(0).random((10, 10, 1)).astype("float32")
    for method in A.METHODS:
        assert A.attribute(method, model, x, 1).shape == (10, 10)


# --- bad input ---


def test_errors_name_the_cause():
    x = sample()
    with pytest.raises(A.AttributionError) as err:
        A.grad_cam(default(), x, class_index=9)
    assert err.value.key == "class_range" and err.value.values == {"index": 9, "n": 4}
    with pytest.raises(A.AttributionError) as err:
        A.grad_cam(default(), x, layer="dense")
    assert err.value.key == "not_spatial"
    with pytest.raises(A.AttributionError) as err:
        A.saliency(default(), x[:50])
    assert err.value.key == "input_shape"
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(A.AttributionError) as err:
        A.saliency(default(), bad)
    assert err.value.key == "input_nan"
    with pytest.raises(A.AttributionError) as err:
        A.attribute("magic", default(), x)
    assert err.value.key == "settings"
    for kwargs in ({"window": 0}, {"fill": "pink"}):
        with pytest.raises(A.AttributionError):
            A.occlusion(default(), x, **kwargs)
    with pytest.raises(A.AttributionError):
        A.smoothgrad(default(), x, samples=0)
    with pytest.raises(A.AttributionError):
        A.integrated_gradients(default(), x, steps=0)


def test_no_conv_layer_cams_say_so_gradients_work():
    model = keras.Sequential([keras.Input((6, 6, 1)), layers.Flatten(), layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((6, 6, 1)).astype("float32")
    for method in A.CAM_METHODS:
        with pytest.raises(A.AttributionError) as err:
            A.attribute(method, model, x)
        assert err.value.key == "no_conv"
    for method in A.GRADIENT_METHODS + A.PERTURBATION_METHODS:
        assert A.attribute(method, model, x).shape == (6, 6)


def test_not_a_classifier():
    model = keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3)])
    with pytest.raises(A.AttributionError) as err:
        A.saliency(model, np.zeros((6, 6, 1), "float32"))
    assert err.value.key == "not_classifier"


class _Blocked(layers.Layer):
    def call(self, x):
        return keras.ops.stop_gradient(x)


class _SqrtRelu(layers.Layer):
    def call(self, x):
        return keras.ops.sqrt(keras.ops.relu(x))


class _Nan(layers.Layer):
    def call(self, x):
        return x * np.float32(np.nan)


def _wrap(layer):
    inp = keras.Input((6, 6, 1))
    h = layers.Conv2D(2, 3, name="c")(inp)
    return keras.Model(inp, layers.Dense(2, activation="softmax")(layers.Flatten()(layer(h))))


def test_non_differentiable_layer():
    x = np.random.default_rng(0).random((6, 6, 1)).astype("float32")
    with pytest.raises(A.AttributionError) as err:
        A.saliency(_wrap(_Blocked()), x)
    assert err.value.key == "no_gradient"
    assert A.occlusion(_wrap(_Blocked()), x).shape == (6, 6)  # forward-only methods still work


def test_nan_gradient_and_nan_output():
    x = np.full((6, 6, 1), -1.0, "float32")
    model = _wrap(_SqrtRelu())
    model.layers[1].set_weights([np.ones((3, 3, 1, 2), "float32"), np.zeros(2, "float32")])
    with pytest.raises(A.AttributionError) as err:
        A.saliency(model, x)
    assert err.value.key == "gradient_nan"
    with pytest.raises(A.AttributionError) as err:
        A.grad_cam(_wrap(_Nan()), x, layer="c")
    assert err.value.key == "output_nan"
    with pytest.raises(A.AttributionError) as err:
        A.occlusion(_wrap(_Nan()), x)
    assert err.value.key == "output_nan"
    with pytest.raises(A.AttributionError) as err:
        A.smoothgrad(_wrap(_Nan()), x, 0, samples=2)
    assert err.value.key == "output_nan"


def test_gradient_error_reasons():
    model = _wrap(_Blocked())
    fn = A._score_wrt_input
    with pytest.raises(gradients.GradientError) as err:
        gradients.value_and_grad(A.probe(model).model, fn, [np.zeros((1, 6, 6, 1))], [np.ones((1, 2), "float32")])
    assert err.value.reason == "none"


# --- sanity checks ---


def test_rank_correlation_matches_scipy():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 5, 200).astype(float)  # many ties
    b = a + rng.normal(0, 2, 200)
    assert A.rank_correlation(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    assert A.rank_correlation(a, a) == pytest.approx(1.0)
    assert A.rank_correlation(a, -a) == pytest.approx(-1.0)
    assert A.rank_correlation(a, np.ones_like(a)) == 0.0


def test_sanity_check_cascading_randomisation():
    x = sample()
    before = [w.copy() for w in default().get_weights()]
    result = A.sanity_check(default(), x, methods=("saliency", "grad_cam"), class_index=3)
    assert result.steps == ["original", "output", "dense", "conv3", "conv2", "conv1"]
    for m in ("saliency", "grad_cam"):
        assert result.correlation[m][0] == pytest.approx(1.0)
        assert len(result.maps[m]) == 6 and all(v.shape == (120, 60) for v in result.maps[m])
    # Grad-CAM depends on the weights: once its layer is random its map is unrelated
    assert abs(result.correlation["grad_cam"][-1]) < 0.5
    for w, b in zip(default().get_weights(), before):  # the shared model is untouched
        np.testing.assert_array_equal(w, b)


def test_sanity_check_errors():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2, activation="softmax")

        def call(self, x):
            return self.d(keras.ops.reshape(x, (-1, 36)))

    sub = Sub()
    sub(np.zeros((1, 6, 6, 1), "float32"))
    inp = keras.Input((6, 6, 1))
    wrapped = keras.Model(inp, sub(inp))
    x = np.random.default_rng(0).random((6, 6, 1)).astype("float32")
    with pytest.raises(A.AttributionError) as err:  # Keras cannot clone a model it cannot rebuild from config
        A.sanity_check(wrapped, x, methods=("saliency",))
    assert err.value.key == "clone"
    no_weights = keras.Sequential([keras.Input((6, 6, 1)), layers.Flatten(), layers.Softmax()])
    with pytest.raises(A.AttributionError) as err:
        A.sanity_check(no_weights, x, methods=("saliency",))
    assert err.value.key == "no_weights"
    with pytest.raises(A.AttributionError) as err:
        A.sanity_check(default(), sample(), methods=("grad_cam",), layer="flatten")
    assert err.value.key == "not_spatial"


def test_upsample_and_blur():
    cam = np.arange(6, dtype="float32").reshape(2, 3)
    up = A.upsample(cam, (4, 6))
    assert up.shape == (4, 6) and up.min() >= 0 and up.max() <= 5
    stack = A.upsample(np.stack([cam, cam], -1), (4, 6))
    np.testing.assert_allclose(stack[..., 1], up, rtol=1e-6)  # each channel goes through the same float32 ops
    flat = np.ones((9, 9, 2), "float32")
    # A normalised float32 kernel sums to 1 up to a few ulps per tap: 1e-5 covers the 2-D sum.
    np.testing.assert_allclose(A.gaussian_blur(flat, 2.0), flat, rtol=1e-5)


def test_layers_named_like_keras_ops():
    """A loaded model's layers may be called "add", "add_1" ...: the probe's own graph nodes must not clash
    (the keras-io 'from scratch' model, uploaded, failed so)."""
    inp = keras.Input((16, 16, 3))
    h = layers.Conv2D(4, 3, padding="same", activation="relu", name="c")(inp)
    for name in ("add", "add_1", "add_2"):
        h = layers.Add(name=name)([h, h])
    model = keras.Model(inp, layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling2D()(h)))
    x = np.random.default_rng(0).random((16, 16, 3)).astype("float32")
    assert A.cam_layer(model) == "c"
    for layer in ("c", "add", "add_2"):
        assert A.grad_cam(model, x, layer=layer).shape == (16, 16)


@pytest.mark.parametrize("fill", ["zero", "blurred"])
def test_occlusion_fills(fill):
    x = np.random.default_rng(2).random((12, 12, 1)).astype("float32")
    m = A.occlusion(half_blind(), x, 0, window=3, stride=3, fill=fill)
    assert np.all(m[:, 6:] == 0.0) and np.abs(m[:, :6]).max() > 0


def test_unit_gradient_of_a_model_with_nan():
    x = np.full((6, 6, 1), 0.5, "float32")
    with pytest.raises(A.AttributionError) as err:
        A.unit_gradient(_nan_map_model(), x, "nan", 0, 0)
    assert err.value.key == "output_nan"


def _nan_map_model():
    inp = keras.Input((6, 6, 1))
    h = layers.Conv2D(2, 3, name="c")(inp)
    return keras.Model(inp, _Nan(name="nan")(h))


def test_weighted_layers_open_nested_models_top_down():
    base = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, name="b1"), layers.Conv2D(2, 3, name="b2")],
                            name="base")
    inp = keras.Input((8, 8, 1))
    model = keras.Model(inp, layers.Dense(2, name="head")(layers.Flatten()(base(inp))))
    assert [layer.name for layer in A.weighted_layers(model)] == ["head", "b2", "b1"]


# --- one image or a batch of one ---


@functools.cache
def tiny_rgb():
    keras.utils.set_random_seed(3)
    inp = keras.Input((12, 10, 3))
    x = layers.Conv2D(4, 3, activation="relu", name="c1")(inp)
    x = layers.Conv2D(5, 3, activation="relu", name="c2")(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(3, activation="softmax", name="out")(x))


BATCH_OF_ONE = {
    "saliency": lambda m, x: A.saliency(m, x),
    "smoothgrad": lambda m, x: A.smoothgrad(m, x, samples=4),
    "integrated_gradients": lambda m, x: A.integrated_gradients(m, x, steps=4),
    "integrated_gradients_channels": lambda m, x: A.integrated_gradients_channels(m, x, 1, steps=4),
    "occlusion": lambda m, x: A.occlusion(m, x, window=4),
    "grad_cam": lambda m, x: A.grad_cam(m, x),
    "grad_cam_plus_plus": lambda m, x: A.grad_cam_plus_plus(m, x, 2),
    "score_cam": lambda m, x: A.score_cam(m, x),
    "layer_cam": lambda m, x: A.layer_cam(m, x, layer="c1"),
    "attribute": lambda m, x: A.attribute("grad_cam", m, x, 0, "c1"),
    "unit_gradient": lambda m, x: A.unit_gradient(m, x, "c2", 2, 3, 1),
    "scores": lambda m, x: A.scores(m, x)[0],
    "predicted_class": lambda m, x: np.array(A.predicted_class(m, x)),
    "layer_output_and_gradient": lambda m, x: np.concatenate(
        [np.ravel(v) for v in A.layer_output_and_gradient(m, x, 1, "c2")]),
    "sanity_check": lambda m, x: np.array(A.sanity_check(m, x, ("saliency",), max_steps=2).correlation["saliency"]),
}


@pytest.mark.parametrize("name", list(BATCH_OF_ONE))
def test_one_image_and_a_batch_of_one_give_the_same_and_a_batch_of_two_is_refused(name):
    x = np.random.default_rng(4).random((12, 10, 3), dtype="float32")
    fn = BATCH_OF_ONE[name]
    one = np.asarray(fn(tiny_rgb(), x))
    batched = np.asarray(fn(tiny_rgb(), x[np.newaxis]))
    assert one.shape == batched.shape and (one.ndim != 2 or one.shape == x.shape[:2])
    np.testing.assert_allclose(batched, one, rtol=1e-6, atol=1e-7)
    with pytest.raises(A.AttributionError) as err:
        fn(tiny_rgb(), np.stack([x, x]))
    assert err.value.key == "batch" and err.value.values["n"] == 2
    assert "(2, 12, 10, 3)" in err.value.values["shape"]


def test_other_shapes_are_still_refused_as_such():
    x = np.zeros((1, 1, 12, 10, 3), "float32")  # a batch of batches: not a batch of one image
    with pytest.raises(A.AttributionError) as err:
        A.saliency(tiny_rgb(), x)
    assert err.value.key == "input_shape"


def test_one_image_helper_says_what_to_pass():
    x = np.zeros((3, 4, 4, 1))
    with pytest.raises(images.BatchError, match=r"batch of 3 images \(3, 4, 4, 1\).*x\[i:i \+ 1\]"):
        images.one_image(x)
    assert images.one_image(x[:1]).shape == (4, 4, 1) and images.one_image(x[0]).dtype == np.float32
