"""Streamlit glue for the Activations and Filters pages: per-session inference memo, cached PNGs.

Inference results are per user, so they live in st.session_state (keyed by model, weights, input and
device); PNGs depend only on the numbers, so st.cache_data may share them.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
import streamlit as st

from cnnviz import activations, attribution, devices, filters, metrics, preprocessing, receptive
from cnnviz.models import PRESETS, ModelInfo
from cnnviz.plots import activations as plots
from cnnviz.plots import filters as filter_plots
from cnnviz.ui import clickgrid, models
from cnnviz.ui.state import t
from cnnviz.ui.text import plain

RESULT = "cnnviz.activations.result"  # this session's last inference, reused while nothing changed


@dataclass(frozen=True)
class Inference:
    acts: activations.Activations  # batch of one: arrays (1, ...)
    times: dict[str, float]  # seconds per layer, eager call of each layer on its real input
    total: float  # seconds of one warm compiled pass (extract) on this input
    device: str  # where Keras really ran it
    has_nan: bool

    def layers(self, pre_activation: bool) -> dict[str, np.ndarray]:
        """Each layer's output for the one image (batch axis dropped)."""
        return {name: v[0] for name, v in self.acts.chosen(pre_activation).items()}

    def output(self) -> np.ndarray:
        return list(self.acts.outputs.values())[-1][0]

    def model_outputs(self, model) -> list[tuple[str, np.ndarray]]:
        """Every output of the model (a multi-output model has several), by name, batch axis dropped."""
        names = [n for n in activations.model_outputs(model) if n in self.acts.outputs]
        return [(n, self.acts.outputs[n][0]) for n in names] or [("", self.output())]


def is_image_model(info: ModelInfo) -> bool:
    shape = tuple(info.model.inputs[0].shape) if info.model.inputs else ()
    return len(shape) == 4 and shape[-1] in (1, 3)


def require_image_model(info: ModelInfo) -> None:
    """What the Inspect pages say first: an untrained model is named as such; a model whose input is not an
    image gets a warning and the page stops there."""
    if not info.trained:
        st.info(t("activations.untrained", model=models.label(info)))
    if not is_image_model(info):
        st.warning(t("activations.no_image_input", shape=str(tuple(info.model.inputs[0].shape))))
        st.stop()


OWN_SIZE, SIZE_H, SIZE_W = "activations.size.own", "activations.size.h", "activations.size.w"


def input_plan(info: ModelInfo, image) -> preprocessing.InputPlan:
    """How this page feeds the image to the model; for a model that takes any height and width, the
    controls for the size come first (the image's own size, capped, unless the user sets one)."""
    shape = tuple(info.model.inputs[0].shape[1:])
    size = None
    if None in shape[:2]:
        own_h, own_w, _ = preprocessing.free_size(image.size)
        if not st.toggle(t("activations.size.own"), value=True, key=OWN_SIZE, help=t("activations.size.own.help")):
            c1, c2 = st.columns(2)
            lo, hi = preprocessing.MIN_FREE_SIDE, preprocessing.MAX_FREE_SIDE
            h = c1.number_input(t("activations.size.h"), lo, hi, own_h, key=SIZE_H) if shape[0] is None else shape[0]
            w = c2.number_input(t("activations.size.w"), lo, hi, own_w, key=SIZE_W) if shape[1] is None else shape[1]
            size = (int(h), int(w))
    return preprocessing.plan(info.model, image.size, size, **models.pixel_sources(info))


def input_caption(plan: preprocessing.InputPlan) -> str:
    """The caption under the input picture: its shape, and the range the model is fed."""
    h, w, c = plan.shape
    return t("activations.input", h=h, w=w, c=c, range=t(f"pixels.{plan.pixels.name}"))


def pixels_note(info: ModelInfo, name: str, source: str) -> str:
    """Which pixel range is used and why (the sidebar and the pages say the same)."""
    label = info.label if info.key.startswith("app.") else ""
    return t(f"pixels.source.{source}", range=t(f"pixels.{name}"), name=plain(label))


