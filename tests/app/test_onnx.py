"""An ONNX upload under AppTest: the Model page converts and verifies it, Activations shows its layers under
their ONNX node names with the prediction onnxruntime gives, fed torch's ImageNet range, which the sidebar
says is assumed and lets the user change."""

import numpy as np
import pytest

from cnnviz import images
from cnnviz.ui import activations as ui_act
from cnnviz.ui import sidebar
from tests.app.conftest import no_exception, open_app

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
