"""The learned filters of a model's conv layers: kernels, biases and per-filter statistics.

Keras stores a Conv2D kernel as (kernel_h, kernel_w, in_channels, filters): filter f's weight at
[i, j, c] multiplies input channel c at offset (i, j) of the window.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

STAT_COLUMNS = ("filter", "mean", "std", "min", "max", "l2_norm", "bias")


def conv_layers(model: keras.Model) -> list[keras.layers.Conv2D]:
    """The model's Conv2D layers in order, including those inside nested models."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found.extend(conv_layers(layer))
    return found


def kernel(layer) -> np.ndarray:
    """The layer's kernel as Keras holds it: (kernel_h, kernel_w, in_channels, filters), float32."""
    return np.asarray(ops.convert_to_numpy(layer.kernel), dtype="float32")


def bias(layer) -> np.ndarray | None:
    """The layer's bias (filters,), or None when it has none (use_bias=False)."""
    if not getattr(layer, "use_bias", False) or layer.bias is None:
        return None
    return np.asarray(ops.convert_to_numpy(layer.bias), dtype="float32")


def filter_kernel(layer, index: int) -> np.ndarray:
    """Filter `index`'s weights, (kernel_h, kernel_w, in_channels)."""
    k = kernel(layer)
    if not 0 <= index < k.shape[-1]:
        raise ValueError(f"Layer {layer.name!r} has {k.shape[-1]} filters (0 to {k.shape[-1] - 1}); got {index}.")
    return k[..., index]


def filter_stats(layer) -> dict[str, np.ndarray]:
    """Per filter, over all its weights (every input channel): mean, std, min, max, L2 norm; and its bias.

    Columns of equal length, one row per filter; bias is NaN where the layer has none.
    """
    k = kernel(layer)
    flat = k.reshape(-1, k.shape[-1])  # (weights per filter, filters)
    b = bias(layer)
    return {
        "filter": np.arange(k.shape[-1]),
        "mean": flat.mean(axis=0),
        "std": flat.std(axis=0),
        "min": flat.min(axis=0),
        "max": flat.max(axis=0),
        "l2_norm": np.sqrt((flat.astype("float64") ** 2).sum(axis=0)).astype("float32"),
        "bias": b if b is not None else np.full(k.shape[-1], np.nan, dtype="float32"),
    }


def is_rgb_first_layer(model: keras.Model, layer) -> bool:
    """The model's first conv layer reading 3 channels: its filters can be shown as colour patches."""
    convs = conv_layers(model)
    return bool(convs) and convs[0] is layer and kernel(layer).shape[2] == 3
