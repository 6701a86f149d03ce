"""An ONNX upload under AppTest: the Model page converts and verifies it, Activations shows its layers under
their ONNX node names with the prediction onnxruntime gives, fed torch's ImageNet range, which the sidebar
says is assumed and lets the user change."""

import json

import numpy as np
import pytest

from cnnviz import images
from cnnviz.ui import activations as ui_act
from cnnviz.ui import sidebar
from tests.app.conftest import no_exception, open_app
from tests.app.test_filters import _z  # a plotly heatmap's values

torch = pytest.importorskip("torch")
from tests import onnxmodels  # noqa: E402 - needs torch


class ImageNetShaped(torch.nn.Module):
    """A tiny network with torchvision's ImageNet interface: 3x224x224 in, 1000 logits out."""

    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Conv2d(3, 4, 8, stride=8)
        self.act = torch.nn.ReLU()
        self.pool = torch.nn.MaxPool2d(3, 2, 1)
        self.fc = torch.nn.Linear(4, 1000)

    def forward(self, x):
        x = self.pool(self.act(self.stem(x)))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


def test_an_onnx_upload_shows_on_activations_with_its_node_names_and_the_assumed_range():
    import onnxruntime

    data = onnxmodels.export(onnxmodels.seeded(ImageNetShaped), (1, 3, 224, 224))
    at = open_app("model")
    at.file_uploader(key="cnnviz.model_page.upload").set_value(("tiny.onnx", data, "application/octet-stream")).run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert at.success and "tiny.onnx" in at.success[0].value
    info = at.session_state["cnnviz.session_model"]
    assert [layer.name for layer in info.model.layers][1:4] == ["stem_Conv", "act_Relu", "pool_MaxPool_pad"]

    at.switch_page("pages/activations.py").run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assumed = ("Pixel range ImageNet mean/std: (pixel/255 - mean) / std, RGB (Keras 'torch' mode, PyTorch) assumed "
               "(a 224x224 RGB model with 1000 outputs, as torchvision's ImageNet models are fed): pick another in "
               "the sidebar if yours was trained otherwise.")
    assert any(c.value == assumed for c in at.sidebar.caption), [c.value for c in at.sidebar.caption]
    assert at.sidebar.selectbox(key=sidebar.W_PIXELS).value is None  # nothing chosen: the assumption holds
    # the page's prediction is onnxruntime's on the same picture in torch's range
    x01 = images.preprocess(images.load_sample(images.DEFAULT_SAMPLE), (224, 224, 3))
    x = ((x01 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])).astype("float32")
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    want = session.run(None, {session.get_inputs()[0].name: x.transpose(2, 0, 1)[None]})[0][0]
    np.testing.assert_allclose(at.session_state[ui_act.RESULT][1].output(), want, rtol=1e-4, atol=1e-4)
    shown = [m.value.replace("\\_", "_") for m in at.markdown if m.value.startswith("**")]  # markdown escapes _
    for name in ("stem_Conv", "act_Relu", "pool_MaxPool", "fc_Gemm"):  # each layer's maps under its node's name
        assert any(s.startswith(f"**{name}**") for s in shown), (name, shown)

    at.sidebar.selectbox(key=sidebar.W_PIXELS).set_value("unit").run()  # the user can change it
    no_exception(at)
    assert any(c.value.endswith("your choice in the sidebar.") for c in at.sidebar.caption)


# ---------------------------------------------------------------- every page on a small converted model


