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
    """Whether `extract_all` gives any pre-activation for this model (a conv layer with a fused activation,
    nested ones included)."""
    return any(has_fused_activation(layer) for layer in _any(model).layers.values())


class _LinearPart(keras.layers.Layer):
    """The conv layer's own computation up to, not including, its activation.

    Mirrors the Keras conv layer's call (convolution_op, then the bias reshaped for the data format)
    with the layer's own variables, so the numbers are those Keras computes inside the layer.
    """

    def __init__(self, conv, path: str | None = None, **kwargs):
        # Keras names cannot hold "/": a nested conv's path "block/conv" becomes "block__conv__pre_activation"
        super().__init__(name=(path or conv.name).replace("/", "__") + PRE_SUFFIX.replace("/", "__"), **kwargs)
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


INPUT = "__input__"  # source name of the model's input in Extractor.calls
SEP = "/"  # between a nested model's name and its layers' names: "mobilenetv2_1.00_96/block_1_expand"


def is_graph_model(layer) -> bool:
    """A Sequential or functional model: one whose layers can be traced one by one (a subclassed model
    cannot: its call is Python code, so it stays one layer)."""
    return isinstance(layer, keras.Sequential) or (
        isinstance(layer, keras.Model) and getattr(layer, "_nodes_by_depth", None) is not None
        and hasattr(layer, "_run_through_graph"))


_UNTRACED = "\0untraced"


@dataclass(frozen=True)
class _Source:
    """Where a recorded call's argument comes from: an output of the extractor, by name."""

    name: str


@dataclass(frozen=True)
class Call:
    """One layer call of the traced graph: to re-run the layer alone on values from one pass."""

    names: tuple[str, ...]  # the extractor outputs it made
    layer: keras.layers.Layer
    args: tuple  # with _Source where a traced tensor went in (_UNTRACED as its name: cannot re-run)
    kwargs: dict

    @property
    def sources(self) -> list[str]:
        """The names of the outputs (or `INPUT:i`) this call reads, in argument order."""
        return [v.name for v in keras.tree.flatten((self.args, self.kwargs)) if isinstance(v, _Source)]


class Extractor:
    """The compiled feature extractor of one model. Use `extract`, which caches these.

    The model's graph is traced again from fresh inputs, layer by layer, with the model's own layer
    objects (so their weights): every layer's output in the model's graph (never a node of another
    graph the layer was also called in, e.g. a Keras Application's own), nested Sequential and functional
    models opened at any depth, their layers named by path ("base/block_1_expand"). Where nested layer
    names clash, nested models stay one layer each (the extractor's layer names must be unique).
    """

    def __init__(self, model: keras.Model, pre_activations: bool = True, inject: str | None = None):
        try:
            inputs = list(model.inputs)
        except (AttributeError, ValueError):
            inputs = None
        if not inputs:
            raise ValueError("The model has no defined input yet: build it with keras.Input(shape=...) first.")
        try:
            self._build(model, inputs, pre_activations, open_nested=True, inject=inject)
        except ValueError:  # e.g. two nested models with layers of the same name
            self._build(model, inputs, pre_activations, open_nested=False, inject=inject)
        self.lock = threading.Lock()

    def _build(self, model, inputs, pre_activations: bool, open_nested: bool, inject: str | None = None) -> None:
        fresh = [keras.Input(shape=tuple(t.shape[1:]), dtype=t.dtype) for t in inputs]
        self.inputs = fresh
        self.delta = None  # with `inject`: an extra input added to that layer's output (see cnnviz.attribution)
        produced = {id(t): f"{INPUT}:{i}" for i, t in enumerate(fresh)}  # traced tensor -> its name
        records = []  # (order key, names, tensors, Call, pre-activation tensor or None)
        used: dict[str, int] = {}

        def template(value):
            if isinstance(value, keras.KerasTensor):
                name = produced.get(id(value))
                return _Source(name if name is not None else _UNTRACED)
            return value

        def visit(layer, args, kwargs, prefix: str, key: tuple):
            if open_nested and is_graph_model(layer):
                return trace(layer, args[0] if len(args) == 1 else list(args), prefix + layer.name + SEP, key)
            path = prefix + layer.name
            used[path] = used.get(path, 0) + 1
            if used[path] > 1:  # a shared layer called again: its second output
                path = f"{path}#{used[path]}"
            call_args = keras.tree.map_structure(template, (args, kwargs))
            out = layer(*args, **kwargs)
            tensors = keras.tree.flatten(out)
            names = [path] if len(tensors) == 1 else [f"{path}:{i}" for i in range(len(tensors))]
            if inject is not None and path == inject and len(tensors) == 1:
                # Named after the layer: an unnamed op would take Keras's next free "add", which a loaded
                # model may already use. d(anything after)/d(delta) at delta = 0 is d/d(this output).
                tag = path.replace(SEP, "__") + "__injected_delta"
                self.delta = keras.Input(shape=tuple(out.shape[1:]), dtype=out.dtype, name=tag + "_input")
                out = keras.layers.Add(name=tag)([out, self.delta])
                tensors = [out]
            for name, tensor in zip(names, tensors):
                produced[id(tensor)] = name
            pre = None
            if pre_activations and has_fused_activation(layer) and len(args) == 1:
                pre = _LinearPart(layer, path)(args[0])
            records.append((key, names, tensors, Call(tuple(names), layer, *call_args), pre))
            return out

        def trace(m, x, prefix: str, key: tuple):
            order = {id(layer): i for i, layer in enumerate(m.layers)}
            if isinstance(m, keras.Sequential):
                h = x
                for layer in m.layers:  # Sequential.layers leaves its InputLayer out
                    h = visit(layer, (h,), {}, prefix, key + (order[id(layer)],))
                return h

            def operation_fn(op):
                return lambda *args, **kwargs: visit(op, args, kwargs, prefix, key + (order.get(id(op), -1),))

            return m._run_through_graph(x, operation_fn=operation_fn)  # Keras's own walk of the graph

        top = trace(model, fresh[0] if len(fresh) == 1 else fresh, "", ())
        # the model's own outputs, by the name of the output that is each (a multi-output model has several)
        self.output_names: list[str] = [produced[id(t)] for t in keras.tree.flatten(top) if id(t) in produced]
        if not records:
            raise ValueError("The model has no layers to show.")
        records.sort(key=lambda r: r[0])  # layer order, nested layers in their parent's place
        self.names: list[str] = []  # one per extractor output, in layer order
        self.layers: dict[str, keras.layers.Layer] = {}  # output name -> the layer that made it
        self.calls: list[Call] = [r[3] for r in records]
        self.tensors: dict[str, keras.KerasTensor] = {}  # output name -> its symbolic tensor in this trace
        outputs = []
        for _, names, tensors, call, pre in records:
            self.names.extend(names)
            outputs.extend(tensors)
            self.layers.update(dict.fromkeys(names, call.layer))
            self.tensors.update(zip(names, tensors))
            if pre is not None:
                self.names.append(names[0] + PRE_SUFFIX)
                outputs.append(pre)
        if self.delta is not None:  # a probe's trace (cnnviz.attribution builds its own model from `tensors`)
            return
        self.model = keras.Model(inputs=fresh[0] if len(fresh) == 1 else fresh, outputs=outputs,
                                 name=f"{model.name}_extractor")

    def __call__(self, x) -> dict[str, np.ndarray]:
        feed = [x] + other_inputs(self.model, len(x)) if len(self.model.inputs) > 1 else x
        with self.lock:  # the compiled predict function is not safe to enter from two threads
            values = self.model.predict_on_batch(feed)
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


