"""Preset models: the lecture's example model, a Tiny VGG and a LeNet-5; the shipped trained default."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from cnnviz import imagenet
from cnnviz.datasets import SHAPE_CLASSES

if TYPE_CHECKING:
    import keras

# Keras is imported by the functions that build or load a model, not here: the sidebar and the pages
# that need no model read PRESETS without waiting for TensorFlow (cnnviz.ui.warmup imports it early).


def _keras():
    """keras, after cnnviz.devices has set GPU memory growth (before TensorFlow touches a GPU)."""
    from cnnviz import devices

    devices.prepare()
    import keras

    return keras


def seed_model() -> keras.Model:
    """The lecture's example model, untrained: 120x60x1 in, 4 classes out, 133,792 parameters."""
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(120, 60, 1)),
            layers.Conv2D(12, kernel_size=(5, 5), activation="relu", name="conv1"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool1"),
            layers.Conv2D(16, kernel_size=(5, 5), activation="relu", name="conv2"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool2"),
            layers.Conv2D(20, kernel_size=(4, 4), activation="relu", name="conv3"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool3"),
            layers.Flatten(name="flatten"),
            layers.Dense(128, activation="relu", name="dense"),
            layers.Dense(4, activation="softmax", name="output"),
        ],
        name="seed_model",
    )


def tiny_vgg(classes: int = 10) -> keras.Model:
    """Tiny VGG as in CNN Explainer: 64x64x3, two conv-conv-pool blocks of 10 3x3 filters."""
    keras = _keras()
    layers = keras.layers
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
    keras = _keras()
    layers = keras.layers
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


def digits_model() -> keras.Model:
    """A small CNN in the lecture's style for UCI's handwritten digits: a 32x32 bitmap of 0/1 in; its first
    layer counts the 4x4 blocks (AveragePooling2D: the count / 16, UCI's 8x8 representation), then two
    conv-pool blocks and two dense layers; 10 classes."""
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 1)),
            layers.AveragePooling2D(pool_size=(4, 4), name="uci_blocks"),
            layers.Conv2D(16, kernel_size=(3, 3), padding="same", activation="relu", name="conv1"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool1"),
            layers.Conv2D(32, kernel_size=(3, 3), padding="same", activation="relu", name="conv2"),
            layers.MaxPooling2D(pool_size=(2, 2), name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, activation="relu", name="dense"),
            layers.Dense(10, activation="softmax", name="output"),
        ],
        name="digits",
    )


DIGITS_WEIGHTS = "uci_digits.keras"  # rebuilt by `python -m cnnviz.build.train_digits`


def load_digits_trained() -> keras.Model:
    """digits_model() trained on 80% of the UCI digits (cnnviz.digits)."""
    keras = _keras()
    path = Path(str(resources.files("cnnviz") / "weights" / DIGITS_WEIGHTS))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m cnnviz.build.train_digits` to make it.")
    return keras.saving.load_model(path, compile=False)


LITE0_WEIGHTS = "efficientnet_lite0.keras"  # rebuilt by `python -m cnnviz.build.port_lite0`


def load_lite0() -> keras.Model:
    """EfficientNet-Lite0 with Google's ImageNet weights, ported from PyTorch (cnnviz.build.port_lite0): RGB pixels
    0-255 in (its first layer normalises them), 1000 ImageNet classes out (cnnviz.imagenet)."""
    keras = _keras()
    path = Path(str(resources.files("cnnviz") / "weights" / LITE0_WEIGHTS))
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m cnnviz.build.port_lite0` to make it.")
    return keras.saving.load_model(path, compile=False)


TINY_VGG_CLASSES = (
    "lifeboat", "ladybug", "pizza", "bell pepper", "school bus",
    "koala", "espresso", "red panda", "orange", "sports car",
)  # CNN Explainer's 10 Tiny ImageNet classes; untrained here, so only names
DIGITS = tuple(str(d) for d in range(10))

# The shipped trained default; rebuilt by `python -m cnnviz.build.train_default`.
WEIGHTS_FILE = "seed_shapes.keras"
DEFAULT_MODEL = "seed_trained"


