"""cnnviz.digits and the shipped Digits model: UCI's data and representation, and real accuracy on
digits it never saw and on digits drawn as strokes here."""

import functools

import numpy as np
import pytest
from PIL import Image, ImageDraw

from cnnviz import activations, digits, images, models


@functools.cache
def info():
    return models.load_preset("digits")


def _draw(strokes, size=200, width=16, ink=255, paper=0) -> Image.Image:
    img = Image.new("L", (size, size), paper)
    pen = ImageDraw.Draw(img)
    for kind, coords in strokes:
        if kind == "ellipse":
            pen.ellipse(coords, outline=ink, width=width)
        else:
            pen.line(coords, fill=ink, width=width)
    return img.convert("RGB")


ONE = [("line", [(105, 20), (105, 185)])]
ZERO = [("ellipse", (55, 20, 145, 185))]


def _predict(image) -> int:
    x = images.preprocess(image, info().input_shape, fit="digit")
    return int(np.argmax(info().model.predict_on_batch(x[np.newaxis])[0]))


def test_the_uci_data():
    x, y = digits.load()
    assert x.shape == (1797, 8, 8) and y.shape == (1797,)
    assert x.min() == 0 and x.max() == 16
    assert set(np.bincount(y)) <= set(range(174, 184))  # 174 to 183 of each digit


def test_split_is_fixed_disjoint_and_stratified():
    train, held = digits.split()
    assert len(np.intersect1d(train, held)) == 0 and len(train) + len(held) == 1797
    _, y = digits.load()
    assert all(abs(np.mean(y[held] == d) - np.mean(y == d)) < 0.01 for d in range(10))
    np.testing.assert_array_equal(held, digits.split()[1])


def test_first_layer_counts_uci_blocks():
    """The model's first layer gives back UCI's 8x8 counts (/ 16) from the 32x32 bitmap."""
    x, _ = digits.load()
    out = activations.extract(info().model, digits.as_bitmaps(x[:20]))["uci_blocks"]
    np.testing.assert_allclose(out[..., 0] * 16, x[:20], atol=1e-5)


def test_held_out_accuracy_at_least_97_percent():
    x, y = digits.load()
    _, held = digits.split()
    p = info().model.predict_on_batch(digits.as_bitmaps(x[held]))
    assert np.mean(np.argmax(p, 1) == y[held]) >= 0.97


@pytest.mark.parametrize("ink,paper", [(255, 0), (0, 255)])
def test_drawn_one_and_zero(ink, paper):
    assert _predict(_draw(ONE, ink=ink, paper=paper)) == 1
    assert _predict(_draw(ZERO, ink=ink, paper=paper)) == 0


@pytest.mark.parametrize("digit", ["0", "1", "4", "7"])
def test_gallery_digits(digit):
    assert _predict(images.load_sample(f"digit_{digit}")) == int(digit)


def test_bitmap_normalises_like_uci():
    bits = digits.bitmap(_draw(ONE))
    assert bits.shape == (32, 32) and set(np.unique(bits)) <= {0.0, 1.0}
    rows = np.flatnonzero(bits.any(axis=1))
    assert rows[0] == 0 and rows[-1] == 31  # the longer side (height) fills the 32 pixels
    cols = np.flatnonzero(bits.any(axis=0))
    assert abs((cols[0] + cols[-1]) / 2 - 15.5) <= 1  # centred
    counts = digits.blocks(bits)
    assert counts.shape == (8, 8) and counts.max() <= 16 and counts.sum() == bits.sum()
    np.testing.assert_array_equal(digits.bitmap(Image.new("RGB", (50, 50), "white")), np.zeros((32, 32)))


def test_preset_and_fit():
    assert info().fit == "digit" and info().trained and info().class_names == tuple("0123456789")
    x = images.preprocess(_draw(ZERO), (32, 32, 1), fit="digit")
    assert x.shape == (32, 32, 1) and set(np.unique(x)) <= {0.0, 1.0}
    with pytest.raises(ValueError, match="digit"):
        images.preprocess(_draw(ZERO), (32, 32, 1), fit="stretch")
