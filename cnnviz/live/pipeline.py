"""The compiled pass of the live view for a batch of frames: one layer's maps and the model's own output,
and with Grad-CAM the CAM layer's output and its gradient from the same pass (cnnviz.attribution's probe
with the layer's maps and the output as extra outputs).

Built once per (model, layer, Grad-CAM) and kept while the model lives (a few per model, the least
recently used dropped), like the extractor: never a keras.Model per frame.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import keras
import numpy as np

from cnnviz import activations, attribution
from cnnviz.filters import KERNEL_TYPES

PER_MODEL = 6  # pipelines kept per model (a user trying layer after layer must not grow memory without end)


@dataclass(frozen=True)
class Output:
    """For a batch of N frames: the layer's maps (N, h, w, c), the model's output (N, classes), and the
    Grad-CAM of each frame's top class at the CAM layer's resolution (N, h', w') or None."""

    maps: np.ndarray
    output: np.ndarray
    cams: np.ndarray | None


def output_name(model: keras.Model) -> str:
    """The model's (first) output, as cnnviz.activations names it."""
    names = activations.model_outputs(model)
    return names[0] if names else activations.extractor(model, pre_activations=False).names[-1]


def default_layer(model: keras.Model) -> str:
    """The layer a live view starts on: the first conv layer's output (after its BatchNormalization and
    activation when they follow it), else the first spatial layer."""
    layers = attribution.spatial_layers(model)
    if not layers:
        raise attribution.AttributionError("no_conv")
    ex = activations.extractor(model, pre_activations=False)
    calls = ex.calls
    first = next((i for i, c in enumerate(calls) if isinstance(c.layer, KERNEL_TYPES)
                  and c.names[0] in layers), None)
    if first is None:
        return layers[0]
    while (first + 1 < len(calls) and isinstance(calls[first + 1].layer, attribution._AFTER_CONV)
           and calls[first + 1].sources == [calls[first].names[0]]):
        first += 1
    return calls[first].names[0]


class Pipeline:
    def __init__(self, model: keras.Model, layer: str, cam: bool):
        self.layer = layer
        self.cam_layer = attribution.cam_layer(model) if cam else None
        self.output_name = output_name(model)
        self._model = weakref.ref(model)  # the cache below is keyed by the model: never keep it alive from here
        self._lock = threading.Lock()
        self._probe = None
        if self.cam_layer is None:
            ex = activations.extractor(model, pre_activations=False)
            if layer not in ex.tensors:
                raise attribution.AttributionError("no_layer", layer=layer)
            self._forward = keras.Model(ex.inputs, [ex.tensors[layer], ex.tensors[self.output_name]],
                                        name=f"{model.name}_live")
        else:  # this pipeline's own probe (not attribution's cache): dropped with the pipeline
            self._probe = attribution.build_probe(model, self.cam_layer, (layer, self.output_name))

    def __call__(self, batch: np.ndarray) -> Output:
        batch = np.asarray(batch, dtype="float32")
        with self._lock:
            if self.cam_layer is None:
                feed = [batch, *activations.other_inputs(self._forward, len(batch))] \
                    if len(self._forward.inputs) > 1 else batch
                maps, out = self._forward.predict_on_batch(feed)
                return Output(np.asarray(maps), np.asarray(out), None)
            model = self._model()
            if model is None:
                raise RuntimeError("the model of this live view is gone")
            cams, _, (maps, out) = attribution.grad_cam_batch(model, batch, self.cam_layer,
                                                              (self.layer, self.output_name), self._probe)
            return Output(np.asarray(maps), np.asarray(out), cams)


_pipelines: "weakref.WeakKeyDictionary[keras.Model, OrderedDict]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def pipeline(model: keras.Model, layer: str, cam: bool) -> Pipeline:
    """The pass for (model, layer, Grad-CAM), built on first use and kept (PER_MODEL per model)."""
    key = (layer, bool(cam))
    with _lock:
        per_model = _pipelines.get(model)
        if per_model is None:
            per_model = _pipelines[model] = OrderedDict()
        found = per_model.get(key)
        if found is not None:
            per_model.move_to_end(key)
            return found
    built = Pipeline(model, layer, cam)  # outside the lock: building takes a while
    with _lock:
        per_model = _pipelines.setdefault(model, OrderedDict())
        found = per_model.setdefault(key, built)
        per_model.move_to_end(key)
        while len(per_model) > PER_MODEL:
            per_model.popitem(last=False)
        return found
