"""Every layer's output for a batch, through one cached, compiled feature extractor per model.

The extractor is a keras.Model from the model's inputs to every layer's output and, when asked for,
the linear part (before the activation) of each conv layer that has a fused activation: that part
computes the convolution a second time, so the plain extractor leaves it out and the one with
pre-activations is built only when a page shows them. Each is built once per model object and kept
in a WeakKeyDictionary, so it goes away with the model; calls go through
`predict_on_batch` (the backend's compiled predict step) under a per-extractor lock, so several
browser sessions can share it. Backend-agnostic: only keras and keras.ops.
"""

from __future__ import annotations

import hashlib
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


def has_pre_activations(model: keras.Model) -> bool:
    """Whether `extract_all` gives any pre-activation for this model (a conv layer with a fused activation)."""
    return any(has_fused_activation(layer) for layer in model.layers)


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


INPUT = "__input__"  # source name of the model's input in Extractor.calls


class Extractor:
    """The compiled feature extractor of one model. Use `extract`, which caches these."""

    def __init__(self, model: keras.Model, pre_activations: bool = True):
        try:
            inputs = list(model.inputs)
        except (AttributeError, ValueError):
            inputs = None
        if not inputs:
            raise ValueError("The model has no defined input yet: build it with keras.Input(shape=...) first.")
        self.names: list[str] = []  # one per extractor output, in layer order
        # (layer, names of the outputs it reads, whether it takes a list): to re-run a layer alone
        self.calls: list[tuple[keras.layers.Layer, list[str], bool]] = []
        outputs = []

        def record(layer, sources, takes_list, layer_input, out):
            tensors = list(out) if isinstance(out, (list, tuple)) else [out]
            names = [layer.name] if len(tensors) == 1 else [f"{layer.name}:{i}" for i in range(len(tensors))]
            self.names.extend(names)
            outputs.extend(tensors)
            self.calls.append((layer, sources, takes_list))
            if pre_activations and has_fused_activation(layer):
                self.names.append(layer.name + PRE_SUFFIX)
                outputs.append(_LinearPart(layer)(layer_input))
            return names

        if isinstance(model, keras.Sequential):
            # A Sequential may hold several graphs of its layers (one per build); chain the layers once
            # on a fresh input so every output here belongs to one graph.
            first = inputs[0]
            inputs = [keras.Input(shape=tuple(first.shape[1:]), dtype=first.dtype)]
            h, source = inputs[0], f"{INPUT}:0"
            for layer in model.layers:
                if isinstance(layer, keras.layers.InputLayer):
                    continue
                out = layer(h)
                (source,) = record(layer, [source], False, h, out)
                h = out
        else:
            produced = {id(t): f"{INPUT}:{i}" for i, t in enumerate(inputs)}
            for layer in model.layers:
                if isinstance(layer, keras.layers.InputLayer):
                    continue
                out = _layer_outputs(layer)
                inp = layer.input
                takes_list = isinstance(inp, (list, tuple))
                tensors_in = list(inp) if takes_list else [inp]
                sources = [produced.get(id(t)) for t in tensors_in]
                names = record(layer, sources, takes_list, inp, out if len(out) > 1 else out[0])
                for name, tensor in zip(names, out):
                    produced[id(tensor)] = name
        if not outputs:
            raise ValueError("The model has no layers to show.")
        self.model = keras.Model(inputs=inputs[0] if len(inputs) == 1 else inputs, outputs=outputs,
                                 name=f"{model.name}_extractor")
        self.lock = threading.Lock()

    def __call__(self, x) -> dict[str, np.ndarray]:
        with self.lock:  # the compiled predict function is not safe to enter from two threads
            values = self.model.predict_on_batch(x)
        if not isinstance(values, (list, tuple)):
            values = [values]
        return {name: np.asarray(v) for name, v in zip(self.names, values)}


_cache: "weakref.WeakKeyDictionary[keras.Model, dict[bool, Extractor]]" = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def extractor(model: keras.Model, pre_activations: bool = True) -> Extractor:
    """The cached extractor of `model` (with or without the conv layers' pre-activations), built on first use."""
    with _cache_lock:
        built = _cache.get(model)
        if built is None:
            built = _cache[model] = {}
        ex = built.get(pre_activations)
        if ex is None:
            ex = built[pre_activations] = Extractor(model, pre_activations)
        return ex


def _calls(model: keras.Model):
    """The layers' calls of any extractor already built for `model` (they do not depend on the kind)."""
    with _cache_lock:
        built = _cache.get(model) or {}
        ex = next(iter(built.values()), None)
    return (ex or extractor(model, pre_activations=False)).calls


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


def extract_all(model: keras.Model, x, pre_activations: bool = True) -> Activations:
    """Every layer's output and (unless pre_activations=False: `pre` is then empty) the conv layers'
    pre-activations for the batch `x`, from one pass."""
    values = extractor(model, pre_activations)(_as_batch(model, x))
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
    return extract_all(model, x, pre_activations=pre_activation).chosen(pre_activation)


def layer_times(model: keras.Model, x, activations: Activations | None = None, repeats: int = 5) -> dict[str, float]:
    """Seconds each layer takes on its own, per layer name (median of `repeats`).

    Measured by calling each layer eagerly on its real input from this pass, so it includes the
    backend's per-op dispatch cost; the compiled extractor runs the whole model in one step and has
    no per-layer clock. Layers whose input cannot be traced to an output of this pass are left out.
    """
    x = _as_batch(model, x)
    if activations is None:
        activations = extract_all(model, x, pre_activations=False)
    values = {f"{INPUT}:0": x, **activations.outputs}
    times = {}
    for layer, sources, takes_list in _calls(model):
        if not all(s in values for s in sources):
            continue
        args = [ops.convert_to_tensor(values[s]) for s in sources]
        arg = args if takes_list else args[0]
        samples = []
        for _ in range(repeats + 1):  # the first call warms up and is dropped
            start = time.perf_counter()
            out = layer(arg)
            ops.convert_to_numpy(out[0] if isinstance(out, (list, tuple)) else out)  # wait for the result
            samples.append(time.perf_counter() - start)
        times[layer.name] = float(np.median(samples[1:]))
    return times


def weights_fingerprint(model: keras.Model) -> str:
    """A short digest of the model's weights: changes when training changes the model in place."""
    h = hashlib.blake2b(digest_size=16)
    for w in model.weights:
        h.update(np.ascontiguousarray(ops.convert_to_numpy(w)).tobytes())
    return h.hexdigest()
