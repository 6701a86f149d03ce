"""An answer checked against the exercise's truth, and where it went wrong.

A learner's slip is recognised by computing the exercise again with one thing changed (stride 1 instead
of 2, the other padding, no bias, the kernel flipped, ...) with the same project functions that give
the truth: a wrong number equal to such a variant names the slip ("you used stride 1; the stride is 2").
Bad input (empty, text, negative, huge, a fraction where a whole number belongs) is a MessageError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cnnviz import arithmetic as ar
from cnnviz import convolution as cv
from cnnviz.lessons import exercises as ex_
from cnnviz.lessons.exercises import Exercise
from cnnviz.messages import Message, MessageError, Verbatim

LIMIT = 10**9  # no answer here is larger; a larger number is a typo
TOLERANCE = 0.005 + 1e-9  # averages are answered to two decimals

# What each preset kernel does, said when the learner picked another one.
KERNEL_HINTS = {"identity": "practice.hint.identity", "sobel_x": "practice.hint.sobel_x",
                "sobel_y": "practice.hint.sobel_y", "box_blur": "practice.hint.box_blur",
                "sharpen": "practice.hint.sharpen", "emboss": "practice.hint.emboss"}


@dataclass(frozen=True)
class Verdict:
    correct: bool
    answer: tuple  # the learner's numbers, parsed
    wrong: tuple[int, ...]  # indices of the fields that are wrong
    reasons: tuple[Message, ...]  # the slips recognised, in field order


def parse(exercise: Exercise, values) -> tuple:
    """The learner's values as numbers (or a kernel name); MessageError for anything that is not an answer."""
    values = list(values)
    if len(values) != len(exercise.fields):
        raise MessageError("practice.msg.count", n=len(values), expected=len(exercise.fields))
    if exercise.kind == "kernel":
        if values[0] not in exercise.options:
            raise MessageError("practice.msg.choice")
        return (values[0],)
    missing = sum(v is None or (isinstance(v, str) and not v.strip()) for v in values)
    if missing:
        raise MessageError("practice.msg.empty", n=missing)
    out = []
    for value, spec in zip(values, exercise.fields):
        try:
            number = float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise MessageError("practice.msg.number", value=Verbatim(str(value)[:40])) from None
        if not math.isfinite(number):
            raise MessageError("practice.msg.number", value=Verbatim(str(value)[:40]))
        if abs(number) > LIMIT:
            raise MessageError("practice.msg.huge", limit=f"{LIMIT:,}")
        if spec.minimum is not None and number < spec.minimum:
            raise MessageError("practice.msg.negative", value=Verbatim(str(value)[:40]))
        if spec.integer and number != int(number):
            raise MessageError("practice.msg.whole", value=Verbatim(str(value)[:40]))
        out.append(int(number) if spec.integer else number)
    return tuple(out)


def _equal(a, b) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return abs(float(a) - float(b)) <= TOLERANCE


def check(exercise: Exercise, values) -> Verdict:
    """The learner's answer against Keras's truth, with the slips that explain the wrong numbers."""
    answer = parse(exercise, values)
    wrong = tuple(i for i, (a, t) in enumerate(zip(answer, exercise.truth)) if not _equal(a, t))
    reasons: list[Message] = []
    if wrong:
        variants = _variants(exercise, answer)
        for i in wrong:
            for reason, variant in variants:
                if variant is not None and not _equal(variant[i], exercise.truth[i]) and _equal(answer[i], variant[i]):
                    if reason not in reasons:
                        reasons.append(reason)
                    break
    return Verdict(not wrong, answer, wrong, tuple(reasons))


# ---------------------------------------------------------------- the slips, per kind


def _try(compute):
    """A variant's answer, or None where the slip gives settings Keras refuses."""
    try:
        return tuple(compute())
    except ValueError:
        return None


def _size(kernel, d: int) -> str:
    spans = [ar.effective_kernel(k, d) for k in kernel]
    return "x".join(str(v) for v in spans)


