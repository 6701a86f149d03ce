"""Preset models: the lecture's example model, a Tiny VGG and a LeNet-5; the shipped trained default."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import keras
from keras import layers


def seed_model() -> keras.Model:
    """The lecture's example model, untrained: 120x60x1 in, 4 classes out, 133,792 parameters."""
    return keras.Sequential(
        [
            keras.Input(shape=(120, 60, 1)),
            layers.Conv2D(12, kernel_size=(5, 5), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(16, kernel_size=(5, 5), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(20, kernel_size=(4, 4), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(4, activation="softmax"),
        ],
        name="seed_model",
    )


def tiny_vgg(classes: int = 10) -> keras.Model:
    """Tiny VGG as in CNN Explainer: 64x64x3, two conv-conv-pool blocks of 10 3x3 filters."""
    return keras.Sequential(
        [
            keras.Input(shape=(64, 64, 3)),
            layers.Conv2D(10, (3, 3), activation="relu", name="conv_1_1"),
            layers.Conv2D(10, (3, 3), activation="relu", name="conv_1_2"),
            layers.MaxPooling2D((2, 2), name="max_pool_1"),
            layers.Conv2D(10, (3, 3), activation="relu", name="conv_2_1"),
            layers.Conv2D(10, (3, 3), activation="relu", name="conv_2_2"),
            layers.MaxPooling2D((2, 2), name="max_pool_2"),
            layers.Flatten(name="flatten"),
            layers.Dense(classes, activation="softmax", name="output"),
        ],
        name="tiny_vgg",
    )


def lenet5(classes: int = 10) -> keras.Model:
    """LeNet-5 style: 32x32x1, 6 and 16 5x5 filters with average pooling, then 120-84-classes."""
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 1)),
            layers.Conv2D(6, (5, 5), activation="tanh", name="c1"),
            layers.AveragePooling2D((2, 2), name="s2"),
            layers.Conv2D(16, (5, 5), activation="tanh", name="c3"),
            layers.AveragePooling2D((2, 2), name="s4"),
            layers.Flatten(name="flatten"),
            layers.Dense(120, activation="tanh", name="c5"),
            layers.Dense(84, activation="tanh", name="f6"),
            layers.Dense(classes, activation="softmax", name="output"),
        ],
        name="lenet5",
    )


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    description: str  # i18n key of a one-line description
    build: Callable[[], keras.Model]
    class_names: tuple[str, ...] = field(default_factory=tuple)
    trained: bool = False


PRESETS: dict[str, Preset] = {
    "seed": Preset("seed", "Lecture model (untrained)", "model.seed.desc", seed_model),
    "tiny_vgg": Preset("tiny_vgg", "Tiny VGG (untrained)", "model.tiny_vgg.desc", tiny_vgg),
    "lenet5": Preset("lenet5", "LeNet-5 (untrained)", "model.lenet5.desc", lenet5),
}
