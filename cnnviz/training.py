"""A training run the UI can show: progress per batch and epoch, curves, first-layer filter snapshots.

The model trained is always the caller's own copy (`session_copy`), never a cached preset:
training changes weights in place, and a stop (a flag here, or the Streamlit rerun that a
stop button triggers) keeps exactly the weights reached after the last finished batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

import keras
import numpy as np

from cnnviz import datasets
from cnnviz.devices import device_scope
from cnnviz.messages import MessageError

OPTIMIZERS = ("adam", "sgd", "rmsprop")
CLASSES = datasets.SHAPE_CLASSES  # what the generated data set asks the model to tell apart


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    train_samples: int = 512
    val_samples: int = 128
    seed: int = 0


@dataclass
class History:
    """Everything the UI shows, updated as training goes; survives a stop."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)  # running mean within the current epoch
    snapshots: list[np.ndarray] = field(default_factory=list)  # first conv kernel (kh, kw, cin, f), epoch 0..n
    epochs_done: int = 0
    stopped: bool = False


def session_copy(model: keras.Model) -> keras.Model:
    """A fresh copy with the same weights: training it never touches the (cached, shared) original."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def first_conv(model: keras.Model):
    """The first Conv2D layer (searching nested models), or None."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            return layer
        if isinstance(layer, keras.Model):
            inner = first_conv(layer)
            if inner is not None:
                return inner
    return None


def filter_snapshot(model: keras.Model) -> np.ndarray | None:
    conv = first_conv(model)
    return None if conv is None else np.array(conv.kernel.numpy(), dtype=np.float32, copy=True)


def input_size(model: keras.Model) -> tuple[int, int, int]:
    if len(model.inputs) != 1:
        raise MessageError("train.msg.inputs", n=len(model.inputs))
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or any(v is None for v in shape):
        raise MessageError("train.msg.input", shape=shape)
    return tuple(int(v) for v in shape)


def check_trainable(model: keras.Model) -> tuple[int, int, int]:
    """The model's (height, width, channels) when it can learn the generated shapes; else ValueError."""
    h, w, c = input_size(model)
    if c not in (1, 3):
        raise MessageError("train.msg.channels", c=c)
    if min(h, w) < 8:
        raise MessageError("train.msg.size", h=h, w=w)
    outputs = model.outputs[0].shape
    if len(outputs) != 2:
        raise MessageError("train.msg.outputs", shape=tuple(outputs))
    if int(outputs[-1]) < len(datasets.SHAPE_CLASSES):
        raise MessageError("train.msg.classes", classes=len(datasets.SHAPE_CLASSES), outputs=int(outputs[-1]))
    return h, w, c


def data(model: keras.Model, settings: TrainSettings):
    """Generated shape images at the model's input size: (x, y, x_val, y_val, class_names)."""
    h, w, c = check_trainable(model)
    x, y, names = datasets.shapes(settings.train_samples, h, w, c, seed=settings.seed)
    xv, yv, _ = datasets.shapes(settings.val_samples, h, w, c, seed=settings.seed + 1)
    return x, y, xv, yv, names


def _ends_in_softmax(model: keras.Model) -> bool:
    act = getattr(model.layers[-1], "activation", None)
    return act is keras.activations.softmax or getattr(act, "__name__", "") == "softmax"


def compile_for_training(model: keras.Model, settings: TrainSettings) -> None:
    if settings.optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {settings.optimizer!r}.")
    if not settings.learning_rate > 0:
        raise ValueError(f"the learning rate must be above 0, got {settings.learning_rate}.")
    optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
                 "rmsprop": keras.optimizers.RMSprop}[settings.optimizer](learning_rate=settings.learning_rate)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not _ends_in_softmax(model))
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


class _Report(keras.callbacks.Callback):
    def __init__(self, run: "TrainingRun"):
        super().__init__()
        self.run = run

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        self.run.history.batch_loss.append(float(logs.get("loss", np.nan)))
        if self.run.on_batch:
            self.run.on_batch(self.run.epoch, batch + 1, self.run.steps, logs)
        if self.run.stop_flag.is_set():
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.run.epoch = epoch - self.run.start  # within this run, from 0
        self.run.history.batch_loss = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        h = self.run.history
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            getattr(h, key).append(float(logs.get(key, np.nan)))
        snap = filter_snapshot(self.run.model)  # the whole classifier's, also when fit trains its head alone
        if snap is not None:
            h.snapshots.append(snap)
        h.epochs_done = epoch + 1
        if self.run.on_epoch:
            self.run.on_epoch(epoch + 1 - self.run.start, self.run.settings.epochs, h)
        if self.run.stop_flag.is_set():
            self.model.stop_training = True


class TrainingRun:
    """Train `model` in place on generated shapes; `stop()` (any thread) ends it after the current batch.

    on_batch(epoch, batch, steps, logs) and on_epoch(epochs_done, epochs, history) report progress.
    `dataset` (x, y, x_val, y_val, class_names), when given, replaces the generated shapes; `fit_model`,
    when given, is what fit trains (a head on cached features whose layers `model` shares).
    """

    def __init__(self, model: keras.Model, settings: TrainSettings, device: str | None = None,
                 on_batch: Callable | None = None, on_epoch: Callable | None = None,
                 history: History | None = None, dataset: tuple | None = None,
                 fit_model: keras.Model | None = None):
        self.model = model
        self.settings = settings
        self.device = device
        self.on_batch = on_batch
        self.on_epoch = on_epoch
        self.history = history or History()
        self.stop_flag = threading.Event()
        self.epoch = 0
        self.start = self.history.epochs_done  # a continued run counts its epochs after the earlier ones
        self.fit_model = model if fit_model is None else fit_model
        self.x, self.y, self.x_val, self.y_val, self.class_names = (
            data(model, settings) if dataset is None else dataset)
        if settings.batch_size < 1 or settings.epochs < 1:
            raise ValueError("epochs and batch size must be at least 1.")
        self.steps = -(-len(self.x) // settings.batch_size)
        if not self.history.snapshots:
            snap = filter_snapshot(model)
            if snap is not None:
                self.history.snapshots.append(snap)  # epoch 0: the starting filters

    def stop(self) -> None:
        self.stop_flag.set()

    def run(self) -> History:
        compile_for_training(self.fit_model, self.settings)
        keras.utils.set_random_seed(self.settings.seed)
        start = self.start
        with device_scope(self.device):
            self.fit_model.fit(
                self.x, self.y, batch_size=self.settings.batch_size, epochs=start + self.settings.epochs,
                initial_epoch=start, validation_data=(self.x_val, self.y_val), shuffle=True, verbose=0,
                callbacks=[_Report(self)],
            )
        self.history.stopped = self.stop_flag.is_set()
        return self.history


def evaluate(model: keras.Model, x, y) -> float:
    """Mean sparse categorical cross-entropy of `model` on (x, y), computed the way Keras does."""
    probs = model.predict(x, verbose=0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not _ends_in_softmax(model))
    return float(loss(y, probs))
