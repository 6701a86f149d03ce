"""A classifier for the user's classes: the session's model with a new head, the lecture model from
scratch, or a frozen pretrained backbone with a new head (transfer learning); augmentation as Keras
preprocessing layers; a backbone's features computed once and cached; fine-tuning its last block.

Any Keras image model can be a backbone: it is cut at its last global pooling layer, else where its
final Dense layer starts (the features that layer reads; a 4-D map there gets a GlobalAveragePooling2D).
Backbones are copied first (`training.session_copy`): freezing or training never touches a cached model.

The pixel contract: the user's pictures are [0, 1]; `Pixels.apply` maps them to what the backbone wants
(cnnviz.preprocessing) before features are computed, and the trained model keeps that contract (its
ModelInfo.pixels, stored in the .keras file by cnnviz.files.modelmeta).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from cnnviz import preprocessing, training
from cnnviz.devices import device_scope
from cnnviz.messages import MessageError

MODES = ("transfer", "head", "scratch")
HEAD_NAME = "head"
AUGMENT_NAME = "augment"
GLOBAL_POOLING = (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)
CONVS = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D)
SCRATCH_SHAPE = (64, 64, 3)  # the lecture model's layers, from scratch, for the user's pictures


@dataclass(frozen=True)
class Augment:
    """Random changes applied to training pictures only (Keras preprocessing layers are inactive at inference)."""

    flip: bool = False
    rotation: float = 0.0  # fraction of a full turn, either way
    zoom: float = 0.0  # fraction of the size, in or out
    contrast: float = 0.0

    @property
    def any(self) -> bool:
        return self.flip or self.rotation > 0 or self.zoom > 0 or self.contrast > 0


_CONTRAST_RANGE = {"unit": (0.0, 1.0), "byte": (0.0, 255.0), "symmetric": (-1.0, 1.0)}


def augment_layers(aug: Augment, pixels: str = "unit", seed: int = 0) -> list[keras.layers.Layer]:
    """The Keras layers of `aug` for inputs in the `pixels` contract's range (contrast only where the range
    is bounded: not for torch/caffe-normalised inputs)."""
    out = []
    if aug.flip:
        out.append(keras.layers.RandomFlip("horizontal", seed=seed, name="random_flip"))
    if aug.rotation > 0:
        out.append(keras.layers.RandomRotation(aug.rotation, fill_mode="nearest", seed=seed, name="random_rotation"))
    if aug.zoom > 0:
        out.append(keras.layers.RandomZoom(aug.zoom, fill_mode="nearest", seed=seed, name="random_zoom"))
    if aug.contrast > 0 and pixels in _CONTRAST_RANGE:
        out.append(keras.layers.RandomContrast(aug.contrast, value_range=_CONTRAST_RANGE[pixels], seed=seed,
                                               name="random_contrast"))
    return out


def augmented(x01: np.ndarray, aug: Augment, copies: int = 1, seed: int = 0) -> np.ndarray:
    """`copies` randomly changed versions of the [0, 1] pictures x01 (N, H, W, C), (copies * N, H, W, C),
    as the augmentation layers make them in training; seeded."""
    layers = augment_layers(aug, "unit", seed)
    if not layers:
        return np.concatenate([x01] * copies)
    pipeline = keras.Sequential(layers)
    keras.utils.set_random_seed(seed)
    out = [np.clip(keras.ops.convert_to_numpy(pipeline(x01, training=True)), 0.0, 1.0) for _ in range(copies)]
    return np.concatenate(out).astype("float32")


# ---------------------------------------------------------------- cutting a model


def feature_output(model: keras.Model):
    """The tensor a classifier head reads: the output of the model's last global pooling layer, else the
    input of its final Dense layer. MessageError("train.msg.no_features") when neither exists."""
    layers = model.layers
    pools = [layer for layer in layers if isinstance(layer, GLOBAL_POOLING)]
    if pools:
        return pools[-1].output
    if layers and isinstance(layers[-1], keras.layers.Dense) and len(layers) >= 2:
        return layers[-1].input
    if layers and isinstance(layers[-1], keras.layers.Activation) and len(layers) >= 3 \
            and isinstance(layers[-2], keras.layers.Dense):
        return layers[-2].input
    raise MessageError("train.msg.no_features")


def feature_extractor(model: keras.Model, name: str = "backbone") -> keras.Model:
    """A copy of `model` from its input to its features (`feature_output`), pooled to a vector if needed."""
    copy = training.session_copy(model)
    out = feature_output(copy)
    if len(out.shape) == 4:
        out = keras.layers.GlobalAveragePooling2D(name="features_pool")(out)
    elif len(out.shape) != 2:
        out = keras.layers.Flatten(name="features_flatten")(out)
    return keras.Model(copy.inputs, out, name=name)


def head(classes: int, dropout: float = 0.2) -> list[keras.layers.Layer]:
    return [keras.layers.Dropout(dropout, name="head_dropout"),
            keras.layers.Dense(classes, activation="softmax", name=HEAD_NAME)]


def _assemble(shape, aug_layers, body: keras.Model, head_layers, name: str) -> keras.Model:
    inp = keras.Input(shape=tuple(shape), name="image")
    t = inp
    if aug_layers:
        t = keras.Sequential(aug_layers, name=AUGMENT_NAME)(t)
    t = body(t)
    for layer in head_layers:
        t = layer(t)
    return keras.Model(inp, t, name=name)


def _flat_sequential(shape, aug_layers, body_layers, head_layers, name: str) -> keras.Model:
    return keras.Sequential([keras.Input(shape=tuple(shape)), *aug_layers, *body_layers, *head_layers], name=name)


def scratch_body(shape=SCRATCH_SHAPE) -> list[keras.layers.Layer]:
    """The lecture model's feature layers (cnnviz.models.seed_model), fresh weights, for `shape`."""
    from cnnviz import models

    lecture = models.seed_model()
    layers = []
    for layer in lecture.layers[:-1]:  # all but the 4-class output
        layers.append(layer.__class__.from_config(layer.get_config()))
    return layers