def _shape_variants(s: dict, truth) -> list:
    other = "valid" if s["padding"] == "same" else "same"
    oh, ow, f = truth
    out = [(Message("practice.why.stride", used=1, stride=s["stride"]), _try(lambda: ex_.conv_shape(s, stride=1))),
           (Message("practice.why.padding", used=other, padding=s["padding"]),
            _try(lambda: ex_.conv_shape(s, padding=other))),
           (Message("practice.why.dilation", k="x".join(map(str, s["kernel"])), d=s["dilation"],
                    span=_size(s["kernel"], s["dilation"])), _try(lambda: ex_.conv_shape(s, dilation=1))),
           (Message("practice.why.channels", c=s["c"], f=f), (oh, ow, s["c"])),
           (Message("practice.why.swapped"), (ow, oh, f))]
    if s["padding"] == "valid":
        spans = [ar.effective_kernel(k, s["dilation"]) for k in s["kernel"]]
        out.append((Message("practice.why.plus_one"), (oh - 1, ow - 1, f)))
        out.append((Message("practice.why.floor"), tuple(-(-(n - k) // s["stride"]) + 1 for n, k in
                                                          zip((s["h"], s["w"]), spans)) + (f,)))
    return out


def _params_variants(s: dict, truth) -> list:
    k, c, f = s["kernel"], s["c"], s["f"]
    return [(Message("practice.why.bias", f=f), (ar.conv2d_params(k, c, f, use_bias=False),)),
            (Message("practice.why.in_channels", c=c), (ar.conv2d_params(k, 1, f),))]


def _same_variants(s: dict, truth) -> list:
    top, bottom, left, right = truth
    return [(Message("practice.why.extra_after"), (bottom, top, right, left)),
            (Message("practice.why.same_stride", stride=s["stride"]), ex_.same_split(s, stride=1)),
            (Message("practice.why.dilation", k="x".join(map(str, s["kernel"])), d=s["dilation"],
                     span=_size(s["kernel"], s["dilation"])), ex_.same_split(s, dilation=1))]


def _value_variants(s: dict, truth) -> list:
    (value,) = truth
    i, j = s["position"]
    return [(Message("practice.why.no_bias", bias=s["bias"]), (value - s["bias"],)),
            (Message("practice.why.flipped"), (ex_.conv_value(s, k=s["k"][::-1, ::-1]),)),
            (Message("practice.why.stride_window", stride=s["stride"], i=i, j=j, row=i * s["stride"], col=j * s["stride"]),
             _try(lambda: (ex_.conv_value(s, stride=1),))),
            (Message("practice.why.window_padding"), _try(lambda: (ex_.conv_value(s, padding="valid"),))),
            (Message("practice.why.relu"), (max(value, 0),))]


def _pool_variants(s: dict, truth) -> list:
    out = [(Message("practice.why.pool_kind", used=kind, kind=s["kind"]), tuple(ex_.pooled(s, kind=kind).ravel()))
           for kind in cv.POOL_KINDS if kind != s["kind"]]
    if s["kind"] == "average" and s["padding"] == "same":
        geo = cv.pool_geometry(s["x"].shape, s["pool"], s["stride"], s["padding"])
        counted = tuple(float(cv.pool_step(s["x"], "average", pos, s["pool"], s["stride"], s["padding"]).sums[0])
                        / s["pool"] ** 2 for pos in geo.positions())
        out.append((Message("practice.why.pool_padding", n=s["pool"] ** 2), counted))
    return out


def _field_variants(s: dict, truth) -> list:
    layers = s["layers"]
    return [(Message("practice.why.jump"), (ex_.receptive_field(layers, ignore="stride"),)),
            (Message("practice.why.dilation_rf"), (ex_.receptive_field(layers, ignore="dilation"),)),
            (Message("practice.why.kernel_minus_one"),
             (sum(ar.effective_kernel(k, d) for _, k, _, d in layers),))]


def _rows(exercise: Exercise) -> list[tuple[str, list[int]]]:
    """The lecture model's asked layers with the indices of their fields."""
    rows: list[tuple[str, list[int]]] = []
    for i, f in enumerate(exercise.fields):
        if not rows or rows[-1][0] != f.row:
            rows.append((f.row, []))
        rows[-1][1].append(i)
    return rows


def _layer_output(layer, shape):
    """One lecture layer's output for `shape` (a learner's previous row), by cnnviz.arithmetic."""
    if layer.kind == "Conv2D":
        return ar.conv2d_output_shape(shape, layer.filters, layer.kernel, layer.strides or 1, layer.padding, layer.dilation)
    if layer.kind == "Flatten":
        return (int(np.prod(shape)),)
    return ar.pool2d_output_shape(shape, layer.kernel, layer.strides, layer.padding)


def _lecture_variants(exercise: Exercise, answer) -> list:
    s, truth = exercise.settings, exercise.truth
    layers = ex_.lecture_spec().layers
    out, general = [], []
    previous_true = (s["h"], s["w"], s["c"])
    previous_given = previous_true
    for r, (name, idx) in enumerate(_rows(exercise)):
        layer = layers[r]
        shape = tuple(truth[i] for i in idx)

        def variant(values, idx=idx):
            v = list(truth)
            for i, x in zip(idx, values):
                v[i] = x
            return tuple(v)

        if previous_given != previous_true:
            carried = _try(lambda: _layer_output(layer, previous_given))
            if carried is not None and len(carried) == len(idx):
                out.append((Message("practice.why.carried", layer=name), variant(carried)))
        if layer.kind == "Conv2D":
            (h, w, f), c = shape, previous_true[2]
            out += [(Message("practice.why.padding", used="same", padding=layer.padding), variant(previous_true[:2] + (f,))),
                    (Message("practice.why.plus_one"), variant((h - 1, w - 1, f))),
                    (Message("practice.why.channels", c=c, f=f), variant((h, w, c)))]
        elif layer.kind == "Flatten":
            general.append((Message("practice.why.flatten", shape="x".join(map(str, previous_true))),
                            variant([answer[i] for i in idx])))
        else:
            h, w, c = shape
            p = layer.kernel[0]
            out += [(Message("practice.why.stride", used=1, stride=p),
                     _try(lambda: variant(ar.pool2d_output_shape(previous_true, layer.kernel, 1, layer.padding)))),
                    (Message("practice.why.pool_floor"), variant(tuple(-(-n // p) for n in previous_true[:2]) + (c,))),
                    ]
            general.append((Message("practice.why.pool_channels", c=c), variant((h, w, answer[idx[2]]))))
        previous_true = shape
        previous_given = tuple(answer[i] for i in idx)
    # general reasons (they copy the learner's numbers): said only when no particular slip explains a number
    return out + general


_VARIANTS = {"shape": _shape_variants, "params": _params_variants, "same_split": _same_variants,
             "conv_value": _value_variants, "pool": _pool_variants, "receptive_field": _field_variants}


def _variants(exercise: Exercise, answer) -> list:
    if exercise.kind == "lecture_model":
        return _lecture_variants(exercise, answer)
    if exercise.kind == "kernel":  # any other kernel: what the right one does
        (name,) = exercise.truth
        return [(Message("practice.why.kernel", hint=Message(KERNEL_HINTS[name])), (answer[0],))]
    return _VARIANTS[exercise.kind](exercise.settings, exercise.truth)
