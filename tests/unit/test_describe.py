"""Text alternatives (cnnviz.plots.describe): the numbers in the text are the drawn arrays' real shape, min and
max (read back from the text, at the 3 significant digits it writes), in both languages."""

import re

import keras
import numpy as np
import pytest

from cnnviz import convolution as cv
from cnnviz import i18n
from cnnviz.plots import activations as act_plots
from cnnviz.plots import describe
from cnnviz.plots import filters as filter_plots

LANGS = ("en", "ko")
NUMBER = r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?"


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(NUMBER, text)]


def close(written: float, actual: float) -> bool:
    """`written` is `actual` to 3 significant digits."""
    return abs(written - actual) <= 5e-3 * abs(actual) + 1e-12


def keras_maps(channels: int = 4, seed: int = 0) -> np.ndarray:
    """A real Conv2D + ReLU output: (H, W, C) float32 as Keras computes it."""
    rng = np.random.default_rng(seed)
    layer = keras.layers.Conv2D(channels, 5, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed))
    x = rng.random((1, 120, 60, 1)).astype("float32")
    return keras.ops.convert_to_numpy(layer(x))[0]


@pytest.mark.parametrize("lang", LANGS)
def test_activation_map_says_size_and_range_of_a_keras_map(lang):
    maps = keras_maps()
    values = maps[..., 3]
    text = describe.activation_map(values, "conv1", 3, lang)
    assert "conv1" in text
    assert f"{values.shape[0]}x{values.shape[1]}" == "116x56" and "116x56" in text
    lo, hi = numbers(text.split("116x56")[1])[:2]
    assert close(lo, float(values.min())) and close(hi, float(values.max()))
    assert numbers(text.split("conv1")[1])[0] == 3  # the channel


@pytest.mark.parametrize("lang", LANGS)
def test_map_grid_counts_channels_and_ranges_what_is_drawn(lang):
    maps = keras_maps(channels=6)
    text = describe.map_grid(maps, "conv2d_1", lang)
    assert "6" in re.findall(r"\d+", text.split(":")[1])
    assert "116x56" in text
    lo, hi = numbers(text.split("116x56")[1])[:2]
    assert close(lo, float(maps.min())) and close(hi, float(maps.max()))
    capped = describe.map_grid(maps, "conv2d_1", lang, shown=2)
    written = numbers(capped.split("116x56")[1])[:2]
    assert close(written[0], float(maps[..., :2].min())) and close(written[1], float(maps[..., :2].max()))
    assert {2, 6} <= {int(v) for v in numbers(capped.split("116x56")[0]) if v == int(v)}


@pytest.mark.parametrize("lang", LANGS)
def test_one_channel_and_a_vector(lang):
    one = describe.map_grid(keras_maps(channels=1), "c", lang)
    assert one == i18n.t("alt.grid.one", lang, layer="c", size="116x56",
                         range=describe.value_range(keras_maps(channels=1), lang))
    dense = keras.ops.convert_to_numpy(keras.layers.Dense(7)(np.ones((1, 3), "float32")))[0]
    text = describe.map_grid(dense, "dense", lang)
    assert numbers(text)[0] == 7
    assert close(numbers(text)[1], float(dense.min())) and close(numbers(text)[2], float(dense.max()))


@pytest.mark.parametrize("lang", LANGS)
def test_constant_map_and_nan_free(lang):
    constant = np.full((5, 4), 0.5, dtype="float32")
    text = describe.activation_map(constant, "pool", 0, lang)
    assert text.endswith(i18n.t("alt.range.constant", lang, v="0.5"))
    zeros = describe.activation_map(np.zeros((3, 3), "float32"), "relu", 1, lang)
    assert "-0" not in zeros and zeros.endswith(i18n.t("alt.range.constant", lang, v="0"))
    with_nan = np.array([[np.nan, 1.0], [2.0, np.inf]], dtype="float32")
    text = describe.activation_map(with_nan, "x", 0, lang)
    assert "nan" not in text.lower() and "inf" not in text.lower()
    assert numbers(text.split("2x2")[1]) == [1.0, 2.0]
    nothing = describe.activation_map(np.full((2, 2), np.nan), "x", 0, lang)
    assert nothing.endswith(i18n.t("alt.range.none", lang)) and "nan" not in nothing.lower()


def test_three_significant_digits():
    assert describe.num(1.8912) == "1.89"
    assert describe.num(-0.0) == "0"
    assert describe.num(0.000123456) == "0.000123"
    assert describe.num(123456.0) == "1.23e+05"


