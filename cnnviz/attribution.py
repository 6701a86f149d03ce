"""Why the model chose a class: attribution maps over the input, for any Keras 3 model on any backend.

Every method is `f(model, x, class_index=None, ...) -> np.ndarray (H, W)` for one input `x` (H, W, C) as
the model takes it, or a batch of one (1, H, W, C) as model.predict takes it (the same result; a larger
batch is refused, cnnviz.images.one_image); `class_index=None` explains the predicted class. The score explained is the class's
logit: where the model ends in a softmax (a Dense or conv layer's fused softmax, or an Activation/Softmax
layer), the value before it, as in the Grad-CAM paper and tf-keras-vis's ReplaceToLinear; otherwise the
output itself.

- gradient methods: `saliency` (Simonyan et al. 2014), `smoothgrad` (Smilkov et al. 2017),
  `integrated_gradients` (Sundararajan et al. 2017);
- perturbation: `occlusion` (Zeiler & Fergus 2014), forward passes only;
- class activation maps of a spatial layer (`layer=None`: the last conv layer, nested models included,
  with the BatchNormalization/activation right after it): `grad_cam` (Selvaraju et al. 2017),
  `grad_cam_plus_plus` (Chattopadhay et al. 2018), `score_cam` (Wang et al. 2020; forward passes only),
  `layer_cam` (Jiang et al. 2021); upsampled to the input's size by Keras's bilinear resize.

The gradient with respect to a layer's output comes from the model's own graph, traced again with a zero
tensor added to that output (cnnviz.activations.Extractor's `inject`): the gradient with respect to that
input is the gradient with respect to the layer's output, on every backend (cnnviz.gradients).

`sanity_check` is Adebayo et al. 2018's cascading model-parameter randomisation; `deletion_insertion` is
Petsiuk et al. 2018's (RISE) deletion and insertion curves of a map, with a random order as the yardstick.

Inputs are in the model's own pixel range (cnnviz.preprocessing: Pixels, InputPlan.feed). Where a method
puts "black" into the input (Integrated Gradients' black baseline, occlusion's "zero" fill, deletion's
black), `black` is the model-space value of a black pixel per channel (Pixels.black: the contract applied
to a zero [0, 1] image; -1 for a [-1, 1] model, -mean/std for torch, -mean for caffe); None means 0, right
for [0, 1] and 0-255 models only.
"""

from __future__ import annotations

import functools
import threading
import weakref
from dataclasses import dataclass, field

import keras
import numpy as np
from keras import ops

from cnnviz import activations, gradients, images
from cnnviz.filters import KERNEL_TYPES

GRADIENT_METHODS = ("saliency", "smoothgrad", "integrated_gradients")
PERTURBATION_METHODS = ("occlusion",)
CAM_METHODS = ("grad_cam", "grad_cam_plus_plus", "score_cam", "layer_cam")
METHODS = GRADIENT_METHODS + PERTURBATION_METHODS + CAM_METHODS
BASELINES = ("black", "blurred", "noise")
FILLS = ("mean", "zero", "blurred")
_AFTER_CONV = (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.ReLU,
               keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.PReLU)


class AttributionError(ValueError):
    """A map that cannot be made, with the cause as an i18n key under `attribution.error.` and its values."""

    def __init__(self, key: str, **values):
        super().__init__(f"{key}: {values}" if values else key)
        self.key = key
        self.values = values


# --- the probe: the model's graph with a score output and, for CAMs, a layer output to differentiate ---


def _logits_tensor(ex: activations.Extractor, name: str):
    """The tensor before the softmax that makes output `name`, else the output itself; and whether found."""
    call = next((c for c in ex.calls if name in c.names), None)
    layer = call.layer if call is not None else None
    act = getattr(layer, "activation", None)
    if call is None or len(call.sources) != 1 or call.sources[0] not in ex.tensors:
        return ex.tensors[name], False
    source = ex.tensors[call.sources[0]]
    if isinstance(layer, keras.layers.Softmax) or (isinstance(layer, keras.layers.Activation)
                                                   and act is keras.activations.softmax):
        return source, True
    if isinstance(layer, keras.layers.Dense) and act is keras.activations.softmax:
        return _DenseLogits(layer)(source), True
    return ex.tensors[name], False


class _DenseLogits(keras.layers.Layer):
    """A Dense layer's computation without its activation, with the layer's own variables."""

    def __init__(self, dense, **kwargs):
        super().__init__(name=dense.name + "__logits", **kwargs)
        self.dense = dense

    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        out = ops.matmul(inputs, self.dense.kernel)
        return ops.add(out, self.dense.bias) if self.dense.use_bias else out

    def compute_output_shape(self, input_shape):
        return self.dense.compute_output_shape(input_shape)


@dataclass
class Probe:
    """inputs [x, *other inputs, (delta)] -> outputs [(layer output), score]."""

    model: keras.Model
    layer: str | None
    logits: bool  # the score is the value before the model's softmax
    classes: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def predict(self, batch: np.ndarray, delta=None) -> list[np.ndarray]:
        feed = [batch, *activations.other_inputs(self.model, len(batch))[: len(self.model.inputs) - 1 - (delta is not None)]]
        if delta is not None:
            feed.append(delta)
        with self.lock:
            out = self.model.predict_on_batch(feed)
        return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


