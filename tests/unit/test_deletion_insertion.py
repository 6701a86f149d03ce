"""Deletion and insertion (Petsiuk et al. 2018) on models with known answers, against Keras itself; and the
black of a model's own pixel range in Integrated Gradients, occlusion and deletion."""

import keras
import numpy as np
import pytest

from cnnviz import attribution
from cnnviz.preprocessing import PIXELS

H = W = 12


def half_model(k: float = 4.0, b: float = 48.0):
    """Reads only the left half of a (H, W, 1) image: class 0's logit minus class 1's is
    k * sum(s * x) - b over the left half, s a checkerboard of +-1 (softmax output). The image (1 where
    s = +1) gives 36k - b = 96, black -b, the blurred image (about 0.5 there) about -b: removing 24 of
    the 36 +1 pixels, or putting back 24 into the blurred image, turns the class around."""
    keras.utils.set_random_seed(0)
    s = np.where((np.add.outer(np.arange(H), np.arange(W // 2)) % 2) == 0, 1.0, -1.0)
    inp = keras.Input((H, W, 1))
    left = keras.layers.Cropping2D(((0, 0), (0, W // 2)))(inp)
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(left))
    model = keras.Model(inp, out)
    kernel = np.stack([k / 2 * s.ravel(), -k / 2 * s.ravel()], axis=1).astype("float32")
    model.layers[-1].set_weights([kernel, np.array([-b / 2, b / 2], "float32")])
    x = np.zeros((H, W, 1), "float32")
    x[:, : W // 2, 0] = (1 + s) / 2  # 1 where s = +1: the class's evidence
    x[:, W // 2:, 0] = np.random.default_rng(1).uniform(0, 1, (H, W // 2))
    good = np.zeros((H, W), "float32")
    good[:, : W // 2] = (1 + s) / 2 + 0.5  # the evidence first, then the rest of the left half, the right half last
    return model, x, good


def test_deleting_what_the_model_reads_first_drops_the_score_at_once():
    model, x, good = half_model()
    r = attribution.deletion_insertion(model, x, 0, good, steps=24)
    auc = r.auc
    assert r.deletion[0] > 0.99 and r.insertion[-1] > 0.99  # the image itself, at both ends
    assert r.fractions[0] == 0 and r.fractions[-1] == 1 and len(r.fractions) == 25
    assert auc["deletion"] < 0.25 and auc["insertion"] > 0.75
    assert auc["random_deletion"] > auc["deletion"] + 0.3
    assert auc["random_insertion"] < auc["insertion"] - 0.1
    # once the evidence is gone the score stays low: nothing the model reads is left to remove
    assert r.deletion[r.fractions >= 0.25].max() < 1e-3


def test_a_random_map_sits_near_the_random_baseline():
    """Averaged over eight random maps (one random order alone varies by about 0.1 here)."""
    model, x, _ = half_model()
    runs = [attribution.deletion_insertion(model, x, 0, np.random.default_rng(10 + i).uniform(size=(H, W)),
                                           steps=24, seed=i).auc for i in range(8)]
    mean = {k: np.mean([r[k] for r in runs]) for k in runs[0]}
    assert abs(mean["deletion"] - mean["random_deletion"]) < 0.08
    assert abs(mean["insertion"] - mean["random_insertion"]) < 0.08


def _top(sal, n):
    mask = np.zeros(sal.size, bool)
    mask[np.argsort(-sal.ravel(), kind="stable")[:n]] = True
    return mask.reshape(sal.shape)[..., None]


@pytest.mark.parametrize("baseline", ["black", "blurred"])
def test_one_point_is_keras_on_the_explicitly_modified_image(baseline):
    """Step 5 of 8 on a [-1, 1] model: the top 5/8 of the pixels by the map replaced by black (-1 in that
    range) or the blurred input; insertion the reverse; the probability as model.predict gives it."""
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((H, W, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    x01 = np.random.default_rng(4).uniform(size=(H, W, 3)).astype("float32")
    pixels = PIXELS["symmetric"]
    x = pixels.apply(x01)
    sal = np.random.default_rng(5).uniform(size=(H, W))
    r = attribution.deletion_insertion(model, x, 1, sal, steps=8, baseline=baseline, black=pixels.black(3))
    n = round(5 / 8 * H * W)
    mask = _top(sal, n)
    blurred = attribution.gaussian_blur(x, max(1.0, H / 20))
    removed = blurred if baseline == "blurred" else pixels.apply(np.zeros_like(x01))  # black, as the model takes it
    assert removed.min() == -1.0 or baseline == "blurred"
    deleted = np.where(mask, removed, x)
    inserted = np.where(mask, x, blurred)
    want = model.predict(np.stack([deleted, inserted]), verbose=0)[:, 1]
    np.testing.assert_allclose([r.deletion[5], r.insertion[5]], want, rtol=1e-5)
    assert r.fractions[5] == n / (H * W)


def test_batches_give_what_one_at_a_time_gives():
    model, x, good = half_model()
    together = attribution.deletion_insertion(model, x, None, good, steps=10)
    alone = attribution.deletion_insertion(model, x, None, good, steps=10, batch=1)
    for name in ("deletion", "insertion", "random_deletion", "random_insertion"):
        np.testing.assert_allclose(getattr(together, name), getattr(alone, name), rtol=1e-5, atol=1e-7)


def test_logits_model_uses_the_softmax_probability():
    model, x, good = half_model()
    probs = attribution.deletion_insertion(model, x, 0, good, steps=4)
    keras.utils.set_random_seed(0)
    lin = keras.Sequential([keras.Input((H, W, 1)), keras.layers.Cropping2D(((0, 0), (0, W // 2))),
                            keras.layers.Flatten(), keras.layers.Dense(2)])
    lin.layers[-1].set_weights(model.layers[-1].get_weights())
    raw = attribution.deletion_insertion(lin, x, 0, good, steps=4)
    np.testing.assert_allclose(raw.deletion, probs.deletion, rtol=1e-5, atol=1e-7)  # softmax of the logits


def test_bad_settings_are_refused():
    model, x, good = half_model()
    for kwargs in ({"saliency_map": good[:3]}, {"steps": 0}, {"baseline": "noise"},
                   {"saliency_map": np.full((H, W), np.nan)}):
        args = {"saliency_map": good, **kwargs}
        with pytest.raises(attribution.AttributionError) as err:
            attribution.deletion_insertion(model, x, 0, **args)
        assert err.value.key == "settings"
    with pytest.raises(attribution.AttributionError):
        attribution.black_input(x, (0.0, 1.0))  # two values for one channel


def test_black_is_black_in_the_models_range():
    """IG's black baseline and occlusion's "zero" fill use the black of the model's pixel contract."""
    x = np.full((H, W, 3), 0.25, "float32")
    assert (attribution.baseline_input(x, "black", black=PIXELS["symmetric"].black(3)) == -1.0).all()
    caffe = attribution.baseline_input(x, "black", black=PIXELS["caffe"].black(3))
    np.testing.assert_allclose(caffe[0, 0], [-103.939, -116.779, -123.68], rtol=1e-6)
    assert (attribution.baseline_input(x, "black") == 0).all()  # None: zeros, as before
    # occlusion of a linear model: each window's drop is sum(w * (x - black)) over the window
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((H, W, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    xs = np.random.default_rng(0).uniform(-1, 1, (H, W, 1)).astype("float32")
    occ = attribution.occlusion(model, xs, 0, window=H, stride=H, fill="zero", black=(-1.0,))
    kernel = model.layers[-1].get_weights()[0][:, 0]
    want = float((kernel * (xs.ravel() + 1.0)).sum())
    np.testing.assert_allclose(occ, np.full((H, W), want), rtol=1e-4)
    # IG from the black of [-1, 1]: completeness against that baseline
    ig = attribution.integrated_gradients(model, xs, 0, steps=4, black=(-1.0,))
    np.testing.assert_allclose(ig.sum(), want, rtol=1e-4)
