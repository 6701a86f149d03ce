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
from dataclasses import dataclass
from typing import Callable

import keras
from keras import layers

from cnnviz import modelfiles

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