class Small(torch.nn.Module):
    """A small CNN at 3x32x32 with some of the converted operators: Conv with its BatchNormalization kept, Relu,
    MaxPool, a depthwise Conv, HardSwish, a 1x1 Conv, GlobalAveragePool, Flatten, Gemm (3 classes)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = torch.nn.Conv2d(3, 6, 3, padding=1), torch.nn.BatchNorm2d(6)
        self.pool = torch.nn.MaxPool2d(2)
        self.dw = torch.nn.Conv2d(6, 6, 3, padding=1, groups=6)
        self.conv2 = torch.nn.Conv2d(6, 8, 1)
        self.fc = torch.nn.Linear(8, 3)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn1(self.conv1(x))))
        x = torch.relu(self.conv2(torch.nn.functional.hardswish(self.dw(x))))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


SHAPE = (1, 3, 32, 32)


@pytest.fixture(scope="module")
def small():
    """(the torch module, its ONNX bytes, the converted model as the session's own, as an upload makes it)."""
    from cnnviz.files import modelfiles
    from cnnviz.models import ModelInfo

    net = onnxmodels.seeded(Small)
    data = onnxmodels.export(net, SHAPE, keep_batchnorm=True)
    loaded = modelfiles.load_upload(data, "small.onnx")
    info = ModelInfo(key="session", label="small.onnx", model=loaded.model, class_names=("a", "b", "c"), trained=True,
                     pixels=loaded.pixels, assumed_pixels=loaded.assumed)
    return net, data, info


def _ok(at):
    no_exception(at)
    assert not at.error, [e.value for e in at.error]


def _session(info):
    return {"cnnviz.session_model": info, "cnnviz.model": "session"}


def test_a_converted_model_on_the_model_page_its_download_and_filters(small, monkeypatch):
    """The upload's summary (Keras's layers, shapes and parameters: torch's parameters plus BatchNorm's running
    statistics), its .keras download (loads back through cnnviz.files.modelfiles, the same outputs), and Filters:
    the first conv's kernels per input channel are torch's weights."""
    from cnnviz.files import modelfiles
    from cnnviz.ui import builder

    net, data, _ = small
    made, real = [], builder.model_download
    monkeypatch.setattr(builder, "model_download", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    at = open_app("model")
    at.file_uploader(key="cnnviz.model_page.upload").set_value(("small.onnx", data, "application/octet-stream")).run()
    _ok(at)
    model = at.session_state["cnnviz.session_model"].model
    summary = at.dataframe[-1].value
    assert list(summary["Layer"]) == [layer.name for layer in model.layers[1:]]
    rows = dict(zip(summary["Layer"], zip(summary["Output shape"], summary["Param #"])))
    assert rows["conv1_Conv"] == ("(None, 32, 32, 6)", 3 * 6 * 9 + 6)
    assert rows["bn1_BatchNormalization"][1] == 4 * 6 and rows["fc_Gemm"] == ("(None, 3)", 8 * 3 + 3)
    stats = sum(b.numel() for name, b in net.named_buffers() if name.endswith(("running_mean", "running_var")))
    assert summary["Param #"].sum() == sum(p.numel() for p in net.parameters()) + stats
    assert at.get("download_button") and made, "the session model's .keras download"
    again = modelfiles.load_upload(made[-1](), "small.keras")
    assert again.class_names == ("0", "1", "2") and again.kind == "keras"
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype="float32")
    np.testing.assert_allclose(again.model.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        np.testing.assert_allclose(again.model.predict_on_batch(x), net(torch.from_numpy(x.transpose(0, 3, 1, 2))),
                                   rtol=1e-4, atol=1e-5)

    at.switch_page("pages/filters.py").run()
    _ok(at)
    assert at.selectbox(key="filters.layer").options == ["conv1_Conv", "dw_Conv", "conv2_Conv"]
    heat = [d for c in at.get("plotly_chart") for d in json.loads(c.proto.spec)["data"] if d["type"] == "heatmap"]
    assert len(heat) == 3, "filter 0 zoomed: one map per input channel"
    weight = net.conv1.weight.detach().numpy()
    for channel, trace in enumerate(heat):
        np.testing.assert_allclose(_z(trace), weight[0, channel], rtol=1e-6)
    assert any(s.value == "First layer as colour patches" for s in at.subheader), [s.value for s in at.subheader]
    at.selectbox(key="filters.layer").set_value("dw_Conv").run()
    _ok(at)


def test_every_attribution_method_on_a_converted_model(small):
    """Explain: each method runs on the converted model without an error or a warning; Saliency's gradient through
    the Keras model is torch's autograd gradient of the same class score."""
    from cnnviz import attribution, images
    from cnnviz.ui import explain as ui_explain

    net, _, info = small
    at = open_app("explain", **_session(info))
    _ok(at)
    pairs = list(zip(attribution.GRADIENT_METHODS + attribution.PERTURBATION_METHODS, attribution.CAM_METHODS))
    for first, second in pairs:
        at.selectbox(key="explain.method.a").set_value(first)
        at.selectbox(key="explain.method.b").set_value(second).run()
        _ok(at)
        assert not at.warning, [w.value for w in at.warning]
    maps = at.session_state[ui_explain.MAPS]
    assert {k[2] for k in maps} == set(attribution.METHODS)
    x = images.preprocess(images.load_sample(images.DEFAULT_SAMPLE), info.input_shape)  # [0, 1]: nothing declared
    key, shown = next((k, v) for k, v in maps.items() if k[2] == "saliency")
    assert key[1] == ui_explain.digest(x)
    xt = torch.from_numpy(x.transpose(2, 0, 1)[None].copy()).requires_grad_()
    net(xt)[0, key[3]].backward()
    np.testing.assert_allclose(shown, xt.grad[0].abs().amax(0).numpy(), rtol=1e-4, atol=1e-6)


def test_a_converted_model_as_the_transfer_learning_backbone(small):
    """Train, your own classes: the converted model (cut at its global pool, frozen) under a new head on two classes
    of tiny pictures; its features are the converted model's."""
    import keras

    from cnnviz.ui import owndata
    from tests.owndata import shape_pngs

    _, _, info = small
    at = open_app("train", **_session(info), **{"cnnviz.train.epochs": 1, "cnnviz.train.batch": 8,
                                                owndata.BACKBONE: "current"})
    at.radio(key=owndata.SOURCE).set_value("classes").run()
    for kind in ("circle", "square"):
        at.text_input(key=owndata.NEW_NAME).input(kind).run()
        at.button(key=owndata.PREFIX + "add_class").click().run()
        cls = at.session_state[owndata.CLASSES][-1]
        at.file_uploader(key=f"{owndata.PREFIX}files.{cls['id']}.{cls['gen']}").set_value(
            [(n, d, "image/png") for n, d in shape_pngs(kind, 5, side=32)]).run()
    _ok(at)
    assert at.radio(key=owndata.MODE).value == "transfer"
    at.button(key="train.start").click().run()
    _ok(at)
    trained = at.session_state["cnnviz.session_model"]
    assert trained.class_names == ("circle", "square") and trained.model is not info.model
    assert at.session_state["cnnviz.train.history"].epochs_done == 1
    backbone = next(layer for layer in trained.model.layers if isinstance(layer, keras.Model))
    assert not backbone.trainable
    gap = next(layer for layer in info.model.layers if isinstance(layer, keras.layers.GlobalAveragePooling2D))
    pool = keras.Model(info.model.inputs, gap.output)  # the converted model's features
    x = np.random.default_rng(1).random((2, 32, 32, 3), dtype="float32")
    np.testing.assert_allclose(backbone.predict_on_batch(x), pool.predict_on_batch(x).reshape(2, -1), rtol=1e-5,
                               atol=1e-6)