def groups(names) -> list[tuple[str | None, list[str]]]:
    """Consecutive output names grouped by the nested model they sit in (its top-level name), in order:
    [(None, ["rescaling"]), ("base", ["base/conv1", "base/bn1", ...]), (None, ["gap", "head"])]."""
    out: list[tuple[str | None, list[str]]] = []
    for name in names:
        parent = name.split(SEP, 1)[0] if SEP in name else None
        if out and out[-1][0] == parent:
            out[-1][1].append(name)
        else:
            out.append((parent, [name]))
    return out


def _any(model: keras.Model) -> Extractor:
    """An extractor already built for `model` (its names, layers and calls do not depend on the kind)."""
    with _cache_lock:
        built = _cache.get(model) or {}
        ex = next(iter(built.values()), None)
    return ex or extractor(model, pre_activations=False)


def calls(model: keras.Model) -> list[Call]:
    """The layer calls of the model's traced graph, in layer order (from whichever extractor is built)."""
    return _any(model).calls


def model_outputs(model: keras.Model) -> list[str]:
    """The names (in `extract`) of the model's own outputs, in the model's order."""
    return list(_any(model).output_names)


def layer_of(model: keras.Model, name: str) -> keras.layers.Layer:
    """The layer that made the output called `name` in `extract` (a path "base/conv" for nested layers)."""
    return _any(model).layers[name]


def other_inputs(model: keras.Model, batch: int) -> list[np.ndarray]:
    """Zeros for every input after the first (a model with several inputs is fed one image, in its first
    input): unknown sizes become 1."""
    return [np.zeros((batch, *(d if d is not None else 1 for d in t.shape[1:])), dtype=t.dtype or "float32")
            for t in model.inputs[1:]]


def _as_batch(model: keras.Model, x) -> np.ndarray:
    x = np.asarray(x, dtype="float32")
    expected = tuple(model.inputs[0].shape)
    if x.ndim == len(expected) - 1:  # one image (H, W, C): the batch of one (1, H, W, C) it stands for
        x = x[np.newaxis]
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
    """Every layer's output for the batch `x`, ordered by layer; one image (H, W, C) counts as the batch of
    one (1, H, W, C) (same result, batch axis included).

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
    values = {f"{INPUT}:0": x, **activations.outputs,
              **{f"{INPUT}:{i}": z for i, z in enumerate(other_inputs(model, len(x)), start=1)}}
    times = {}
    for call in calls(model):
        sources = call.sources
        if not sources or not all(s in values for s in sources):
            continue
        args, kwargs = keras.tree.map_structure(
            lambda v: ops.convert_to_tensor(values[v.name]) if isinstance(v, _Source) else v, (call.args, call.kwargs))
        samples = []
        for _ in range(repeats + 1):  # the first call warms up and is dropped
            start = time.perf_counter()
            out = call.layer(*args, **kwargs)
            ops.convert_to_numpy(keras.tree.flatten(out)[0])  # wait for the result
            samples.append(time.perf_counter() - start)
        for name in call.names:
            times[name] = float(np.median(samples[1:]))
    return times


def weights_fingerprint(model: keras.Model) -> str:
    """A short digest of the model's weights: changes when training changes the model in place."""
    h = hashlib.blake2b(digest_size=16)
    for w in model.weights:
        h.update(np.ascontiguousarray(ops.convert_to_numpy(w)).tobytes())
    return h.hexdigest()
