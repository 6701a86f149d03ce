"""Devices Keras sees, running work on one of them, and which one really ran it.

The only backend-specific code of cnnviz sits here, in small functions.
"""

from __future__ import annotations

import contextlib
import functools


@functools.cache
def prepare() -> None:
    """Import Keras and, with TensorFlow, let GPU memory grow on demand instead of taking the whole card
    at first use. Runs once, before anything else here and before cnnviz.models builds a model (so before
    TensorFlow initialises its GPUs). Too late or no GPU: nothing to do."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # GPUs already initialised by someone else
            pass


def _keras():
    prepare()
    import keras

    return keras


def _torch_devices() -> list[str]:
    """keras.distribution has no torch implementation: ask torch itself."""
    import torch

    return ["cpu:0"] + [f"gpu:{i}" for i in range(torch.cuda.device_count())]


def list_devices() -> list[str]:
    """Devices as Keras names them, CPU first: e.g. ['cpu:0', 'gpu:0']."""
    keras = _keras()
    if keras.backend.backend() == "torch":
        found = _torch_devices()
    else:
        found = [d.lower() for d in keras.distribution.list_devices()]
    return sorted(found, key=lambda d: (not d.startswith("cpu"), d))


def has_gpu() -> bool:
    return any(d.startswith("gpu") for d in list_devices())


def resolve(name: str | None) -> str:
    """`name` if Keras sees that device, else the CPU (the caller shows a notice when they differ)."""
    available = list_devices()
    if name and name.lower() in available:
        return name.lower()
    return next((d for d in available if d.startswith("cpu")), available[0])


def device_scope(name: str | None):
    """A context that places Keras work on `name` (a no-op for None)."""
    if not name:
        return contextlib.nullcontext()
    return _keras().device(name)


def placed_on(tensor) -> str:
    """The device a backend tensor really lives on, as the backend reports it (e.g. 'cpu:0', 'gpu:0')."""
    dev = getattr(tensor, "device", None)
    if callable(getattr(tensor, "devices", None)):  # jax arrays
        dev = next(iter(tensor.devices()))
    text = str(dev or "cpu").lower()
    if "/device:" in text:  # tensorflow: '/job:localhost/replica:0/task:0/device:gpu:0'
        text = text.rsplit("/device:", 1)[1]
    if text.startswith("cuda"):  # torch: 'cuda:0'
        text = "gpu" + text[4:]
    if ":" not in text:  # torch 'cpu', jax 'TFRT_CPU_0' style names
        text = ("gpu" if "gpu" in text or "cuda" in text else "cpu") + ":0"
    return text


def ran_on(name: str | None) -> str:
    """Runs a tiny Keras op inside device_scope(name) and returns where it really ran."""
    keras = _keras()
    with device_scope(name):
        out = keras.ops.add(keras.ops.ones((1,)), 1.0)
    return placed_on(out)