def plan_notes(plan: preprocessing.InputPlan, info: ModelInfo) -> list[str]:
    """What the page says about the size and range it feeds, and the model's own preprocessing."""
    h, w, _ = plan.shape
    notes = [pixels_note(info, plan.pixels.name, plan.source)]
    if plan.any_size:
        key = "activations.size.capped" if plan.capped else "activations.size.image"
        if st.session_state.get(OWN_SIZE) is False:
            key = "activations.size.user"
        notes.append(t(key, h=h, w=w, cap=preprocessing.MAX_FREE_SIDE))
    if plan.other_inputs:
        notes.append(t("activations.other_inputs", n=len(plan.other_inputs) + 1,
                       shapes=", ".join(plain(str(shape)) for shape in plan.other_inputs)))
    if plan.rescaling is not None:
        name, scale, offset = plan.rescaling
        notes.append(t("activations.scale255", layer=plain(name), scale=f"{scale:.6g}", offset=f"{offset:.6g}"))
    if plan.preprocessing:
        notes.append(t("activations.preprocessing", layers=", ".join(plain(n) for n in plan.preprocessing),
                       last=plain(plan.sees)))
    return notes


def run(info: ModelInfo, x: np.ndarray, device: str, pre: bool = False, slot: str = "") -> Inference:
    """Every layer's output for the input `x` (H, W, C) on `device`, with the conv layers' pre-activations
    when `pre` (they cost a second convolution per conv layer, so only when shown); the session's last
    result in this slot ("": the page's image, ".b": the compared one) is reused while it holds what is
    asked for."""
    model = info.model
    # Presets are shared and read-only; a session's own model may be trained in place, so its weights count.
    weights = "" if info.key in PRESETS else activations.weights_fingerprint(model)
    key = (info.key, id(model), weights,
           hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).hexdigest(), device)
    memo = st.session_state.get(RESULT + slot)
    if memo is not None and memo[0] == key and (memo[2] or not pre):
        return memo[1]
    with_pre = pre and activations.has_pre_activations(model)
    batch = x[np.newaxis].astype("float32")
    with devices.device_scope(device), metrics.inference():
        acts = activations.extract_all(model, batch, pre_activations=with_pre)
        # Timed on a second call: the first may include building and compiling the extractor.
        start = time.perf_counter()
        activations.extract_all(model, batch, pre_activations=with_pre)
        total = time.perf_counter() - start
        times = activations.layer_times(model, batch, acts, repeats=5 if len(acts.outputs) <= MAX_LAYERS else 1)
    ran = devices.ran_on(device)
    has_nan = any(not np.isfinite(v).all() for v in acts.outputs.values())
    result = Inference(acts, times, total, ran, has_nan)
    st.session_state[RESULT + slot] = (key, result, pre)
    return result


def top_prediction(info: ModelInfo, result: Inference) -> str | None:
    """'**circle** (0.93)' for the model's first output when it is a vector; None otherwise."""
    outputs = result.model_outputs(info.model)
    if not outputs or outputs[0][1].ndim != 1:
        return None
    label, p = best_class(outputs[0][1], class_labels(info))
    return f"**{plain(label)}** ({p:.2f})"


def class_labels(info: ModelInfo) -> list[str] | None:
    """The model's class names in the session's language, or None when it has none."""
    return [models.class_label(n) for n in info.class_names] if info.class_names else None


def best_class(out: np.ndarray, names: list[str] | None) -> tuple[str, float]:
    """The highest output's label (its name when there is one per output, else its index) and value."""
    best = int(out.argmax())
    return (names[best] if names and len(names) == out.size else str(best)), float(out[best])


def first_spatial(layers: dict[str, np.ndarray]) -> int:
    """The index of the first layer with maps (H, W, C): the comparison's default."""
    return next((i for i, maps in enumerate(layers.values()) if maps.ndim == 3), 0)


def compare_pngs(a: np.ndarray, b: np.ndarray, scale: str) -> tuple[bytes, bytes]:
    """One layer's maps for two images as pictures on one colour scale (the range over both), so that
    equal colours are equal values; 'channel' keeps each channel's own range, as the page does."""
    vrange = plots.network_range({"a": a, "b": b}) if scale != "channel" else None
    scale = "network" if scale != "channel" else scale
    return grid_png(a, scale, vrange), grid_png(b, scale, vrange)


def has_pre(info: ModelInfo) -> bool:
    return activations.has_pre_activations(info.model)


MAX_CHANNELS = 64  # per layer grid: big models (2048 channels) would make images of tens of megapixels
MAX_LAYERS = 30  # layers drawn at once; big models choose a range


@st.cache_data(show_spinner=False, max_entries=512)
def grid_png(maps: np.ndarray, scale: str, vrange: tuple[float, float] | None) -> bytes:
    return plots.png_bytes(plots.channel_grid(maps, scale, vrange, max_channels=MAX_CHANNELS))


