"""The worked solution of an exercise, with its numbers: the formulas the Layer lab and the step pages
write out (cnnviz.layerlab.analyse's KaTeX for shapes, the 'same' split and parameters; the window,
products and sum of cnnviz.convolution for one value and for pooling).

A solution is a list of steps: ("latex", KaTeX source) or ("text", a cnnviz.messages.Message).
"""

from __future__ import annotations

from cnnviz import arithmetic as ar
from cnnviz import convolution as cv
from cnnviz import kernels, layerlab
from cnnviz.lessons import exercises as ex_
from cnnviz.lessons.checking import KERNEL_HINTS
from cnnviz.lessons.exercises import Exercise
from cnnviz.messages import Message


def _analysis(s: dict) -> layerlab.Analysis:
    """The Layer lab's analysis of this exercise's Conv2D (no pooling after it)."""
    settings = layerlab.Settings(input_shape=(s["h"], s["w"], s["c"]), filters=s["f"], kernel_size=tuple(s["kernel"]),
                                 strides=s["stride"], padding=s["padding"], dilation_rate=s["dilation"], pool_size=1)
    return layerlab.analyse(settings)


def _signed(v) -> str:
    v = float(v) + 0.0  # never "-0"
    return f"({v:g})" if v < 0 else f"{v:g}"


def _matrix(a) -> str:
    rows = r" \\ ".join(" & ".join(f"{round(float(v), 4) + 0.0:g}" for v in row) for row in a)
    return r"\begin{bmatrix}" + rows + r"\end{bmatrix}"


def _shape(ex: Exercise) -> list:
    a = _analysis(ex.settings)
    return [("latex", a.latex["conv_H"]), ("latex", a.latex["conv_W"]),
            ("text", Message("practice.solution.channels", f=ex.settings["f"]))]


def _params(ex: Exercise) -> list:
    return [("latex", _analysis(ex.settings).latex["params"]), ("text", Message("practice.solution.params"))]


def _same(ex: Exercise) -> list:
    a = _analysis(ex.settings)
    return [("text", Message("practice.solution.same")), ("latex", a.latex["conv_H"]), ("latex", a.latex["conv_W"])]


def _value(ex: Exercise) -> list:
    s = ex.settings
    step = cv.conv_step(s["x"], s["k"], s["bias"], s["position"], s["stride"], s["padding"])
    (top, _), (left, _) = step.geometry.pads
    i, j = step.position
    terms = " + ".join(f"{_signed(x)}\\cdot{_signed(w)}" for x, w in zip(step.window[:, :, 0].ravel(),
                                                                        step.kernel[:, :, 0].ravel()))
    products = " + ".join(_signed(p) for p in step.products[:, :, 0].ravel())
    return [("text", Message("practice.solution.window", i=i, j=j, row=int(step.rows[0]) - top,
                             col=int(step.cols[0]) - left, stride=s["stride"])),
            ("latex", r"\text{window} = " + _matrix(step.window[:, :, 0]) + r",\quad \text{kernel} = "
             + _matrix(step.kernel[:, :, 0])),
            ("latex", layerlab.aligned([rf"y_{{{i},{j}}} &= \textstyle\sum x \cdot w + b",
                                        rf"&= {terms} + {_signed(step.bias)}",
                                        rf"&= {products} + {_signed(step.bias)} = {step.total:g}"]))]


def _pool(ex: Exercise) -> list:
    s = ex.settings
    geo = cv.pool_geometry(s["x"].shape, s["pool"], s["stride"], s["padding"])
    (top, bottom), (left, right) = geo.pads
    out = [("text", Message("practice.solution.pool", kind=s["kind"], pool=s["pool"], stride=s["stride"],
                            top=top, bottom=bottom, left=left, right=right))]
    rows = []
    for pos in geo.positions():
        step = cv.pool_step(s["x"], s["kind"], pos, s["pool"], s["stride"], s["padding"])
        cells = step.window[:, :, 0][~step.window_padding]
        numbers = ", ".join(_signed(v) for v in cells)
        value = step.values[0]
        if s["kind"] == "average":
            rows.append(rf"y_{{{pos[0]},{pos[1]}}} &= \frac{{{' + '.join(_signed(v) for v in cells)}}}{{{len(cells)}}}"
                        rf" = {value:.4g}")
        else:
            rows.append(rf"y_{{{pos[0]},{pos[1]}}} &= \{s['kind']}({numbers}) = {value:g}")
    out.append(("latex", layerlab.aligned(rows)))
    return out


def _field(ex: Exercise) -> list:
    rows = [r"r_0 &= 1,\quad j_0 = 1"]
    r, j = 1, 1
    for n, ((kind, k, s, d), f) in enumerate(zip(ex.settings["layers"],
                                                 ar.receptive_field([(k, s, d) for _, k, s, d in ex.settings["layers"]])),
                                             start=1):
        span = ar.effective_kernel(k, d)
        keff = rf"{span}" if d == 1 else rf"({d}\cdot({k}-1)+1)"
        rows.append(rf"r_{n} &= r_{n - 1} + (k_{{\mathrm{{eff}}}}-1)\,j_{n - 1} = {r} + ({keff}-1)\cdot{j} = {f.size},"
                    rf"\quad j_{n} = j_{n - 1}\,s = {j}\cdot{s} = {f.jump}")
        r, j = f.size, f.jump
    return [("text", Message("practice.solution.rf")), ("latex", layerlab.aligned(rows))]


def _kernel(ex: Exercise) -> list:
    (name,) = ex.truth
    return [("latex", r"\text{kernel} = " + _matrix(kernels.kernel(name, 3))), ("text", Message(KERNEL_HINTS[name]))]


def _lecture(ex: Exercise) -> list:
    s = ex.settings
    rows = []
    shape = (s["h"], s["w"], s["c"])
    for layer, out in zip(ex_.lecture_spec().layers[: len(s["layers"])], ex_.lecture_shapes(shape)):
        name = layer.name.replace("_", r"\_")
        if layer.kind == "Conv2D":
            k = layer.kernel
            rows.append(rf"\text{{{name}}} &: \left({shape[0]} - {k[0]} + 1,\ {shape[1]} - {k[1]} + 1,\ F\right)"
                        rf" = ({out[0]}, {out[1]}, {out[2]})")
        elif layer.kind == "Flatten":
            rows.append(rf"\text{{{name}}} &: {shape[0]}\cdot{shape[1]}\cdot{shape[2]} = {out[0]}")
        else:
            p = layer.kernel[0]
            rows.append(rf"\text{{{name}}} &: \left(\lfloor {shape[0]}/{p} \rfloor,\ \lfloor {shape[1]}/{p} \rfloor,"
                        rf"\ {shape[2]}\right) = ({out[0]}, {out[1]}, {out[2]})")
        shape = out
    return [("text", Message("practice.solution.lecture")), ("latex", layerlab.aligned(rows))]


_SOLVERS = {"shape": _shape, "params": _params, "same_split": _same, "conv_value": _value, "pool": _pool,
            "receptive_field": _field, "kernel": _kernel, "lecture_model": _lecture}


def solution(exercise: Exercise) -> list[tuple[str, object]]:
    """The worked solution's steps for this exercise."""
    return _SOLVERS[exercise.kind](exercise)
