"""The Layer lab's model of one Conv2D followed by one pooling layer.

`analyse` turns the user's settings into every number the page shows (shapes, the
'same' split, parameters, MACs, receptive field, the formulas with the user's numbers),
without TensorFlow (this module imports Keras only inside `feature_maps`). `feature_maps` runs
an image through the layer's F filters with Keras. Bad settings come back as student-readable messages, never as exceptions,
so the page can show what still works.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnviz import arithmetic as ar
from cnnviz.messages import MessageError

ACTIVATIONS = ("relu", "linear", "sigmoid", "tanh", "leaky_relu", "elu")
POOLING_KINDS = ("max", "average", "min")


@dataclass(frozen=True)
class Settings:
    """One Conv2D then one pooling layer, with Keras's argument meanings."""

    input_shape: tuple[int, int, int] = (120, 60, 1)
    filters: int = 10
    kernel_size: tuple[int, int] = (3, 3)
    strides: int = 1
    padding: str = "same"
    dilation_rate: int = 1
    activation: str = "relu"
    pool_kind: str = "max"
    pool_size: int = 2
    pool_strides: int | None = None  # None: the pool size, as in Keras
    pool_padding: str = "valid"

    def conv_kwargs(self) -> dict:
        return dict(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides,
                    padding=self.padding, dilation_rate=self.dilation_rate, activation=self.activation)

    def pool_kwargs(self) -> dict:
        return dict(kind=self.pool_kind, pool_size=self.pool_size, strides=self.pool_strides, padding=self.pool_padding)

    @property
    def pool_stride(self) -> int:
        return self.pool_size if self.pool_strides is None else self.pool_strides


@dataclass(frozen=True)
class Axis:
    """One spatial axis of the conv layer (and the pooling after it)."""

    name: str  # "height" / "width"
    size: int
    kernel: int
    span: int  # dilated kernel extent
    pad: tuple[int, int]  # conv padding (before, after)
    out: int | None  # conv output length; None when impossible
    unread: list[int]  # input indices no conv window reads
    pool_pad: tuple[int, int] = (0, 0)
    pool_out: int | None = None


@dataclass
class Analysis:
    settings: Settings
    axes: tuple[Axis, Axis]
    conv_shape: tuple[int, int, int] | None = None
    conv_error: str | None = None  # a cnnviz.messages.Message (a str: its English text) when it has a key
    pool_shape: tuple[int, int, int] | None = None
    pool_error: str | None = None
    params: int = 0
    macs: int | None = None
    receptive_field: tuple[ar.Field, ar.Field] | None = None  # after conv, per axis
    pooled_field: tuple[ar.Field, ar.Field] | None = None  # after conv + pool, per axis
    latex: dict[str, str] = field(default_factory=dict)  # KaTeX blocks: conv_H, conv_W, params, macs, pool_H, pool_W, rf


