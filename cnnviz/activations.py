"""Every layer's output for a batch, through one cached, compiled feature extractor per model.

The extractor is a keras.Model from the model's inputs to every layer's output, plus the linear part
(before the activation) of each conv layer that has a fused activation. It is built once per model
object and kept in a WeakKeyDictionary, so it goes away with the model; calls go through
`predict_on_batch` (the backend's compiled predict step) under a per-extractor lock, so several
browser sessions can share it. Backend-agnostic: only keras and keras.ops.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

PRE_SUFFIX = "/pre_activation"
_CONV_TYPES = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def has_fused_activation(layer) -> bool:
    """A Conv1D/2D/3D whose output passes through a non-linear activation inside the layer."""
    act = getattr(layer, "activation", None)
    return isinstance(layer, _CONV_TYPES) and act is not None and act is not keras.activations.linear


class _LinearPart(keras.layers.Layer):
    """The conv layer's own computation up to, not including, its activation.

    Mirrors the Keras conv layer's call (convolution_op, then the bias reshaped for the data format)
    with the layer's own variables, so the numbers are those Keras computes inside the layer.
    """

    def __init__(self, conv, **kwargs):
        super().__init__(name=conv.name + PRE_SUFFIX.replace("/", "__"), **kwargs)
        self.conv = conv

    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        conv = self.conv
        outputs = conv.convolution_op(inputs, conv.kernel)
        if conv.use_bias:
            if conv.data_format == "channels_last":
                shape = (1,) * (conv.rank + 1) + (conv.filters,)
            else:
                shape = (1, conv.filters) + (1,) * conv.rank
            outputs = ops.add(outputs, ops.reshape(conv.bias, shape))
        return outputs

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)


def _layer_outputs(layer) -> list:
    """The layer's output tensors in the model's graph (one per output of a multi-output layer)."""
    try:
        out = layer.output
    except (AttributeError, ValueError) as e:
        raise ValueError(
            f"Layer {layer.name!r} has no single output in this model ({e}); a layer used more than "
            "once cannot be shown layer by layer."
        ) from e
    return list(out) if isinstance(out, (list, tuple)) else [out]


class Extractor:
    """The compiled feature extractor of one model. Use `extract`, which caches these."""

    def __init__(self, model: keras.Model):
        try:
            inputs = model.inputs
        except (AttributeError, ValueError):
            inputs = None
        if not inputs:
            raise ValueError("The model has no defined input yet: build it with keras.Input(shape=...) first.")
        self.names: list[str] = []  # one per extractor output, in layer order
        outputs = []
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            tensors = _layer_outputs(layer)
            for i, tensor in enumerate(tensors):
                self.names.append(layer.name if len(tensors) == 1 else f"{layer.name}:{i}")
                outputs.append(tensor)
            if has_fused_activation(layer):
                self.names.append(layer.name + PRE_SUFFIX)
                outputs.append(_LinearPart(layer)(layer.input))
        if not outputs:
            raise ValueError("The model has no layers to show.")
        self.model = keras.Model(inputs=inputs, outputs=outputs, name=f"{model.name}_extractor")
        self.lock = threading.Lock()

    def __call__(self, x) -> dict[str, np.ndarray]:
        with self.lock:  # the compiled predict function is not safe to enter from two threads
            values = self.model.predict_on_batch(x)
        if not isinstance(values, (list, tuple)):
            values = [values]
        return {name: np.asarray(v) for name, v in zip(self.names, values)}


_cache: "weakref.WeakKeyDictionary[keras.Model, Extractor]" = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def extractor(model: keras.Model) -> Extractor:
    """The cached extractor of `model`, built on first use."""
    with _cache_lock:
        ex = _cache.get(model)
        if ex is None:
            ex = _cache[model] = Extractor(model)
        return ex


def _as_batch(model: keras.Model, x) -> np.ndarray:
    x = np.asarray(x, dtype="float32")
    expected = tuple(model.inputs[0].shape)
    if x.ndim == len(expected) - 1:
        raise ValueError(f"Expected a batch of shape {expected}; got one example {x.shape}: add a batch axis.")
    if x.ndim != len(expected) or any(e is not None and e != s for e, s in zip(expected[1:], x.shape[1:])):
        raise ValueError(f"The model takes inputs of shape {expected}; got {x.shape}.")
    return x


@dataclass(frozen=True)
class Activations:
    """One pass: every layer's output, and the linear part of conv layers with a fused activation."""

    outputs: dict[str, np.ndarray]  # layer name -> output, in layer order
    pre: dict[str, np.ndarray]  # conv layer name -> output before its activation

    def chosen(self, pre_activation: bool) -> dict[str, np.ndarray]:
        if not pre_activation:
            return self.outputs
        return {name: self.pre.get(name, value) for name, value in self.outputs.items()}


def extract_all(model: keras.Model, x) -> Activations:
    """Every layer's output and the conv layers' pre-activations for the batch `x`, from one pass."""
    values = extractor(model)(_as_batch(model, x))
    outputs, pre = {}, {}
    for name, value in values.items():
        if name.endswith(PRE_SUFFIX):
            pre[name[: -len(PRE_SUFFIX)]] = value
        else:
            outputs[name] = value
    return Activations(outputs, pre)


def extract(model: keras.Model, x, pre_activation: bool = False) -> dict[str, np.ndarray]:
    """Every layer's output for the batch `x`, ordered by layer.

    With pre_activation=True, conv layers with a fused activation give their output before it
    (other layers are unchanged: their output is what they compute).
    """
    return extract_all(model, x).chosen(pre_activation)


def layer_times(model: keras.Model, x, activations: Activations | None = None, repeats: int = 5) -> dict[str, float]:
    """Seconds each layer takes on its own, per layer name (median of `repeats`).

    Measured by calling each layer eagerly on its real input from this pass, so it includes the
    backend's per-op dispatch cost; the compiled extractor runs the whole model in one step and has
    no per-layer clock. Layers whose input cannot be traced to one tensor in the graph are left out.
    """
    x = _as_batch(model, x)
    if activations is None:
        activations = extract_all(model, x)
    produced = {id(t): x for t in model.inputs}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer) or layer.name not in activations.outputs:
            continue
        try:
            produced[id(layer.output)] = activations.outputs[layer.name]
        except (AttributeError, ValueError):
            continue
    times = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer) or layer.name not in activations.outputs:
            continue
        try:
            inp = layer.input
        except (AttributeError, ValueError):
            continue
        tensors = list(inp) if isinstance(inp, (list, tuple)) else [inp]
        if not all(id(t) in produced for t in tensors):
            continue
        args = [ops.convert_to_tensor(produced[id(t)]) for t in tensors]
        arg = args if isinstance(inp, (list, tuple)) else args[0]
        samples = []
        for _ in range(repeats + 1):  # the first call warms up and is dropped
            start = time.perf_counter()
            out = layer(arg)
            ops.convert_to_numpy(out if not isinstance(out, (list, tuple)) else out[0])  # wait for the result
            samples.append(time.perf_counter() - start)
        times[layer.name] = float(np.median(samples[1:]))
    return times
