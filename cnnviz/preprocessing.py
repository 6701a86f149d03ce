"""What a model does to its input before its first real layer, and what size and range to feed it.

Models people bring often start with Keras preprocessing layers: Rescaling(1/255) (then they expect
pixel values 0-255, not cnnviz's 0-1), Normalization, Resizing, CenterCrop, and augmentation layers
(RandomFlip, RandomRotation, ...) that are inactive at inference, as in Keras. Fully convolutional
models take any height and width (None in their input shape): they get the image's own size, capped.

The pixel range a model was trained on is its input contract (CONTRACTS): cnnviz's images are [0, 1]
and `Pixels.apply` maps them to what the model wants, in numpy or inside a Keras graph alike. Where it
comes from (SOURCES), first found first: the model's leading Rescaling/Normalization layers, what the
model file declares (ModelInfo.pixels), the Keras Application's own preprocess_input, the user's
choice, a range assumed from the model's shape (an ONNX ImageNet classifier: torch's), else [0, 1] assumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from cnnviz import activations

MAX_FREE_SIDE = 256  # a model that takes any size gets the image's size, scaled down to this longest side
MIN_FREE_SIDE = 8

# Layers that only prepare the input: shown as such, and looked through for a Rescaling.
PREPROCESSING = (keras.layers.Rescaling, keras.layers.Normalization, keras.layers.Resizing,
                 keras.layers.CenterCrop, keras.layers.RandomFlip, keras.layers.RandomRotation,
                 keras.layers.RandomZoom, keras.layers.RandomTranslation, keras.layers.RandomContrast,
                 keras.layers.RandomBrightness, keras.layers.RandomCrop, keras.layers.GaussianNoise,
                 keras.layers.Identity)


CONTRACTS = ("unit", "byte", "symmetric", "torch", "caffe")
# where a plan's contract came from, in that order
SOURCES = ("layers", "file", "application", "user", "assumed", "default")
IMAGENET_MEAN = (0.485, 0.456, 0.406)  # of RGB pixels in [0, 1] (keras.applications' "torch" mode)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_MEAN = (103.939, 116.779, 123.68)  # of BGR pixels in 0-255 (keras.applications' "caffe" mode)
SYMMETRIC_TOLERANCE = 0.01  # a Rescaling that maps 0 and 255 this close to -1 and 1 takes pixels 0-255
NORMALIZATION_BYTE_MEAN = 2.0  # a leading Normalization whose mean exceeds this was adapted on 0-255 pixels


@dataclass(frozen=True)
class Pixels:
    """An input contract: the [0, 1] image x, its channels reversed (RGB -> BGR) when `reverse_channels`,
    then x * scale + offset per channel. A one-value scale/offset fits any number of channels; three
    values fit three channels only."""

    name: str
    reverse_channels: bool
    scale: tuple[float, ...]
    offset: tuple[float, ...]

    def fits(self, channels: int) -> bool:
        return len(self.scale) == 1 or len(self.scale) == channels

    def constants(self, channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(reverse as 0/1, scale (C,), offset (C,)) as float32 arrays: what a compiled graph takes as
        inputs (cnnviz.featurevis), so one graph serves every contract. ValueError where it does not fit."""
        if not self.fits(channels):
            raise ValueError(f"The pixel range {self.name!r} is for {len(self.scale)}-channel (RGB) images; "
                             f"this model takes {channels} channel(s).")
        full = lambda v: np.broadcast_to(np.asarray(v, dtype="float32"), (channels,)).copy()  # noqa: E731
        return np.float32(self.reverse_channels), full(self.scale), full(self.offset)

    def black(self, channels: int) -> tuple[float, ...]:
        """A black pixel ([0, 1] zeros) as the model takes it, one value per channel: what attribution's
        `black` wants."""
        return tuple(float(v) for v in self.apply(np.zeros((channels,), dtype="float32")))

    def apply(self, x01):
        """The [0, 1] image(s) `x01` (..., C), numpy array or Keras tensor, as the model wants them: a
        float32 numpy array for numpy, a tensor (keras.ops) otherwise."""
        reverse, scale, offset = self.constants(int(x01.shape[-1]))
        if isinstance(x01, np.ndarray):
            x = np.asarray(x01, dtype="float32")
            return ((x[..., ::-1] if self.reverse_channels else x) * scale + offset).astype("float32")
        return affine(x01, reverse, scale, offset)


def affine(x, reverse, scale, offset):
    """keras.ops form of Pixels.apply with its `constants` as tensors (a graph's inputs): reverse is 0 or 1,
    so the blend below picks one of the two orders exactly."""
    flipped = ops.flip(x, axis=-1)
    x = reverse * flipped + (1.0 - reverse) * x
    return x * scale + offset


PIXELS = {
    "unit": Pixels("unit", False, (1.0,), (0.0,)),
    "byte": Pixels("byte", False, (255.0,), (0.0,)),
    "symmetric": Pixels("symmetric", False, (2.0,), (-1.0,)),
    "torch": Pixels("torch", False, tuple(1.0 / s for s in IMAGENET_STD),
                    tuple(-m / s for m, s in zip(IMAGENET_MEAN, IMAGENET_STD))),
    "caffe": Pixels("caffe", True, (255.0,) * 3, tuple(-m for m in CAFFE_MEAN)),
}


def contract(name: str) -> Pixels:
    """The Pixels of a contract name (CONTRACTS). ValueError for another name."""
    try:
        return PIXELS[name]
    except KeyError:
        raise ValueError(f"No pixel range called {name!r}; choose one of {', '.join(CONTRACTS)}.") from None


def choices(channels: int) -> tuple[str, ...]:
    """The contracts an input of `channels` channels can take (torch and caffe are for RGB only)."""
    return tuple(name for name in CONTRACTS if PIXELS[name].fits(channels))