def weights_path() -> Path:
    return Path(str(resources.files("cnnviz") / "weights" / WEIGHTS_FILE))


def load_seed_trained() -> keras.Model:
    """The seed model trained on `cnnviz.datasets.shapes` (circle, square, triangle, cross)."""
    keras = _keras()
    path = weights_path()
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m cnnviz.build.train_default` to make it.")
    return keras.saving.load_model(path, compile=False)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str  # English label; the UI shows the i18n text "model.<key>.label"
    description: str  # i18n key of a one-line description
    build: Callable[[], keras.Model]
    class_names: tuple[str, ...] = field(default_factory=tuple)
    trained: bool = False
    fit: str = ""  # how a picture becomes its input when it is not crop/pad ("digit": cnnviz.digits.bitmap)
    pixels: str = "unit"  # cnnviz trains (and the shipped weights were trained) on pictures in [0, 1]
    sample: str = ""  # the gallery picture to start on (cnnviz.images.SAMPLES); "": images.DEFAULT_SAMPLE


@dataclass(frozen=True, eq=False)
class ModelInfo:
    """A model with what the UI needs to present it.

    `label` and `description` are either i18n keys (presets) or plain text (a session's own model);
    `cnnviz.ui.models.label()/description()` show either.
    """

    key: str
    label: str
    model: keras.Model
    class_names: tuple[str, ...]
    trained: bool
    description: str = ""
    fit: str = ""  # "digit": pictures become UCI bitmaps (cnnviz.digits); "": the user's crop/pad choice
    # The pixel range the model was trained on, when its file says so (cnnviz.preprocessing.CONTRACTS: "unit"
    # [0, 1], "byte" [0, 255], "symmetric" [-1, 1], "torch" ImageNet mean/std, "caffe" BGR mean-subtracted);
    # "": detected from the model's own layers, or chosen by the user.
    pixels: str = ""
    # A range assumed when nothing declares one (an ONNX ImageNet classifier: "torch"); the user's choice wins.
    assumed_pixels: str = ""

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """(height, width, channels) of one input image."""
        return tuple(int(d) for d in self.model.input_shape[1:])


PRESETS: dict[str, Preset] = {
    DEFAULT_MODEL: Preset(
        DEFAULT_MODEL, "Lecture model, trained on shapes", "model.seed_trained.desc", load_seed_trained,
        SHAPE_CLASSES, trained=True,
    ),
    "digits": Preset("digits", "Digits, trained on UCI handwriting", "model.digits.desc", load_digits_trained,
                     DIGITS, trained=True, fit="digit"),
    "efficientnet_lite0": Preset(
        "efficientnet_lite0", "EfficientNet-Lite0, trained on ImageNet", "model.efficientnet_lite0.desc", load_lite0,
        imagenet.CLASS_NAMES, trained=True, pixels="byte", sample="coffee",
    ),
    "seed": Preset("seed", "Lecture model (untrained)", "model.seed.desc", seed_model, SHAPE_CLASSES),
    "tiny_vgg": Preset("tiny_vgg", "Tiny VGG (untrained)", "model.tiny_vgg.desc", tiny_vgg, TINY_VGG_CLASSES),
    "lenet5": Preset("lenet5", "LeNet-5 (untrained)", "model.lenet5.desc", lenet5, DIGITS),
}


def load_preset(key: str) -> ModelInfo:
    """A fresh ModelInfo for a preset (callers cache it: building or loading takes a moment)."""
    try:
        p = PRESETS[key]
    except KeyError:
        raise ValueError(f"No preset model called {key!r}; choose one of {', '.join(PRESETS)}.") from None
    model = p.build()
    if len(p.class_names) != int(model.output_shape[-1]):
        raise ValueError(f"{key}: {len(p.class_names)} class names for {model.output_shape[-1]} outputs.")
    return ModelInfo(
        key=p.key, label=f"model.{p.key}.label", model=model, class_names=p.class_names,
        trained=p.trained, description=p.description, fit=p.fit, pixels=p.pixels,
    )
