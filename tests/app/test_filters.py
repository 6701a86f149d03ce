"""The Filters page under AppTest: the kernels, biases and statistics shown are the model's own."""

import base64
import json

import keras
import numpy as np
import pytest

from cnnviz.models import ModelInfo, load_preset
from tests.app.conftest import no_exception, open_app

PAGE = "filters"


def _array(value):
    if isinstance(value, dict) and "bdata" in value:
        a = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(n) for n in shape.split(",")]
        return a.reshape(shape) if shape else a
    return np.asarray(value, dtype="float64")


def traces(at, kind):
    out = []
    for c in at.get("plotly_chart"):
        out.extend(d for d in json.loads(c.proto.spec)["data"] if d["type"] == kind)
    return out


def _z(trace):
    z = trace["z"]
    return np.asarray([_array(r) for r in z]) if isinstance(z, list) else _array(z)


@pytest.fixture
def at():
    at = open_app(PAGE)
    no_exception(at)
    return at


def conv_layers():
    model = load_preset("seed_trained").model
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def test_first_layer_zoom_bias_and_stats_are_the_keras_weights(at):
    conv = conv_layers()[0]
    kernel, bias = conv.get_weights()
    heat = traces(at, "heatmap")
    assert len(heat) == kernel.shape[2]  # one heatmap per input channel
    np.testing.assert_allclose(_z(heat[0]), kernel[:, :, 0, 0], rtol=1e-6)
    assert heat[0]["zmid"] == 0 and heat[0]["zmin"] == -heat[0]["zmax"]
    bars = traces(at, "bar")
    np.testing.assert_allclose(_array(bars[0]["y"]), bias, rtol=1e-6)
    df = next(d.value for d in at.dataframe if "max" in d.value.columns)  # the statistics (the figures' tables first)
    assert len(df) == kernel.shape[-1]
    bias_table = next(e for e in at.expander if e.label == "Numbers as a table").dataframe[0].value
    np.testing.assert_allclose(bias_table.iloc[:, 1].to_numpy(dtype="float32"), bias, rtol=1e-6)  # the bars' numbers
    np.testing.assert_allclose(df["max"].to_numpy(), kernel.reshape(-1, kernel.shape[-1]).max(axis=0), rtol=1e-6)
    np.testing.assert_allclose(df["L2 norm"].to_numpy(),
                               np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), axis=0), rtol=1e-5)
    assert len(at.image) == 1, "grayscale model: the kernel grid, no colour patches"


def test_switch_layer_and_filter(at):
    conv = conv_layers()[2]
    kernel, bias = conv.get_weights()
    at.selectbox(key="filters.layer").set_value(conv.name).run()
    at.slider(key="filters.zoom.filter").set_value(13).run()
    no_exception(at)
    heat = traces(at, "heatmap")
    assert len(heat) == kernel.shape[2] == 16
    for c in (0, 9, 15):
        np.testing.assert_allclose(_z(heat[c]), kernel[:, :, c, 13], rtol=1e-6)
    assert any(f"Filter 13 of {conv.name}" in c.value and f"{bias[13]:.6g}" in c.value for c in at.caption)
    assert len(next(d.value for d in at.dataframe if "max" in d.value.columns)) == 20


def test_numbers_toggle(at):
    assert traces(at, "heatmap")[0].get("texttemplate")
    at.toggle(key="filters.zoom.numbers").set_value(False).run()
    assert not traces(at, "heatmap")[0].get("texttemplate")


def test_rgb_first_layer_has_colour_patches_and_untrained_notice():
    at = open_app(PAGE, **{"cnnviz.model": "tiny_vgg"})
    no_exception(at)
    assert len(at.image) == 2
    assert any("random" in i.value for i in at.info)


def _session(model):
    return {"cnnviz.model": "session", "cnnviz.session_model": ModelInfo("session", "mine", model, (), True)}


def test_model_without_conv_layers_says_so():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)])
    at = open_app(PAGE, **_session(model))
    no_exception(at)
    assert any("no convolution layer" in w.value for w in at.warning)


def test_conv_without_bias():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(3, 3, use_bias=False)])
    at = open_app(PAGE, **_session(model))
    no_exception(at)
    assert any("no bias" in i.value for i in at.info)
    assert not traces(at, "bar")


def test_korean():
    at = open_app(PAGE, lang="ko")
    no_exception(at)
    assert any("L2 노름" in d.value.columns for d in at.dataframe)


def test_separable_depthwise_transposed_and_batchnorm_folding():
    from cnnviz import filters as F
    from cnnviz.models import ModelInfo

    keras.utils.set_random_seed(31)
    inner = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.DepthwiseConv2D(3, name="dw")], name="blk")
    inp = keras.Input((16, 16, 3))
    x = keras.layers.SeparableConv2D(4, 3, name="sep")(inner(inp))
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Conv2DTranspose(2, 3, name="up")(keras.layers.ReLU()(x))
    model = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    bn = model.get_layer("bn")
    bn.moving_variance.assign(np.full(4, 4.0, "float32"))
    at = open_app(PAGE, **{"cnnviz.model": "session",
                           "cnnviz.session_model": ModelInfo("session", "mixed", model, ("a", "b"), True)})
    no_exception(at)
    assert at.selectbox(key="filters.layer").options == ["blk/dw", "sep", "up"]
    assert any("depthwise convolution" in c.value for c in at.caption)
    at.selectbox(key="filters.layer").set_value("sep").run()
    no_exception(at)
    assert [s.value for s in at.subheader][:2] == ["Depthwise part: one kernel per input channel",
                                                   "Pointwise part: 1x1 kernels mixing the channels"]
    assert any(s.value.startswith("BatchNormalization after it: bn") for s in at.subheader)
    at.toggle(key="filters.fold").set_value(True).run()
    no_exception(at)
    assert "Effective kernel: BatchNormalization folded in" in [s.value for s in at.subheader]
    eff = F.folded(model.get_layer("sep"), bn)
    heat = traces(at, "heatmap")[0]  # the zoomed filter 0: its kernel for input channel 0
    np.testing.assert_allclose(_z(heat).ravel(), eff.kernel[:, :, 0, 0].ravel(), rtol=1e-5)
    at.selectbox(key="filters.layer").set_value("up").run()
    no_exception(at)
    assert any("transposed convolution" in c.value for c in at.caption)


def test_a_graph_that_cannot_be_walked_still_shows_the_kernels(monkeypatch):
    from cnnviz import filters as F

    def broken(model, name):
        raise RuntimeError("cannot trace")

    monkeypatch.setattr(F, "batchnorm_after", broken)
    at = open_app(PAGE)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert not any(s.value.startswith("BatchNormalization after it") for s in at.subheader)
    assert len(at.image) == 1, "the kernel grid is still drawn"
