"""Shape arithmetic of 2-D convolution and pooling, exactly as Keras computes it.

Pure Python (no TensorFlow, no Keras import) so that pages can show the numbers
instantly and the architecture summary can be computed before anything is built.
Arguments follow Keras's conventions: a size or stride is an int or an (h, w) pair,
padding is 'valid' or 'same', and shapes are channels-last (H, W, C).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

from cnnviz.messages import Message, MessageError, Verbatim, term

AXES = ("height", "width")
PADDINGS = ("valid", "same")


def pair(value, name: str = "value") -> tuple[int, int]:
    """An int or a pair, as Keras accepts it, as an (h, w) tuple of ints."""
    if isinstance(value, bool):
        raise MessageError("arith.pair.type", name=term(name), value=Verbatim(repr(value)))
    if isinstance(value, (int,)) or (hasattr(value, "__index__") and not isinstance(value, (list, tuple))):
        v = int(value)
        return (v, v)
    try:
        items = tuple(value)
    except TypeError:
        raise MessageError("arith.pair.type", name=term(name), value=Verbatim(repr(value))) from None
    if len(items) != 2:
        raise MessageError("arith.pair.length", name=term(name), n=len(items))
    out = []
    for v in items:
        if isinstance(v, bool) or not hasattr(v, "__index__"):
            raise MessageError("arith.pair.items", name=term(name), value=Verbatim(repr(v)))
        out.append(int(v))
    return (out[0], out[1])


def _positive(values: Sequence[int], name: str) -> None:
    for axis, v in zip(AXES, values):
        if v < 1:
            raise MessageError("arith.positive_axis", name=term(name), axis=term(axis), value=v)


def _padding(padding: str) -> str:
    p = str(padding).lower()
    if p not in PADDINGS:
        raise MessageError("arith.padding", value=Verbatim(repr(padding)))
    return p


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """Span of a dilated kernel along one axis: k + (k - 1)(d - 1)."""
    return (kernel - 1) * dilation + 1


def output_length(size: int, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1) -> int:
    """Output length along one axis (may be < 1 for impossible settings; callers check)."""
    padding = _padding(padding)
    if padding == "same":
        return math.ceil(size / stride)
    return (size - effective_kernel(kernel, dilation)) // stride + 1


def same_padding(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """How 'same' padding splits along one axis: (before, after).

    TensorFlow (and so Keras) pads so that out = ceil(size / stride), and puts the odd
    extra row/column after (bottom/right).
    """
    for name, v in (("size", size), ("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        if v < 1:
            raise MessageError("arith.at_least_1", name=term(name), value=v)
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective_kernel(kernel, dilation) - size, 0)
    return (total // 2, total - total // 2)


def _check_input(input_shape) -> tuple[int, int, int]:
    try:
        h, w, c = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise MessageError("arith.input_shape", value=Verbatim(repr(input_shape))) from None
    _positive((h, w), "input size")
    if c < 1:
        raise MessageError("arith.input_channels", value=c)
    return h, w, c


def _spatial(h, w, kernel, strides, padding, dilation, what: str) -> tuple[int, int]:
    out = []
    for axis, n, k, s, d in zip(AXES, (h, w), kernel, strides, dilation):
        o = output_length(n, k, s, padding, d)
        if o < 1:
            span = effective_kernel(k, d)
            size = Message("arith.window.dilated", k=k, span=span) if d > 1 else Message("arith.window", k=k)
            # "{what}: {detail}" as two messages, so that the architecture summary can name the layer instead
            raise MessageError("arith.in_layer", what=term(what),
                               detail=Message(f"arith.no_fit.{axis}", window=size, n=n, span=span, s=s, o=o))
        out.append(o)
    return out[0], out[1]


def conv2d_output_shape(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1):
    """(H_out, W_out, filters) of keras.layers.Conv2D on a (H, W, C) input."""
    h, w, _ = _check_input(input_shape)
    if int(filters) < 1:
        raise MessageError("arith.at_least_1", name=term("filters"), value=filters)
    k = pair(kernel_size, "kernel_size")
    s = pair(strides, "strides")
    d = pair(dilation_rate, "dilation_rate")
    _positive(k, "kernel size")
    _positive(s, "stride")
    _positive(d, "dilation")
    padding = _padding(padding)
    if max(s) > 1 and max(d) > 1:
        raise MessageError("arith.stride_dilation", strides=s, dilation_rate=d)
    oh, ow = _spatial(h, w, k, s, padding, d, "Conv2D")
    return (oh, ow, int(filters))


def pool2d_output_shape(input_shape, pool_size, strides=None, padding="valid"):
    """(H_out, W_out, C) of keras.layers.MaxPooling2D / AveragePooling2D; strides=None means pool_size."""
    h, w, c = _check_input(input_shape)
    p = pair(pool_size, "pool_size")
    s = p if strides is None else pair(strides, "strides")
    _positive(p, "pool size")
    _positive(s, "stride")
    padding = _padding(padding)
    oh, ow = _spatial(h, w, p, s, padding, (1, 1), "Pooling")
    return (oh, ow, c)


def conv2d_params(kernel_size, in_channels: int, filters: int, use_bias: bool = True) -> int:
    """Trainable parameters of Conv2D: (kh * kw * C_in + 1) * filters (the +1 is the bias)."""
    kh, kw = pair(kernel_size, "kernel_size")
    return (kh * kw * int(in_channels) + (1 if use_bias else 0)) * int(filters)


def conv2d_macs(input_shape, filters, kernel_size, strides=1, padding="valid", dilation_rate=1) -> int:
    """Multiply-accumulates of one Conv2D forward pass for one image."""
    oh, ow, f = conv2d_output_shape(input_shape, filters, kernel_size, strides, padding, dilation_rate)
    kh, kw = pair(kernel_size)
    return oh * ow * f * kh * kw * int(input_shape[2])


def dense_params(in_features: int, units: int, use_bias: bool = True) -> int:
    return (int(in_features) + (1 if use_bias else 0)) * int(units)


def unread(size: int, kernel: int, stride: int = 1, dilation: int = 1) -> int:
    """Rows (or columns) at the bottom (right) that a 'valid' window never reads."""
    out = output_length(size, kernel, stride, "valid", dilation)
    if out < 1:
        return size
    return size - ((out - 1) * stride + effective_kernel(kernel, dilation))


@dataclass(frozen=True)
class Field:
    """Receptive field of one output unit, along one axis, after a layer."""

    size: int  # input pixels one output unit sees
    jump: int  # input pixels between neighbouring output units
    start: float  # centre of the first output unit, in input pixel coordinates


def receptive_field(layers: Iterable[tuple[int, int, int]], padding_starts: Iterable[int] | None = None) -> list[Field]:
    """Receptive field after each (kernel, stride, dilation) layer along one axis.

    r_out = r_in + (k_eff - 1) * j_in, j_out = j_in * s (Araujo et al., Distill 2019).
    padding_starts optionally gives each layer's padding before (for the centre).
    """
    size, jump, start = 1, 1, 0.5
    pads = list(padding_starts) if padding_starts is not None else None
    out = []
    for i, (k, s, d) in enumerate(layers):
        span = effective_kernel(k, d)
        pad = pads[i] if pads is not None else 0
        start = start + ((span - 1) / 2 - pad) * jump
        size = size + (span - 1) * jump
        jump = jump * s
        out.append(Field(size, jump, start))
    return out


def padding_split(size: int, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding along one axis: (0, 0) for 'valid', same_padding() for 'same'."""
    if _padding(padding) == "valid":
        return (0, 0)
    return same_padding(size, kernel, stride, dilation)


def window(index: int, kernel: int, stride: int = 1, dilation: int = 1, pad_before: int = 0) -> list[int]:
    """Input indices that output position `index` reads along one axis, one per kernel tap.

    Indices below 0 or at/after the input size fall in the padding.
    """
    first = index * stride - pad_before
    return [first + tap * dilation for tap in range(kernel)]


def unread_indices(size: int, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1) -> list[int]:
    """Input rows (or columns) that no window reads: the ones a stride skips, between taps
    of a dilated kernel, and those left over at the bottom/right."""
    out = output_length(size, kernel, stride, padding, dilation)
    before, _ = padding_split(size, kernel, stride, padding, dilation)
    read = set()
    for i in range(max(out, 0)):
        read.update(window(i, kernel, stride, dilation, before))
    return [i for i in range(size) if i not in read]
