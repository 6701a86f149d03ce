"""A corpus of real architectures, as people bring them: Keras Applications and the keras-io examples that
users follow, built seeded with weights=None at small input sizes, saved with model.save (the bytes an
upload gives), cached once per test session (pytest's cache dir is not used: a fresh clone builds them).

Each entry builds its model in a fresh process-free way (keras.utils.set_random_seed first) and records
what it is: which example it follows, and whether the model takes any input size.
"""

from __future__ import annotations

import functools
import inspect
import os
import tempfile
import zipfile
from dataclasses import dataclass
from typing import Callable

import keras
from keras import layers

from cnnviz.files import modelfiles

SMALL = (64, 64, 3)  # Keras Applications need at least 32x32; 64 keeps every one fast


@dataclass(frozen=True)
class Entry:
    key: str
    build: Callable[[], keras.Model]
    source: str  # the example or application it follows
    nested: bool = False


def mnist_convnet() -> keras.Model:
    """keras-io "Simple MNIST convnet"."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ], name="mnist_convnet")


def augmented_sequential() -> keras.Model:
    """A Sequential with augmentation and Rescaling inside (the issue's crashing Model page)."""
    return keras.Sequential([
        keras.Input((64, 64, 3)),
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
        layers.Rescaling(1.0 / 255),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(4, activation="softmax"),
    ], name="augmented")


def from_scratch() -> keras.Model:
    """keras-io "Image classification from scratch" (Xception-like, smaller widths and input)."""
    data_augmentation = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)],
                                         name="data_augmentation")
    inputs = keras.Input(shape=SMALL)
    x = data_augmentation(inputs)
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.Conv2D(16, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous = x
    for size in (32, 64):
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous)
        x = layers.add([x, residual])
        previous = x
    x = layers.SeparableConv2D(96, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(1, activation=None)(x)
    return keras.Model(inputs, outputs, name="from_scratch")


def unet_like() -> keras.Model:
    """keras-io "Image segmentation with a U-Net-like architecture" (smaller), any input size."""
    inputs = keras.Input(shape=(None, None, 3))
    x = layers.Conv2D(16, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous = x
    for filters in (32, 64):
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous)
        x = layers.add([x, residual])
        previous = x
    for filters in (64, 32, 16):
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.UpSampling2D(2)(x)
        residual = layers.UpSampling2D(2)(previous)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])
        previous = x
    outputs = layers.Conv2D(3, 3, activation="softmax", padding="same")(x)
    return keras.Model(inputs, outputs, name="unet_like")