@dataclass(frozen=True)
class InputPlan:
    """How cnnviz feeds an image to this model."""

    shape: tuple[int, int, int]  # (H, W, C) fed
    any_size: bool  # the model's height or width is None: `shape` came from the image (or the user)
    capped: bool  # the image was larger than MAX_FREE_SIDE and is scaled down
    pixels: Pixels  # cnnviz's [0, 1] image goes through pixels.apply before the model sees it
    source: str  # where `pixels` came from: one of SOURCES
    rescaling: tuple[str, float, float] | None  # (name, scale, offset) of a leading pixel Rescaling layer
    preprocessing: tuple[str, ...]  # names of the leading preprocessing layers, in order (paths when nested)
    sees: str | None  # name of the output that is "what the model sees" (the last of those), or None
    other_inputs: tuple[tuple, ...] = ()  # shapes of the model's inputs after the first: they get zeros
    normalization: str | None = None  # name of the leading Normalization layer the contract was read from

    def feed(self, x01):
        """The model's input for cnnviz's [0, 1] image(s) `x01`."""
        return self.pixels.apply(x01)


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
    (1/255) or to [-1, 1] within 1% at either end (1/127.5, offset -1; Google's Lite/MobileNet (x - 127) / 128):
    the model expects 0-255. Else None."""
    for name, layer in chain:
        if isinstance(layer, keras.layers.Rescaling):
            scale, offset = layer.scale, layer.offset
            if not isinstance(scale, (int, float)) or not isinstance(offset, (int, float)):
                return None  # per-channel scales: not a pixel range we can tell
            top = offset + 255 * scale  # where pixel value 255 lands
            if (math.isclose(scale, 1 / 255, rel_tol=1e-3) and abs(offset) < 1e-6) or (
                    abs(offset + 1.0) <= SYMMETRIC_TOLERANCE and abs(top - 1.0) <= SYMMETRIC_TOLERANCE):
                return name, float(scale), float(offset)
            return None
    return None


def normalization_pixels(chain: list[tuple[str, keras.layers.Layer]]) -> tuple[str, str] | None:
    """(name, contract) when the chain's first Rescaling or Normalization is a Normalization that
    standardises pixels itself: "byte" when its mean is above NORMALIZATION_BYTE_MEAN (adapted on 0-255),
    else "unit". None for an inverting one, one that leaves values as they are (mean 0, variance 1: not
    adapted), or when a Rescaling comes first."""
    for name, layer in chain:
        if isinstance(layer, keras.layers.Rescaling):
            return None
        if isinstance(layer, keras.layers.Normalization):
            if layer.invert:
                return None
            mean = np.asarray(ops.convert_to_numpy(layer.mean), dtype="float64")
            variance = np.asarray(ops.convert_to_numpy(layer.variance), dtype="float64")
            if np.allclose(mean, 0.0) and np.allclose(variance, 1.0):
                return None
            return name, "byte" if float(mean.max()) > NORMALIZATION_BYTE_MEAN else "unit"
    return None


def detect(model: keras.Model, file: str = "", application: str = "", user: str = "",
           assumed: str = "") -> tuple[Pixels, str]:
    """(contract, source) for `model`: its leading layers decide first, then what its file declares
    (`file`), the Keras Application's mode (`application`), the user's choice (`user`), what its loader
    assumes (`assumed`) (contract names, "" for none), else "unit" as "default". ValueError for an unknown
    name or one that does not fit the model's channels (torch and caffe need RGB)."""
    chain = leading_preprocessing(model)
    norm = normalization_pixels(chain)
    found = ("byte", "layers") if pixel_rescaling(chain) else ((norm[1], "layers") if norm else None)
    if found is None:
        found = next(((name, source) for name, source in ((file, "file"), (application, "application"),
                                                          (user, "user"), (assumed, "assumed")) if name),
                     ("unit", "default"))
    pixels = contract(found[0])
    channels = int(model.inputs[0].shape[-1] or 3)  # unknown channels: fed RGB, as plan() does
    if not pixels.fits(channels):
        raise ValueError(f"The pixel range {pixels.name!r} ({found[1]}) is for RGB images; "
                         f"this model takes {channels} channel(s).")
    return pixels, found[1]


def free_size(image_size: tuple[int, int], cap: int = MAX_FREE_SIDE) -> tuple[int, int, bool]:
    """(height, width, capped) for a model that takes any size: the image's own (PIL (width, height)),
    scaled down to `cap` on its longer side when larger, aspect kept, at least MIN_FREE_SIDE."""
    w, h = (int(v) for v in image_size)
    scale = min(1.0, cap / max(w, h))
    return (max(MIN_FREE_SIDE, round(h * scale)), max(MIN_FREE_SIDE, round(w * scale)), scale < 1.0)


def plan(model: keras.Model, image_size: tuple[int, int], size: tuple[int, int] | None = None,
         file: str = "", application: str = "", user: str = "", assumed: str = "") -> InputPlan:
    """How to feed an image of PIL size `image_size` to `model`; `size` (H, W) is the user's own choice
    for a model that takes any size (else the image's, capped); `file`, `application` and `user` name
    contracts as `detect` takes them. Raises ValueError for a non-image model or a contract that does
    not fit it."""
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
    pixels, source = detect(model, file, application, user, assumed)
    norm = normalization_pixels(chain)
    return InputPlan((int(h), int(w), channels), any_size, capped, pixels, source, pixel_rescaling(chain),
                     tuple(name for name, _ in chain), chain[-1][0] if chain else None,
                     tuple(tuple(t.shape) for t in model.inputs[1:]), norm[0] if norm else None)