_probes: "weakref.WeakKeyDictionary[keras.Model, dict]" = weakref.WeakKeyDictionary()
_probes_lock = threading.Lock()


def probe(model: keras.Model, layer: str | None = None, extra: tuple[str, ...] = ()) -> Probe:
    """The model's graph with its (first) output's class score and, with `layer`, that layer's output;
    `extra`: outputs (names as in cnnviz.activations) put before those (the live view's one pass: a layer's
    maps and the model's own output beside the CAM layer and the score); built once per (model, layer,
    extra)."""
    key = layer if not extra else (layer, tuple(extra))
    with _probes_lock:
        per_model = _probes.setdefault(model, {})
        found = per_model.get(key)
        if found is None:
            found = per_model[key] = _build_probe(model, layer, tuple(extra))
        return found


def build_probe(model: keras.Model, layer: str | None, extra: tuple[str, ...] = ()) -> Probe:
    """A probe as `probe` makes it, not cached: for a caller that keeps it itself and lets it go (the live
    view's pipelines, a few per model, the least recently used dropped)."""
    return _build_probe(model, layer, tuple(extra))


def _build_probe(model: keras.Model, layer: str | None, extra: tuple[str, ...] = ()) -> Probe:
    ex = activations.Extractor(model, pre_activations=False, inject=layer)
    if layer is not None and ex.delta is None:
        raise AttributionError("not_spatial", layer=layer)
    out_name = ex.output_names[0] if ex.output_names else ex.names[-1]
    score, logits = _logits_tensor(ex, out_name)
    if len(score.shape) != 2:
        raise AttributionError("not_classifier", shape=str(tuple(score.shape)))
    missing = [n for n in extra if n not in ex.tensors]
    if missing:
        raise AttributionError("no_layer", layer=missing[0])
    outputs = [ex.tensors[n] for n in extra] + ([ex.tensors[layer]] if layer is not None else []) + [score]
    inputs = list(ex.inputs) + ([ex.delta] if layer is not None else [])
    built = keras.Model(inputs=inputs, outputs=outputs, name=f"{model.name}_probe")
    return Probe(built, layer, logits, int(score.shape[-1]))


def cut(model: keras.Model, layer: str) -> keras.Model:
    """The model's graph from its inputs to the output called `layer` (only what that layer needs is
    computed), built once per (model, layer). Raises AttributionError('no_layer')."""
    key = ("cut", layer)
    with _probes_lock:
        per_model = _probes.setdefault(model, {})
        found = per_model.get(key)
        if found is None:
            ex = activations.extractor(model, pre_activations=False)
            if layer not in ex.tensors:
                raise AttributionError("no_layer", layer=layer)
            found = per_model[key] = keras.Model(ex.inputs, [ex.tensors[layer]], name=f"{model.name}_cut")
        return found


# --- loss functions for cnnviz.gradients (module level: their identity keys the compiled cache) ---


def _target(score, onehot):
    """The rows of `onehot`; an all-zero row means the predicted class (chosen inside the compiled step,
    so a single-input method needs no forward pass of its own to pick the class)."""
    predicted = ops.cast(ops.one_hot(ops.argmax(score, axis=-1), score.shape[-1]), score.dtype)
    return ops.where(ops.sum(onehot, axis=-1, keepdims=True) > 0, onehot, predicted)


def _score_wrt_input(call, x, onehot, *others):
    outs = call([x, *others])
    score = outs[-1] if isinstance(outs, (list, tuple)) else outs
    return ops.sum(score * ops.stop_gradient(_target(score, onehot))), score


def _score_wrt_layer(call, delta, x, onehot, *others):
    layer_out, score = call([x, *others, delta])
    return ops.sum(score * ops.stop_gradient(_target(score, onehot))), (layer_out, score)


def _score_wrt_layer_all(call, delta, x, onehot, *others):
    """As _score_wrt_layer for a probe with extra outputs: every output comes back, the score last."""
    outs = call([x, *others, delta])
    score = outs[-1]
    return ops.sum(score * ops.stop_gradient(_target(score, onehot))), tuple(outs)


def _unit_wrt_input(call, x, mask, *others):
    out = call([x, *others])
    out = out[0] if isinstance(out, (list, tuple)) else out
    return ops.sum(out * mask), out


# --- inputs and checks ---


def _check_input(model: keras.Model, x) -> np.ndarray:
    """One input (H, W, C) from `x` (H, W, C) or (1, H, W, C), checked against the model's input."""
    try:
        x = images.one_image(x, len(model.inputs[0].shape) - 1)
    except images.BatchError as err:
        raise AttributionError("batch", n=err.n, shape=str(err.shape)) from err
    expected = tuple(model.inputs[0].shape[1:])
    if x.ndim != len(expected) or any(e is not None and e != s for e, s in zip(expected, x.shape)):
        raise AttributionError("input_shape", expected=str(expected), got=str(x.shape))
    if not np.isfinite(x).all():
        raise AttributionError("input_nan")
    return x