def fully_convolutional() -> keras.Model:
    """Input (None, None, 3): the issue's refused upload."""
    inputs = keras.Input((None, None, 3))
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(4, 3, activation="relu")(x)
    x = layers.GlobalMaxPooling2D()(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax")(x), name="fully_conv")


def transfer_learning() -> keras.Model:
    """keras-io "Transfer learning & fine-tuning": a frozen Keras Application nested in a functional model."""
    base = keras.applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False, weights=None)
    base.trainable = False
    inputs = keras.Input(shape=(96, 96, 3))
    x = layers.Rescaling(scale=1 / 127.5, offset=-1)(inputs)
    x = base(x, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    return keras.Model(inputs, layers.Dense(1)(x), name="transfer")


def _application(fn) -> Callable[[], keras.Model]:
    def build():
        kwargs = {"weights": None, "input_shape": SMALL, "classes": 10}
        if "include_preprocessing" in inspect.signature(fn).parameters:
            kwargs["include_preprocessing"] = True
        return fn(**kwargs)

    build.__name__ = fn.__name__
    return build


EXAMPLES = [
    Entry("mnist_convnet", mnist_convnet, "keras-io: Simple MNIST convnet"),
    Entry("augmented", augmented_sequential, "Sequential with RandomFlip, RandomRotation, Rescaling"),
    Entry("from_scratch", from_scratch, "keras-io: Image classification from scratch", nested=True),
    Entry("unet_like", unet_like, "keras-io: U-Net-like segmentation (input None x None)"),
    Entry("fully_conv", fully_convolutional, "fully convolutional, input None x None"),
    Entry("transfer", transfer_learning, "keras-io: Transfer learning (MobileNetV2 nested, frozen)", nested=True),
]

# Every Keras Application whose saved file fits the upload cap and parameter cap (at 10 classes; the
# bigger ones, e.g. ResNet50, VGG16, Xception, ConvNeXt, exceed 64 MB).
APPLICATIONS = ["MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large", "EfficientNetB0",
                "EfficientNetB1", "EfficientNetB2", "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2",
                "DenseNet121", "NASNetMobile"]


def entries() -> list[Entry]:
    return EXAMPLES + [Entry(f"app_{name}", _application(getattr(keras.applications, name)),
                             f"keras.applications.{name}") for name in APPLICATIONS]


BY_KEY = {e.key: e for e in entries()}
_DIR = tempfile.mkdtemp(prefix="cnnviz-corpus-")


@functools.cache
def saved(key: str) -> bytes:
    """The entry's model saved as .keras (built once per test session, seeded)."""
    entry = BY_KEY[key]
    keras.utils.set_random_seed(0)
    model = entry.build()
    path = os.path.join(_DIR, f"{key}.keras")
    model.save(path)
    with open(path, "rb") as f:
        data = f.read()
    assert len(data) <= modelfiles.MAX_FILE_BYTES, f"{key}: {len(data)} bytes, over the upload cap"
    return data


# ---------------------------------------------------------------- Keras 2 era files (.h5, Teachable Machine)
# The installed Keras 3 writes .h5 in its own dialect. A file as tf.keras 2.x wrote it is made here: Keras 3's
# legacy writer (model.save("x.h5"): same weight layout), then the model_config attribute rewritten into the
# Keras 2 shape: no module/registered_name, dtype "float32", InputLayer batch_input_shape (and on a
# Sequential's first layer), groups: 1 on DepthwiseConv2D and SeparableConv2D (keras-team/keras#19151),
# inbound_nodes as [[layer, node, tensor, {}]] lists, keras_version "2.12.0" and backend "tensorflow".

KERAS2_VERSION = "2.12.0"


def _keras2_node(node: dict) -> list:
    """A Keras 3 inbound node -> Keras 2's [[layer, node index, tensor index, {}], ...]."""
    out = []

    def collect(x):
        if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
            out.append(list(x["config"]["keras_history"]) + [{}])
        elif isinstance(x, (list, tuple)):
            for y in x:
                collect(y)

    collect(node["args"])
    return out


def keras2_config(node):
    """A Keras 3 legacy-h5 model_config rewritten as tf.keras 2.x wrote it."""
    if isinstance(node, list):
        return [keras2_config(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") == "DTypePolicy":
        return node["config"]["name"]
    out = {k: keras2_config(v) for k, v in node.items() if k not in ("module", "registered_name")}
    cls, cfg = out.get("class_name"), out.get("config")
    if isinstance(cfg, dict):
        for key in ("input_axes", "output_axes"):  # Keras 3's initializers only
            cfg.pop(key, None)
        if cls == "InputLayer":
            cfg["batch_input_shape"] = cfg.pop("batch_shape")
            cfg.pop("optional", None)
        if cls in ("DepthwiseConv2D", "SeparableConv2D"):
            cfg["groups"] = 1
        if cls == "Sequential" and len(cfg.get("layers", [])) > 1 and cfg["layers"][0]["class_name"] == "InputLayer":
            cfg["layers"][1]["config"]["batch_input_shape"] = cfg["layers"][0]["config"]["batch_input_shape"]
        for key in ("input_layers", "output_layers"):
            if key in cfg and cfg[key] and isinstance(cfg[key][0], str):
                cfg[key] = [cfg[key]]  # Keras 2: a list of [layer, node, tensor]
    if "inbound_nodes" in out:
        out["inbound_nodes"] = [_keras2_node(n) for n in node["inbound_nodes"]]
    return out


def keras2_h5(model: keras.Model, path: str, edit=None) -> bytes:
    """`model` saved as tf.keras 2.x would have (see above); `edit(config)` may change the Keras 2 config."""
    import json

    import h5py

    model.save(path)
    with h5py.File(path, "r+") as f:
        config = keras2_config(json.loads(f.attrs["model_config"]))
        if edit is not None:
            edit(config)
        f.attrs["model_config"] = json.dumps(config).encode("utf-8")  # tf.keras wrote fixed-length bytes
        f.attrs["keras_version"] = KERAS2_VERSION
        f.attrs["backend"] = "tensorflow"
        f["model_weights"].attrs["keras_version"] = KERAS2_VERSION
        f["model_weights"].attrs["backend"] = "tensorflow"
    with open(path, "rb") as f:
        return f.read()


def legacy_sequential() -> keras.Model:
    """A Keras 2 tutorial Sequential with BatchNormalization and SeparableConv2D."""
    return keras.Sequential([
        keras.Input((24, 24, 3)),
        layers.Conv2D(8, 3, activation="relu", name="conv"),
        layers.BatchNormalization(name="bn"),
        layers.SeparableConv2D(8, 3, padding="same", activation="relu", name="sep"),
        layers.DepthwiseConv2D(3, name="dw"),
        layers.MaxPooling2D(name="pool"),
        layers.Flatten(name="flat"),
        layers.Dense(4, activation="softmax", name="out"),
    ], name="sequential")


def legacy_functional() -> keras.Model:
    """A Keras 2 functional model with two branches joined by Add."""
    inputs = keras.Input((16, 16, 3), name="input_1")
    a = layers.Conv2D(6, 3, padding="same", activation="relu", name="branch_a")(inputs)
    b = layers.Conv2D(6, 1, name="branch_b")(inputs)
    x = layers.Add(name="add")([a, b])
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, layers.Dense(3, activation="softmax", name="out")(x), name="model")


TM_LABELS = ("Rock", "Paper", "Scissors")
TM_SIZE = 96  # Teachable Machine's own is 224: the same layers, only slower to build here


def teachable_machine() -> keras.Model:
    """The shape of a Teachable Machine image model: Sequential([Sequential([truncated MobileNetV2 "model1"]),
    Sequential([GlobalAveragePooling2D, Dense(100, relu), Dense(n, softmax)])]), pixels in [-1, 1]."""
    base = keras.applications.MobileNetV2(input_shape=(TM_SIZE, TM_SIZE, 3), alpha=0.35, include_top=False,
                                          weights=None)
    body = keras.Sequential([keras.Model(base.inputs, base.get_layer("out_relu").output, name="model1")],
                            name="sequential_1")
    head = keras.Sequential([layers.GlobalAveragePooling2D(name="global_average_pooling2d_GlobalAveragePooling2D1"),
                             layers.Dense(100, activation="relu", name="dense_Dense1"),
                             layers.Dense(len(TM_LABELS), activation="softmax", name="dense_Dense2")],
                            name="sequential_3")
    return keras.Sequential([keras.Input((TM_SIZE, TM_SIZE, 3)), body, head], name="sequential_4")


def tm_labels(names=TM_LABELS) -> bytes:
    return "".join(f"{i} {n}\n" for i, n in enumerate(names)).encode("utf-8")


@functools.cache
def legacy(key: str) -> tuple[keras.Model, bytes]:
    """(the original Keras 3 model, its Keras 2 era .h5 bytes) for "sequential", "functional" or "teachable"."""
    build = {"sequential": legacy_sequential, "functional": legacy_functional, "teachable": teachable_machine}[key]
    keras.utils.set_random_seed(0)
    model = build()
    _randomize_statistics(model)
    # the Sequential as Keras 2 tutorials wrote it, Conv2D(..., input_shape=...): no InputLayer in its config,
    # batch_input_shape on its first layer
    edit = (lambda config: config["config"]["layers"].pop(0)) if key == "sequential" else None
    return model, keras2_h5(model, os.path.join(_DIR, f"legacy_{key}.h5"), edit)


def _randomize_statistics(model) -> None:
    """BatchNormalization's moving mean and variance away from 0 and 1, so a wrong load shows in predictions."""
    import numpy as np

    rng = np.random.default_rng(1)
    for v in model.non_trainable_variables:
        value = rng.uniform(0.5, 1.5, v.shape) if "variance" in v.path else rng.normal(0, 0.2, v.shape)
        v.assign(value.astype("float32"))


@functools.cache
def teachable_zip() -> bytes:
    """converted_keras.zip as Teachable Machine gives it: keras_model.h5 and labels.txt."""
    from tests.ziputil import make_zip

    return make_zip({"keras_model.h5": legacy("teachable")[1], "labels.txt": tm_labels()}, zipfile.ZIP_DEFLATED)
