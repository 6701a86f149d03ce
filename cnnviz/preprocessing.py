"""What a model does to its input before its first real layer, and what size and range to feed it.

Models people bring often start with Keras preprocessing layers: Rescaling(1/255) (then they expect
pixel values 0-255, not cnnviz's 0-1), Normalization, Resizing, CenterCrop, and augmentation layers
(RandomFlip, RandomRotation, ...) that are inactive at inference, as in Keras. Fully convolutional
models take any height and width (None in their input shape): they get the image's own size, capped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras

from cnnviz import activations

MAX_FREE_SIDE = 256  # a model that takes any size gets the image's size, scaled down to this longest side
MIN_FREE_SIDE = 8

# Layers that only prepare the input: shown as such, and looked through for a Rescaling.
PREPROCESSING = (keras.layers.Rescaling, keras.layers.Normalization, keras.layers.Resizing,
                 keras.layers.CenterCrop, keras.layers.RandomFlip, keras.layers.RandomRotation,
                 keras.layers.RandomZoom, keras.layers.RandomTranslation, keras.layers.RandomContrast,
                 keras.layers.RandomBrightness, keras.layers.RandomCrop, keras.layers.GaussianNoise,
                 keras.layers.Identity)


@dataclass(frozen=True)
class InputPlan:
    """How cnnviz feeds an image to this model."""

    shape: tuple[int, int, int]  # (H, W, C) fed
    any_size: bool  # the model's height or width is None: `shape` came from the image (or the user)
    capped: bool  # the image was larger than MAX_FREE_SIDE and is scaled down
    pixel_scale: float  # multiply cnnviz's [0, 1] input by this (255.0 when the model rescales by 1/255 itself)
    rescaling: tuple[str, float, float] | None  # (name, scale, offset) of that Rescaling layer
    preprocessing: tuple[str, ...]  # names of the leading preprocessing layers, in order (paths when nested)
    sees: str | None  # name of the output that is "what the model sees" (the last of those), or None
    other_inputs: tuple[tuple, ...] = ()  # shapes of the model's inputs after the first: they get zeros


def leading_preprocessing(model: keras.Model) -> list[tuple[str, keras.layers.Layer]]:
    """The chain of preprocessing layers right after the model's input (nested models looked into)."""
    chain, current = [], f"{activations.INPUT}:0"
    for call in activations.calls(model):
        sources = call.sources
        if sources != [current] or not isinstance(call.layer, PREPROCESSING) or len(call.names) != 1:
            if current in sources:  # the input goes on into a real layer: the chain has ended
                break
            continue
        chain.append((call.names[0], call.layer))
        current = call.names[0]
    return chain


def pixel_rescaling(chain: list[tuple[str, keras.layers.Layer]]) -> tuple[str, float, float] | None:
    """(name, scale, offset) of the chain's first Rescaling when it maps pixel values 0-255 to [0, 1]
    (1/255) or [-1, 1] (1/127.5, offset -1): the model expects 0-255. Else None."""
    for name, layer in chain:
        if isinstance(layer, keras.layers.Rescaling):
            scale, offset = layer.scale, layer.offset
            if not isinstance(scale, (int, float)) or not isinstance(offset, (int, float)):
                return None  # per-channel scales: not a pixel range we can tell
            if (math.isclose(scale, 1 / 255, rel_tol=1e-3) and abs(offset) < 1e-6) or (
                    math.isclose(scale, 1 / 127.5, rel_tol=1e-3) and math.isclose(offset, -1.0, rel_tol=1e-3)):
                return name, float(scale), float(offset)
            return None
    return None


def free_size(image_size: tuple[int, int], cap: int = MAX_FREE_SIDE) -> tuple[int, int, bool]:
    """(height, width, capped) for a model that takes any size: the image's own (PIL (width, height)),
    scaled down to `cap` on its longer side when larger, aspect kept, at least MIN_FREE_SIDE."""
    w, h = (int(v) for v in image_size)
    scale = min(1.0, cap / max(w, h))
    return (max(MIN_FREE_SIDE, round(h * scale)), max(MIN_FREE_SIDE, round(w * scale)), scale < 1.0)


def plan(model: keras.Model, image_size: tuple[int, int], size: tuple[int, int] | None = None) -> InputPlan:
    """How to feed an image of PIL size `image_size` to `model`; `size` (H, W) is the user's own choice
    for a model that takes any size (else the image's, capped). Raises ValueError for a non-image model."""
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3:
        raise ValueError(f"The model's input {tuple(model.inputs[0].shape)} is not an image (height, width, channels).")
    h, w, c = shape
    channels = int(c) if c is not None else 3
    any_size = h is None or w is None
    capped = False
    if any_size:
        if size is not None:
            fh, fw = (max(MIN_FREE_SIDE, min(int(v), MAX_FREE_SIDE)) for v in size)
        else:
            fh, fw, capped = free_size(image_size)
        h = int(h) if h is not None else fh
        w = int(w) if w is not None else fw
    chain = leading_preprocessing(model)
    rescaling = pixel_rescaling(chain)
    return InputPlan((int(h), int(w), channels), any_size, capped, 255.0 if rescaling else 1.0, rescaling,
                     tuple(name for name, _ in chain), chain[-1][0] if chain else None,
                     tuple(tuple(t.shape) for t in model.inputs[1:]))
