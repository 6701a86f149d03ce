"""Where one unit of a layer looks: its theoretical receptive field in the input, for any graph of
conv, pooling, element-wise and merge layers (nested models included).

Walking back from the unit through the model's traced graph (cnnviz.activations.calls), an interval of
output positions [a, b] of a conv or pooling layer reads the inputs [a*s - p, b*s - p + (k-1)*d] along each
axis (kernel k, stride s, dilation d, padding p before, Keras's 'same' split: cnnviz.arithmetic); an
element-wise layer (activation, BatchNormalization, Dropout, ...) reads the same positions; a merge (Add,
Concatenate, ...) reads the union of what its inputs read. This is exact for every path at once, padding
included: the box may reach outside the input, where it reads padding. The effective receptive field (the
input-gradient of the unit) is `cnnviz.attribution.unit_gradient`.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from cnnviz import activations, arithmetic

_WINDOWED = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D,
             keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
_SAME_POSITIONS = (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.ReLU,
                   keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.PReLU, keras.layers.Dropout,
                   keras.layers.SpatialDropout2D, keras.layers.GaussianNoise, keras.layers.GaussianDropout,
                   keras.layers.LayerNormalization, keras.layers.Rescaling, keras.layers.Normalization,
                   keras.layers.Add, keras.layers.Subtract, keras.layers.Multiply, keras.layers.Average,
                   keras.layers.Maximum, keras.layers.Minimum, keras.layers.Concatenate, keras.layers.Identity)


class FieldError(ValueError):
    """The receptive field cannot be traced through this layer (e.g. Flatten, Resizing, UpSampling)."""

    def __init__(self, layer: str):
        super().__init__(layer)
        self.layer = layer


@dataclass(frozen=True)
class Box:
    """Input rows top..bottom and columns left..right (inclusive) one unit reads; may reach past the
    input's edges (padding), `clipped` keeps the part inside."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def size(self) -> tuple[int, int]:
        return (self.bottom - self.top + 1, self.right - self.left + 1)

    def clipped(self, h: int, w: int) -> "Box":
        return Box(max(0, self.top), max(0, self.left), min(h - 1, self.bottom), min(w - 1, self.right))


def _params(layer):
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        k, s, d = layer.pool_size, layer.strides, (1, 1)
    else:
        k, s, d = layer.kernel_size, layer.strides, layer.dilation_rate
    return arithmetic.pair(k), arithmetic.pair(s), arithmetic.pair(d), layer.padding


def theoretical(model: keras.Model, layer: str, row: int, col: int, input_shape=None) -> Box:
    """The input box unit (row, col) of `layer` (a name as in cnnviz.activations) reads. `input_shape`
    (H, W, C) is needed where the model takes any size ('same' padding depends on the sizes)."""
    ex = activations.extractor(model, pre_activations=False)
    if layer not in ex.tensors or len(ex.tensors[layer].shape) != 4:
        raise FieldError(layer)
    shapes = _spatial_shapes(model, ex, input_shape)
    by_name = {n: c for c in ex.calls for n in c.names}
    memo: dict = {}

    def back(name: str, a: tuple[int, int], b: tuple[int, int]):
        """Input intervals (rows, cols) that positions a..b (inclusive, (row, col)) of `name` read."""
        if name.startswith(activations.INPUT):
            return a, b
        key = (name, a, b)
        if key in memo:
            return memo[key]
        call = by_name[name]
        lay = call.layer
        sources = [s for s in call.sources if s in shapes]
        if isinstance(lay, _WINDOWED) and len(sources) == 1:
            (kh, kw), (sh, sw), (dh, dw), padding = _params(lay)
            ih, iw = shapes[sources[0]]
            ph = arithmetic.padding_split(ih, kh, sh, padding, dh)[0]
            pw = arithmetic.padding_split(iw, kw, sw, padding, dw)[0]
            lo = (a[0] * sh - ph, a[1] * sw - pw)
            hi = (b[0] * sh - ph + (kh - 1) * dh, b[1] * sw - pw + (kw - 1) * dw)
            found = back(sources[0], lo, hi)
        elif isinstance(lay, _SAME_POSITIONS) and sources and all(shapes[s] == shapes[name] for s in sources):
            boxes = [back(s, a, b) for s in sources]
            found = (tuple(min(bx[0][i] for bx in boxes) for i in range(2)),
                     tuple(max(bx[1][i] for bx in boxes) for i in range(2)))
        else:
            raise FieldError(name)
        memo[key] = found
        return found

    (top, left), (bottom, right) = back(layer, (row, col), (row, col))
    return Box(top, left, bottom, right)


def _spatial_shapes(model, ex, input_shape) -> dict[str, tuple[int, int]]:
    """(H, W) of every 4-D output and of the input, for this input size."""
    spec_in = tuple(model.inputs[0].shape[1:])
    if input_shape is None:
        input_shape = spec_in
    tensors = dict(ex.tensors)
    if None in tuple(input_shape)[:2] or None not in spec_in[:2]:
        sizes = {n: tuple(t.shape[1:3]) for n, t in tensors.items() if len(t.shape) == 4}
    else:
        specs = ex.model.compute_output_spec(keras.KerasTensor((1, *input_shape)))
        sizes = {n: tuple(s.shape[1:3]) for n, s in zip(ex.names, specs) if len(s.shape) == 4}
    sizes[f"{activations.INPUT}:0"] = tuple(input_shape[:2])
    return sizes