@pytest.mark.parametrize("lang", LANGS)
def test_kernel_of_a_keras_layer(lang):
    layer = keras.layers.Conv2D(8, (3, 5))
    layer.build((None, 20, 20, 2))
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    text = describe.kernel(kernel, lang, title="conv")
    assert text.startswith("conv: ") and "3x5" in text
    weights = describe.value_range(kernel, lang)
    assert text == "conv: " + i18n.t("alt.kernel.layer", lang, size="3x5", cin=2, n=8, range=weights)
    lo, hi = numbers(weights)
    assert close(lo, float(kernel.min())) and close(hi, float(kernel.max()))
    one = describe.kernel(kernel[:, :, 0, 0], lang)
    assert "3x5" in one and close(numbers(one.split("3x5")[1])[0], float(kernel[:, :, 0, 0].min()))
    bank = describe.kernel(np.transpose(kernel[:, :, 0, :], (2, 0, 1)), lang)
    assert numbers(bank)[0] == 8
    with pytest.raises(ValueError):
        describe.kernel(np.zeros(3), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_step_grid_input_padding_window_and_keras_output(lang):
    rng = np.random.default_rng(1)
    x = rng.random((6, 7, 1)).astype("float32")
    k = rng.standard_normal((4, 4, 1)).astype("float32")
    step = cv.conv_step(x, k, position=(0, 2), padding="same")
    (top, bottom), (left, right) = step.geometry.pads
    text = describe.number_grid(step.padded[:, :, 0], "Input", lang, step.geometry.padding_mask(),
                                (step.rows, step.cols), result=step.total, origin=(top, left))
    layer = keras.layers.Conv2D(1, 4, padding="same", use_bias=False)
    layer.build((1, 6, 7, 1))
    layer.set_weights([k[..., None]])
    keras_out = keras.ops.convert_to_numpy(layer(x[None]))[0, :, :, 0]
    assert "6x7" in text  # the input's size, not the padded grid's
    values = numbers(text.split("6x7")[1])
    lo, hi, pad_top, pad_bottom, pad_left, pad_right = values[:6]
    assert close(lo, float(x.min())) and close(hi, float(x.max()))
    # Keras's 'same' with an even kernel pads one less above than below: the padded grid is input + kernel - 1
    assert (pad_top, pad_bottom) == (top, bottom) and pad_top + pad_bottom == 3 and pad_top < pad_bottom
    assert (pad_left, pad_right) == (left, right)
    r0, r1, c0, c1 = values[6:10]  # in the input's own numbering (the padding above is row -1)
    assert (r0, r1) == (-top, 3 - top) and (c0, c1) == (2 - left, 5 - left)
    assert close(values[10], float(keras_out[0, 2]))


@pytest.mark.parametrize("lang", LANGS)
def test_step_grid_current_cell(lang):
    z = np.arange(12, dtype="float64").reshape(3, 4)
    text = describe.number_grid(z, "Output", lang, current=(2, 1))
    assert "3x4" in text and numbers(text.split("3x4")[1])[:5] == [0, 11, 2, 1, 9]
    unfilled = describe.number_grid(np.where(z > 5, np.nan, z), "Output", lang, current=(2, 1))
    assert "nan" not in unfilled.lower() and unfilled.endswith(i18n.t("alt.step.at", lang, row=2, col=1))


@pytest.mark.parametrize("lang", LANGS)
def test_photo_pictures_stages_and_snapshots(lang):
    assert describe.photo("circle.png", 120, 240, lang) == i18n.t("alt.photo", lang, name="circle.png", w=120, h=240)
    assert "120x240" in describe.photo("circle.png", 120, 240, lang)
    assert "\n" not in describe.photo("a\nb.png", 1, 2, lang)
    images = np.zeros((5, 32, 16, 3))
    text = describe.pictures(images, "fv", lang)
    assert numbers(text)[0] == 5 and "32x16" in text
    pil = [act_plots.input_image(np.zeros((10, 20, 1))) for _ in range(2)]
    assert f"{pil[0].height}x{pil[0].width}" in describe.pictures(pil, "t", lang)
    pre, post = keras_maps(3) - 0.5, keras_maps(3)
    text = describe.stages([("pre", pre), ("post", post)], lang)
    first, second = text.split("; ")
    assert close(numbers(first.split("116x56")[1])[0], float(pre.min()))
    assert close(numbers(second.split("116x56")[1])[1], float(post.max()))
    snaps = [np.full((3, 3, 1, 4), v, "float32") for v in (-1.0, 2.0)]
    text = describe.snapshots(snaps, lang)
    assert numbers(text)[:2] == [2, 4] and numbers(text.split("3x3")[1]) == [-1, 2]
    assert describe.snapshots([], lang) == i18n.t("alt.snapshots.none", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_figure_caption_and_tables_read_the_drawn_traces(lang):
    layer = keras.layers.Conv2D(5, 3, bias_initializer="random_normal")
    layer.build((None, 8, 8, 1))
    bias = keras.ops.convert_to_numpy(layer.bias)
    fig = filter_plots.bias_bars(bias)
    caption = describe.figure(fig, lang, names=["bias"])
    assert caption.startswith("bias") and numbers(caption)[0] == 5
    assert close(numbers(caption)[1], float(bias.min())) and close(numbers(caption)[2], float(bias.max()))
    (name, table), = describe.figure_tables(fig, "filter", "b", names=["bias"])
    np.testing.assert_allclose(table["b"].to_numpy(), bias, rtol=1e-5)
    weights = keras.ops.convert_to_numpy(layer.kernel)[..., 0]
    heat = filter_plots.filter_heatmaps(np.concatenate([weights, weights * 2], axis=-1), limit=1.0,
                                        channel_label="c", show_numbers=False)
    tables = describe.figure_tables(heat)
    assert len(tables) == 2
    np.testing.assert_allclose(tables[1][1].to_numpy(), weights[:, :, 0] * 2, rtol=1e-5)
    assert "3x3" in describe.figure(heat, lang)
    probs = np.array([0.1, 0.7, 0.2], "float32")
    bars = act_plots.probability_bars(probs, ["a", "b", "c"])
    (_, ptable), = describe.figure_tables(bars)
    assert sorted(ptable["y"].tolist()) == sorted(probs.tolist())
    assert "0.7" in describe.figure(bars, lang) and re.search(r"\bb\b", describe.figure(bars, lang))
    import plotly.graph_objects as go
    assert describe.figure(go.Figure(), lang) == i18n.t("alt.figure.empty", lang)
    assert describe.figure_tables(go.Figure()) == []


@pytest.mark.parametrize("lang", LANGS)
def test_strip_of_maps_and_the_colour_bar(lang):
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((8, 6)), rng.standard_normal((8, 6)) * 3, rng.standard_normal((4, 3))]
    text = describe.maps(arrays, "Saliency", lang)
    assert text.startswith("Saliency: ") and numbers(text.split(":")[1])[0] == 3
    assert "8x6, 4x3" in text  # each size once, in order
    both = np.concatenate([a.ravel() for a in arrays])
    lo, hi = numbers(text.split("4x3")[1])
    assert close(lo, both.min()) and close(hi, both.max())
    assert describe.maps([], "x", lang).endswith(i18n.t("alt.range.none", lang))
    assert numbers(describe.colour_bar(-2.7, 2.7, lang)) == [-2.7, 0, 2.7]
    overlay = describe.overlay(np.zeros((64, 32, 3)), np.linspace(0, 0.5, 16).reshape(4, 4), "cat", lang)
    assert "64x32" in overlay and "4x4" in overlay and numbers(overlay.split("4x4")[1]) == [0, 0.5]
    assert describe.overlay(np.zeros((64, 32, 3)), None, "cat", lang) == i18n.t("alt.overlay.none", lang, title="cat",
                                                                                size="64x32")
    x = rng.random((6, 6))
    crop = describe.crop(x, 10, 12, lang)
    assert "6x6" in crop and {10, 12} <= set(numbers(crop))


@pytest.mark.parametrize("lang", LANGS)
def test_heat_map_over_a_picture(lang):
    grad = np.abs(np.random.default_rng(4).standard_normal((12, 7))) * 0.2
    text = describe.heat(grad, lang)
    assert "12x7" in text
    lo, hi = numbers(text.split("12x7")[1])
    assert close(lo, grad.min()) and close(hi, grad.max())


def test_traces_named_by_their_subplot_where_names_repeat():
    from cnnviz import training
    from cnnviz.plots import training as training_plots

    h = training.History()
    h.loss, h.val_loss, h.accuracy, h.val_accuracy = [0.9, 0.5, 0.2], [1.0, 0.6, 0.4], [0.3, 0.6, 0.9], [0.2, 0.5, 0.8]
    labels = {"loss": "loss", "accuracy": "accuracy", "train": "train", "validation": "validation", "epoch": "epoch"}
    fig = training_plots.curves_figure(h, labels)
    parts = describe.figure(fig, "en").split("; ")
    first = next(p for p in parts if p.startswith("loss, train (3 points)"))
    assert numbers(first.split("points)")[1]) == [0.2, 0.9]
    assert any(p.startswith("accuracy, validation (3 points)") for p in parts)
    tables = dict(describe.figure_tables(fig))
    np.testing.assert_allclose(tables["accuracy, validation"]["y"], h.val_accuracy)
    heat = filter_plots.filter_heatmaps(np.ones((3, 3, 2), "float32"), limit=1.0, channel_label="ch", show_numbers=False)
    assert [name for name, _ in describe.figure_tables(heat)] == ["ch 0", "ch 1"]
