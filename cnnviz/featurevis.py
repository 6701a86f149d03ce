"""What a filter (or a class) looks for: activation maximisation, for any Keras 3 model on any backend.

Gradient ascent from low-amplitude noise on an image that is made, at every step, from parameters:
- the decorrelated Fourier parameterisation of Olah et al. ("Feature Visualization", Distill 2017, and
  Lucid's `fft_image`): a spectrum scaled by 1/frequency, so low frequencies are cheap and high ones
  expensive; with three channels, colours decorrelated by Lucid's ImageNet colour-correlation matrix;
  a sigmoid keeps pixels in [0, 1]. `fourier=False` optimises the pixels (through the sigmoid) instead;
- transformation robustness (Lucid's standard transforms): before the model sees the image, each step
  jitters it by a random shift, a random scale and a small random rotation (one Keras affine warp,
  reflecting at the borders), so the picture must work wherever and however large it lands;
- penalties on total variation and on the L2 distance from mid-grey;
- Adam, with `steps` and `learning_rate`.

The objective is the mean over positions of one channel of a layer's output (one filter), or one entry
of a vector output; `layer=None` means the class score (the value before the softmax, as in
cnnviz.attribution). All units of a layer are optimised together, one image per unit in one batch, so a
whole layer's grid costs about as much as one filter. Gradients come from cnnviz.gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from cnnviz import activations, attribution, gradients, preprocessing

# Lucid's colour correlation (square root of the ImageNet colour covariance, from its SVD), columns normalised
_COLOR = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]], dtype="float32")
_COLOR = _COLOR / np.max(np.linalg.norm(_COLOR, axis=0))
_MAGIC = 4.0  # Lucid divides the Fourier image by 4 before the sigmoid


@dataclass(frozen=True)
class Settings:
    steps: int = 64
    learning_rate: float = 0.05
    fourier: bool = True
    jitter: int = 4  # pixels, each way
    scale: float = 0.05  # random scale in [1 - scale, 1 + scale]
    rotate: float = 5.0  # degrees, each way
    tv: float = 0.0025  # total-variation penalty weight
    l2: float = 0.01  # penalty weight on (pixel - 0.5)^2
    seed: int = 0


class FeatureVisError(ValueError):
    """Cannot visualise: the cause as an i18n key under `featurevis.error.` with its values."""

    def __init__(self, key: str, **values):
        super().__init__(f"{key}: {values}" if values else key)
        self.key = key
        self.values = values


@dataclass(frozen=True)
class Target:
    model: keras.Model  # inputs -> the layer's output (or the class scores)
    units: int  # channels of the layer (or classes)
    spatial: bool


def target(model: keras.Model, layer: str | None) -> Target:
    """The model's graph cut at `layer` (only what that layer needs is computed); layer=None: the class
    scores. Both graphs are built once per model and layer by cnnviz.attribution (`cut`, `probe`)."""
    if layer is None:
        try:
            pr = attribution.probe(model)
        except attribution.AttributionError as err:
            raise FeatureVisError("not_classifier") from err
        return Target(pr.model, pr.classes, False)
    try:
        cut = attribution.cut(model, layer)
    except attribution.AttributionError as err:
        raise FeatureVisError("no_layer", layer=layer) from err
    tensor = cut.outputs[0]
    if len(tensor.shape) not in (2, 4):
        raise FeatureVisError("not_visualisable", layer=layer, shape=str(tuple(tensor.shape)))
    return Target(cut, int(tensor.shape[-1]), len(tensor.shape) == 4)


def frequencies(h: int, w: int) -> np.ndarray:
    """|f| of each entry of an (h, w) 2-D FFT, in cycles per pixel."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    return np.sqrt(fx * fx + fy * fy)


def spectrum_scale(h: int, w: int) -> np.ndarray:
    """Lucid's 1/f scale of the spectrum (the lowest frequencies capped at 1/max(h, w)), times sqrt(h*w)
    to undo the inverse FFT's 1/(h*w) for white noise."""
    return (1.0 / np.maximum(frequencies(h, w), 1.0 / max(h, w)) * np.sqrt(h * w)).astype("float32")


def _image(params_re, params_im, scale, fourier):
    """(N, C, H, W) parameters -> (N, H, W, C) image in [0, 1]."""
    if fourier:
        real, _ = ops.ifft2((params_re * scale, params_im * scale))
        img = ops.transpose(real, (0, 2, 3, 1)) / _MAGIC
    else:
        img = ops.transpose(params_re, (0, 2, 3, 1))
    if img.shape[-1] == 3:
        img = ops.matmul(img, ops.convert_to_tensor(_COLOR.T))
    return ops.sigmoid(img)


def _loss(call, params_re, params_im, scale, transform, weights, penalties, reverse, pixel_scale, pixel_offset,
          *others, fourier=True):
    img = _image(params_re, params_im, scale, fourier)
    seen = ops.image.affine_transform(img, transform, interpolation="bilinear", fill_mode="reflect")
    out = call([preprocessing.affine(seen, reverse, pixel_scale, pixel_offset), *others])
    out = out[0] if isinstance(out, (list, tuple)) else out
    if len(out.shape) == 4:
        out = ops.mean(out, axis=(1, 2))
    objective = ops.sum(out * weights)
    tv = ops.sum(ops.mean(ops.abs(img[:, 1:] - img[:, :-1]), axis=(1, 2, 3))
                 + ops.mean(ops.abs(img[:, :, 1:] - img[:, :, :-1]), axis=(1, 2, 3)))
    l2 = ops.sum(ops.mean(ops.square(img - 0.5), axis=(1, 2, 3)))
    return -objective + penalties[0] * tv + penalties[1] * l2, (img, out)


