"""The learned filters of a model's conv layers: kernels, biases and per-filter statistics.

Keras stores a Conv2D kernel as (kernel_h, kernel_w, in_channels, filters): filter f's weight at
[i, j, c] multiplies input channel c at offset (i, j) of the window. The other kernel layers are shown
in that same layout (`parts`): a DepthwiseConv2D as one single-channel kernel per input channel (times
its depth multiplier), a SeparableConv2D as its depthwise and its pointwise (1x1) part, a
Conv2DTranspose with its (kh, kw, filters, in_channels) kernel turned to (kh, kw, in_channels, filters).
A BatchNormalization right after a kernel layer is a per-channel scale and shift at inference, and can
be folded into the kernel ("effective kernel").
"""

from __future__ import annotations

from dataclasses import dataclass

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


KERNEL_TYPES = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D,
                keras.layers.Conv2DTranspose)


def kernel_layers(model: keras.Model, prefix: str = "") -> dict[str, keras.layers.Layer]:
    """Every 2-D kernel layer (KERNEL_TYPES) by path, nested models opened ("base/block_1_expand")."""
    found = {}
    for layer in model.layers:
        if isinstance(layer, KERNEL_TYPES):
            found[prefix + layer.name] = layer
        elif isinstance(layer, keras.Model):
            found.update(kernel_layers(layer, f"{prefix}{layer.name}/"))
    return found


@dataclass(frozen=True)
class Part:
    """One kernel of a layer in Conv2D layout (kh, kw, in_channels, filters), and the bias after it."""

    key: str  # "kernel", "depthwise", "pointwise" or "folded"
    kernel: np.ndarray
    bias: np.ndarray | None


def _array(variable) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(variable), dtype="float32")


def _depthwise(k: np.ndarray) -> np.ndarray:
    """(kh, kw, in, multiplier) -> (kh, kw, 1, in * multiplier): output channel c * multiplier + m reads
    input channel c alone with kernel [:, :, c, m] (the order of Keras's depthwise outputs)."""
    kh, kw, cin, mult = k.shape
    return k.reshape(kh, kw, 1, cin * mult)


def parts(layer) -> list[Part]:
    """The layer's kernels in Conv2D layout, each with the bias that follows it (None where none does)."""
    b = bias(layer)
    if isinstance(layer, keras.layers.SeparableConv2D):
        return [Part("depthwise", _depthwise(_array(layer.depthwise_kernel)), None),
                Part("pointwise", _array(layer.pointwise_kernel), b)]
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return [Part("depthwise", _depthwise(_array(layer.kernel)), b)]
    if isinstance(layer, keras.layers.Conv2DTranspose):
        return [Part("kernel", _array(layer.kernel).transpose(0, 1, 3, 2), b)]
    return [Part("kernel", kernel(layer), b)]


def bn_scale_shift(bn) -> tuple[np.ndarray, np.ndarray]:
    """A BatchNormalization at inference as y = x * scale + shift per channel:
    scale = gamma / sqrt(moving_variance + epsilon), shift = beta - moving_mean * scale."""
    var = _array(bn.moving_variance)
    gamma = _array(bn.gamma) if bn.gamma is not None else np.ones_like(var)
    beta = _array(bn.beta) if bn.beta is not None else np.zeros_like(var)
    scale = gamma / np.sqrt(var + np.float32(bn.epsilon))
    return scale.astype("float32"), (beta - _array(bn.moving_mean) * scale).astype("float32")


def folds_into(layer, bn) -> bool:
    """The BN can be folded into the layer's last kernel: the layer has no activation of its own and the
    BN normalises its channel axis."""
    act = getattr(layer, "activation", None)
    return (act is None or act is keras.activations.linear) and bn.axis in (-1, 3) and (
        len(_array(bn.moving_mean)) == parts(layer)[-1].kernel.shape[-1])


def batchnorm_after(model: keras.Model, path: str):
    """(name, layer) of the BatchNormalization that takes the output of the layer at `path`, or None."""
    from cnnviz import activations

    for call in activations.calls(model):
        if call.sources == [path] and isinstance(call.layer, keras.layers.BatchNormalization):
            return call.names[0], call.layer
    return None


def folded(layer, bn) -> Part:
    """The layer's last kernel and bias with the BN after it folded in: conv(x, k * scale) + (b * scale
    + shift) equals BN(conv(x, k) + b) at inference."""
    last = parts(layer)[-1]
    scale, shift = bn_scale_shift(bn)
    b = last.bias if last.bias is not None else np.zeros_like(scale)
    return Part("folded", (last.kernel * scale).astype("float32"), (b * scale + shift).astype("float32"))


def kernel(layer) -> np.ndarray:
    """The layer's kernel as Keras holds it: (kernel_h, kernel_w, in_channels, filters), float32."""
    return _array(layer.kernel)


def bias(layer) -> np.ndarray | None:
    """The layer's bias (filters,), or None when it has none (use_bias=False)."""
    if not getattr(layer, "use_bias", False) or layer.bias is None:
        return None
    return _array(layer.bias)


def filter_kernel(layer, index: int) -> np.ndarray:
    """Filter `index`'s weights, (kernel_h, kernel_w, in_channels)."""
    k = kernel(layer)
    if not 0 <= index < k.shape[-1]:
        raise ValueError(f"Layer {layer.name!r} has {k.shape[-1]} filters (0 to {k.shape[-1] - 1}); got {index}.")
    return k[..., index]


def filter_stats(layer, part: Part | None = None) -> dict[str, np.ndarray]:
    """Per filter, over all its weights (every input channel): mean, std, min, max, L2 norm; and its bias.

    Columns of equal length, one row per filter; bias is NaN where the layer has none. `part`: one of
    `parts(layer)` (default: the Conv2D kernel and bias).
    """
    k = kernel(layer) if part is None else part.kernel
    flat = k.reshape(-1, k.shape[-1])  # (weights per filter, filters)
    b = bias(layer) if part is None else part.bias
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
