"""Exercises generated from (kind, level, seed): the same three numbers give the same exercise anywhere.

Every truth comes from the project's Keras-exact pieces (cnnviz.arithmetic for shapes, the 'same' split,
parameters and receptive fields; cnnviz.convolution for one conv value and pooling; cnnviz.kernels for
the preset kernels; cnnviz.architecture on cnnviz.models.seed_model for the lecture's model), never from
a formula written here; tests/unit/test_lessons_keras.py compares them with Keras layers. No exercise is
impossible: settings are drawn so that every window fits its (padded) input, and drawn again otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from cnnviz import arithmetic as ar
from cnnviz import convolution as cv
from cnnviz import datasets, kernels
from cnnviz.messages import MessageError

KINDS = ("shape", "params", "same_split", "conv_value", "pool", "receptive_field", "kernel", "lecture_model")
LEVELS = (1, 2, 3)
MAX_SEED = 9999
# The kernels the "which kernel made this map" exercise asks about (the lecture's six), easiest first.
KERNEL_CHOICES = {1: ("identity", "sobel_x", "sobel_y"),
                  2: ("identity", "sobel_x", "sobel_y", "box_blur", "sharpen"),
                  3: ("identity", "sobel_x", "sobel_y", "box_blur", "sharpen", "emboss")}
_ROWS_PER_LEVEL = {1: 2, 2: 6, 3: 7}  # how many of the lecture model's layers an exercise asks about


@dataclass(frozen=True)
class Field:
    """One number of an answer: `row` says what it belongs to (a layer, a grid row, or ""), `name` what it is
    (h, w, c, params, top, bottom, left, right, value, rf, kernel, units, or a grid column index)."""

    row: str
    name: str
    integer: bool = True
    minimum: int | None = 0  # None: any sign (a conv value)


@dataclass(frozen=True, eq=False)
class Exercise:
    kind: str
    level: int
    seed: int
    settings: dict  # what the exercise states (sizes, kernel, grids as numpy arrays, layers)
    fields: tuple[Field, ...]
    truth: tuple  # one value per field: what Keras computes
    options: tuple[str, ...] = field(default=())  # kind "kernel": the kernels to choose from

    @property
    def id(self) -> str:
        return f"{self.kind}.{self.level}.{self.seed}"


def _ints(rng: np.random.Generator, low: int, high: int, size=None):
    """Integers in [low, high] (both included), as Python ints."""
    values = rng.integers(low, high + 1, size=size)
    return int(values) if size is None else values.astype(np.int64)


def _choice(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


# ---------------------------------------------------------------- 1: output shape of a Conv2D


def _conv_settings(rng, level: int, with_filters: bool = True) -> dict:
    """H, W, C, F, kernel, stride, padding, dilation of one Conv2D whose windows fit (drawn again otherwise)."""
    while True:
        if level == 1:
            h = w = _ints(rng, 5, 32)
            k = (lambda v: (v, v))(_choice(rng, (1, 3, 5)))
            s, d = 1, 1
        elif level == 2:
            h, w = _ints(rng, 7, 64), _ints(rng, 7, 64)
            k = (lambda v: (v, v))(_choice(rng, (2, 3, 4, 5, 7)))
            s, d = _choice(rng, (2, 3)), 1
        else:
            h, w = _ints(rng, 9, 128), _ints(rng, 9, 128)
            k = (_ints(rng, 1, 7), _ints(rng, 1, 7))
            if rng.random() < 0.5:
                s, d = _choice(rng, (2, 3, 4)), 1
            else:
                s, d = 1, _choice(rng, (2, 3))
        padding = _choice(rng, ar.PADDINGS)
        settings = dict(h=h, w=w, c=_choice(rng, (1, 3) if level == 1 else (1, 3, 8, 16, 32)),
                        f=_choice(rng, (4, 8, 16, 32) if level == 1 else (8, 10, 16, 24, 32, 64)),
                        kernel=k, stride=s, padding=padding, dilation=d)
        # never impossible: the window fits the unpadded input too (so the 'valid' variant exists as well)
        if max(k) <= 1 or all(ar.effective_kernel(kk, d) <= n for kk, n in zip(k, (h, w))):
            return settings


def conv_shape(s: dict, **changes) -> tuple[int, int, int]:
    """The Conv2D output shape for settings `s` (with `changes`, for a learner's likely slip)."""
    s = {**s, **changes}
    return ar.conv2d_output_shape((s["h"], s["w"], s["c"]), s["f"], s["kernel"], s["stride"], s["padding"],
                                  s["dilation"])


def _shape(rng, level):
    s = _conv_settings(rng, level)
    return s, (Field("", "h"), Field("", "w"), Field("", "c")), conv_shape(s)


# ---------------------------------------------------------------- 2: parameter count


def _params(rng, level):
    if level == 1:
        k, c, f = (3, 3), 1, _ints(rng, 2, 32)
    elif level == 2:
        k = (lambda v: (v, v))(_choice(rng, (3, 5)))
        c, f = _choice(rng, (3, 8, 16)), _choice(rng, (8, 16, 24, 32, 64))
    else:
        k, c, f = (_ints(rng, 1, 7), _ints(rng, 1, 7)), _ints(rng, 1, 128), _ints(rng, 1, 256)
    # the input size and stride are stated too: they do not change the count (a classic slip)
    s = dict(h=_ints(rng, 16, 128), w=_ints(rng, 16, 128), c=c, f=f, kernel=k, stride=_choice(rng, (1, 2)),
             padding=_choice(rng, ar.PADDINGS), dilation=1)
    return s, (Field("", "params"),), (ar.conv2d_params(k, c, f),)


# ---------------------------------------------------------------- 3: the 'same' split


def same_split(s: dict, **changes) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of 'same' padding for settings `s` (with `changes`)."""
    s = {**s, **changes}
    (kh, kw), st, d = s["kernel"], s["stride"], s["dilation"]
    return (*ar.same_padding(s["h"], kh, st, d), *ar.same_padding(s["w"], kw, st, d))


def _same(rng, level):
    if level == 1:
        h = w = _ints(rng, 5, 32)
        k = (lambda v: (v, v))(_choice(rng, (3, 5, 7)))
        st, d = 1, 1
    elif level == 2:
        h, w = _ints(rng, 5, 40), _ints(rng, 5, 40)
        k = (lambda v: (v, v))(_ints(rng, 2, 5))
        st, d = _choice(rng, (2, 3)), 1
    else:
        h, w = _ints(rng, 5, 64), _ints(rng, 5, 64)
        k = (_ints(rng, 1, 7), _ints(rng, 1, 7))
        st, d = (_choice(rng, (2, 3, 4)), 1) if rng.random() < 0.6 else (1, _choice(rng, (2, 3)))
    s = dict(h=h, w=w, c=1, f=1, kernel=k, stride=st, padding="same", dilation=d)
    return s, tuple(Field("", n) for n in ("top", "bottom", "left", "right")), same_split(s)


# ---------------------------------------------------------------- 4: one output value of a convolution


def conv_value(s: dict, **changes) -> int:
    """The Conv2D output (before the activation) at s["position"], by cnnviz.convolution.conv_step."""
    s = {**s, **changes}
    step = cv.conv_step(s["x"], s["k"], s["bias"], s["position"], s["stride"], s["padding"])
    return int(round(step.total))


def _conv_value(rng, level):
    while True:
        if level == 1:
            x, k, bias = _ints(rng, 0, 3, (4, 4)), _ints(rng, -2, 2, (2, 2)), 0
            stride, padding = 1, "valid"
        elif level == 2:
            x, k, bias = _ints(rng, 0, 5, (5, 5)), _ints(rng, -2, 2, (3, 3)), _ints(rng, -3, 3)
            stride, padding = _choice(rng, (1, 2)), "valid"
        else:
            n = _choice(rng, (5, 6))
            x, k, bias = _ints(rng, -3, 5, (n, n)), _ints(rng, -2, 3, (3, 3)), _ints(rng, -5, 5)
            stride, padding = _choice(rng, (1, 2)), "same"
        if np.array_equal(k, k[::-1, ::-1]) or not k.any():
            continue  # a kernel that reads the same flipped hides the flipping slip; an all-zero one teaches nothing
        oh, ow = cv.geometry(x.shape, k.shape, stride, padding).output_hw
        s = dict(x=x, k=k, bias=bias, stride=stride, padding=padding, position=(_ints(rng, 0, oh - 1), _ints(rng, 0, ow - 1)))
        return s, (Field("", "value", minimum=None),), (conv_value(s),)


# ---------------------------------------------------------------- 5: pooling a small grid


def pooled(s: dict, **changes) -> np.ndarray:
    """The pooled grid (H_out, W_out) by cnnviz.convolution.pool_output (max, average or min)."""
    s = {**s, **changes}
    return cv.pool_output(s["x"], s["kind"], s["pool"], s["stride"], s["padding"])[:, :, 0]


def _pool(rng, level):
    if level == 1:
        x, kind, pool, stride, padding = _ints(rng, 0, 9, (4, 4)), "max", 2, 2, "valid"
    elif level == 2:
        pool = _choice(rng, (2, 3))
        x = _ints(rng, 0, 9, (pool * _choice(rng, (2, 3)),) * 2 if pool == 2 else (6, 6))
        kind, stride, padding = _choice(rng, cv.POOL_KINDS), pool, "valid"
    else:
        kind = _choice(rng, cv.POOL_KINDS)
        x = _ints(rng, -5, 9, (5, 5))
        pool, stride, padding = (2, 2, "same") if rng.random() < 0.5 else (3, 2, "valid")
    s = dict(x=x, kind=kind, pool=pool, stride=stride, padding=padding)
    out = pooled(s)
    fields = tuple(Field(str(r), str(c), integer=kind != "average", minimum=None)
                   for r in range(out.shape[0]) for c in range(out.shape[1]))
    truth = tuple(float(v) if kind == "average" else int(v) for v in out.ravel())
    return s, fields, truth


# ---------------------------------------------------------------- 6: receptive field of a short stack


def receptive_field(layers, ignore: str = "") -> int:
    """The receptive field (input pixels along one axis) of one unit after the stack, by
    cnnviz.arithmetic.receptive_field; `ignore` "dilation" or "stride" gives a learner's likely slip."""
    triples = [(k, 1 if ignore == "stride" else s, 1 if ignore == "dilation" else d) for _, k, s, d in layers]
    return ar.receptive_field(triples)[-1].size


def _stack(rng, level):
    if level == 1:
        layers = [("conv", _choice(rng, (3, 5, 7)), 1, 1) for _ in range(_ints(rng, 2, 3))]
    elif level == 2:
        p = _choice(rng, (2, 3))
        layers = [("conv", _choice(rng, (3, 5, 7)), 1, 1), ("pool", p, p, 1), ("conv", _choice(rng, (3, 5, 7)), 1, 1)]
    else:
        layers = []
        for i in range(_ints(rng, 3, 4)):
            if i and rng.random() < 0.3:
                p = _choice(rng, (2, 3))
                layers.append(("pool", p, p, 1))
            elif rng.random() < 0.5:
                layers.append(("conv", _choice(rng, (3, 5)), _choice(rng, (1, 2)), 1))
            else:
                layers.append(("conv", 3, 1, _choice(rng, (2, 3))))  # Keras takes a stride or a dilation, not both
    layers = tuple(layers)
    return dict(layers=layers), (Field("", "rf"),), (receptive_field(layers),)


# ---------------------------------------------------------------- 7: which kernel made this map


def feature_map(x: np.ndarray, name: str) -> np.ndarray:
    """The map of preset kernel `name` (3x3, bias 0, stride 1, 'same') on x, by cnnviz.convolution."""
    return cv.conv_output(x, kernels.kernel(name, 3), 0.0, 1, "same")


def _similar(a: np.ndarray, b: np.ndarray) -> bool:
    """Two maps that look alike once each is scaled to its own range (as the pictures show them)."""
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return na < 1e-6 or nb < 1e-6 or abs(float(a @ b) / (na * nb)) > 0.95


def _kernel(rng, level):
    options = KERNEL_CHOICES[level]
    while True:
        shape = _choice(rng, datasets.SHAPE_CLASSES)
        x = datasets.draw(shape, 20, 20, np.random.default_rng(_ints(rng, 0, 2**31 - 1))).astype(np.float64)
        if level < 3:  # a clean picture; level 3 keeps the dataset's noise
            x = np.round(x, 1)
        name = _choice(rng, options)
        maps = {o: feature_map(x, o) for o in options}
        if not any(_similar(maps[name], maps[o]) for o in options if o != name):
            return dict(x=x, shape=shape, map=maps[name]), (Field("", "kernel"),), (name,)


# ---------------------------------------------------------------- 8: the lecture's model, layer by layer


@cache
def lecture_spec():
    """The lecture's example model (cnnviz.models.seed_model) as an architecture spec, read from Keras once."""
    from cnnviz import architecture as arch
    from cnnviz import models

    return arch.from_model(models.seed_model())


def lecture_shapes(input_shape) -> tuple[tuple[int, ...], ...]:
    """The output shape after each of the lecture model's layers for `input_shape`, by
    cnnviz.architecture.summarize (Keras-exact); raises ArchitectureError where a window does not fit."""
    from dataclasses import replace

    from cnnviz import architecture as arch

    summary = arch.summarize(replace(lecture_spec(), input_shape=tuple(input_shape)))
    return tuple(row.output_shape for row in summary.rows)


def _lecture(rng, level):
    from cnnviz.architecture import ArchitectureError

    rows = _ROWS_PER_LEVEL[level]
    while True:
        if level == 1:
            h, w, c = 2 * _ints(rng, 15, 64), 2 * _ints(rng, 15, 40), 1  # even: pool1 halves exactly
        else:
            h, w, c = _ints(rng, 40, 160), _ints(rng, 40, 120), (1 if level == 2 else _choice(rng, (1, 3)))
        try:
            shapes = lecture_shapes((h, w, c))
        except ArchitectureError:  # pragma: no cover - the sizes drawn above always fit; kept as the guard
            continue
        names = [row.name for row in lecture_spec().layers[:rows]]
        fields = tuple(Field(name, axis) for name, shape in zip(names, shapes[:rows])
                       for axis in (("h", "w", "c") if len(shape) == 3 else ("units",)))
        truth = tuple(v for shape in shapes[:rows] for v in shape)
        return dict(h=h, w=w, c=c, layers=tuple(names)), fields, truth


_MAKERS = {"shape": _shape, "params": _params, "same_split": _same, "conv_value": _conv_value, "pool": _pool,
           "receptive_field": _stack, "kernel": _kernel, "lecture_model": _lecture}


def make(kind: str, level: int, seed: int) -> Exercise:
    """The exercise (kind, level, seed): the same everywhere (numpy's PCG64 from the three numbers)."""
    if kind not in KINDS:
        raise MessageError("practice.msg.kind", kinds=", ".join(KINDS))
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or int(level) not in LEVELS:
        raise MessageError("practice.msg.level")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise MessageError("practice.msg.seed", most=MAX_SEED)
    level, seed = int(level), int(seed)
    rng = np.random.default_rng([KINDS.index(kind), level, seed])
    settings, fields, truth = _MAKERS[kind](rng, level)
    options = KERNEL_CHOICES[level] if kind == "kernel" else ()
    return Exercise(kind, level, seed, settings, fields, tuple(truth), options)
