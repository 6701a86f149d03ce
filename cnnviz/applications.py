"""Keras Applications (every family that fits MAX_APP_PARAMS) as presets, without ever touching the network.

keras.applications downloads ImageNet weights on first use; on a machine without network
that can hang or fail late. Here the weights file is looked up in Keras's cache folder first
(~/.keras/models, or $KERAS_HOME/models); when it is there the architecture is built with
weights=None and the file is loaded from disk, otherwise the architecture keeps its random
weights and `notice` says why. Nothing here downloads.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import keras

from cnnviz.messages import Message, Verbatim


@dataclass(frozen=True)
class AppSpec:
    key: str
    label: str
    build: Callable[..., keras.Model]
    weights_file: str  # the file keras.applications would download into <keras home>/models
    input_shape: tuple[int, int, int] = (224, 224, 3)
    params: int = 0  # at 1000 classes

    @property
    def choice(self) -> str:
        """'MobileNetV2 · 3.5 M parameters · 224x224', for the picker."""
        return f"{self.label} · {self.params / 1e6:.1f} M parameters · {self.input_shape[0]}x{self.input_shape[1]}"


# Every family of keras.applications: (function, weights file it downloads into <keras home>/models, default
# input side, parameters at 1000 classes). Checked against the installed Keras by tests/unit/test_applications.py
# (the file name Keras asks for, its input size and parameter count, built shape-only).
FAMILIES = [
    ("ConvNeXtBase", "convnext_base.h5", 224, 88_591_464),
    ("ConvNeXtLarge", "convnext_large.h5", 224, 197_767_336),
    ("ConvNeXtSmall", "convnext_small.h5", 224, 50_223_688),
    ("ConvNeXtTiny", "convnext_tiny.h5", 224, 28_589_128),
    ("ConvNeXtXLarge", "convnext_xlarge.h5", 224, 350_196_968),
    ("DenseNet121", "densenet121_weights_tf_dim_ordering_tf_kernels.h5", 224, 8_062_504),
    ("DenseNet169", "densenet169_weights_tf_dim_ordering_tf_kernels.h5", 224, 14_307_880),
    ("DenseNet201", "densenet201_weights_tf_dim_ordering_tf_kernels.h5", 224, 20_242_984),
    ("EfficientNetB0", "efficientnetb0.h5", 224, 5_330_571),
    ("EfficientNetB1", "efficientnetb1.h5", 240, 7_856_239),
    ("EfficientNetB2", "efficientnetb2.h5", 260, 9_177_569),
    ("EfficientNetB3", "efficientnetb3.h5", 300, 12_320_535),
    ("EfficientNetB4", "efficientnetb4.h5", 380, 19_466_823),
    ("EfficientNetB5", "efficientnetb5.h5", 456, 30_562_527),
    ("EfficientNetB6", "efficientnetb6.h5", 528, 43_265_143),
    ("EfficientNetB7", "efficientnetb7.h5", 600, 66_658_687),
    ("EfficientNetV2B0", "efficientnetv2-b0.h5", 224, 7_200_312),
    ("EfficientNetV2B1", "efficientnetv2-b1.h5", 240, 8_212_124),
    ("EfficientNetV2B2", "efficientnetv2-b2.h5", 260, 10_178_374),
    ("EfficientNetV2B3", "efficientnetv2-b3.h5", 300, 14_467_622),
    ("EfficientNetV2L", "efficientnetv2-l.h5", 480, 119_027_848),
    ("EfficientNetV2M", "efficientnetv2-m.h5", 480, 54_431_388),
    ("EfficientNetV2S", "efficientnetv2-s.h5", 384, 21_612_360),
    ("InceptionResNetV2", "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5", 299, 55_873_736),
    ("InceptionV3", "inception_v3_weights_tf_dim_ordering_tf_kernels.h5", 299, 23_851_784),
    ("MobileNet", "mobilenet_1_0_224_tf.h5", 224, 4_253_864),
    ("MobileNetV2", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5", 224, 3_538_984),
    ("MobileNetV3Large", "weights_mobilenet_v3_large_224_1.0_float.h5", 224, 5_507_432),
    ("MobileNetV3Small", "weights_mobilenet_v3_small_224_1.0_float.h5", 224, 2_554_968),
    ("NASNetLarge", "nasnet_large.h5", 331, 88_949_818),
    ("NASNetMobile", "nasnet_mobile.h5", 224, 5_326_716),
    ("ResNet101", "resnet101_weights_tf_dim_ordering_tf_kernels.h5", 224, 44_707_176),
    ("ResNet101V2", "resnet101v2_weights_tf_dim_ordering_tf_kernels.h5", 224, 44_675_560),
    ("ResNet152", "resnet152_weights_tf_dim_ordering_tf_kernels.h5", 224, 60_419_944),
    ("ResNet152V2", "resnet152v2_weights_tf_dim_ordering_tf_kernels.h5", 224, 60_380_648),
    ("ResNet50", "resnet50_weights_tf_dim_ordering_tf_kernels.h5", 224, 25_636_712),
    ("ResNet50V2", "resnet50v2_weights_tf_dim_ordering_tf_kernels.h5", 224, 25_613_800),
    ("VGG16", "vgg16_weights_tf_dim_ordering_tf_kernels.h5", 224, 138_357_544),
    ("VGG19", "vgg19_weights_tf_dim_ordering_tf_kernels.h5", 224, 143_667_240),
    ("Xception", "xception_weights_tf_dim_ordering_tf_kernels.h5", 299, 22_910_480),
]
MAX_APP_PARAMS = 150_000_000  # about 600 MB of float32 weights in the one cached application (VGG19 fits)
KEYS = {"MobileNetV2": "mobilenet_v2", "VGG16": "vgg16", "ResNet50": "resnet50"}  # keys kept from before

APPLICATIONS: dict[str, AppSpec] = {  # MobileNetV2 first (the picker's default), then by size
    KEYS.get(name, name.lower()): AppSpec(KEYS.get(name, name.lower()), name, getattr(keras.applications, name),
                                          weights, (side, side, 3), params)
    for name, weights, side, params in sorted(FAMILIES, key=lambda f: (f[0] != "MobileNetV2", f[3]))
    if params <= MAX_APP_PARAMS and hasattr(keras.applications, name)
}


# The pixel range each family's own keras.applications.<module>.preprocess_input expects of 0-255 input,
# as a cnnviz.preprocessing contract: "tf" mode is [-1, 1] ("symmetric"), "torch" ImageNet mean/std,
# "caffe" BGR mean-subtracted; the families that preprocess inside the model (include_preprocessing) take
# 0-255 ("byte"). By name prefix; checked for every offered family by tests/unit/test_preprocessing.py.
PIXELS_BY_PREFIX = (
    ("ConvNeXt", "byte"), ("EfficientNet", "byte"), ("MobileNetV3", "byte"), ("RegNet", "byte"),
    ("DenseNet", "torch"),
    ("VGG", "caffe"), ("ResNet50V2", "symmetric"), ("ResNet101V2", "symmetric"), ("ResNet152V2", "symmetric"),
    ("ResNet", "caffe"),
    ("MobileNet", "symmetric"), ("Inception", "symmetric"), ("Xception", "symmetric"), ("NASNet", "symmetric"),
)


def pixels(key: str) -> str:
    """The contract (cnnviz.preprocessing.CONTRACTS) of the application `key` (an APPLICATIONS key, or a
    session model's "app.<key>"); "" for anything else."""
    spec = APPLICATIONS.get(key.removeprefix("app."))
    if spec is None:
        return ""
    return next((mode for prefix, mode in PIXELS_BY_PREFIX if spec.label.startswith(prefix)), "")


CLASS_INDEX_FILE = "imagenet_class_index.json"
IMAGENET_CLASSES = 1000


@dataclass(frozen=True, eq=False)
class Application:
    key: str
    label: str
    model: keras.Model
    class_names: tuple[str, ...]
    pretrained: bool
    notice: str | None  # why the weights are random, in English (the UI shows its own text plus this reason)


def cache_dirs() -> list[Path]:
    """Where Keras keeps downloaded weights: <keras home>/models, and the /tmp fallback it uses."""
    homes = []
    env = os.environ.get("KERAS_HOME")
    if env:
        homes.append(Path(env).expanduser())
    homes += [Path("~/.keras").expanduser(), Path("/tmp/.keras")]
    out = []
    for home in homes:
        d = home / "models"
        if d not in out:
            out.append(d)
    return out


def cached_file(name: str) -> Path | None:
    for d in cache_dirs():
        p = d / name
        if p.is_file() and p.stat().st_size > 0:
            return p
    return None


def imagenet_class_names() -> tuple[str, ...]:
    """ImageNet class names from Keras's cached index file, else 'class 0' .. 'class 999'."""
    path = cached_file(CLASS_INDEX_FILE)
    if path is not None and path.stat().st_size < 1_000_000:
        try:
            index = json.loads(path.read_text(encoding="utf-8"))
            names = tuple(str(index[str(i)][1]) for i in range(IMAGENET_CLASSES))
            return names
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            pass
    return tuple(f"class {i}" for i in range(IMAGENET_CLASSES))


def load_application(key: str) -> Application:
    """The application's model with ImageNet weights when cached, otherwise random weights and a notice."""
    try:
        spec = APPLICATIONS[key]
    except KeyError:
        raise ValueError(f"No Keras application called {key!r}; choose one of {', '.join(APPLICATIONS)}.") from None
    model = spec.build(weights=None, input_shape=spec.input_shape, classes=IMAGENET_CLASSES)
    path = cached_file(spec.weights_file)
    notice = None
    if path is None:
        notice = Message("apps.no_weights", label=spec.label, folder=Verbatim(cache_dirs()[0]),
                         file=Verbatim(spec.weights_file))
    else:
        try:
            model.load_weights(str(path))
        except Exception as e:  # noqa: BLE001 - a damaged cache file must not break the page
            model = spec.build(weights=None, input_shape=spec.input_shape, classes=IMAGENET_CLASSES)
            notice = Message("apps.bad_weights", path=Verbatim(path), error=Verbatim(str(e)[:120]))
    return Application(spec.key, spec.label, model, imagenet_class_names(), notice is None, notice)
