"""What each live session asked for, and the work done for a batch of its frames.

The page registers a session's settings (its model, the layer, the colour scale, Grad-CAM, how a frame
becomes the model's input) in cnnviz.live.registry under the session's token; the websocket route
(cnnviz.ui.live_route) looks the token up for every frame, so a change of layer or scale on the page
applies to the next frame without reconnecting.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import keras
import numpy as np

from cnnviz import attribution, devices, images, metrics, preprocessing
from cnnviz.live import frames, pipeline
from cnnviz.live.registry import REGISTRY, Registry  # noqa: F401 - where the page and the route find them
from cnnviz.live.scheduler import Scheduler
from cnnviz.messages import MessageError
from cnnviz.plots import live as plots
from cnnviz.plots.activations import looks_like_probabilities, value_range

TOP = 5  # classes shown
FREE_SIZE = (320, 240)  # (width, height) a model that takes any size is planned for: a camera's 4:3


@dataclass(frozen=True, eq=False)
class Settings:
    model: keras.Model
    layer: str
    scale: str  # cnnviz.plots.live.SCALES
    cam: bool
    fit: str  # cnnviz.images.FITS, or "digit"
    shape: tuple[int, int, int]  # (H, W, C) fed
    pixels: preprocessing.Pixels
    class_names: tuple[str, ...] | None  # in the session's language
    device: str = "CPU:0"
    lang: str = "en"
    top: int = TOP

    @property
    def key(self) -> tuple:
        """Frames with equal keys go through one forward pass together."""
        return (id(self.model), self.layer, self.cam, self.shape, self.device)


def settings_for(model: keras.Model, layer: str, scale: str, cam: bool, fit: str, pixels: preprocessing.Pixels,
                 class_names=None, device: str = "CPU:0", lang: str = "en",
                 shape: tuple[int, int, int] | None = None) -> Settings:
    """Checked settings (the layer is one with maps, the scale known; Grad-CAM needs a conv layer: else
    AttributionError / ValueError). `shape` defaults to the model's own input (FREE_SIZE where it has
    none)."""
    if scale not in plots.SCALES:
        raise ValueError(f"scale must be one of {plots.SCALES}; got {scale!r}")
    if layer not in attribution.spatial_layers(model):
        raise attribution.AttributionError("not_spatial", layer=layer)
    if cam:
        attribution.cam_layer(model)
    if shape is None:
        shape = preprocessing.plan(model, FREE_SIZE).shape
    return Settings(model, layer, scale, bool(cam), fit, tuple(int(v) for v in shape), pixels,
                    tuple(class_names) if class_names else None, device, lang)




def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def top_classes(output: np.ndarray, names, n: int = TOP) -> tuple[list, bool]:
    """([[label, value], ...] of the n highest outputs, whether they are probabilities)."""
    out = np.asarray(output, dtype="float64").ravel()
    order = np.argsort(np.nan_to_num(-out, nan=np.inf), kind="stable")[:n]
    names = list(names) if names and len(names) == out.size else None
    probs = looks_like_probabilities(out)
    return [[names[i] if names else str(int(i)), _finite(out[i])] for i in order], probs


def model_input(settings: Settings, data: bytes) -> np.ndarray:
    """A frame's bytes -> the [0, 1] input of the settings' size and channels (as for any picture:
    cnnviz.images.preprocess with the page's crop or pad). FrameError for bytes that are no usable frame."""
    image = frames.decode(data)
    return images.preprocess(image, settings.shape, fit=settings.fit)


def run_batch(key, items: list) -> list[bytes]:
    """The scheduler's job: items (settings, header, frame bytes) that share `key`; one answer message
    (cnnviz.live.frames.pack) per item, in order."""
    start = time.perf_counter()
    answers: list = [None] * len(items)
    ready = []
    for i, (settings, header, data) in enumerate(items):
        try:
            ready.append((i, settings, header, model_input(settings, data)))
        except MessageError as err:
            answers[i] = ({"id": header.get("id"), "t": header.get("t"), "error": err.text(settings.lang)},)
    model_s = 0.0
    if ready:
        first = ready[0][1]
        batch = np.stack([s.pixels.apply(x01) for _, s, _, x01 in ready]).astype("float32")
        with devices.device_scope(first.device):
            t0 = time.perf_counter()
            out = pipeline.pipeline(first.model, first.layer, first.cam)(batch)
            model_s = time.perf_counter() - t0
        for j, (i, s, header, x01) in enumerate(ready):
            maps = out.maps[j]
            png, grid = plots.mosaic(maps, s.scale)
            cam = attribution.upsample(out.cams[j], x01.shape[:2]) if out.cams is not None else None
            jpg = plots.seen(x01, cam)
            top, probs = top_classes(out.output[j], s.class_names, s.top)
            lo, hi = value_range(maps) if np.isfinite(maps).any() else (None, None)
            answers[i] = ({"id": header.get("id"), "t": header.get("t"), "top": top, "prob": probs,
                           "layer": s.layer, "shape": list(maps.shape), "grid": list(grid), "step": plots.step(maps.shape),
                           "lo": lo, "hi": hi,
                           "input": list(x01.shape), "cam": out.cams is not None}, jpg, png)
    total = time.perf_counter() - start
    metrics.live_frames(len(items), total)
    messages = []
    for answer in answers:
        header, *payloads = answer
        header.update(server_ms=round(total * 1000, 2), model_ms=round(model_s * 1000, 2), batch=len(items))
        if payloads:
            header["parts"] = [["seen", len(payloads[0])], ["mosaic", len(payloads[1])]]
        messages.append(frames.pack(header, *payloads))
    return messages


def _share() -> float:
    try:
        return min(1.0, max(0.05, float(os.environ.get("CNNVIZ_LIVE_SHARE", "1"))))
    except ValueError:
        return 1.0


SCHEDULER = Scheduler(run_batch, max_batch=8, share=_share(),
                      batching=os.environ.get("CNNVIZ_LIVE_BATCHING", "1") != "0")