def aligned(rows: list[str]) -> str:
    """Rows of 'lhs &= rhs' as one KaTeX block, aligned on the = signs."""
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _axis_latex(sym: str, size: int, k: int, s: int, d: int, padding: str, pad, kind: str) -> str:
    """The output length along one axis with the user's numbers: the 'same' split first when
    there is one, then floor((n + before + after - k_eff) / s) + 1. Symbols first, numbers on
    the next row, so that the block stays narrow."""
    o = sym + r"_{\mathrm{out}}"
    keff = r"k_{\mathrm{eff}}"
    span = ar.effective_kernel(k, d)
    top, bottom = pad
    before, after = (r"p_{\mathrm{top}}", r"p_{\mathrm{bottom}}") if sym == "H" else (r"p_{\mathrm{left}}", r"p_{\mathrm{right}}")
    rows = []
    if kind == "conv" and d > 1:
        rows.append(rf"{keff} &= d\,(k-1)+1 = {d}\cdot({k}-1)+1 = {span}")
    else:
        rows.append(rf"{keff} &= k = {span}")
    if padding == "same":
        target = -(-size // s)
        rows.append(rf"{o} &= \left\lceil {sym} / s \right\rceil = \left\lceil {size} / {s} \right\rceil = {target}")
        rows.append(rf"p &= \max\big(({o}-1)\,s + {keff} - {sym},\ 0\big)")
        rows.append(rf"&= \max\big(({target}-1)\cdot{s} + {span} - {size},\ 0\big) = {top + bottom}")
        rows.append(rf"{before} &= \lfloor p/2 \rfloor = {top},\quad {after} = p - {before} = {bottom}")
    value = (size + top + bottom - span) // s + 1
    rows.append(rf"{o} &= \left\lfloor \frac{{{sym} + {before} + {after} - {keff}}}{{s}} \right\rfloor + 1")
    rows.append(rf"&= \left\lfloor \frac{{{size} + {top} + {bottom} - {span}}}{{{s}}} \right\rfloor + 1 = {value}"
                + (r"\ < 1" if value < 1 else ""))
    return aligned(rows)


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", r"{,}")


def _message(err: ValueError) -> str:
    """The error as text that a UI can still translate (a Message is its English text)."""
    return err.message if isinstance(err, MessageError) else str(err)


def analyse(st: Settings) -> Analysis:
    """Every number the Layer lab shows, for these settings; impossible settings give messages."""
    h, w, c = st.input_shape
    kh, kw = ar.pair(st.kernel_size, "kernel_size")
    s, d = int(st.strides), int(st.dilation_rate)
    ps = st.pool_stride
    axes = []
    for name, n, k in (("height", h, kh), ("width", w, kw)):
        pad = ar.padding_split(n, k, s, st.padding, d) if min(n, k, s, d) >= 1 else (0, 0)
        out = ar.output_length(n, k, s, st.padding, d)
        axes.append(Axis(name, n, k, ar.effective_kernel(k, d), pad, out if out >= 1 else None,
                         ar.unread_indices(n, k, s, st.padding, d) if out >= 1 else list(range(n))))
    result = Analysis(st, tuple(axes))
    result.params = ar.conv2d_params((kh, kw), c, st.filters)
    for sym, ax in zip("HW", axes):
        result.latex[f"conv_{sym}"] = _axis_latex(sym, ax.size, ax.kernel, s, d, st.padding, ax.pad, "conv")
    result.latex["params"] = aligned([
        r"\text{params} &= (k_h \cdot k_w \cdot C_{\mathrm{in}} + 1)\cdot F",
        rf"&= ({kh}\cdot{kw}\cdot{c} + 1)\cdot{st.filters} = {_thousands(result.params)}",
    ])
    try:
        result.conv_shape = ar.conv2d_output_shape(st.input_shape, st.filters, (kh, kw), s, st.padding, d)
    except ValueError as e:
        result.conv_error = _message(e)
        return result
    oh, ow, f = result.conv_shape
    result.macs = ar.conv2d_macs(st.input_shape, st.filters, (kh, kw), s, st.padding, d)
    result.latex["macs"] = aligned([
        r"\text{MACs} &= H_{\mathrm{out}}\, W_{\mathrm{out}}\, F \cdot k_h\, k_w\, C_{\mathrm{in}}",
        rf"&= {oh}\cdot{ow}\cdot{f}\cdot{kh}\cdot{kw}\cdot{c} = {_thousands(result.macs)}",
    ])
    result.receptive_field = tuple(ar.receptive_field([(k, s, d)])[-1] for k in (kh, kw))
    # The pooling layer sees the conv output.
    pool_axes = []
    for sym, ax, n in zip("HW", axes, (oh, ow)):
        ppad = ar.padding_split(n, st.pool_size, ps, st.pool_padding) if min(st.pool_size, ps) >= 1 else (0, 0)
        pout = ar.output_length(n, st.pool_size, ps, st.pool_padding)
        result.latex[f"pool_{sym}"] = _axis_latex(sym, n, st.pool_size, ps, 1, st.pool_padding, ppad, "pool")
        pool_axes.append(Axis(ax.name, ax.size, ax.kernel, ax.span, ax.pad, ax.out, ax.unread, ppad, pout if pout >= 1 else None))
    result.axes = tuple(pool_axes)
    try:
        result.pool_shape = ar.pool2d_output_shape(result.conv_shape, st.pool_size, st.pool_strides, st.pool_padding)
    except ValueError as e:
        result.pool_error = _message(e)
        return result
    result.pooled_field = tuple(ar.receptive_field([(k, s, d), (st.pool_size, ps, 1)])[-1] for k in (kh, kw))
    rf_h, rf_w = result.receptive_field
    pf_h, pf_w = result.pooled_field
    rows = []
    for sym, rf_c, rf_p in (("h", rf_h, pf_h), ("w", rf_w, pf_w)):
        rows.append(rf"r_{{{sym}}} &= 1 + (k_{{\mathrm{{eff}}}}-1) + (k_{{\mathrm{{pool}}}}-1)\cdot s"
                    rf" = 1 + {rf_c.size - 1} + ({st.pool_size}-1)\cdot{s} = {rf_p.size}")
    rows.append(rf"j &= s \cdot s_{{\mathrm{{pool}}}} = {s}\cdot{ps} = {pf_h.jump}")
    result.latex["rf"] = aligned(rows)
    return result


# --- running real Keras layers -------------------------------------------------------

def image_to_input(image, height: int, width: int, channels: int) -> np.ndarray:
    """A PIL image resized to (height, width) as float32 in [0, 1] with `channels` channels.

    1 channel: luminance; 3: RGB; other counts repeat R, G, B in turn (the lab lets a
    student pick any channel count, an image only has three).
    """
    from PIL import Image

    im = image.convert("RGB").resize((int(width), int(height)), Image.Resampling.BILINEAR)
    rgb = np.asarray(im, dtype=np.float32) / 255.0
    if channels == 1:
        return (rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
    return rgb[..., [i % 3 for i in range(channels)]]


# The lab's filters: filter 0 is the kernel the student picks, the others a fixed, labelled bank,
# then seeded random kernels, so that every one of the layer's F maps means something.
BANK = ("sobel_x", "sobel_y", "laplacian", "box_blur", "sharpen", "emboss")


@dataclass(frozen=True)
class Filter:
    name: str  # a cnnviz.kernels name
    seed: int  # for "random": the kernels.kernel seed (0 for the others)


def filter_bank(chosen: str, filters: int) -> list[Filter]:
    """The F filters of the lab's conv layer: `chosen` first, then BANK, then random kernels (seed = index)."""
    bank = [Filter(chosen, 0)] + [Filter(name, 0) for name in BANK]
    bank += [Filter("random", i) for i in range(len(bank), max(filters, len(bank)))]
    return bank[:max(int(filters), 1)]


def bank_kernels(bank: list[Filter], size) -> np.ndarray:
    """(F, kh, kw): each filter's 2-D kernel at this size."""
    from cnnviz.kernels import kernel

    return np.stack([kernel(f.name, size, seed=f.seed) for f in bank]).astype(np.float32)


@dataclass
class Maps:
    x: np.ndarray  # (H, W, C) the input
    weights: np.ndarray  # (kh, kw, C, F) the kernel Conv2D used
    bias: float  # the same bias for every filter
    pre: np.ndarray  # (H', W', F) before the activation
    post: np.ndarray  # (H', W', F) after the activation
    pooled: np.ndarray | None  # (H'', W'', F) after the pooling layer; None when the pooling is impossible
    device: str  # where Keras placed the conv output

    def limit(self) -> float:
        """One symmetric colour range |v| <= limit shared by the three grids (1 when all are 0)."""
        stages = [self.pre, self.post] + ([self.pooled] if self.pooled is not None else [])
        finite = [np.abs(a[np.isfinite(a)]) for a in stages]
        m = max((float(a.max()) for a in finite if a.size), default=0.0)
        return m or 1.0


def conv_weights(kernels2d: np.ndarray, channels: int) -> np.ndarray:
    """(kh, kw, C, F) from F 2-D kernels (F, kh, kw) (or one (kh, kw)): each on every input channel,
    divided by C so that e.g. the identity kernel gives the channel mean instead of its sum."""
    k = np.asarray(kernels2d, dtype=np.float32)
    if k.ndim == 2:
        k = k[None]
    per_channel = np.transpose(k, (1, 2, 0))[:, :, None, :] / channels  # (kh, kw, 1, F)
    return np.repeat(per_channel, channels, axis=2).astype(np.float32)


def feature_maps(x: np.ndarray, st: Settings, kernels2d: np.ndarray, bias: float = 0.0, device: str | None = None) -> Maps:
    """Run x (H, W, C) through the lab's layers with Keras, on `device`: the conv (F filters: kernels2d
    (F, kh, kw) on every channel, + bias), its activation, then the pooling layer. Keras's Conv2D.call
    is exactly keras.ops.conv, plus the bias, then the activation: the same ops run here, without
    building a layer per rerun (tests compare with a real Conv2D). Raises ValueError for impossible
    conv settings."""
    import keras

    from cnnviz.devices import device_scope
    from cnnviz.layers import pooling_layer

    x = np.asarray(x, dtype=np.float32)
    ar.conv2d_output_shape(x.shape, 1, st.kernel_size, st.strides, st.padding, st.dilation_rate)
    weights = conv_weights(kernels2d, x.shape[-1])
    if weights.shape[:2] != tuple(ar.pair(st.kernel_size)):
        raise ValueError(f"kernel is {weights.shape[0]}x{weights.shape[1]}, the layer wants {st.kernel_size}.")
    ops = keras.ops
    with device_scope(device):
        pre = ops.conv(x[None], weights, strides=st.strides, padding=st.padding, dilation_rate=st.dilation_rate,
                       data_format="channels_last")
        pre = ops.add(pre, ops.full((weights.shape[-1],), bias, dtype="float32"))
        post = keras.activations.get(st.activation)(pre)
        pooled = None
        try:
            ar.pool2d_output_shape(tuple(post.shape[1:]), st.pool_size, st.pool_strides, st.pool_padding)
        except ValueError:
            pass
        else:
            pooled = pooling_layer(st.pool_kind, st.pool_size, st.pool_strides, st.pool_padding)(post)
    from cnnviz.devices import placed_on

    to_np = ops.convert_to_numpy
    return Maps(x, weights, float(bias), to_np(pre)[0], to_np(post)[0],
                None if pooled is None else to_np(pooled)[0], placed_on(pre))


def image_shape(image) -> tuple[int, int, int]:
    """(H, W, C) of a PIL image as the lab's input: grayscale images have 1 channel, others 3."""
    channels = 1 if image.mode in ("L", "I", "F", "1") else 3
    return (image.height, image.width, channels)


def display_image(x: np.ndarray) -> np.ndarray:
    """The input as something st.image shows: itself for 1 or 3 channels, else the channel mean."""
    return x if x.shape[-1] in (1, 3) else x.mean(axis=-1)