def _others(pr: Probe, n: int, with_delta: bool) -> list[np.ndarray]:
    return activations.other_inputs(pr.model, n)[: len(pr.model.inputs) - 1 - with_delta]


def _onehot(pr: Probe, class_index: int | None, n: int) -> np.ndarray:
    """One-hot rows for `class_index`; zeros (the predicted class, see _target) for None."""
    onehot = np.zeros((n, pr.classes), dtype="float32")
    if class_index is not None:
        onehot[:, class_index] = 1.0
    return onehot


def _class(pr: Probe, x: np.ndarray, class_index: int | None, resolve: bool = True) -> int | None:
    """The class to explain: `class_index` checked against the model's outputs; for None the predicted
    class (a forward pass), or None again when not `resolve` (then chosen inside the gradient step)."""
    if class_index is None:
        return _argmax(pr, x) if resolve else None
    if not 0 <= int(class_index) < pr.classes:
        raise AttributionError("class_range", index=int(class_index), n=pr.classes)
    return int(class_index)


def _argmax(pr: Probe, x: np.ndarray) -> int:
    score = pr.predict(x[np.newaxis])[-1]
    if not np.isfinite(score).all():
        raise AttributionError("output_nan")
    return int(np.argmax(score[0]))


def predicted_class(model: keras.Model, x) -> int:
    """The class with the highest score for one input."""
    return _argmax(probe(model), _check_input(model, x))


def scores(model: keras.Model, x) -> tuple[np.ndarray, bool]:
    """The class scores explained for one input (logits where the model ends in a softmax), and whether
    they are logits."""
    pr = probe(model)
    x = _check_input(model, x)
    return pr.predict(x[np.newaxis])[-1][0], pr.logits


def input_gradients(model: keras.Model, batch: np.ndarray, class_index: int | None) -> np.ndarray:
    """d(class score)/d(input) for each input of the batch (N, H, W, C); None: each input's own
    predicted class."""
    return _input_gradients(model, batch, class_index)[0]


def _input_gradients(model, batch, class_index):
    pr = probe(model)
    batch = np.asarray(batch, dtype="float32")
    _, score, grads = _grad(pr.model, _score_wrt_input, [batch],
                            [_onehot(pr, class_index, len(batch)), *_others(pr, len(batch), False)])
    if not np.isfinite(score).all():
        raise AttributionError("output_nan")
    return grads[0], score


def _grad(model: keras.Model, fn, wrt, consts):
    """cnnviz.gradients.value_and_grad of `model` (a probe's or a cut), its errors as AttributionError."""
    try:
        return gradients.value_and_grad(model, fn, wrt, consts)
    except gradients.GradientError as err:
        raise AttributionError(err.key) from err


def _chunks(n: int, size: int):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


CHUNK = 32  # inputs per gradient or forward call (SmoothGrad samples, IG steps, occlusion windows)


def _batched_gradients(model, batch: np.ndarray, class_index: int) -> np.ndarray:
    return np.concatenate([input_gradients(model, batch[s], class_index) for s in _chunks(len(batch), CHUNK)])


def _prepare(model, x, class_index, resolve: bool = True):
    x = _check_input(model, x)
    pr = probe(model)
    return x, pr, _class(pr, x, class_index, resolve)


# --- gradient methods ---


def saliency(model: keras.Model, x, class_index: int | None = None) -> np.ndarray:
    """|d score / d input|, the largest over the colour channels."""
    x, pr, c = _prepare(model, x, class_index, resolve=False)
    return np.abs(input_gradients(model, x[np.newaxis], c)[0]).max(axis=-1)


def _noise_sigma(x: np.ndarray, noise: float) -> float:
    return float(noise) * float(x.max() - x.min())


def smoothgrad(model: keras.Model, x, class_index: int | None = None, noise: float = 0.2, samples: int = 20,
               seed: int = 0) -> np.ndarray:
    """The gradient averaged over `samples` copies of the input with Gaussian noise of standard deviation
    `noise` x (max - min of the input), then |.| and the largest over colour channels (as tf-keras-vis)."""
    x, pr, c = _prepare(model, x, class_index)
    if samples < 1 or noise < 0:
        raise AttributionError("settings", name="samples/noise")
    unit = _unit_noise(samples, x.shape, seed)
    sigma = np.float32(_noise_sigma(x, noise))
    total = sum(_noisy_gradient_sum(pr, x[np.newaxis], unit[s], sigma, c) for s in _chunks(samples, CHUNK))
    return np.abs(total[0] / np.float32(samples)).max(axis=-1)


@functools.lru_cache(maxsize=2)
def _unit_noise(samples: int, shape: tuple, seed: int) -> np.ndarray:
    """`samples` draws of standard normal noise shaped like the input, float32 (a fifth of the time of float64),
    read-only: it depends on the input's shape only, so the next map of the same size (every map of one
    model) reuses it; drawing it cost a tenth of the method for a 224x224 photo."""
    noise = np.random.default_rng(seed).standard_normal(size=(samples, *shape), dtype=np.float32)
    noise.setflags(write=False)
    return noise


def _score_wrt_noisy_input(call, x, unit, sigma, onehot, *others):
    """The summed score of the batch x + sigma * unit: its gradient with respect to x (one input) is the sum
    of the noisy copies' gradients, added up inside the compiled step instead of returned one by one."""
    return _score_wrt_input(call, x + unit * sigma, onehot, *others)


