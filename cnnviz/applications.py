"""Keras Applications (MobileNetV2, VGG16, ResNet50) as presets, without ever touching the network.

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


APPLICATIONS: dict[str, AppSpec] = {
    "mobilenet_v2": AppSpec("mobilenet_v2", "MobileNetV2", keras.applications.MobileNetV2,
                            "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224.h5"),
    "vgg16": AppSpec("vgg16", "VGG16", keras.applications.VGG16, "vgg16_weights_tf_dim_ordering_tf_kernels.h5"),
    "resnet50": AppSpec("resnet50", "ResNet50", keras.applications.ResNet50,
                        "resnet50_weights_tf_dim_ordering_tf_kernels.h5"),
}
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