@dataclass
class Built:
    model: keras.Model  # the classifier the session keeps
    backbone: keras.Model | None  # transfer: the frozen feature extractor inside `model`
    head_layers: list  # the new head's layers, shared by `model` and the head trained on cached features
    pixels: str  # the contract `model` is fed with


def build(mode: str, classes: int, base: keras.Model | None = None, pixels: str = "unit",
          aug: Augment = Augment(), seed: int = 0) -> Built:
    """The classifier for `classes` classes.

    - "head": `base` (copied) up to its features, trainable, with a new softmax head;
    - "scratch": the lecture model's layers with fresh weights at SCRATCH_SHAPE;
    - "transfer": `base` (copied) up to its features, frozen, with a new head.
    Augmentation layers come first; they change pictures only in training."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}.")
    if classes < 2:
        raise ValueError("a classifier needs at least 2 classes.")
    keras.utils.set_random_seed(seed)
    head_layers = head(classes)
    if mode == "scratch":
        model = _flat_sequential(SCRATCH_SHAPE, augment_layers(aug, "unit", seed), scratch_body(), head_layers,
                                 "own_scratch")
        return Built(model, None, head_layers, "unit")
    if base is None:
        raise ValueError(f"mode {mode!r} needs a base model.")
    shape = training.input_size(base)
    aug_layers = augment_layers(aug, pixels, seed)
    extractor = feature_extractor(base)
    if mode == "transfer":
        extractor.trainable = False
        return Built(_assemble(shape, aug_layers, extractor, head_layers, "own_transfer"), extractor, head_layers,
                     pixels)
    if isinstance(base, keras.Sequential) and all(not isinstance(layer, keras.Model) for layer in base.layers):
        # a plain Sequential stays flat: its layers (copied, weights kept) then the new head
        body = [layer for layer in extractor.layers if not isinstance(layer, keras.layers.InputLayer)]
        return Built(_flat_sequential(shape, aug_layers, body, head_layers, "own_head"), None, head_layers, pixels)
    return Built(_assemble(shape, aug_layers, extractor, head_layers, "own_head"), None, head_layers, pixels)


def head_model(built: Built) -> keras.Model:
    """The head alone, on the backbone's feature vectors: training it trains `built.model`'s head (shared layers)."""
    dim = int(built.backbone.outputs[0].shape[-1])
    inp = keras.Input(shape=(dim,), name="features")
    t = inp
    for layer in built.head_layers:
        t = layer(t)
    return keras.Model(inp, t, name="head_on_features")


def features(backbone: keras.Model, x01: np.ndarray, pixels: str = "unit", batch_size: int = 64,
             device: str | None = None) -> np.ndarray:
    """The backbone's feature vectors of the [0, 1] pictures x01, fed in the `pixels` contract; computed once
    and cached by the caller (float32 (N, D))."""
    fed = preprocessing.contract(pixels).apply(np.asarray(x01, dtype="float32"))
    with device_scope(device):
        return np.asarray(backbone.predict(fed, batch_size=batch_size, verbose=0), dtype="float32")


def unfreeze_last_block(built: Built) -> list[str]:
    """Fine-tuning: the backbone's last convolution (or Dense) and every layer after it become trainable,
    BatchNormalization kept frozen (inference mode, as Keras's transfer-learning guide does). Returns their names."""
    backbone = built.backbone
    if backbone is None:
        return []
    layers = backbone.layers
    last = max((i for i, layer in enumerate(layers) if isinstance(layer, CONVS + (keras.layers.Dense,))), default=None)
    if last is None:
        return []
    backbone.trainable = True
    names = []
    for i, layer in enumerate(layers):
        layer.trainable = i >= last and not isinstance(layer, keras.layers.BatchNormalization)
        if layer.trainable and layer.weights:
            names.append(layer.name)
    return names


# ---------------------------------------------------------------- a run, prepared; its results


@dataclass
class Prepared:
    built: Built
    class_names: tuple[str, ...]
    shape: tuple[int, int, int]  # every picture becomes this (H, W, C)
    x_val01: np.ndarray  # validation pictures in [0, 1] at `shape`, for the results
    y_val: np.ndarray
    dataset: tuple  # (x, y, x_val, y_val, class_names) as fit takes them: fed pictures, or cached features
    fit_model: keras.Model  # the head on cached features (transfer), else built.model
    cached: bool  # features computed once: each epoch trains the head only
    n_train: int


def prepare(built: Built, x01: np.ndarray, y: np.ndarray, class_names, fraction: float = 0.2, seed: int = 0,
            aug: Augment = Augment(), aug_copies: int = 2, device: str | None = None,
            cache: bool = True) -> Prepared:
    """Split (stratified, seeded) the pictures x01 (at the model's size, [0, 1]); for a frozen backbone with
    `cache`, compute its features once: of the training pictures, `aug_copies` augmented copies of them when
    `aug` does anything, and of the validation pictures."""
    from cnnviz import imagesets

    train, val = imagesets.split(y, fraction, seed)
    shape = tuple(int(v) for v in x01.shape[1:])
    pixels = preprocessing.contract(built.pixels)
    xt, yt, xv, yv = x01[train], y[train], x01[val], y[val]
    if built.backbone is not None and cache:
        if aug.any and aug_copies > 0:
            xt = np.concatenate([xt, augmented(xt, aug, aug_copies, seed)])
            yt = np.concatenate([yt] * (aug_copies + 1))
        ft = features(built.backbone, xt, built.pixels, device=device)
        fv = features(built.backbone, xv, built.pixels, device=device)
        return Prepared(built, tuple(class_names), shape, xv, yv, (ft, yt, fv, yv, tuple(class_names)),
                        head_model(built), True, len(ft))
    return Prepared(built, tuple(class_names), shape, xv, yv,
                    (pixels.apply(xt), yt, pixels.apply(xv), yv, tuple(class_names)), built.model, False, len(xt))


def for_fine_tuning(p: Prepared, x01: np.ndarray, y: np.ndarray, fraction: float = 0.2, seed: int = 0) -> Prepared:
    """The same split on pictures (not features) for training the whole model after `unfreeze_last_block`."""
    from cnnviz import imagesets

    train, val = imagesets.split(y, fraction, seed)
    pixels = preprocessing.contract(p.built.pixels)
    data = (pixels.apply(x01[train]), y[train], pixels.apply(x01[val]), y[val], p.class_names)
    return Prepared(p.built, p.class_names, p.shape, p.x_val01, p.y_val, data, p.built.model, False, len(train))


def predictions(model: keras.Model, x01: np.ndarray, pixels: str = "unit", device: str | None = None) -> np.ndarray:
    """Class probabilities (N, classes) of the [0, 1] pictures, fed in the `pixels` contract."""
    with device_scope(device):
        out = model.predict(preprocessing.contract(pixels).apply(x01), verbose=0)
    return np.asarray(out, dtype="float32")


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    """counts[i, j]: pictures of class i predicted as j."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return counts


def per_class_accuracy(counts: np.ndarray) -> np.ndarray:
    """The share of each class's pictures predicted right (nan for a class with none)."""
    totals = counts.sum(axis=1).astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(counts) / np.maximum(totals, 1), np.nan)