MAX_FILTERS = 64  # rows of a kernel grid
MAX_KERNEL_CHANNELS = 64  # columns of a kernel grid
MAX_ZOOM_CHANNELS = 16  # heatmaps of one zoomed filter


@st.cache_data(show_spinner=False, max_entries=64)
def kernel_png(kernel: np.ndarray) -> bytes:
    """Kernel grid of at most MAX_FILTERS x MAX_KERNEL_CHANNELS, coloured on the whole layer's range."""
    limit = filter_plots.symmetric_limit(kernel)
    part = kernel[:, :, :MAX_KERNEL_CHANNELS, :MAX_FILTERS]
    target = 64 if part.shape[2] <= 3 else 40  # few kernels per filter: draw them larger
    return plots.png_bytes(filter_plots.kernel_grid(part, limit=limit, target=target))


@st.cache_data(show_spinner=False, max_entries=16)
def rgb_png(kernel: np.ndarray) -> bytes:
    return plots.png_bytes(filter_plots.rgb_patches(kernel))


def layer_kind(info: ModelInfo, name: str) -> str:
    return type(activations.layer_of(info.model, name)).__name__


def activation_name(info: ModelInfo, name: str) -> str | None:
    """The fused activation of a conv layer (e.g. 'relu'), else None."""
    layer = activations.layer_of(info.model, name)
    if not activations.has_fused_activation(layer):
        return None
    return getattr(layer.activation, "__name__", str(layer.activation))


def conv_layers(info: ModelInfo):
    return filters.conv_layers(info.model)


def kernel_layers(info: ModelInfo) -> dict:
    return filters.kernel_layers(info.model)


def batchnorm_after(info: ModelInfo, name: str):
    """The BatchNormalization right after the kernel layer `name`, or None (also when the graph cannot
    be traced: the kernels are still shown)."""
    try:
        return filters.batchnorm_after(info.model, name)
    except Exception:  # noqa: BLE001 - any model whose graph cannot be walked
        return None


RF_ROW, RF_COL = "activations.rf.row", "activations.rf.col"


@st.cache_data(show_spinner=False, max_entries=64)
def zoom_png(values: np.ndarray, vrange: tuple[float, float] | None) -> tuple[bytes, tuple[int, int, int, int], tuple[int, int]]:
    """(PNG, grid box, size) of one zoomed channel (cnnviz.plots.activations.zoom_map)."""
    z = plots.zoom_map(values, vrange)
    return plots.png_bytes(z.image), z.box, z.image.size


def go_to_unit(row: int, col: int) -> None:
    """A click on the zoomed map: the receptive field's unit moves there (the row/column inputs follow)."""
    st.session_state[RF_ROW], st.session_state[RF_COL] = row, col


def zoom_map(values: np.ndarray, vrange: tuple[float, float] | None, key: str, clickable: bool, alt: str = "") -> None:
    """One channel as a picture with its values on hover; a click on a cell moves the receptive field's unit
    (outlined on the picture) when `clickable`."""
    png, box, size = zoom_png(values, vrange)
    grid = np.atleast_2d(np.asarray(values, dtype="float32"))
    # the unit the inputs below show (they start in the middle of the map)
    mark = (st.session_state.get(RF_ROW, grid.shape[0] // 2), st.session_state.get(RF_COL, grid.shape[1] // 2)) \
        if clickable else None
    if mark is not None and not all(isinstance(v, int) and 0 <= v < n for v, n in zip(mark, grid.shape)):
        mark = None
    clickgrid.clickable(png, grid.shape[0], grid.shape[1], key, go_to_unit if clickable else None, box, size,
                        alt=alt, values=grid, hover=t("activations.zoom.hover", row="{row}", col="{col}", value="{value}"),
                        mark=mark)


def receptive_field(info: ModelInfo, x: np.ndarray, layer: str, row: int, col: int, channel: int, device: str):
    """(theoretical box, effective field |d unit / d input|), or a message saying why not."""
    try:
        box = receptive.theoretical(info.model, layer, row, col, x.shape)
    except receptive.FieldError as err:
        return None, None, t("activations.rf.no_field", layer=plain(err.layer))
    try:
        with devices.device_scope(device):
            grad = attribution.unit_gradient(info.model, x, layer, row, col, channel)
    except attribution.AttributionError as err:
        return box, None, t(f"attribution.error.{err.key}", **{k: plain(str(v)) for k, v in err.values.items()})
    return box, grad, None
