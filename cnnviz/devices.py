"""Devices Keras sees, and running work on one of them."""

from __future__ import annotations

import contextlib

import keras


def list_devices() -> list[str]:
    """Devices as Keras names them, CPU first: e.g. ['cpu:0', 'gpu:0']."""
    return list(keras.distribution.list_devices())


def device_scope(name: str | None):
    """A context that places Keras work on `name` (a no-op for None)."""
    if not name:
        return contextlib.nullcontext()
    return keras.device(name)