def _noisy_gradient_sum(pr: Probe, x: np.ndarray, unit: np.ndarray, sigma: np.float32, class_index: int) -> np.ndarray:
    """The sum of the gradients of x + sigma * unit[i] (a NaN or infinite score: AttributionError('output_nan'))."""
    n = len(unit)
    return _grad(pr.model, _score_wrt_noisy_input, [x],
                 [unit, np.asarray(sigma), _onehot(pr, class_index, n), *_others(pr, n, False)])[2][0]


def gaussian_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Each channel of (H, W, C) blurred by a separable Gaussian (edges repeated)."""
    radius = max(1, int(3 * sigma))
    t = np.arange(-radius, radius + 1, dtype="float64")
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k /= k.sum()
    out = np.asarray(x, dtype="float64")
    for axis in (0, 1):
        pad = [(0, 0)] * out.ndim
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="edge")
        out = sum(k[i] * np.take(padded, np.arange(i, i + out.shape[axis]), axis=axis) for i in range(len(k)))
    return out.astype("float32")


def black_input(x: np.ndarray, black=None) -> np.ndarray:
    """A black image shaped like `x`: `black` (one value per channel, or one for all, in the model's range),
    zeros for None."""
    if black is None:
        return np.zeros_like(x)
    value = np.asarray(black, dtype="float32").reshape(-1)
    if value.size not in (1, x.shape[-1]):
        raise AttributionError("settings", name="black")
    return np.broadcast_to(value, x.shape).astype("float32")


def baseline_input(x: np.ndarray, kind: str, seed: int = 0, black=None) -> np.ndarray:
    """The Integrated Gradients baseline: black (`black`, see black_input), blurred (the input, Gaussian
    sigma = 1/20 of its longer side) or noise (uniform over the input's range)."""
    if kind == "black":
        return black_input(x, black)
    if kind == "blurred":
        return gaussian_blur(x, max(1.0, max(x.shape[:2]) / 20))
    if kind == "noise":
        return np.random.default_rng(seed).uniform(x.min(), x.max(), size=x.shape).astype("float32")
    raise AttributionError("settings", name=f"baseline={kind}")


def integrated_gradients(model: keras.Model, x, class_index: int | None = None, baseline: str = "black",
                         steps: int = 32, seed: int = 0, black=None) -> np.ndarray:
    """(x - baseline) times the gradient averaged along the straight path from the baseline to x
    (midpoint Riemann sum of `steps`), summed over colour channels: signed, and summing (over the
    whole image) to about score(x) - score(baseline)."""
    return integrated_gradients_channels(model, x, class_index, baseline, steps, seed, black).sum(axis=-1)


def integrated_gradients_channels(model, x, class_index=None, baseline="black", steps=32, seed=0,
                                  black=None) -> np.ndarray:
    x, pr, c = _prepare(model, x, class_index)
    if steps < 1:
        raise AttributionError("settings", name="steps")
    base = baseline_input(x, baseline, seed, black)
    alphas = (np.arange(steps, dtype="float32") + 0.5) / steps
    path = base + alphas[:, None, None, None] * (x - base)
    return (x - base) * _batched_gradients(model, path, c).mean(axis=0)


# --- perturbation ---


def window_range(shape) -> tuple[int, int]:
    """(largest, default) occlusion window for an input of `shape`: half and a sixth of the shorter side."""
    side = min(shape[:2])
    return max(2, side // 2), max(2, side // 6)


def occlusion(model: keras.Model, x, class_index: int | None = None, window: int | None = None,
              stride: int | None = None, fill: str = "mean", black=None) -> np.ndarray:
    """How much the class score drops when a square `window` of the input is covered (with the image's
    mean colour, black ("zero": `black`, see black_input) or the blurred image), averaged over the windows covering each pixel. Windows of
    1/6 of the shorter side and a stride of half a window by default."""
    x, pr, c = _prepare(model, x, class_index)
    h, w = x.shape[:2]
    window = int(window) if window is not None else window_range(x.shape)[1]
    stride = int(stride) if stride is not None else max(1, window // 2)
    if not (1 <= window <= max(h, w)) or stride < 1:
        raise AttributionError("settings", name="window/stride")
    if fill == "mean":
        cover = np.broadcast_to(x.mean(axis=(0, 1)), x.shape)
    elif fill == "zero":
        cover = black_input(x, black)
    elif fill == "blurred":
        cover = gaussian_blur(x, max(1.0, window / 2))
    else:
        raise AttributionError("settings", name=f"fill={fill}")
    tops = list(range(0, max(1, h - window) + 1, stride))
    lefts = list(range(0, max(1, w - window) + 1, stride))
    if tops[-1] + window < h:
        tops.append(h - window)
    if lefts[-1] + window < w:
        lefts.append(w - window)
    boxes = [(t, l) for t in tops for l in lefts]
    # Every batch has the same size, and the unoccluded input is the first row of the first: the score
    # each window is compared with comes out of the same computation (the backend's numbers can differ
    # in the last bits between batch sizes, which would give a part of the input the model never reads
    # a tiny nonzero value).
    size = min(CHUNK, len(boxes) + 1)
    covered = [None, *boxes]
    scores_out = []
    for s in _chunks(len(covered), size):
        batch = np.repeat(x[np.newaxis], size, axis=0)
        for i, box in enumerate(covered[s]):
            if box is not None:
                t, l = box
                batch[i, t:t + window, l:l + window] = cover[t:t + window, l:l + window]
        scores_out.extend(pr.predict(batch)[-1][: s.stop - s.start, c])
    drops = [scores_out[0] - v for v in scores_out[1:]]
    total = np.zeros((h, w), dtype="float64")
    count = np.zeros((h, w), dtype="float64")
    for (t, l), d in zip(boxes, drops):
        total[t:t + window, l:l + window] += d
        count[t:t + window, l:l + window] += 1
    out = np.divide(total, count, out=np.zeros_like(total), where=count > 0).astype("float32")
    if not np.isfinite(out).all():
        raise AttributionError("output_nan")
    return out


def unit_gradient(model: keras.Model, x, layer: str, row: int, col: int, channel: int | None = None) -> np.ndarray:
    """The effective receptive field of one unit: |d unit / d input| (H, W), the largest over colour
    channels, for the unit at (row, col) of `layer`'s channel `channel` (None: the sum over channels)."""
    x = _check_input(model, x)
    m = cut(model, layer)
    shape = _layer_shape(model, layer, x.shape)
    if len(shape) != 3 or not (0 <= row < shape[0] and 0 <= col < shape[1]):
        raise AttributionError("unit_range", layer=layer, row=row, col=col, shape=str(shape))
    if channel is not None and not 0 <= channel < shape[2]:
        raise AttributionError("unit_range", layer=layer, row=row, col=col, shape=str(shape))
    mask = np.zeros((1, *shape), dtype="float32")
    mask[0, row, col, slice(None) if channel is None else channel] = 1.0
    _, _, grads = _grad(m, _unit_wrt_input, [x[np.newaxis]], [mask, *activations.other_inputs(m, 1)])
    return np.abs(grads[0][0]).max(axis=-1)


# --- class activation maps ---


def spatial_layers(model: keras.Model) -> list[str]:
    """The names (as in cnnviz.activations) of the layers whose output is a spatial map (H, W, C): the
    layers a CAM can use."""
    ex = activations.extractor(model, pre_activations=False)
    return [n for n in ex.names if n in ex.tensors and len(ex.tensors[n].shape) == 4]


def cam_layer(model: keras.Model) -> str:
    """The default CAM layer: the output of the last conv layer (nested models included), or of the
    BatchNormalization and activation layers right after it (keras-io's Grad-CAM uses Xception's
    'top_activation')."""
    ex = activations.extractor(model, pre_activations=False)
    calls = ex.calls
    last = max((i for i, c in enumerate(calls) if isinstance(c.layer, KERNEL_TYPES)
                and len(ex.tensors[c.names[0]].shape) == 4), default=None)
    if last is None:
        raise AttributionError("no_conv")
    while (last + 1 < len(calls) and isinstance(calls[last + 1].layer, _AFTER_CONV)
           and calls[last + 1].sources == [calls[last].names[0]]):
        last += 1
    return calls[last].names[0]


def layer_output_and_gradient(model: keras.Model, x, class_index: int | None = None, layer: str | None = None):
    """(A, dA, score) for one input: the layer's output (h, w, k), the gradient of the class score with
    respect to it, and the class scores."""
    x, _, c = _prepare(model, x, class_index, resolve=False)
    name = _cam_layer_name(model, layer)
    pr = probe(model, name)
    shape = _layer_shape(model, name, x.shape)
    delta = np.zeros((1, *shape), dtype="float32")
    _, (a, score), grads = _grad(pr.model, _score_wrt_layer, [delta],
                                 [x[np.newaxis], _onehot(pr, c, 1), *_others(pr, 1, True)])
    if not np.isfinite(score).all():
        raise AttributionError("output_nan")
    return a[0], grads[0][0], score[0]


def grad_cam_batch(model: keras.Model, batch: np.ndarray, layer: str | None = None,
                   extra: tuple[str, ...] = (), pr: Probe | None = None) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Grad-CAM of each input's own predicted class for a batch (N, H, W, C), from one forward and
    backward pass: (cams (N, h, w) at the layer's resolution, scores (N, classes), the `extra` outputs
    of the same pass). Each input's gradient is its own (the loss sums the rows; inference-mode layers
    do not mix them). `pr`: a probe of (layer, extra) the caller keeps (build_probe), else the cached one."""
    name = _cam_layer_name(model, layer)
    pr = pr if pr is not None else probe(model, name, tuple(extra))
    batch = np.asarray(batch, dtype="float32")
    shape = _layer_shape(model, name, batch.shape[1:])
    delta = np.zeros((len(batch), *shape), dtype="float32")
    _, outs, grads = _grad(pr.model, _score_wrt_layer_all, [delta],
                           [batch, _onehot(pr, None, len(batch)), *_others(pr, len(batch), True)])
    *extras, a, score = outs
    if not np.isfinite(score).all():
        raise AttributionError("output_nan")
    g = grads[0]
    cams = np.maximum((a * g.mean(axis=(1, 2), keepdims=True)).sum(axis=-1), 0.0)  # grad_cam_at_layer per row
    return _finite(cams), score, list(extras)


def _cam_layer_name(model, layer: str | None) -> str:
    if layer is None:
        return cam_layer(model)
    if layer not in spatial_layers(model):
        raise AttributionError("not_spatial", layer=layer)
    return layer


def _layer_shape(model, name: str, input_shape) -> tuple:
    ex = activations.extractor(model, pre_activations=False)
    shape = tuple(ex.tensors[name].shape[1:])
    if None not in shape:
        return shape
    spec = ex.model.compute_output_spec(
        [keras.KerasTensor((1, *input_shape))] + [keras.KerasTensor(o.shape) for o in activations.other_inputs(model, 1)]
        if len(model.inputs) > 1 else keras.KerasTensor((1, *input_shape)))
    return tuple(spec[ex.names.index(name)].shape[1:])


def upsample(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A (h, w) or (h, w, k) map resized to (H, W) by Keras's bilinear resize (half-pixel centres)."""
    a = cam[np.newaxis, ..., np.newaxis] if cam.ndim == 2 else cam[np.newaxis]
    out = np.asarray(ops.convert_to_numpy(ops.image.resize(a.astype("float32"), size, interpolation="bilinear")))[0]
    return out[..., 0] if cam.ndim == 2 else out


def _relu(a):
    return np.maximum(a, 0.0)


def _finite(cam: np.ndarray) -> np.ndarray:
    if not np.isfinite(cam).all():
        raise AttributionError("gradient_nan")
    return cam.astype("float32")


def grad_cam_at_layer(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """ReLU(sum_k mean(dA_k) A_k) at the layer's resolution."""
    return _relu((a * g.mean(axis=(0, 1))).sum(axis=-1))


def grad_cam_plus_plus_at_layer(a: np.ndarray, g: np.ndarray, score: float) -> np.ndarray:
    """Grad-CAM++ with the exponential of the score (so that higher derivatives are powers of the first),
    as in the paper's implementation and tf-keras-vis."""
    a, g = a.astype("float64"), g.astype("float64")  # exp(score) times the third power of the gradient
    e = float(np.exp(np.clip(score, -80.0, 80.0)))
    first = e * g
    second = first * g
    third = second * g
    denom = 2.0 * second + third * a.sum(axis=(0, 1))
    denom = denom + (second == 0.0)
    alphas = second / denom
    norm = alphas.sum(axis=(0, 1))
    alphas = alphas / (norm + (norm == 0.0))
    weights = (_relu(first) * alphas).sum(axis=(0, 1))
    return _relu((a * weights).sum(axis=-1)).astype("float32")


def layer_cam_at_layer(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """ReLU(sum_k ReLU(dA_k) * A_k), position by position."""
    return _relu((_relu(g) * a).sum(axis=-1))


def grad_cam(model: keras.Model, x, class_index: int | None = None, layer: str | None = None) -> np.ndarray:
    x = _check_input(model, x)
    a, g, _ = layer_output_and_gradient(model, x, class_index, layer)
    return _finite(upsample(grad_cam_at_layer(a, g), x.shape[:2]))


def grad_cam_plus_plus(model: keras.Model, x, class_index: int | None = None, layer: str | None = None) -> np.ndarray:
    x = _check_input(model, x)
    a, g, score = layer_output_and_gradient(model, x, class_index, layer)
    c = int(np.argmax(score)) if class_index is None else int(class_index)
    return _finite(upsample(grad_cam_plus_plus_at_layer(a, g, float(score[c])), x.shape[:2]))


def layer_cam(model: keras.Model, x, class_index: int | None = None, layer: str | None = None) -> np.ndarray:
    x = _check_input(model, x)
    a, g, _ = layer_output_and_gradient(model, x, class_index, layer)
    return _finite(upsample(layer_cam_at_layer(a, g), x.shape[:2]))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


SCORE_CAM_CHANNELS = 64


def score_cam(model: keras.Model, x, class_index: int | None = None, layer: str | None = None,
              max_channels: int | None = SCORE_CAM_CHANNELS) -> np.ndarray:
    """Each channel of the layer, upsampled and scaled to [0, 1], masks the input; the class's
    probability (softmax of the scores) on the masked input weighs that channel:
    ReLU(sum_k w_k A_k). No gradients. With `max_channels`, only the channels of highest variance
    (Faster Score-CAM); None: every channel."""
    x, pr, c = _prepare(model, x, class_index)
    name = _cam_layer_name(model, layer)
    lp = probe(model, name)
    shape = _layer_shape(model, name, x.shape)
    a = lp.predict(x[np.newaxis], np.zeros((1, *shape), "float32"))[0][0]
    channels = np.arange(a.shape[-1])
    if max_channels is not None and a.shape[-1] > max_channels:
        channels = np.sort(np.argsort(-a.reshape(-1, a.shape[-1]).var(axis=0), kind="stable")[:max_channels])
    masks = upsample(a[..., channels], x.shape[:2])  # (H, W, k)
    lo = masks.min(axis=(0, 1), keepdims=True)
    hi = masks.max(axis=(0, 1), keepdims=True)
    masks = (masks - lo) / (hi - lo + keras.config.epsilon())
    weights = np.zeros(len(channels), dtype="float64")
    for s in _chunks(len(channels), CHUNK):
        batch = x[np.newaxis] * np.moveaxis(masks[..., s], -1, 0)[..., np.newaxis]
        weights[s] = _softmax(pr.predict(batch.astype("float32"))[-1].astype("float64"))[:, c]
    cam = _relu((a[..., channels] * weights).sum(axis=-1))
    return _finite(upsample(cam.astype("float32"), x.shape[:2]))


FUNCTIONS = {
    "saliency": saliency, "smoothgrad": smoothgrad, "integrated_gradients": integrated_gradients,
    "occlusion": occlusion, "grad_cam": grad_cam, "grad_cam_plus_plus": grad_cam_plus_plus,
    "score_cam": score_cam, "layer_cam": layer_cam,
}


def attribute(method: str, model: keras.Model, x, class_index: int | None = None, layer: str | None = None,
              **settings) -> np.ndarray:
    """One map by method name (METHODS); `layer` is used by the CAM methods only."""
    if method not in FUNCTIONS:
        raise AttributionError("settings", name=f"method={method}")
    if method in CAM_METHODS:
        settings["layer"] = layer
    return FUNCTIONS[method](model, x, class_index, **settings)


# --- sanity checks ---


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation of two maps (ties get their average rank); 0 where one is constant."""
    ra, rb = _ranks(np.ravel(a)), _ranks(np.ravel(b))
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denom) if denom > 0 else 0.0


def _ranks(v: np.ndarray) -> np.ndarray:
    order = np.argsort(v, kind="stable")
    sorted_v = v[order]
    first = np.r_[True, sorted_v[1:] != sorted_v[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(v)]
    avg = (starts + ends - 1) / 2.0
    ranks = np.empty(len(v), dtype="float64")
    ranks[order] = avg[group]
    return ranks


def weighted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers with a kernel (conv, dense), nested models opened, from the top (output) down."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(reversed(weighted_layers(layer)))
        elif getattr(layer, "kernel", None) is not None or isinstance(layer, KERNEL_TYPES):
            found.append(layer)
    return list(reversed(found))


@dataclass(frozen=True)
class SanityResult:
    steps: list[str]  # "original", then the name of the lowest layer randomised so far
    maps: dict[str, list[np.ndarray]]  # method -> one map per step
    correlation: dict[str, list[float]]  # method -> rank correlation of |map| with the original's, per step


def sanity_check(model: keras.Model, x, methods=("saliency", "grad_cam"), class_index: int | None = None,
                 layer: str | None = None, max_steps: int = 5, seed: int = 0) -> SanityResult:
    """Cascading randomisation (Adebayo et al. 2018): a copy of the model has its kernel layers
    re-initialised from the top down (kernels to Gaussian values with the kernel's own standard
    deviation, biases to zero), in up to `max_steps` cumulative steps; each method's map for the same
    input and class is compared with the trained model's by Spearman rank correlation of absolute values.
    A map that still looks the same once the weights are random does not explain the model."""
    x, _, c = _prepare(model, x, class_index)
    try:
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
    except Exception as err:  # noqa: BLE001 - subclassed or custom models Keras cannot clone
        raise AttributionError("clone", error=str(err)[:200]) from err
    if layer is not None and any(m in CAM_METHODS for m in methods):
        _cam_layer_name(model, layer)
    layers = weighted_layers(copy)
    if not layers:
        raise AttributionError("no_weights")
    n = min(max_steps, len(layers))
    cuts = [round((i + 1) * len(layers) / n) for i in range(n)]
    rng = np.random.default_rng(seed)
    maps = {m: [attribute(m, copy, x, c, layer)] for m in methods}
    steps = ["original"]
    done = 0
    for cut in cuts:
        for lay in layers[done:cut]:
            _randomise(lay, rng)
        done = cut
        steps.append(layers[cut - 1].name)
        for m in methods:
            try:
                maps[m].append(attribute(m, copy, x, c, layer))
            except AttributionError:  # e.g. NaN once the weights are random: an empty map
                maps[m].append(np.zeros_like(maps[m][0]))
    corr = {m: [rank_correlation(np.abs(maps[m][0]), np.abs(v)) for v in maps[m]] for m in methods}
    return SanityResult(steps, maps, corr)


def _randomise(layer, rng) -> None:
    for v in layer.trainable_weights:
        value = np.asarray(ops.convert_to_numpy(v))
        if v.path.endswith("bias") or value.ndim == 1:
            new = np.zeros_like(value)
        else:
            new = rng.normal(0.0, float(value.std()) or 0.05, size=value.shape)
        v.assign(new.astype(value.dtype))


# --- deletion and insertion (Petsiuk et al. 2018, RISE) ---

DELETION_BASELINES = ("black", "blurred")
DELETION_STEPS = 12  # 4 curves x 13 images, 47 distinct: one map on EfficientNet-Lite0 within 40x a forward pass


@dataclass(frozen=True)
class DeletionInsertion:
    """Curves of the class's probability against the fraction of pixels removed / inserted (0 .. 1)."""

    fractions: np.ndarray  # (steps + 1,) from 0 to 1
    deletion: np.ndarray  # pixels replaced by the baseline, most important first
    insertion: np.ndarray  # pixels of the input put into the blurred input, most important first
    random_deletion: np.ndarray  # the same in a seeded random order
    random_insertion: np.ndarray

    @property
    def auc(self) -> dict[str, float]:
        """Areas under the four curves (trapezoid over the fractions): deletion (lower is better), insertion
        (higher is better), and the random order's."""
        return {name: area(self.fractions, getattr(self, name))
                for name in ("deletion", "insertion", "random_deletion", "random_insertion")}


def area(fractions: np.ndarray, curve: np.ndarray) -> float:
    """The trapezoid area under `curve` over `fractions` (from 0 to 1)."""
    f, c = np.asarray(fractions, "float64"), np.asarray(curve, "float64")
    return float(((c[1:] + c[:-1]) * 0.5 * np.diff(f)).sum())


def _probabilities(pr: Probe, score: np.ndarray) -> np.ndarray:
    """The class probabilities from the probe's scores: the softmax of the logits; an output that already is
    a distribution (non-negative rows summing to 1) as it is."""
    score = score.astype("float64")
    if not pr.logits and score.min() >= 0 and np.allclose(score.sum(axis=-1), 1.0, atol=1e-3):
        return score
    return _softmax(score)


def _order_masks(ranks: np.ndarray, counts: np.ndarray, shape) -> np.ndarray:
    """(steps + 1, H, W, 1) booleans: at step i the pixels of rank below counts[i] (rank 0: first)."""
    r = ops.reshape(ops.convert_to_tensor(ranks.astype("int32")), (1, *shape, 1))
    n = ops.reshape(ops.convert_to_tensor(counts.astype("int32")), (-1, 1, 1, 1))
    return ops.less(r, n)


def deletion_insertion(model: keras.Model, x, class_index: int | None, saliency_map: np.ndarray,
                       steps: int = DELETION_STEPS, baseline: str = "black", black=None, seed: int = 0,
                       batch: int = CHUNK) -> DeletionInsertion:
    """Petsiuk et al. 2018 (RISE): the pixels of `x` ordered by `saliency_map` (H, W), highest first (ties
    in reading order). Deletion: at step i of `steps`, the first round(i/steps * H*W) pixels are replaced by
    the baseline ("black": `black`, see black_input; "blurred": the blurred input); insertion: the blurred
    input with those pixels of `x` put back. The score is the class's probability (softmax of the logits).
    The same with a random order (`seed`) is the yardstick. All the steps' images go through the model in
    batches of `batch`."""
    x, pr, c = _prepare(model, x, class_index)
    h, w = x.shape[:2]
    sal = np.asarray(saliency_map, dtype="float64")
    if sal.shape != (h, w) or not np.isfinite(sal).all():
        raise AttributionError("settings", name="saliency_map")
    if steps < 1 or batch < 1:
        raise AttributionError("settings", name="steps")
    if baseline not in DELETION_BASELINES:
        raise AttributionError("settings", name=f"baseline={baseline}")
    blurred = baseline_input(x, "blurred")
    removed = blurred if baseline == "blurred" else black_input(x, black)
    counts = np.round(np.arange(steps + 1) / steps * h * w).astype("int64")
    ranks = np.empty(h * w, dtype="int64")
    ranks[np.argsort(-sal.ravel(), kind="stable")] = np.arange(h * w)
    random_ranks = np.random.default_rng(seed).permutation(h * w)
    xt, removed_t, blurred_t = (ops.convert_to_tensor(v[np.newaxis]) for v in (x, removed, blurred))
    images = []
    for r in (ranks, random_ranks):
        mask = _order_masks(r.reshape(h, w), counts, (h, w))
        images.append(ops.where(mask, removed_t, xt))  # deletion
        images.append(ops.where(mask, xt, blurred_t))  # insertion
    every = np.asarray(ops.convert_to_numpy(ops.concatenate(images, axis=0)), dtype="float32")
    # The ends are shared: x starts both deletions and ends both insertions, `removed` ends both deletions,
    # the blurred input starts both insertions. Each distinct image goes through the model once.
    n = steps + 1
    first = {0: [0, 2 * n, n + steps, 3 * n + steps], 1: [steps, 2 * n + steps], 2: [n, 3 * n]}
    shared = {i: group[0] for group in first.values() for i in group}
    run = [i for i in range(len(every)) if shared.get(i, i) == i]
    probs = []
    for s in _chunks(len(run), batch):
        probs.append(_probabilities(pr, pr.predict(every[run[s]])[-1])[:, c])
    once = dict(zip(run, np.concatenate(probs)))
    p = np.array([once[shared.get(i, i)] for i in range(len(every))])
    if not np.isfinite(p).all():
        raise AttributionError("output_nan")
    fractions = counts / float(h * w)
    return DeletionInsertion(fractions, p[:n], p[n:2 * n], p[2 * n:3 * n], p[3 * n:])
