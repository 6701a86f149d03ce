"""The Practice page's parts: the exercise chooser (in the link), the question, the answer form, the
verdict with the worked solution and a link to the page that shows the exercise live, the score."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cnnviz.lessons import checking, exercises, solutions
from cnnviz.lessons.exercises import Exercise
from cnnviz.lessons.progress import Progress
from cnnviz.messages import MessageError
from cnnviz.plots import activations as pictures
from cnnviz.plots import describe
from cnnviz.ui import steps, warmup
from cnnviz.ui.messages import text as message_text
from cnnviz.ui.state import lang, t
from cnnviz.ui.steps import keep

K = "practice."
KIND, LEVEL, SEED = K + "kind", K + "level", K + "seed"
PROGRESS = K + "progress"  # cnnviz.lessons.progress.Progress of this session
ANSWERS = K + "answers"  # exercise id -> the values last checked

# The glossary's terms each kind uses (cnnviz.glossary ids).
WORDS = {"shape": ("convolution", "filter", "kernel", "stride", "padding", "channel"),
         "params": ("parameter", "filter", "kernel", "channel"),
         "same_split": ("padding", "stride", "kernel"),
         "conv_value": ("convolution", "kernel", "stride", "padding", "feature_map"),
         "pool": ("pooling", "stride", "padding"),
         "receptive_field": ("kernel", "stride", "pooling"),
         "kernel": ("kernel", "feature_map", "convolution"),
         "lecture_model": ("convolution", "pooling", "filter", "channel", "feature_map")}


def choose() -> tuple[str, int, int]:
    """The kind, level and exercise number (all three in the page's link)."""
    c1, c2, c3 = st.columns([3, 2, 2])
    kind = c1.selectbox(t("practice.kind"), exercises.KINDS, format_func=lambda k: t(f"practice.kind.{k}"),
                        **keep(KIND, exercises.KINDS[0]))
    level = c2.radio(t("practice.level"), exercises.LEVELS, horizontal=True, **keep(LEVEL, exercises.LEVELS[0]))
    seed = c3.number_input(t("practice.seed"), 0, exercises.MAX_SEED, step=1, help=t("practice.seed.help"),
                           **keep(SEED, 1))
    return kind, int(level), int(seed)


@st.cache_data(show_spinner=False, max_entries=512)
def _make(kind: str, level: int, seed: int) -> Exercise:
    return exercises.make(kind, level, seed)


def make(kind: str, level: int, seed: int) -> Exercise:
    """The exercise; the lecture model's kind reads the model from Keras, which waits for the warm-up's
    import right after the server started (a notice says so)."""
    if kind == "lecture_model" and not warmup.keras_ready():
        waiting = st.info(t("practice.loading"), icon="⏳")
        warmup.wait_for_keras()
        waiting.empty()
    return _make(kind, level, seed)


def progress() -> Progress:
    return st.session_state.setdefault(PROGRESS, Progress())


def score(where) -> None:
    """Score, streak and the next level, in `where` (a container above the exercise, filled after the check)."""
    p = progress()
    c1, c2, c3 = where.columns(3)
    c1.metric(t("practice.score"), t("practice.score.value", right=p.right, answered=p.answered),
              help=t("practice.counted_once"))
    c2.metric(t("practice.streak"), p.streak, help=t("practice.streak.help", best=p.best))
    c3.metric(t("practice.next_level"), p.level, help=t("practice.next_level.help"))


# ---------------------------------------------------------------- the question


def _keras_conv(s: dict) -> str:
    kh, kw = s["kernel"]
    return (f"keras.layers.Conv2D({s['f']}, kernel_size=({kh}, {kw}), strides={s['stride']}, "
            f"padding=\"{s['padding']}\", dilation_rate={s['dilation']})")


def _keras_layer(kind: str, k: int, s: int, d: int) -> str:
    if kind == "pool":
        return f"keras.layers.MaxPooling2D(pool_size={k}, strides={s})"
    return f"keras.layers.Conv2D(8, kernel_size={k}, strides={s}, dilation_rate={d})"


_POOL_CLASS = {"max": "MaxPooling2D", "average": "AveragePooling2D", "min": "MinPooling2D"}


def question(ex: Exercise) -> None:
    """The exercise as the learner reads it."""
    s = ex.settings
    st.subheader(t("practice.heading", seed=ex.seed, level=ex.level))
    if ex.kind in ("shape", "params", "same_split"):
        st.markdown(t(f"practice.q.{ex.kind}", h=s["h"], w=s["w"], c=s["c"]))
        st.code(_keras_conv(s) if ex.kind != "same_split" else
                f"keras.layers.Conv2D(1, kernel_size={tuple(s['kernel'])}, strides={s['stride']}, padding=\"same\", "
                f"dilation_rate={s['dilation']})", language="python")
    elif ex.kind == "conv_value":
        i, j = s["position"]
        st.markdown(t("practice.q.conv_value", bias=s["bias"], stride=s["stride"], padding=s["padding"], i=i, j=j))
        c1, c2, _ = st.columns([3, 2, 2])
        steps.number_grid(c1, t("practice.input_grid"), s["x"], decimals=0)
        steps.number_grid(c2, t("practice.kernel_grid"), s["k"], decimals=0, diverging=True)
    elif ex.kind == "pool":
        st.markdown(t("practice.q.pool"))
        st.code(f"keras.layers.{_POOL_CLASS[s['kind']]}(pool_size={s['pool']}, strides={s['stride']}, "
                f"padding=\"{s['padding']}\")", language="python")
        c1, _ = st.columns([3, 4])
        steps.number_grid(c1, t("practice.input_grid"), s["x"], decimals=0)
    elif ex.kind == "receptive_field":
        st.markdown(t("practice.q.receptive_field"))
        st.code("\n".join(_keras_layer(*layer) for layer in s["layers"]), language="python")
    elif ex.kind == "kernel":
        st.markdown(t("practice.q.kernel"))
        c1, c2, _ = st.columns([2, 2, 3])
        c1.image(pictures.input_image(s["x"], target=200), caption=t("practice.picture.input"), output_format="PNG",
                 alt=describe.model_input(s["x"], lang()))
        c2.image(pictures.channel_grid(s["map"][:, :, None], labels=False, target=200),
                 caption=t("practice.picture.map"), output_format="PNG",
                 alt=describe.map_grid(s["map"], t("practice.picture.map"), lang()))
    else:
        st.markdown(t("practice.q.lecture_model", h=s["h"], w=s["w"], c=s["c"]))
        layers = exercises.lecture_spec().layers[: len(s["layers"])]
        st.code("\n".join(f"{layer.name}: {layer.kind}" + (f"({layer.filters}, {layer.kernel})" if layer.kind == "Conv2D"
                          else f"({layer.kernel})" if layer.kind != "Flatten" else "()") for layer in layers),
                language="python")


# ---------------------------------------------------------------- the answer


def _label(ex: Exercise, index: int) -> str:
    f = ex.fields[index]
    if ex.kind == "pool":
        return t("practice.field.cell", row=f.row, col=f.name)
    what = t(f"practice.field.{f.name}")
    return t("practice.field.row", layer=f.row, what=what) if f.row else what


def answer_form(ex: Exercise) -> None:
    """The answer boxes in a form (Enter in a box checks); a check records the answer and the score."""
    key = f"{K}a.{ex.id}"
    with st.form(f"{K}form.{ex.id}"):
        st.markdown(f"**{t('practice.answer')}**")
        values = []
        if ex.kind == "kernel":
            values.append(st.radio(t("practice.field.kernel"), ex.options, index=None, key=f"{key}.0",
                                   format_func=lambda n: t(f"conv.preset.{n}")))
        else:
            rows: dict[str, list[int]] = {}  # a pooled grid's rows, the lecture model's layers, or one row
            for i, f in enumerate(ex.fields):
                rows.setdefault(f.row, []).append(i)
            for indices in rows.values():
                for col, i in zip(st.columns(max(len(indices), 3)), indices):
                    f = ex.fields[i]
                    values.append(col.number_input(_label(ex, i), value=None, step=1 if f.integer else 0.01,
                                                   format=None if f.integer else "%.2f", key=f"{key}.{i}",
                                                   placeholder="?"))
        if st.form_submit_button(t("practice.check"), type="primary"):
            st.session_state.setdefault(ANSWERS, {})[ex.id] = values
            try:
                verdict = checking.check(ex, values)
            except MessageError:
                return  # said under the form (feedback)
            st.session_state[PROGRESS] = progress().record(ex.id, ex.level, verdict.correct)


# ---------------------------------------------------------------- the verdict


def _shown(value) -> str:
    if isinstance(value, str):
        return t(f"conv.preset.{value}")
    return f"{value:.2f}" if isinstance(value, float) and value != int(value) else f"{value:g}"


def feedback(ex: Exercise) -> bool:
    """After a check: right or wrong with the slips named, the numbers side by side, the worked solution,
    the page that shows it live. Returns whether the exercise has been checked."""
    values = st.session_state.get(ANSWERS, {}).get(ex.id)
    if values is None:
        return False
    try:
        verdict = checking.check(ex, values)
    except MessageError as err:
        st.error(t("practice.answer_error", error=message_text(err)), icon=":material/edit:")
        return False
    if verdict.correct:
        st.success(t("practice.right"), icon=":material/check_circle:")
    else:
        lines = [t("practice.wrong", n=len(verdict.wrong), total=len(ex.fields))]
        lines += [f"- {message_text(reason)}" for reason in verdict.reasons]
        st.error("\n".join(lines), icon=":material/error:")
    table = pd.DataFrame({t("practice.table.field"): [_label(ex, i) for i in range(len(ex.fields))],
                          t("practice.table.yours"): [("✓ " if i not in verdict.wrong else "✗ ") + _shown(a)
                                                      for i, a in enumerate(verdict.answer)],
                          t("practice.table.keras"): [_shown(v) for v in ex.truth]})
    st.dataframe(table, hide_index=True, width="content")
    with st.expander(t("practice.solution"), expanded=True, icon=":material/school:"):
        for kind, step in solutions.solution(ex):
            if kind == "latex":
                st.latex(step)
            else:
                st.markdown(message_text(step))
    live_link(ex)
    return True


def live_link(ex: Exercise) -> None:
    """A link to the Layer lab, the Convolution or the Pooling step page with this exercise's settings."""
    s = ex.settings
    typed = False
    if ex.kind in ("shape", "params", "same_split"):
        page = "pages/layer_lab.py"
        params = {"ll.input_h": s["h"], "ll.input_w": s["w"], "ll.input_c": s["c"], "ll.filters": s["f"],
                  "ll.kernel_h": s["kernel"][0], "ll.kernel_w": s["kernel"][1], "ll.stride": s["stride"],
                  "ll.dilation": s["dilation"], "ll.padding": s["padding"]}
    elif ex.kind == "receptive_field":
        page = "pages/layer_lab.py"
        kind, k, stride, d = s["layers"][0]
        params = {"ll.kernel_h": k, "ll.kernel_w": k, "ll.stride": stride, "ll.dilation": d, "ll.padding": "valid"}
        if len(s["layers"]) > 1 and s["layers"][1][0] == "pool":
            params.update({"ll.pool_size": s["layers"][1][1], "ll.pool_stride": s["layers"][1][2]})
    elif ex.kind == "kernel":
        page = "pages/layer_lab.py"
        params = {"ll.kernel_preset": t(f"ll.kernel.{ex.truth[0]}")}
    elif ex.kind == "conv_value":
        page, typed = "pages/convolution.py", True
        params = {"convolution.source.w": t("conv.input_source.grid"), "convolution.size.w": s["x"].shape[0],
                  "convolution.preset.w": t("conv.preset.random"), "convolution.ksize.w": s["k"].shape[0],
                  "convolution.stride.w": s["stride"], "convolution.padding.w": s["padding"]}
    elif ex.kind == "pool":
        page, typed = "pages/pooling.py", True
        params = {"pooling.source.w": t("conv.input_source.grid"), "pooling.size.w": s["x"].shape[0],
                  "pooling.kind.w": t(f"pool.kind.{s['kind']}"), "pooling.size2.w": s["pool"],
                  "pooling.stride.w": s["stride"], "pooling.padding.w": s["padding"]}
    else:
        page = "pages/model.py"
        params = {"cnnviz.model_page.preset": t("model.seed.label")}
    name = t("nav." + page[len("pages/"):-len(".py")])
    st.page_link(page, label=t("practice.open", page=name), icon=":material/open_in_new:",
                 query_params={k: str(v) for k, v in params.items()})
    if typed:
        st.caption(t("practice.open.typed"))


def next_button(ex: Exercise) -> None:
    """The next exercise of this kind, at the level the score suggests."""
    level = progress().level

    def go() -> None:
        st.session_state[SEED] = (ex.seed + 1) % (exercises.MAX_SEED + 1)
        st.session_state[LEVEL] = level

    st.button(t("practice.next", level=level), on_click=go, type="primary", key=f"{K}next")


def glossary(ex: Exercise) -> None:
    words = ", ".join(t(f"glossary.{w}.name") for w in WORDS[ex.kind])
    st.page_link("pages/glossary.py", label=t("practice.words", words=words), icon=":material/menu_book:")