def _loss_fourier(call, *args):
    return _loss(call, *args, fourier=True)


def _loss_pixels(call, params, *args):
    return _loss(call, params, ops.zeros_like(params), *args, fourier=False)


def random_transforms(rng: np.random.Generator, n: int, h: int, w: int, settings: Settings) -> np.ndarray:
    """(n, 8) affine transforms (Keras's projective layout, output -> input coordinates): about the
    centre, a random rotation and scale, then a random whole-pixel shift."""
    angle = np.deg2rad(rng.uniform(-settings.rotate, settings.rotate, n))
    scale = rng.uniform(1 - settings.scale, 1 + settings.scale, n)
    shift = rng.integers(-settings.jitter, settings.jitter + 1, size=(n, 2)) if settings.jitter else np.zeros((n, 2))
    cy, cx = (h - 1) / 2, (w - 1) / 2
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    a2 = cx - cos * cx + sin * cy + shift[:, 1]
    b2 = cy - sin * cx - cos * cy + shift[:, 0]
    zeros = np.zeros(n)
    return np.stack([cos, -sin, a2, sin, cos, b2, zeros, zeros], axis=1).astype("float32")


@dataclass(frozen=True)
class Progress:
    step: int  # steps done
    steps: int
    images: np.ndarray  # (N, H, W, C) in [0, 1], one per unit
    activation: np.ndarray  # (N,) each unit's objective on its own (transformed) image at this step


def optimise(model: keras.Model, layer: str | None, units, settings: Settings = Settings(),
             pixels: str | preprocessing.Pixels = "unit", size: tuple[int, int] | None = None, report_every: int = 8):
    """Yields Progress every `report_every` steps and at the end: one image per unit of `units` (channel
    indices of `layer`, or classes for layer=None), optimised together in one batch (each unit's noise and transforms come from its own seeded generator, so
    a unit's image is the same alone or in a batch). `pixels` (a cnnviz.preprocessing contract or its
    name) maps the [0, 1] image to what the model was trained on, inside the graph, as Pixels.apply
    does in numpy; `size` (H, W) is needed where the model takes any size."""
    t = target(model, layer)
    units = [int(u) for u in units]
    if not units:
        raise FeatureVisError("no_units")
    bad = [u for u in units if not 0 <= u < t.units]
    if bad:
        raise FeatureVisError("unit_range", unit=bad[0], n=t.units)
    if settings.steps < 1 or not settings.learning_rate > 0:
        raise FeatureVisError("settings")
    shape = tuple(model.inputs[0].shape[1:])
    h, w, c = (size or (shape[0], shape[1])) + (shape[2],)
    if h is None or w is None:
        raise FeatureVisError("size")
    pixels = preprocessing.contract(pixels) if isinstance(pixels, str) else pixels
    if not pixels.fits(c):
        raise FeatureVisError("pixels", pixels=pixels.name, channels=c)
    feed = list(pixels.constants(c))
    n = len(units)
    rngs = [np.random.default_rng([settings.seed, u]) for u in units]  # per unit: alone = in a batch
    params = [np.stack([r.normal(0, 0.01, (c, h, w)) for r in rngs]).astype("float32") for _ in range(2)]
    scale = spectrum_scale(h, w)
    weights = np.zeros((n, t.units), dtype="float32")
    weights[np.arange(n), units] = 1.0
    penalties = np.array([settings.tv, settings.l2], dtype="float32")
    others = activations.other_inputs(t.model, n)
    fn = _loss_fourier if settings.fourier else _loss_pixels
    if not settings.fourier:
        params = params[:1]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    b1, b2, eps = 0.9, 0.999, 1e-8
    for step in range(1, settings.steps + 1):
        transform = np.concatenate([random_transforms(r, 1, h, w, settings) for r in rngs])
        try:
            _, (img, out), grads = gradients.value_and_grad(
                t.model, fn, params, [scale, transform, weights, penalties, *feed, *others])
        except gradients.GradientError as err:
            raise FeatureVisError(err.key) from err
        for p, g, (m1, m2) in zip(params, grads, moments):  # Adam, minimising the loss
            m1 *= b1
            m1 += (1 - b1) * g
            m2 *= b2
            m2 += (1 - b2) * g * g
            p -= settings.learning_rate * (m1 / (1 - b1 ** step)) / (np.sqrt(m2 / (1 - b2 ** step)) + eps)
        if step % report_every == 0 or step == settings.steps:
            yield Progress(step, settings.steps, np.clip(img, 0.0, 1.0),
                           (out * weights).sum(axis=-1).astype("float32"))


def visualise(model: keras.Model, layer: str | None, units, settings: Settings = Settings(),
              pixels: str | preprocessing.Pixels = "unit", size: tuple[int, int] | None = None) -> Progress:
    """The last Progress of `optimise`: the finished images."""
    last = None
    for last in optimise(model, layer, units, settings, pixels, size, report_every=settings.steps):
        pass
    return last


def units_of(model: keras.Model, layer: str | None) -> int:
    """How many units (channels, or classes for layer=None) can be visualised."""
    return target(model, layer).units


def layers(model: keras.Model) -> list[str]:
    """Layers worth visualising: those with a kernel (conv, dense) whose output is a map or a vector."""
    ex = activations.extractor(model, pre_activations=False)
    from cnnviz.filters import KERNEL_TYPES

    return [n for n in ex.names if n in ex.tensors and len(ex.tensors[n].shape) in (2, 4)
            and isinstance(ex.layers[n], KERNEL_TYPES + (keras.layers.Dense,))]
